"""What a detector sees of one key at one evaluation: window sums, baselines and the time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mailwarden.detect.model import Finding, Scope
from mailwarden.metrics.baseline import RateBaseline
from mailwarden.metrics.counters import Row
from mailwarden.metrics.exposure import Exposure
from mailwarden.metrics.volume import VolumeBaseline


@dataclass(frozen=True, slots=True)
class KeyView:
    """A snapshot of one key's counters, evaluated through minute `through` (epoch minutes)."""

    scope: Scope
    through: int
    windows: Mapping[int, Row]
    baselines: Mapping[str, RateBaseline]
    volume: VolumeBaseline | None = None
    first_minute: int | None = None
    exposure: Exposure | None = None
    usual_per_hour: float = 0.0  # attempts an hour over the last day: how busy the key is
    minutes: Mapping[int, Row] = field(default_factory=dict)  # rows by minute (some past through)


def minute_time(minute: int) -> datetime:
    """The start of an epoch minute as an aware UTC datetime."""
    return datetime.fromtimestamp(minute * 60, UTC)


def finding(
    kind: str,
    view: KeyView,
    *,
    minutes: int,
    severity: str,
    observed: float,
    expected: float,
    evidence: dict[str, Any],
    now: datetime,
) -> Finding:
    """A finding about the view's key over its trailing window of `minutes`."""
    return Finding(
        kind=kind,
        scope=view.scope,
        severity=severity,
        observed=observed,
        expected=expected,
        evidence=evidence,
        window_start=minute_time(view.through - minutes + 1),
        window_end=minute_time(view.through + 1),
        first_seen=now,
    )
