"""Event silence: sends keep going out but no delivery, bounce or deferral comes back.

When the provider reports sends (queued events) and, over the last `minutes` (15 by
default), a material number went out while not a single outcome arrived, the pipeline or
the webhook between the provider and us is broken. An exact Poisson lower tail says how
unlikely that silence would be given the key's usual outcomes per send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mailwarden.detect.model import Finding
from mailwarden.detect.view import KeyView, finding
from mailwarden.metrics.counters import QUEUED, outcomes
from mailwarden.metrics.stats import log_poisson_cdf, neg_log10


@dataclass(frozen=True, slots=True)
class SilenceSpec:
    """How long a silence must last and how many sends must have gone out meanwhile."""

    minutes: int = 15
    min_sends: int = 30
    max_outcome_share: float = 0.02
    score: float = 7.0


def detect_silence(
    view: KeyView, now: datetime, spec: SilenceSpec = SilenceSpec()
) -> Finding | None:
    """A finding when sends continued for `minutes` with (almost) no outcome events."""
    row = view.windows.get(spec.minutes)
    if row is None:
        return None
    queued = row[QUEUED]
    if queued < spec.min_sends:
        return None
    seen = outcomes(row)
    if seen > spec.max_outcome_share * queued:
        return None
    # Outcomes trail sends by a minute or two; expect them for the older part of the window.
    delivery = view.baselines["delivery"].rate
    expected = queued * max(0.5, delivery) * (spec.minutes - 3) / spec.minutes
    score = neg_log10(log_poisson_cdf(seen, expected))
    if score < spec.score:
        return None
    evidence = {
        "test": "exact Poisson lower tail of outcome events given the sends",
        "window_minutes": spec.minutes,
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
        minutes=spec.minutes,
        severity="critical" if queued >= 10 * spec.min_sends else "warning",
        observed=float(seen),
        expected=expected,
        evidence=evidence,
        now=now,
    )
