"""What an incident's timeline says about its clocks: alarms already fired, levels paged,
the last stakeholder update, and the GDPR awareness and notice times."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from mailwarden.incidents.model import Incident, TimelineEntry

SOURCE: Final = "sla"
STAKEHOLDER_UPDATE: Final = "stakeholder_update"
PERSONAL_DATA_CONFIRMED: Final = "personal_data_confirmed"
AUTHORITY_NOTIFIED: Final = "authority_notified"
AUTHORITY_STEP: Final = "notify_authority"
_PHRASE: Final = "personal data confirmed"


@dataclass(slots=True)
class Facts:
    """Clock state read back from one version of an incident's timeline."""

    version: int = 0
    fired: set[str] = field(default_factory=set)
    reached: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    policies: dict[int, str] = field(default_factory=dict)
    last_update_at: datetime | None = None
    personal_data_at: datetime | None = None
    authority_notified_at: datetime | None = None

    def page(self, epoch: int, cycle: int, level: int, policy: str, key: str) -> None:
        """Remember that a level was paged (also used as entries are written)."""
        self.reached.setdefault((epoch, cycle), set()).add(level)
        self.policies.setdefault(epoch, policy)
        self.fired.add(key)

    def highest(self, epoch: int) -> tuple[int, int | None]:
        """The latest round paged in an epoch and the highest level reached in it."""
        cycles = [cycle for (e, cycle) in self.reached if e == epoch]
        if not cycles:
            return 0, None
        cycle = max(cycles)
        return cycle, max(self.reached[(epoch, cycle)])


def epoch_of(incident: Incident) -> tuple[int, datetime]:
    """Clocks restart when an incident reopens: the reopen count and when this round began."""
    if incident.reopen_count and incident.reopened_at is not None:
        return incident.reopen_count, incident.reopened_at
    return 0, incident.detected_at


def facts_of(entries: Iterable[TimelineEntry], version: int = 0) -> Facts:
    """Read the clock facts from a timeline, oldest first."""
    facts = Facts(version=version)
    for entry in entries:
        data = entry.data
        if entry.source == SOURCE and "alarm" in data:
            facts.fired.add(str(data["alarm"]))
            if "level" in data:
                facts.page(
                    int(data["epoch"]),
                    int(data["cycle"]),
                    int(data["level"]),
                    str(data.get("policy", "")),
                    str(data["alarm"]),
                )
        if entry.kind == STAKEHOLDER_UPDATE:
            facts.last_update_at = entry.at
        if facts.personal_data_at is None and _confirms_personal_data(entry):
            facts.personal_data_at = _aware_at(data) or entry.at
        if facts.authority_notified_at is None and _notifies_authority(entry):
            facts.authority_notified_at = entry.at
    return facts


def _confirms_personal_data(entry: TimelineEntry) -> bool:
    return (
        entry.kind == PERSONAL_DATA_CONFIRMED
        or entry.data.get(PERSONAL_DATA_CONFIRMED) is True
        or (entry.kind in ("note", "transitioned") and _PHRASE in entry.note.lower())
    )


def _notifies_authority(entry: TimelineEntry) -> bool:
    return entry.kind == AUTHORITY_NOTIFIED or (
        entry.kind == "task_done" and entry.data.get("step") == AUTHORITY_STEP
    )


def _aware_at(data: dict[str, Any]) -> datetime | None:
    value = data.get("aware_at")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
