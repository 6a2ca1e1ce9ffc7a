"""Event silence: sends keep going out but no delivery, bounce or deferral comes back.

When the provider reports sends (queued events) and, over the last 15 minutes (30 or 60
when volume is too low to tell sooner), a material number went out while (almost) no outcome
arrived, the pipeline or the webhook between the provider and us is broken. An exact
Poisson lower tail says how unlikely that silence would be given the usual outcomes per send.
Only sends old enough to have an outcome by now (those before the last `settle` minutes)
are expected to have one: a campaign that started a minute ago is not a silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailwarden.detect.model import Finding
from mailwarden.detect.view import KeyView, finding
from mailwarden.metrics.baseline import DEFAULT_RATES
from mailwarden.metrics.counters import QUEUED, outcomes
from mailwarden.metrics.stats import log_poisson_cdf, neg_log10


@dataclass(frozen=True, slots=True)
class SilenceSpec:
    """How long a silence must last and how many sends must have gone out meanwhile."""

    windows: tuple[int, ...] = (15, 30, 60)
    min_sends: int = 10
    max_outcome_share: float = 0.02
    score: float = 4.5
    settle: int = 5  # minutes: outcomes trail sends by a minute or two (a window kept running)


def _silent(view: KeyView, minutes: int, spec: SilenceSpec) -> tuple[int, int, float, float] | None:
    row = view.windows.get(minutes)
    if row is None:
        return None
    queued = row[QUEUED]
    seen = outcomes(row)
    recent = view.windows.get(spec.settle)
    settled = queued - (recent[QUEUED] if recent is not None else 0)
    if settled < spec.min_sends or seen > spec.max_outcome_share * queued:
        return None
    # Outcomes trail sends by a minute or two: expect them only for the settled sends.
    known = view.baselines.get("delivery")
    delivery = known.rate if known is not None else DEFAULT_RATES["delivery"]
    expected = settled * max(0.5, delivery)
    score = neg_log10(log_poisson_cdf(seen, expected))
    return (queued, seen, expected, score) if score >= spec.score else None


def detect_silence(
    view: KeyView, now: datetime, spec: SilenceSpec = SilenceSpec()
) -> Finding | None:
    """A finding when sends continued (15 minutes; 30 or 60 at low volume) without outcomes."""
    first = view.windows.get(spec.windows[0])
    if first is None or outcomes(first) > spec.max_outcome_share * max(first[QUEUED], 1):
        return None  # outcomes are flowing: no window can be silent
    for minutes in spec.windows:
        found = _silent(view, minutes, spec)
        if found is not None:
            break
    else:
        return None
    queued, seen, expected, score = found
    evidence = {
        "test": "exact Poisson lower tail of outcome events given the sends",
        "window_minutes": minutes,
        "sends": queued,
        "outcome_events": seen,
        "expected_outcomes": round(expected, 1),
        "p_value": 10.0**-score,
        "score": round(score, 2),
        "meaning": "sends continue but the provider's delivery/bounce events stopped: "
        "the webhook or the pipeline is broken",
    }
    return finding(
        "event_silence",
        view,
        minutes=minutes,
        severity="critical" if queued >= 10 * spec.min_sends else "warning",
        observed=float(seen),
        expected=expected,
        evidence=evidence,
        now=now,
    )
