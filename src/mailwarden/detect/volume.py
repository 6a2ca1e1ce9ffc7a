"""Volume: send surges and drops against the usual volume at this hour (of the day or week).

A window's sends are tested with an exact Poisson tail against a null that is already
generous. For a surge: the larger of `factor` x the usual median and `margin` x the robust
high seen around this hour before, and, in the key's busy hours (when blasts happen),
`peak_margin` x its biggest hours: a marketing blast at ten is business as usual, the same
blast at three in the morning is not. For a drop: the smaller of a fraction of the median
and of the robust low, and only on steady keys (that never burst, and whose low is near
their median), since a day without a campaign is no incident. A burst in quiet hours
from a campaign first seen
within the hour is named as a possible account compromise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailwarden.detect.model import Finding
from mailwarden.detect.view import KeyView, finding, minute_time
from mailwarden.metrics.counters import QUEUED
from mailwarden.metrics.stats import log_poisson_cdf, log_poisson_sf, neg_log10
from mailwarden.metrics.volume import VolumeBaseline


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    """How unusual a volume must be, and how big, before it is a finding."""

    surge_windows: tuple[int, ...] = (15, 60)
    drop_windows: tuple[int, ...] = (60, 240)
    surge_factor: float = 4.0
    surge_margin: float = 2.0
    peak_margin: float = 5.0
    min_surge: int = 100
    drop_factor: float = 0.25
    drop_margin: float = 0.5
    steady: float = 0.5
    min_expected_drop: float = 60.0
    surge_days: int = 2
    drop_days: int = 3
    score: float = 7.0


def _expected(per_hour: float, minutes: int) -> float:
    return per_hour * minutes / 60.0


def detect_surge(
    view: KeyView,
    now: datetime,
    new_campaigns: Callable[[], Mapping[str, int]],
    spec: VolumeSpec = VolumeSpec(),
) -> Finding | None:
    """A finding when sends burst far above anything usual at this hour (`new_campaigns` is
    asked, only then, which campaigns first seen within the hour are sending)."""
    base = view.volume
    if base is None or base.days < spec.surge_days:
        return None
    best: tuple[float, int, int, float] | None = None
    for minutes in spec.surge_windows[-1:] if base.busy else spec.surge_windows:
        row = view.windows.get(minutes)
        if row is None:
            continue
        sends = row[QUEUED]
        null = max(
            spec.surge_factor * _expected(base.median, minutes),
            spec.surge_margin * _expected(base.high, minutes),
            spec.peak_margin * _expected(base.peak, minutes) if base.busy else 0.0,
            1.0,
        )
        if sends < spec.min_surge or sends <= null:
            continue
        score = neg_log10(log_poisson_sf(sends, null))
        if score >= spec.score and (best is None or score > best[0]):
            best = (score, minutes, sends, null)
    if best is None:
        return None
    score, minutes, sends, null = best
    usual = _expected(base.median, minutes)
    evidence = _surge_evidence(view, minutes, sends, usual, null, score, new_campaigns())
    ratio = sends / max(usual, 1.0)
    return finding(
        "volume_surge",
        view,
        minutes=minutes,
        severity="critical" if evidence.get("possible_compromise") or ratio >= 10 else "warning",
        observed=float(sends),
        expected=usual,
        evidence=evidence,
        now=now,
    )


def _surge_evidence(
    view: KeyView,
    minutes: int,
    sends: int,
    usual: float,
    null: float,
    score: float,
    new_campaigns: Mapping[str, int],
) -> dict[str, Any]:
    assert view.volume is not None
    hour = minute_time(view.through).hour
    quiet = not view.volume.busy
    evidence: dict[str, Any] = {
        "test": "exact Poisson upper tail against a generous multiple of the usual volume",
        "window_minutes": minutes,
        "sends": sends,
        "usual_sends": round(usual, 1),
        "null_sends": round(null, 1),
        "ratio": round(sends / max(usual, 1.0), 2),
        "baseline": view.volume.source,
        "busy_hours": view.volume.busy,
        "p_value": 10.0**-score,
        "score": round(score, 2),
    }
    if new_campaigns:
        evidence["new_campaigns"] = dict(new_campaigns)
    if quiet and new_campaigns:
        evidence["possible_compromise"] = True
        evidence["meaning"] = (
            f"{evidence['ratio']}x the usual volume at {hour:02d}h UTC, outside the hours this"
            " sender ever blasts, from campaign(s)"
            f" never seen before: {', '.join(sorted(new_campaigns))}; an account-compromise"
            " signal (stolen API key or credentials sending spam or phishing)"
        )
    return evidence


def can_drop(base: VolumeBaseline | None, spec: VolumeSpec) -> bool:
    """True when a key's volume at this hour is steady and known enough to notice a drop."""
    if base is None or base.days < spec.drop_days or base.bursty:
        return False
    return base.low >= spec.steady * base.median


def detect_drop(view: KeyView, now: datetime, spec: VolumeSpec = VolumeSpec()) -> Finding | None:
    """A finding when sends fall far below the least usually seen at this hour."""
    base = view.volume
    if base is None or not can_drop(base, spec):
        return None
    best: tuple[float, int, int, float] | None = None
    for minutes in spec.drop_windows:
        row = view.windows.get(minutes)
        if row is None:
            continue
        sends = row[QUEUED]
        null = min(
            spec.drop_factor * _expected(base.median, minutes),
            spec.drop_margin * _expected(base.low, minutes),
        )
        if null < spec.min_expected_drop or sends >= null:
            continue
        score = neg_log10(log_poisson_cdf(sends, null))
        if score >= spec.score and (best is None or score > best[0]):
            best = (score, minutes, sends, null)
    if best is None:
        return None
    score, minutes, sends, null = best
    usual = _expected(base.median, minutes)
    evidence = {
        "test": "exact Poisson lower tail against a fraction of the least usual volume",
        "window_minutes": minutes,
        "sends": sends,
        "usual_sends": round(usual, 1),
        "null_sends": round(null, 1),
        "baseline": base.source,
        "p_value": 10.0**-score,
        "score": round(score, 2),
    }
    return finding(
        "volume_drop",
        view,
        minutes=minutes,
        severity="critical" if sends == 0 else "warning",
        observed=float(sends),
        expected=usual,
        evidence=evidence,
        now=now,
    )
