"""Engagement collapse: people stop opening and clicking while deliveries hold (spam folder).

Measured on delivery cohorts old enough to have matured (metrics/cohorts.py): the share of a
cohort's delivered messages opened by a person or clicked within the lag, against the
key's trailing share. A fall well below it, tested with an exact binomial lower tail, is a
finding; Apple machine opens never count as engagement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from mailwarden.detect.model import Finding, Scope
from mailwarden.detect.rates import TEST_NAME
from mailwarden.detect.shift import ShiftSpec, shift_test
from mailwarden.detect.view import minute_time
from mailwarden.metrics.baseline import RateBaseline

# A fall below 60 % of the usual share, at p < 10^-5. Engagement is tested on few, slow,
# matured cohorts (a couple of windows an hour per key), so a laxer p than the minute-by-
# minute rate tests is safe: on simulated quiet weeks no window scored above 2 here. A
# thousand deliveries at least: a small night-time cohort is one campaign's mix, not a trend.
ENGAGEMENT_SPEC = ShiftSpec(
    0.6, 0.0, 20, critical_factor=0.25, critical_delta=0.0, rise=False, score=5.0, min_trials=1000
)
# Engagement swings with the hour's mix (night-time receipts are opened more than daytime
# newsletters), so a key with less than a day of its own cohorts has no fair "usual" yet:
# until then only a collapse to the critical fraction (mail gone to spam) is a finding.
WARM_UP_HOURS = 24
WARM_UP_SPEC = replace(ENGAGEMENT_SPEC, factor=ENGAGEMENT_SPEC.critical_factor)


def detect_engagement(
    scope: Scope,
    sums: Mapping[int, list[int]],
    baseline: RateBaseline,
    last_cohort: int,
    lag_minutes: int,
    now: datetime,
    spec: ShiftSpec = ENGAGEMENT_SPEC,
) -> Finding | None:
    """A finding when matured cohorts engage far less than usual on this key."""
    best = None
    for minutes, (delivered, engaged) in sums.items():
        result = shift_test(engaged, delivered, baseline.rate, spec)
        if result is not None and (best is None or result.score > best[1].score):
            best = (minutes, result)
    if best is None:
        return None
    minutes, result = best
    evidence = {
        "test": TEST_NAME + " (lower tail)",
        "rate": f"opened by a person or clicked within {lag_minutes} min of delivery",
        "window_minutes": minutes,
        "delivered": result.n,
        "engaged": result.x,
        "baseline": round(baseline.rate, 6),
        "baseline_source": baseline.source,
        "null_rate": round(result.null_rate, 6),
        "p_value": 10.0**-result.score,
        "score": round(result.score, 2),
        "meaning": "deliveries hold but recipients stop engaging: mail is likely going to spam",
    }
    start = minute_time(last_cohort - minutes + 1)
    return Finding(
        kind="engagement_drop",
        scope=scope,
        severity="critical" if result.critical else "warning",
        observed=result.observed,
        expected=baseline.rate,
        evidence=evidence,
        window_start=start,
        window_end=minute_time(last_cohort + 1) + timedelta(minutes=lag_minutes),
        first_seen=now,
    )
