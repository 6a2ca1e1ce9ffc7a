"""A task: one playbook step on one incident, checked off with who and when. No framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

OPEN: Final = "open"
DONE: Final = "done"
SKIPPED: Final = "skipped"
TASK_STATES: Final = (OPEN, DONE, SKIPPED)


@dataclass(slots=True)
class Task:
    """A step of the incident's playbook: what to do, by whom (role), by when, and its state."""

    incident_pk: int
    step_id: str
    title: str
    phase: str
    role: str
    due: str
    mandatory: bool
    position: int
    playbook: str
    playbook_version: int
    created_at: datetime
    description: str = ""
    due_at: datetime | None = None
    action: str | None = None
    action_params: dict[str, Any] = field(default_factory=dict)
    state: str = OPEN
    done_by: str | None = None
    done_at: datetime | None = None
    note: str = ""
    pk: int | None = None

    @property
    def is_open(self) -> bool:
        """True until done or skipped."""
        return self.state == OPEN

    def overdue(self, now: datetime) -> bool:
        """True when open past its due time."""
        return self.is_open and self.due_at is not None and self.due_at <= now
