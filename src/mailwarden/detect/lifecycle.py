"""Don't cry wolf: one open finding per (kind, scope), updated while it persists, closed after
the metric has been back to normal for a hold time.

Detectors emit candidates every evaluation. The first candidate for a (kind, scope) opens a
finding; later ones update it (last_seen, observed, expected, evidence, window end; the
severity only goes up while it is open). An update is *published* when the severity rises,
the observed value moves by a quarter, or `republish` has passed, so subscribers hear about
change, not about every minute. A finding with no candidate for `hold` closes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from mailwarden.detect.model import SEVERITIES, Finding, Scope

FindingKey = tuple[str, Scope]
# Evidence that stays once said (e.g. "check": "early campaign check") while detectors update.
STICKY_EVIDENCE: Final = ("check",)


@dataclass(slots=True)
class _Open:
    finding: Finding
    last_positive: datetime
    published_observed: float
    published_at: datetime


@dataclass(slots=True)
class Changes:
    """What one evaluation did to the findings."""

    opened: list[Finding] = field(default_factory=list)
    updated: list[Finding] = field(default_factory=list)
    published: list[Finding] = field(default_factory=list)
    closed: list[Finding] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.opened or self.updated or self.closed)


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


class FindingTracker:
    """The open findings, keyed by (kind, scope)."""

    def __init__(
        self, hold: timedelta = timedelta(minutes=60), republish: timedelta = timedelta(minutes=30)
    ) -> None:
        self._open: dict[FindingKey, _Open] = {}
        self._hold = hold
        self._republish = republish

    def restore(self, findings: Iterable[Finding]) -> None:
        """Take over findings that were open when the process last stopped."""
        for item in findings:
            seen = item.last_seen or item.first_seen
            self._open[(item.kind, item.scope)] = _Open(item, seen, item.observed, seen)

    def is_open(self, kind: str, scope: Scope) -> bool:
        """True while a finding of this kind is open on the scope."""
        return (kind, scope) in self._open

    def get(self, kind: str, scope: Scope) -> Finding | None:
        """The open finding of this kind on the scope, if any."""
        entry = self._open.get((kind, scope))
        return entry.finding if entry is not None else None

    def open_findings(self) -> list[Finding]:
        """Every open finding."""
        return [entry.finding for entry in self._open.values()]

    def apply(self, candidates: Iterable[Finding], now: datetime) -> Changes:
        """Merge this evaluation's candidates, then close what has been quiet for the hold."""
        changes = Changes()
        for candidate in candidates:
            key = (candidate.kind, candidate.scope)
            entry = self._open.get(key)
            if entry is None:
                candidate.last_seen = now
                self._open[key] = _Open(candidate, now, candidate.observed, now)
                changes.opened.append(candidate)
                changes.published.append(candidate)
            elif self._update(entry, candidate, now):
                changes.published.append(entry.finding)
                changes.updated.append(entry.finding)
            else:
                changes.updated.append(entry.finding)
        for key, entry in list(self._open.items()):
            if now - entry.last_positive >= self._hold:
                entry.finding.status = "closed"
                entry.finding.closed_at = now
                del self._open[key]
                changes.closed.append(entry.finding)
                changes.published.append(entry.finding)
        return changes

    def _update(self, entry: _Open, candidate: Finding, now: datetime) -> bool:
        current = entry.finding
        escalated = _rank(candidate.severity) > _rank(current.severity)
        if escalated:
            current.severity = candidate.severity
        current.observed = candidate.observed
        current.expected = candidate.expected
        for kept in STICKY_EVIDENCE:
            if kept in current.evidence and kept not in candidate.evidence:
                candidate.evidence[kept] = current.evidence[kept]
        current.evidence = candidate.evidence
        current.window_end = max(current.window_end, candidate.window_end)
        current.window_start = min(current.window_start, candidate.window_start)
        if candidate.sample_event_ids:
            current.sample_event_ids = candidate.sample_event_ids
        current.last_seen = now
        entry.last_positive = now
        moved = abs(candidate.observed - entry.published_observed) > 0.25 * max(
            abs(entry.published_observed), 1e-12
        )
        if escalated or moved or now - entry.published_at >= self._republish:
            entry.published_observed = candidate.observed
            entry.published_at = now
            return True
        return False
