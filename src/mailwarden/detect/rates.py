"""Rate detectors: hard bounces, complaints and unsubscribes up, deliveries down.

Each is the shared exact shift test (detect/shift.py) over a few trailing windows of the
key's counters against its baseline; the most significant window speaks for the finding.
Short windows (5, 15, 60 min) catch steps within minutes; 4 hours catch trickles on quiet
keys and, for complaints and unsubscribes (counted against lag-weighted deliveries), slow
creeps and rare events whose counts are small in any one minute. Thresholds (score = -log10
p): 7 for rates tested every minute (some 2 million tests a year per key and kind: well
under one false alarm a year even if the rate sat right at the shifted null, which a healthy
key does not), 8 for unsubscribes, which alone rarely make an incident.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from mailwarden.detect.model import Finding
from mailwarden.detect.shift import ShiftResult, ShiftSpec, null_rate, shift_test
from mailwarden.detect.view import KeyView, finding
from mailwarden.metrics.counters import ANY_RISE, DELIVERED, RATES, RISING_MASKS, denominator
from mailwarden.metrics.exposure import WINDOWS as EXPOSURE_WINDOWS

DAY: Final = 1440
SHORT: Final = (5, 15, 60, 240)
ENOUGH: Final = 200
LONG: Final = (60, 240)
TEST_NAME: Final = "exact binomial tail against a shifted baseline"


@dataclass(frozen=True, slots=True)
class RateRule:
    """One rate detector: which rate, which windows, how big a shift, and its direction."""

    kind: str
    rate: str
    windows: tuple[int, ...]
    spec: ShiftSpec
    complement: bool = False  # test the complement (e.g. undelivered sends) for a rise
    exposure: bool = False  # weigh deliveries by the lag of the event (metrics/exposure.py)
    # Windows past an hour are only for quiet keys (fewer trials than this an hour, usually
    # and in the shorter windows): they find slow trickles there, and must not keep a busy
    # key's finding alive, or revive it, hours after a step ended.
    enough: int | None = None


RATE_RULES: Final = (
    RateRule(
        "hard_bounce_rate",
        "hard_bounce",
        SHORT,
        ShiftSpec(2.5, 0.01, 8, critical_factor=10.0, critical_delta=0.05),
        enough=ENOUGH,
    ),
    RateRule(
        "complaint_rate",
        "complaint",
        LONG,
        ShiftSpec(2.5, 0.0005, 6, critical_factor=10.0, critical_delta=0.003),
        exposure=True,
    ),
    RateRule(
        "unsubscribe_rate",
        "unsubscribe",
        LONG,
        ShiftSpec(4.0, 0.003, 15, score=8.0, critical_factor=10.0, critical_delta=0.02),
        exposure=True,
    ),
    RateRule(
        "delivery_drop",
        "delivery",
        SHORT,
        ShiftSpec(3.0, 0.1, 25, critical_factor=10.0, critical_delta=0.4, min_trials=50),
        complement=True,
        enough=ENOUGH,
    ),
)


def best_window(rule: RateRule, view: KeyView) -> tuple[int, ShiftResult] | None:
    """The most significant window of the rule's windows, if any fires."""
    baseline = view.baselines[rule.rate].rate
    if rule.complement:
        baseline = 1.0 - baseline
    spec = rule.spec
    p_null = null_rate(baseline, spec)
    slot = RATES[rule.rate][0]
    exposure = view.exposure
    best: tuple[int, ShiftResult] | None = None
    for minutes in rule.windows:
        if rule.enough is not None and minutes > 60 and view.usual_per_hour >= rule.enough:
            break
        row = view.windows.get(minutes)
        if row is None:
            continue
        if rule.exposure:
            if exposure is None or minutes not in EXPOSURE_WINDOWS:
                continue
            if row[slot] < spec.min_count and rule.enough is None:
                continue  # x <= row[slot]: too few events, whatever the exposure
            n = round(exposure.window(rule.rate, minutes))
        else:
            n = denominator(rule.rate, row)
        x = min(row[slot], n)
        if rule.complement:
            x = n - x
        if x < spec.min_count or x <= n * p_null:
            if rule.enough is not None and n >= rule.enough:
                break
            continue
        result = shift_test(x, n, baseline, spec, p_null)
        if result is not None and (best is None or result.score > best[1].score):
            best = (minutes, result)
        if rule.enough is not None and n >= rule.enough:
            break
    return best


def evidence_of(rule: RateRule, view: KeyView, minutes: int, result: ShiftResult) -> dict[str, Any]:
    """The numbers that make a rate finding credible."""
    base = view.baselines[rule.rate]
    extra: dict[str, Any] = {}
    if rule.exposure:
        extra["denominator"] = "deliveries weighed by the delivery-to-event lag (exposure)"
        extra["delivered_in_window"] = view.windows[minutes][DELIVERED]
    return {
        "test": TEST_NAME,
        "rate": rule.rate + (" (complement)" if rule.complement else ""),
        "window_minutes": minutes,
        "count": result.x,
        "trials": result.n,
        "baseline": round(base.rate, 6),
        "baseline_source": base.source,
        "null_rate": round(result.null_rate, 6),
        "excess": round(result.excess, 1),
        "p_value": 10.0**-result.score,
        "score": round(result.score, 2),
        **extra,
    }


def detect_rate(rule: RateRule, view: KeyView, now: datetime) -> Finding | None:
    """A finding when the rule's rate has shifted for the view's key, else None."""
    found = best_window(rule, view)
    if found is None:
        return None
    minutes, result = found
    observed, expected = result.observed, result.baseline
    if rule.complement:
        observed, expected = 1.0 - observed, 1.0 - expected
    return finding(
        rule.kind,
        view,
        minutes=minutes,
        severity="critical" if result.critical else "warning",
        observed=observed,
        expected=expected,
        evidence=evidence_of(rule, view, minutes, result),
        now=now,
    )


def detect_rates(view: KeyView, now: datetime, rising: int = ANY_RISE) -> list[Finding]:
    """Run the rate rules on one key whose rates can have risen (see RISES_WITH)."""
    return detect_rules(RATE_RULES, view, now, rising)


def detect_rules(
    rules: Iterable[RateRule], view: KeyView, now: datetime, rising: int
) -> list[Finding]:
    """Run the rules whose rate can have risen, by the `rising` mask of moved counters."""
    found = (detect_rate(rule, view, now) for rule in rules if RISING_MASKS[rule.rate] & rising)
    return [item for item in found if item is not None]
