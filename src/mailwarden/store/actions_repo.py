"""Action runs (the runner's ledger, with append-only steps) and the suppression list in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mailwarden.actions.records import Run, RunError, StepRecord, Suppression
from mailwarden.store.actions_tables import action_runs, action_steps, suppressions
from mailwarden.store.rows import from_ms, to_ms

_CHUNK = 500  # addresses per IN (...) list


class SqlRunLedger:
    """RunLedger on SQLAlchemy Core: action_runs by key, action_steps appended with each step."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, run: Run) -> Run:
        """Insert the run unless its key exists; return the stored run either way."""
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(action_runs).values(**_run_row(run)))
        except IntegrityError:
            pass
        stored = self.get(run.key)
        assert stored is not None
        return stored

    def get(self, key: str) -> Run | None:
        """Return the run with this idempotency key."""
        with self._engine.connect() as conn:
            row = conn.execute(select(action_runs).where(action_runs.c.key == key)).first()
        return _row_run(row) if row is not None else None

    def claim(self, key: str, expect: frozenset[str], run: Run) -> bool:
        """Compare-and-set on state and attempt count: only one worker wins each attempt."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(action_runs)
                .where(
                    action_runs.c.key == key,
                    action_runs.c.state.in_(sorted(expect)),
                    action_runs.c.attempts == run.attempts - 1,
                )
                .values(**_run_row(run))
            )
        return bool(result.rowcount == 1)

    def complete(self, run: Run, step: StepRecord) -> None:
        """Store the run's new state and append the step, in one transaction."""
        with self._engine.begin() as conn:
            conn.execute(
                update(action_runs).where(action_runs.c.key == run.key).values(**_run_row(run))
            )
            conn.execute(insert(action_steps).values(**_step_row(step)))

    def steps(self, key: str) -> list[StepRecord]:
        """The run's step records, oldest first."""
        query = select(action_steps).where(action_steps.c.key == key).order_by(action_steps.c.seq)
        with self._engine.connect() as conn:
            return [_row_step(row) for row in conn.execute(query)]

    def for_incident(self, incident_id: str) -> list[Run]:
        """Every run started for an incident, oldest first."""
        query = (
            select(action_runs)
            .where(action_runs.c.incident_id == incident_id)
            .order_by(action_runs.c.created_ms, action_runs.c.id)
        )
        with self._engine.connect() as conn:
            return [_row_run(row) for row in conn.execute(query)]


class SqlSuppressionStore:
    """Mailwarden's suppression list in the suppressions table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, address: str) -> Suppression | None:
        """Return the entry for the address, expired or not."""
        return self.get_many([address]).get(address.lower())

    def get_many(self, addresses: Sequence[str]) -> dict[str, Suppression]:
        """The entries of those addresses that have one, expired or not (a query per 500)."""
        wanted = sorted({address.lower() for address in addresses})
        with self._engine.connect() as conn:
            return _find_suppressions(conn, wanted)

    def put(self, suppression: Suppression, now: datetime) -> bool:
        """Add the entry unless an active one exists; an expired one is replaced."""
        return self.put_many([suppression], now)[0]

    def put_many(self, entries: Sequence[Suppression], now: datetime) -> list[bool]:
        """Add each entry unless an active one exists, all in one transaction (one flush for
        thousands of addresses); if another writer races us, fall back to one at a time."""
        try:
            with self._engine.begin() as conn:
                return _put_all(conn, entries, now)
        except IntegrityError:
            if len(entries) == 1:
                return [False]
            return [self.put(entry, now) for entry in entries]

    def remove(self, address: str, run_key: str) -> bool:
        """Delete the entry if the run with run_key added it."""
        with self._engine.begin() as conn:
            result = conn.execute(
                delete(suppressions).where(
                    suppressions.c.address == address.lower(), suppressions.c.run_key == run_key
                )
            )
        return bool(result.rowcount == 1)


def _put_all(conn: Connection, entries: Sequence[Suppression], now: datetime) -> list[bool]:
    rows = [_suppression_row(entry) for entry in entries]
    current = _find_suppressions(conn, sorted({row["address"] for row in rows}))
    added: list[bool] = []
    fresh: dict[str, dict[str, Any]] = {}
    for row in rows:
        address = row["address"]
        held = current.get(address)
        new = address not in fresh and (held is None or not held.active(now))
        added.append(new)
        if new:
            fresh[address] = row
    expired = [address for address in fresh if address in current]
    for start in range(0, len(expired), _CHUNK):
        chunk = expired[start : start + _CHUNK]
        conn.execute(delete(suppressions).where(suppressions.c.address.in_(chunk)))
    if fresh:
        conn.execute(insert(suppressions), list(fresh.values()))
    return added


def _find_suppressions(conn: Connection, addresses: Sequence[str]) -> dict[str, Suppression]:
    found: dict[str, Suppression] = {}
    for start in range(0, len(addresses), _CHUNK):
        chunk = list(addresses[start : start + _CHUNK])
        query = select(suppressions).where(suppressions.c.address.in_(chunk))
        for row in conn.execute(query):
            found[row.address] = _row_suppression(row)
    return found


def _row_suppression(row: Row[Any]) -> Suppression:
    return Suppression(
        address=row.address,
        reason=row.reason,
        created_by=row.created_by,
        created_at=from_ms(row.created_ms),
        source_incident=row.source_incident,
        run_key=row.run_key,
        expires_at=from_ms(row.expires_ms) if row.expires_ms is not None else None,
    )


def _suppression_row(suppression: Suppression) -> dict[str, Any]:
    return {
        "address": suppression.address.lower(),
        "reason": suppression.reason,
        "source_incident": suppression.source_incident,
        "created_by": suppression.created_by,
        "run_key": suppression.run_key,
        "created_ms": to_ms(suppression.created_at),
        "expires_ms": to_ms(suppression.expires_at) if suppression.expires_at else None,
    }


def _dump(value: Mapping[str, Any] | None) -> str | None:
    return orjson.dumps(dict(value)).decode() if value is not None else None


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    loaded: dict[str, Any] = orjson.loads(text)
    return loaded


def _run_row(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "key": run.key,
        "action": run.action,
        "provider": run.provider,
        "risk": run.risk,
        "params": _dump(run.params),
        "state": run.state,
        "plan": _dump(run.plan),
        "requested_by": run.requested_by,
        "approved_by": run.approved_by,
        "executed_by": run.executed_by,
        "incident_id": run.incident_id,
        "attempts": run.attempts,
        "result": _dump(run.result),
        "provider_response_id": run.provider_response_id,
        "error_kind": run.error.kind if run.error else None,
        "error_message": run.error.message if run.error else None,
        "verified": run.verified,
        "undo_result": _dump(run.undo_result),
        "created_ms": to_ms(run.created_at),
        "updated_ms": to_ms(run.updated_at),
    }


def _row_run(row: Row[Any]) -> Run:
    return Run(
        id=row.id,
        key=row.key,
        action=row.action,
        provider=row.provider,
        risk=row.risk,
        params=_load(row.params) or {},
        state=row.state,
        plan=_load(row.plan) or {},
        requested_by=row.requested_by,
        created_at=from_ms(row.created_ms),
        updated_at=from_ms(row.updated_ms),
        incident_id=row.incident_id,
        approved_by=row.approved_by,
        executed_by=row.executed_by,
        attempts=row.attempts,
        result=_load(row.result),
        provider_response_id=row.provider_response_id,
        error=_error(row.error_kind, row.error_message),
        verified=row.verified,
        undo_result=_load(row.undo_result),
    )


def _step_row(step: StepRecord) -> dict[str, Any]:
    return {
        "run_id": step.run_id,
        "key": step.key,
        "action": step.action,
        "provider": step.provider,
        "step": step.step,
        "outcome": step.outcome,
        "actor": step.actor,
        "approved_by": step.approved_by,
        "incident_id": step.incident_id,
        "params": _dump(step.params),
        "result": _dump(step.result),
        "provider_response_id": step.provider_response_id,
        "error_kind": step.error.kind if step.error else None,
        "error_message": step.error.message if step.error else None,
        "at_ms": to_ms(step.at),
    }


def _row_step(row: Row[Any]) -> StepRecord:
    return StepRecord(
        run_id=row.run_id,
        key=row.key,
        action=row.action,
        provider=row.provider,
        step=row.step,
        outcome=row.outcome,
        actor=row.actor,
        at=from_ms(row.at_ms),
        params=_load(row.params) or {},
        incident_id=row.incident_id,
        approved_by=row.approved_by,
        result=_load(row.result),
        provider_response_id=row.provider_response_id,
        error=_error(row.error_kind, row.error_message),
    )


def _error(kind: str | None, message: str | None) -> RunError | None:
    return RunError(kind, message or "") if kind else None
