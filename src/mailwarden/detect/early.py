"""Early campaign check: once the first N sends of a new campaign have settled, decide at
once whether the list looks bad (stale, bought or harvested) from its hard bounces.

The campaign has no history of its own, so its hard-bounce share is tested (exact binomial
tail against a shifted null, as every rate) against its parent's rate: the sending domain's,
or overall's. A bad list fires a `hard_bounce_rate` finding whose evidence says "early
campaign check", minutes after the campaign starts, while most of it is still unsent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from mailwarden.detect.model import Finding, Scope
from mailwarden.detect.rates import TEST_NAME
from mailwarden.detect.shift import ShiftSpec, shift_test
from mailwarden.detect.view import minute_time
from mailwarden.metrics.baseline import RateBaseline
from mailwarden.metrics.counters import HARD, QUEUED, Row, attempts

EARLY_CHECK: Final = "early campaign check"
EARLY_SPEC: Final = ShiftSpec(2.5, 0.01, 8, score=5.0, critical_factor=10.0, critical_delta=0.05)


def ready(total: Row, first_sends: int) -> bool:
    """True once the first N sends have gone out and (nearly all) were attempted."""
    return total[QUEUED] >= first_sends and attempts(total) >= 0.9 * first_sends


def early_check(
    scope: Scope,
    total: Row,
    parent: RateBaseline,
    first_minute: int,
    through: int,
    now: datetime,
    spec: ShiftSpec = EARLY_SPEC,
) -> Finding | None:
    """A hard_bounce_rate finding when a new campaign's first sends look like a bad list."""
    n = attempts(total)
    x = min(total[HARD], n)
    result = shift_test(x, n, parent.rate, spec)
    if result is None:
        return None
    evidence = {
        "check": EARLY_CHECK,
        "test": TEST_NAME,
        "meaning": f"the first {n} attempted sends of a new campaign bounce like a bad list "
        "(stale, bought or harvested addresses): pause it before the rest goes out",
        "first_sends": total[QUEUED],
        "count": x,
        "trials": n,
        "baseline": round(parent.rate, 6),
        "baseline_source": parent.source,
        "null_rate": round(result.null_rate, 6),
        "p_value": 10.0**-result.score,
        "score": round(result.score, 2),
    }
    return Finding(
        kind="hard_bounce_rate",
        scope=scope,
        severity="critical" if result.critical else "warning",
        observed=result.observed,
        expected=parent.rate,
        evidence=evidence,
        window_start=minute_time(first_minute),
        window_end=minute_time(through + 1),
        first_seen=now,
    )
