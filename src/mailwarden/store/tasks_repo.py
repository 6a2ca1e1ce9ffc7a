"""Playbook tasks in SQL: one row per step per incident; check-offs are conditional updates."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, and_, insert, select, update

from mailwarden.playbooks.records import OPEN, Task
from mailwarden.store.rows import from_ms, to_ms
from mailwarden.store.team_tables import incident_tasks

_CHUNK = 500


class SqlTaskRepository:
    """Stores incident tasks behind an engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, tasks: Sequence[Task]) -> bool:
        """Insert an incident's tasks unless it has some already; True when inserted."""
        if not tasks:
            return False
        incident_pk = tasks[0].incident_pk
        with self._engine.begin() as conn:
            query = select(incident_tasks.c.id).where(incident_tasks.c.incident_id == incident_pk)
            if conn.execute(query.limit(1)).first() is not None:
                return False
            for task in tasks:
                result = conn.execute(
                    insert(incident_tasks).values(_values(task)).returning(incident_tasks.c.id)
                )
                task.pk = int(result.scalar_one())
        return True

    def for_incident(self, incident_pk: int) -> list[Task]:
        """An incident's tasks in playbook order."""
        query = (
            select(incident_tasks)
            .where(incident_tasks.c.incident_id == incident_pk)
            .order_by(incident_tasks.c.position)
        )
        with self._engine.connect() as conn:
            return [_task_of(row) for row in conn.execute(query).mappings()]

    def with_tasks(self, incident_pks: Collection[int]) -> set[int]:
        """Which of these incidents have tasks."""
        found: set[int] = set()
        pks = list(incident_pks)
        with self._engine.connect() as conn:
            for start in range(0, len(pks), _CHUNK):
                query = (
                    select(incident_tasks.c.incident_id)
                    .where(incident_tasks.c.incident_id.in_(pks[start : start + _CHUNK]))
                    .distinct()
                )
                found.update(int(pk) for pk in conn.execute(query).scalars())
        return found

    def set_due(self, changes: Sequence[tuple[int, datetime | None]]) -> None:
        """Store new due times (task pk, due_at)."""
        if not changes:
            return
        with self._engine.begin() as conn:
            for pk, due_at in changes:
                due = to_ms(due_at) if due_at is not None else None
                conn.execute(
                    update(incident_tasks).where(incident_tasks.c.id == pk).values(due_ms=due)
                )

    def finish(self, pk: int, state: str, by: str, at: datetime, note: str) -> bool:
        """Mark an open task done or skipped; False if it was no longer open."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(incident_tasks)
                .where(incident_tasks.c.id == pk, incident_tasks.c.state == OPEN)
                .values(state=state, done_by=by, done_ms=to_ms(at), note=note)
            )
        return bool(result.rowcount == 1)

    def reopen(self, pk: int) -> None:
        """Put a task back to open (undoing a check-off that could not reach the timeline)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(incident_tasks)
                .where(incident_tasks.c.id == pk)
                .values(state=OPEN, done_by=None, done_ms=None, note="")
            )

    def overdue(self, now: datetime, incident_pks: Collection[int]) -> list[Task]:
        """Open mandatory tasks of these incidents whose due time has passed."""
        found: list[Task] = []
        pks = list(incident_pks)
        with self._engine.connect() as conn:
            for start in range(0, len(pks), _CHUNK):
                query = select(incident_tasks).where(
                    and_(
                        incident_tasks.c.state == OPEN,
                        incident_tasks.c.mandatory.is_(True),
                        incident_tasks.c.due_ms <= to_ms(now),
                        incident_tasks.c.incident_id.in_(pks[start : start + _CHUNK]),
                    )
                )
                found.extend(_task_of(row) for row in conn.execute(query).mappings())
        return sorted(found, key=lambda task: (task.incident_pk, task.position))


def _values(task: Task) -> dict[str, Any]:
    return {
        "incident_id": task.incident_pk,
        "position": task.position,
        "step_id": task.step_id,
        "title": task.title,
        "description": task.description,
        "phase": task.phase,
        "role": task.role,
        "due_rule": task.due,
        "due_ms": to_ms(task.due_at) if task.due_at is not None else None,
        "mandatory": task.mandatory,
        "action": task.action,
        "action_params": orjson.dumps(task.action_params).decode(),
        "state": task.state,
        "done_by": task.done_by,
        "done_ms": to_ms(task.done_at) if task.done_at is not None else None,
        "note": task.note,
        "playbook": task.playbook,
        "playbook_version": task.playbook_version,
        "created_ms": to_ms(task.created_at),
    }


def _task_of(row: Mapping[Any, Any]) -> Task:
    return Task(
        incident_pk=row["incident_id"],
        step_id=row["step_id"],
        title=row["title"],
        phase=row["phase"],
        role=row["role"],
        due=row["due_rule"],
        mandatory=bool(row["mandatory"]),
        position=row["position"],
        playbook=row["playbook"],
        playbook_version=row["playbook_version"],
        created_at=from_ms(row["created_ms"]),
        description=row["description"],
        due_at=from_ms(row["due_ms"]) if row["due_ms"] is not None else None,
        action=row["action"],
        action_params=orjson.loads(row["action_params"]),
        state=row["state"],
        done_by=row["done_by"],
        done_at=from_ms(row["done_ms"]) if row["done_ms"] is not None else None,
        note=row["note"],
        pk=row["id"],
    )
