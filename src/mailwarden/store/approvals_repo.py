"""Approvals, delisting requests and the reminder log in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mailwarden.actions.approval_records import PENDING, Approval
from mailwarden.actions.delisting import Delisting
from mailwarden.actions.reminders import Reminder
from mailwarden.store.gate_tables import action_approvals, delisting_requests, gate_reminders
from mailwarden.store.rows import from_ms, to_ms


def _ms(value: datetime | None) -> int | None:
    return to_ms(value) if value is not None else None


def _dt(value: int | None) -> datetime | None:
    return from_ms(value) if value is not None else None


class SqlApprovalStore:
    """Approvals in action_approvals: one per run key, decided once by a conditional update."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, approval: Approval) -> Approval:
        """Insert unless the run key has an approval; return the stored one."""
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(action_approvals).values(**_approval_row(approval)))
        except IntegrityError:
            pass
        stored = self.by_key(approval.key)
        assert stored is not None
        return stored

    def get(self, approval_id: str) -> Approval | None:
        """One approval by id."""
        return self._one(action_approvals.c.id == approval_id)

    def by_key(self, key: str) -> Approval | None:
        """The approval of one action run."""
        return self._one(action_approvals.c.key == key)

    def decide(self, decided: Approval) -> bool:
        """Store the decision if the approval is still pending."""
        table = action_approvals
        statement = (
            update(table)
            .where(table.c.id == decided.id, table.c.state == PENDING)
            .values(
                state=decided.state,
                decided_by=decided.decided_by,
                decided_ms=_ms(decided.decided_at),
                reason=decided.reason,
            )
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(statement).rowcount == 1)

    def listed(
        self, *, state: str | None = None, incident_id: str | None = None, limit: int = 200
    ) -> list[Approval]:
        """Approvals, newest first."""
        table = action_approvals
        query = select(table).order_by(table.c.requested_ms.desc(), table.c.id.desc())
        if state is not None:
            query = query.where(table.c.state == state)
        if incident_id is not None:
            query = query.where(table.c.incident_id == incident_id)
        with self._engine.connect() as conn:
            return [_approval(row) for row in conn.execute(query.limit(limit))]

    def _one(self, condition: Any) -> Approval | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(action_approvals).where(condition)).first()
        return _approval(row) if row is not None else None


class SqlDelistingStore:
    """Delisting requests in delisting_requests."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, request: Delisting) -> Delisting:
        """Insert and return the request with its id."""
        statement = (
            insert(delisting_requests)
            .values(**_delisting_row(request))
            .returning(delisting_requests.c.id)
        )
        with self._engine.begin() as conn:
            new_id = int(conn.execute(statement).scalar_one())
        return request.with_changes(id=new_id)

    def get(self, request_id: int) -> Delisting | None:
        """One request."""
        query = select(delisting_requests).where(delisting_requests.c.id == request_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return _delisting(row) if row is not None else None

    def update(self, request: Delisting, expect_status: str) -> bool:
        """Store the change if the stored status is still expect_status."""
        table = delisting_requests
        statement = (
            update(table)
            .where(table.c.id == request.id, table.c.status == expect_status)
            .values(**_delisting_row(request))
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(statement).rowcount == 1)

    def listed(
        self, *, status: str | None = None, incident_id: str | None = None
    ) -> list[Delisting]:
        """Requests, oldest first."""
        table = delisting_requests
        query = select(table).order_by(table.c.requested_ms, table.c.id)
        if status is not None:
            query = query.where(table.c.status == status)
        if incident_id is not None:
            query = query.where(table.c.incident_id == incident_id)
        with self._engine.connect() as conn:
            return [_delisting(row) for row in conn.execute(query)]


class SqlReminderLog:
    """The reminders that went out: one row per (subject, kind)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def first(self, reminder: Reminder) -> bool:
        """Record the reminder unless its (subject, kind) is there; True when new."""
        values = {
            "subject": reminder.subject,
            "kind": reminder.kind,
            "incident_id": reminder.incident_id,
            "text": reminder.text,
            "at_ms": to_ms(reminder.at),
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(gate_reminders).values(**values))
        except IntegrityError:
            return False
        return True

    def forget(self, reminder: Reminder) -> None:
        """Drop the record of a reminder whose delivery failed."""
        table = gate_reminders
        condition = (table.c.subject == reminder.subject) & (table.c.kind == reminder.kind)
        with self._engine.begin() as conn:
            conn.execute(delete(table).where(condition))

    def recent(self, limit: int = 100) -> list[Reminder]:
        """Reminders that went out, newest first."""
        query = select(gate_reminders).order_by(gate_reminders.c.at_ms.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [
                Reminder(r.subject, r.kind, r.text, from_ms(r.at_ms), r.incident_id)
                for r in conn.execute(query)
            ]


def _approval_row(approval: Approval) -> dict[str, Any]:
    return {
        "id": approval.id,
        "key": approval.key,
        "action": approval.action,
        "risk": approval.risk,
        "params": orjson.dumps(dict(approval.params)).decode(),
        "plan": orjson.dumps(dict(approval.plan)).decode(),
        "incident_id": approval.incident_id,
        "step_id": approval.step_id,
        "requested_by": approval.requested_by,
        "requested_ms": to_ms(approval.requested_at),
        "state": approval.state,
        "rule": approval.rule,
        "decided_by": approval.decided_by,
        "decided_ms": _ms(approval.decided_at),
        "reason": approval.reason,
    }


def _approval(row: Row[Any]) -> Approval:
    return Approval(
        id=row.id,
        key=row.key,
        action=row.action,
        risk=row.risk,
        params=orjson.loads(row.params),
        plan=orjson.loads(row.plan),
        requested_by=row.requested_by,
        requested_at=from_ms(row.requested_ms),
        state=row.state,
        incident_id=row.incident_id,
        step_id=row.step_id,
        rule=row.rule,
        decided_by=row.decided_by,
        decided_at=_dt(row.decided_ms),
        reason=row.reason,
    )


def _delisting_row(request: Delisting) -> dict[str, Any]:
    return {
        "blocklist": request.blocklist,
        "listed_item": request.listed_item,
        "status": request.status,
        "incident_id": request.incident_id,
        "reference": request.reference,
        "note": request.note,
        "requested_by": request.requested_by,
        "requested_ms": to_ms(request.requested_at),
        "delisted_ms": _ms(request.delisted_at),
        "updated_by": request.updated_by,
        "updated_ms": _ms(request.updated_at),
    }


def _delisting(row: Row[Any]) -> Delisting:
    return Delisting(
        id=row.id,
        blocklist=row.blocklist,
        listed_item=row.listed_item,
        status=row.status,
        incident_id=row.incident_id,
        reference=row.reference,
        note=row.note,
        requested_by=row.requested_by,
        requested_at=from_ms(row.requested_ms),
        delisted_at=_dt(row.delisted_ms),
        updated_by=row.updated_by,
        updated_at=_dt(row.updated_ms),
    )
