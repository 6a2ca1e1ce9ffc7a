"""What playbooks need from elsewhere: the names of the actions that exist, and task storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from mailwarden.playbooks.records import Task


class ActionCatalog(Protocol):
    """The action registry, as far as playbooks care: which action names exist."""

    def names(self) -> Collection[str]:
        """Every action name that can run here."""
        ...


class TaskRepository(Protocol):
    """Stores incident tasks."""

    def add(self, tasks: Sequence[Task]) -> bool:
        """Insert an incident's tasks unless it has some already; True when inserted."""
        ...

    def for_incident(self, incident_pk: int) -> list[Task]:
        """An incident's tasks in playbook order."""
        ...

    def with_tasks(self, incident_pks: Collection[int]) -> set[int]:
        """Which of these incidents have tasks."""
        ...

    def set_due(self, changes: Sequence[tuple[int, datetime | None]]) -> None:
        """Store new due times (task pk, due_at)."""
        ...

    def finish(self, pk: int, state: str, by: str, at: datetime, note: str) -> bool:
        """Mark an open task done or skipped; False if it was no longer open."""
        ...

    def reopen(self, pk: int) -> None:
        """Put a task back to open."""
        ...

    def overdue(self, now: datetime, incident_pks: Collection[int]) -> list[Task]:
        """Open mandatory tasks of these incidents whose due time has passed."""
        ...
