"""Event silence: sends keep going out but no delivery, bounce or deferral comes back.

When the provider reports sends (queued events) but no outcome follows them, the pipeline or
the webhook between the provider and us is broken. Each settled send is taken to report an
outcome with probability p: the key's outcomes per send over the last day (its delivery
baseline when the day is too thin to tell), never above `max_odds`, since outcomes trail
sends by minutes and a few trail them by more. Two views of the same binomial model:

* windows: over the last 15 minutes (30 or 60 at low volume), at least `min_sends` settled
  sends and (almost) no outcome; scored by the binomial lower tail P(X <= seen | n, p).
* the run: the settled sends after the last minute that had any outcome at all (looked for
  over `horizon` minutes). None of them reported anything, so P = (1 - p)^n. This is what
  catches a silence at low volume (nine sends on a quiet evening), where every fixed window
  is either too thin or still holds outcomes from before the gap.

Only sends old enough to have an outcome by now (those before the last `settle` minutes)
are expected to have one: a campaign that started a minute ago is not a silence. Since a
quiet key is evaluated when its data arrives, that is while its newest sends are too recent
to count, the engine looks at it again once they have settled (evaluate.schedule_silence).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mailwarden.detect.model import Finding
from mailwarden.detect.view import KeyView, finding
from mailwarden.metrics.baseline import DEFAULT_RATES
from mailwarden.metrics.counters import QUEUED, Row, outcomes
from mailwarden.metrics.stats import log_binom_cdf, neg_log10

DAY = 1440


@dataclass(frozen=True, slots=True)
class SilenceSpec:
    """How long a silence must last and how many sends must have gone out meanwhile."""

    windows: tuple[int, ...] = (15, 30, 60)
    min_sends: int = 10  # settled sends a window needs
    min_run: int = 6  # settled sends in a row, none followed by any outcome
    horizon: int = 180  # minutes looked back for the last outcome
    max_outcome_share: float = 0.02
    score: float = 4.5
    settle: int = 5  # minutes: outcomes trail sends by a minute or two (a window kept running)
    max_odds: float = 0.9  # p is never taken above this: a few outcomes trail by minutes
    base_sends: int = 100  # sends over the last day needed to measure p on the key itself


@dataclass(frozen=True, slots=True)
class _Silence:
    minutes: int
    sends: int
    settled: int
    seen: int
    score: float
    test: str


def outcome_odds(view: KeyView, spec: SilenceSpec) -> tuple[float, str]:
    """The probability p that a settled send has reported an outcome, and where p came from."""
    day = view.windows.get(DAY)
    if day is not None and day[QUEUED] >= spec.base_sends:
        rate, source = outcomes(day) / day[QUEUED], "outcomes per send over the last day"
    else:
        known = view.baselines.get("delivery")
        delivery = known.rate if known is not None else DEFAULT_RATES["delivery"]
        rate, source = max(0.5, delivery), "delivery baseline (at least 0.5)"
    return min(spec.max_odds, rate), source


def quiet_run(
    minutes: Mapping[int, Row], through: int, settle: int, horizon: int
) -> tuple[int, int, int]:
    """(settled sends, all sends, minutes) after the last minute with an outcome, up to
    `through` and at most `horizon` minutes back; sends of the last `settle` minutes are
    not settled."""
    settled = sends = 0
    for minute in range(through, through - horizon, -1):
        row = minutes.get(minute)
        if row is None:
            continue
        if outcomes(row):
            return settled, sends, through - minute
        sends += row[QUEUED]
        if minute <= through - settle:
            settled += row[QUEUED]
    return settled, sends, horizon


def _settled(view: KeyView, minutes: int, spec: SilenceSpec) -> tuple[int, int, int] | None:
    """(sends, settled sends, outcomes) of a window, if it could be silent."""
    row = view.windows.get(minutes)
    if row is None:
        return None
    queued, seen = row[QUEUED], outcomes(row)
    recent = view.windows.get(spec.settle)
    settled = queued - (recent[QUEUED] if recent is not None else 0)
    if settled < spec.min_sends or seen > spec.max_outcome_share * queued:
        return None
    return queued, settled, seen


def _find(view: KeyView, spec: SilenceSpec) -> tuple[_Silence, float, str] | None:
    """The first window that is silent, else the run of sends since the last outcome."""
    windows = [(m, w) for m in spec.windows if (w := _settled(view, m, spec)) is not None]
    settled, sends, span = quiet_run(view.minutes, view.through, spec.settle, spec.horizon)
    if not windows and settled < spec.min_run:
        return None
    odds, source = outcome_odds(view, spec)
    for minutes, (queued, counted, seen) in windows:
        score = neg_log10(log_binom_cdf(seen, counted, odds))
        if score >= spec.score:
            test = "binomial lower tail: P(at most this many outcomes from the settled sends)"
            return _Silence(minutes, queued, counted, seen, score, test), odds, source
    if settled < spec.min_run:
        return None
    score = neg_log10(settled * math.log1p(-odds))
    if score < spec.score:
        return None
    test = "binomial: P(no outcome after n settled sends) = (1 - p)^n"
    return _Silence(span, sends, settled, 0, score, test), odds, source


def detect_silence(
    view: KeyView, now: datetime, spec: SilenceSpec = SilenceSpec()
) -> Finding | None:
    """A finding when settled sends continued without outcomes (a window or a run of them)."""
    first = view.windows.get(spec.windows[0])
    if first is None or outcomes(first) > spec.max_outcome_share * max(first[QUEUED], 1):
        return None  # outcomes are flowing: no window can be silent
    result = _find(view, spec)
    if result is None:
        return None
    found, odds, source = result
    expected = found.settled * odds
    evidence = {
        "test": found.test,
        "window_minutes": found.minutes,
        "sends": found.sends,
        "settled_sends": found.settled,
        "outcome_events": found.seen,
        "outcome_odds": round(odds, 4),
        "odds_source": source,
        "expected_outcomes": round(expected, 1),
        "p_value": 10.0**-found.score,
        "score": round(found.score, 2),
        "meaning": "sends continue but the provider's delivery/bounce events stopped: "
        "the webhook or the pipeline is broken",
    }
    return finding(
        "event_silence",
        view,
        minutes=found.minutes,
        severity="critical" if found.sends >= 10 * spec.min_sends else "warning",
        observed=float(found.seen),
        expected=expected,
        evidence=evidence,
        now=now,
    )
