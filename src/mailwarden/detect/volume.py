"""Volume: send surges and drops against the usual volume at this hour (of the day or week).

A window's sends are tested with an exact Poisson tail against a null that is already
generous: for a surge, the larger of `factor` x the usual median and `margin` x the robust
high seen at this hour before; for a drop, the smaller of a fraction of the median and of
the robust low. Keys whose volume swings wildly at this hour (marketing blasts) thus need a
truly unusual burst, while steady streams (transactional mail, automations) and quiet
night hours are watched closely. A burst at night from a campaign first seen within the
hour is named as a possible account compromise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from mailwarden.detect.model import Finding
from mailwarden.detect.view import KeyView, finding, minute_time
from mailwarden.metrics.counters import QUEUED
from mailwarden.metrics.stats import log_poisson_cdf, log_poisson_sf, neg_log10

NIGHT_HOURS: Final = frozenset({22, 23, 0, 1, 2, 3, 4, 5})


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    """How unusual a volume must be, and how big, before it is a finding."""

    surge_windows: tuple[int, ...] = (15, 60)
    drop_windows: tuple[int, ...] = (60, 240)
    surge_factor: float = 4.0
    surge_margin: float = 2.0
    min_surge: int = 150
    drop_factor: float = 0.25
    drop_margin: float = 0.5
    min_expected_drop: float = 60.0
    score: float = 7.0


def _expected(per_hour: float, minutes: int) -> float:
    return per_hour * minutes / 60.0


def detect_surge(
    view: KeyView, now: datetime, new_campaigns: Mapping[str, int], spec: VolumeSpec = VolumeSpec()
) -> Finding | None:
    """A finding when sends burst far above anything usual at this hour."""
    base = view.volume
    if base is None:
        return None
    best: tuple[float, int, int, float] | None = None
    for minutes in spec.surge_windows:
        row = view.windows.get(minutes)
        if row is None:
            continue
        sends = row[QUEUED]
        null = max(
            spec.surge_factor * _expected(base.median, minutes),
            spec.surge_margin * _expected(base.high, minutes),
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
    evidence = _surge_evidence(view, minutes, sends, usual, null, score, new_campaigns)
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
    evidence: dict[str, Any] = {
        "test": "exact Poisson upper tail against a generous multiple of the usual volume",
        "window_minutes": minutes,
        "sends": sends,
        "usual_sends": round(usual, 1),
        "null_sends": round(null, 1),
        "ratio": round(sends / max(usual, 1.0), 2),
        "baseline": view.volume.source,
        "p_value": 10.0**-score,
        "score": round(score, 2),
    }
    if new_campaigns:
        evidence["new_campaigns"] = dict(new_campaigns)
    if hour in NIGHT_HOURS and new_campaigns:
        evidence["possible_compromise"] = True
        evidence["meaning"] = (
            f"{evidence['ratio']}x the usual volume at {hour:02d}h UTC (night) from campaign(s)"
            f" never seen before: {', '.join(sorted(new_campaigns))}; an account-compromise"
            " signal (stolen API key or credentials sending spam or phishing)"
        )
    return evidence


def detect_drop(view: KeyView, now: datetime, spec: VolumeSpec = VolumeSpec()) -> Finding | None:
    """A finding when sends fall far below the least usually seen at this hour."""
    base = view.volume
    if base is None:
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
