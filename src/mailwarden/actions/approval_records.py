"""A pending approval: an action planned for an incident, waiting for its commander's decision.

An approval is keyed by the action run's idempotency key (one approval per run). It moves
pending → approved | rejected exactly once; automatic runs (low risk, or an emergency rule)
are stored already approved, with the rule that approved them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Protocol

from mailwarden.actions.records import Run

PENDING: Final = "pending"
APPROVED: Final = "approved"
REJECTED: Final = "rejected"
APPROVAL_STATES: Final = (PENDING, APPROVED, REJECTED)


@dataclass(frozen=True, slots=True)
class Approval:
    """An action run waiting for (or given) a decision: who asked, what the plan showed."""

    id: str
    key: str
    action: str
    risk: str
    params: Mapping[str, Any]
    plan: Mapping[str, Any]
    requested_by: str
    requested_at: datetime
    state: str = PENDING
    incident_id: str | None = None
    step_id: str | None = None
    rule: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str = ""

    @property
    def decision(self) -> str | None:
        """approved or rejected once decided; None while pending."""
        return None if self.state == PENDING else self.state

    @property
    def automatic(self) -> bool:
        """True when a rule, not a person, approved it."""
        return self.rule is not None

    def with_changes(self, **changes: Any) -> Approval:
        """Return a copy with the given fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {
            "id": self.id,
            "key": self.key,
            "action": self.action,
            "risk": self.risk,
            "params": dict(self.params),
            "plan": dict(self.plan),
            "incident_id": self.incident_id,
            "step_id": self.step_id,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat(),
            "state": self.state,
            "decision": self.decision,
            "rule": self.rule,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "reason": self.reason,
        }


class ApprovalStore(Protocol):
    """Approvals by id and by run key."""

    def add(self, approval: Approval) -> Approval:
        """Insert unless an approval for the run key exists; return the stored one."""
        ...

    def get(self, approval_id: str) -> Approval | None:
        """One approval by id."""
        ...

    def by_key(self, key: str) -> Approval | None:
        """The approval of one action run."""
        ...

    def decide(self, decided: Approval) -> bool:
        """Store the decision if the approval is still pending; False if someone decided first."""
        ...

    def listed(
        self, *, state: str | None = None, incident_id: str | None = None, limit: int = 200
    ) -> list[Approval]:
        """Approvals, newest first, optionally filtered."""
        ...


class MemoryApprovalStore:
    """An ApprovalStore in dicts (tests, processes without a database)."""

    def __init__(self) -> None:
        self._rows: dict[str, Approval] = {}
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, approval: Approval) -> Approval:
        """Insert unless the run key has an approval; return the stored one."""
        with self._lock:
            existing = self._keys.get(approval.key)
            if existing is not None:
                return self._rows[existing]
            self._rows[approval.id] = approval
            self._keys[approval.key] = approval.id
            return approval

    def get(self, approval_id: str) -> Approval | None:
        """One approval by id."""
        with self._lock:
            return self._rows.get(approval_id)

    def by_key(self, key: str) -> Approval | None:
        """The approval of one action run."""
        with self._lock:
            found = self._keys.get(key)
            return self._rows[found] if found is not None else None

    def decide(self, decided: Approval) -> bool:
        """Store the decision if still pending."""
        with self._lock:
            current = self._rows.get(decided.id)
            if current is None or current.state != PENDING:
                return False
            self._rows[decided.id] = decided
            return True

    def listed(
        self, *, state: str | None = None, incident_id: str | None = None, limit: int = 200
    ) -> list[Approval]:
        """Approvals, newest first."""
        with self._lock:
            rows = list(self._rows.values())
        rows = [
            a
            for a in rows
            if (state is None or a.state == state)
            and (incident_id is None or a.incident_id == incident_id)
        ]
        rows.sort(key=lambda a: (a.requested_at, a.id), reverse=True)
        return rows[:limit]


def run_dict(run: Run) -> dict[str, Any]:
    """A run as JSON (times as ISO 8601)."""
    return {
        "id": run.id,
        "key": run.key,
        "action": run.action,
        "provider": run.provider,
        "risk": run.risk,
        "state": run.state,
        "incident_id": run.incident_id,
        "requested_by": run.requested_by,
        "approved_by": run.approved_by,
        "executed_by": run.executed_by,
        "attempts": run.attempts,
        "provider_response_id": run.provider_response_id,
        "result": dict(run.result) if run.result is not None else None,
        "undo_result": dict(run.undo_result) if run.undo_result is not None else None,
        "error": run.error.to_dict() if run.error else None,
        "verified": run.verified,
        "created_at": run.created_at.isoformat(),
        "updated_at": run.updated_at.isoformat(),
    }
