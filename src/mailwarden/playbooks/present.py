"""JSON shapes of playbooks and tasks, shared by the API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailwarden.playbooks.loader import Playbook, Problem
from mailwarden.playbooks.records import Task


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def task_dict(task: Task, now: datetime | None = None) -> dict[str, Any]:
    """One task of an incident."""
    return {
        "step": task.step_id,
        "title": task.title,
        "description": task.description,
        "phase": task.phase,
        "role": task.role,
        "due": task.due,
        "due_at": _time(task.due_at),
        "overdue": task.overdue(now) if now is not None else None,
        "mandatory": task.mandatory,
        "action": {"name": task.action, "params": task.action_params} if task.action else None,
        "state": task.state,
        "done_by": task.done_by,
        "done_at": _time(task.done_at),
        "note": task.note,
        "playbook": task.playbook,
        "playbook_version": task.playbook_version,
    }


def playbook_summary(playbook: Playbook) -> dict[str, Any]:
    """One line about a playbook."""
    spec = playbook.spec
    return {
        "type": spec.type,
        "version": spec.version,
        "title": spec.title,
        "source": playbook.source,
        "steps": len(spec.steps),
        "mandatory": sum(step.mandatory for step in spec.steps),
    }


def playbook_detail(playbook: Playbook) -> dict[str, Any]:
    """A playbook with all its steps."""
    return {
        **playbook_summary(playbook),
        "summary": playbook.spec.summary.strip(),
        "steps": [step.model_dump(exclude_none=True) for step in playbook.spec.steps],
    }


def problem_dict(problem: Problem) -> dict[str, Any]:
    """A problem in a playbook file."""
    return {"file": problem.file, "line": problem.line, "message": problem.message}
