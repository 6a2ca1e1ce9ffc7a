"""The sending gate's rules in SQL: pauses, quarantines, warm-up plans, the suppression list,
and the gate source that loads them all into one snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, Row, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mailwarden.actions.gate import GateRules, Suppressed
from mailwarden.actions.gate_records import Pause, Quarantine, WarmupPlan
from mailwarden.actions.records import Suppression
from mailwarden.store.actions_tables import suppressions
from mailwarden.store.gate_tables import quarantines, sending_pauses, warmup_plans
from mailwarden.store.rollup_sums import rollup_sums
from mailwarden.store.rows import from_ms, to_ms


def _ms(value: datetime | None) -> int | None:
    return to_ms(value) if value is not None else None


def _dt(value: int | None) -> datetime | None:
    return from_ms(value) if value is not None else None


class SqlPauseStore:
    """Pauses in sending_pauses."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, pause: Pause) -> bool:
        """Insert unless a pause with this run key exists."""
        values = {
            "run_key": pause.run_key,
            "scope": pause.scope,
            "key": pause.key,
            "reason": pause.reason,
            "created_by": pause.created_by,
            "created_ms": to_ms(pause.created_at),
            "incident_id": pause.incident_id,
            "expires_ms": _ms(pause.expires_at),
            "updated_ms": to_ms(pause.created_at),
        }
        return _insert(self._engine, sending_pauses, values)

    def resume(self, run_key: str, at: datetime, by: str) -> bool:
        """Mark the run's pause resumed."""
        table = sending_pauses
        statement = (
            update(table)
            .where(table.c.run_key == run_key, table.c.resumed_ms.is_(None))
            .values(resumed_ms=to_ms(at), resumed_by=by, updated_ms=to_ms(at))
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(statement).rowcount == 1)

    def get(self, run_key: str) -> Pause | None:
        """The pause made by this run."""
        query = select(sending_pauses).where(sending_pauses.c.run_key == run_key)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return _pause(row) if row is not None else None

    def listed(self, *, active_at: datetime | None = None) -> list[Pause]:
        """Every pause (or those active at a time), oldest first."""
        table = sending_pauses
        query = select(table).order_by(table.c.created_ms, table.c.run_key)
        if active_at is not None:
            query = query.where(table.c.resumed_ms.is_(None), _not_expired(table, active_at))
        with self._engine.connect() as conn:
            return [_pause(row) for row in conn.execute(query)]


class SqlQuarantineStore:
    """Quarantines in the quarantines table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, quarantine: Quarantine) -> bool:
        """Insert unless a quarantine with this run key exists."""
        values = {
            "run_key": quarantine.run_key,
            "kind": quarantine.kind,
            "name": quarantine.name,
            "reason": quarantine.reason,
            "created_by": quarantine.created_by,
            "created_ms": to_ms(quarantine.created_at),
            "incident_id": quarantine.incident_id,
            "expires_ms": _ms(quarantine.expires_at),
            "updated_ms": to_ms(quarantine.created_at),
        }
        return _insert(self._engine, quarantines, values)

    def release(self, run_key: str, at: datetime, by: str) -> bool:
        """Mark the run's quarantine released."""
        statement = (
            update(quarantines)
            .where(quarantines.c.run_key == run_key, quarantines.c.released_ms.is_(None))
            .values(released_ms=to_ms(at), released_by=by, updated_ms=to_ms(at))
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(statement).rowcount == 1)

    def listed(self, *, active_at: datetime | None = None) -> list[Quarantine]:
        """Every quarantine (or those active at a time), oldest first."""
        table = quarantines
        query = select(table).order_by(table.c.created_ms, table.c.run_key)
        if active_at is not None:
            query = query.where(table.c.released_ms.is_(None), _not_expired(table, active_at))
        with self._engine.connect() as conn:
            return [_quarantine(row) for row in conn.execute(query)]


class SqlWarmupStore:
    """Warm-up plans in warmup_plans."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, plan: WarmupPlan) -> bool:
        """Insert unless a plan with this id exists."""
        values = {
            "id": plan.id,
            "scope": plan.scope,
            "key": plan.key,
            "started_ms": to_ms(plan.started_at),
            "normal": orjson.dumps(dict(plan.normal)).decode(),
            "schedules": orjson.dumps({k: list(v) for k, v in plan.schedules.items()}).decode(),
            "basis": plan.basis,
            "created_by": plan.created_by,
            "incident_id": plan.incident_id,
            "source_run": plan.source_run,
            "updated_ms": to_ms(plan.started_at),
        }
        return _insert(self._engine, warmup_plans, values)

    def get(self, plan_id: str) -> WarmupPlan | None:
        """One plan."""
        with self._engine.connect() as conn:
            row = conn.execute(select(warmup_plans).where(warmup_plans.c.id == plan_id)).first()
        return _plan(row) if row is not None else None

    def cancel(self, plan_id: str, at: datetime, by: str) -> bool:
        """Stop a plan early."""
        statement = (
            update(warmup_plans)
            .where(warmup_plans.c.id == plan_id, warmup_plans.c.cancelled_ms.is_(None))
            .values(cancelled_ms=to_ms(at), cancelled_by=by, updated_ms=to_ms(at))
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(statement).rowcount == 1)

    def listed(self, *, active_at: datetime | None = None) -> list[WarmupPlan]:
        """Every plan (or those active at a time), oldest first."""
        query = select(warmup_plans).order_by(warmup_plans.c.started_ms, warmup_plans.c.id)
        if active_at is not None:
            query = query.where(warmup_plans.c.cancelled_ms.is_(None))
        with self._engine.connect() as conn:
            plans = [_plan(row) for row in conn.execute(query)]
        return [p for p in plans if active_at is None or p.active(active_at)]


class SqlSuppressionList:
    """Reads Mailwarden's suppression list in bulk: export, expiry reminders, the gate."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def entries(self, *, active_at: datetime | None = None) -> Iterator[Suppression]:
        """Every suppression (or the active ones), by address."""
        query = select(suppressions).order_by(suppressions.c.address)
        if active_at is not None:
            query = query.where(_not_expired(suppressions, active_at))
        with self._engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(query):
                yield _suppression(row)

    def expiring(self, after: datetime, until: datetime) -> list[Suppression]:
        """Suppressions expiring in (after, until]."""
        column = suppressions.c.expires_ms
        query = select(suppressions).where(column > to_ms(after), column <= to_ms(until))
        with self._engine.connect() as conn:
            return [_suppression(row) for row in conn.execute(query.order_by(column))]


class SqlGateSource:
    """Loads the gate's snapshot; its fingerprint is one cheap aggregate query."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pauses = SqlPauseStore(engine)
        self._quarantines = SqlQuarantineStore(engine)
        self._warmups = SqlWarmupStore(engine)
        self._suppressions = SqlSuppressionList(engine)

    def fingerprint(self) -> str:
        """Row counts and latest change times of every rule table."""
        tables = (sending_pauses, quarantines, warmup_plans)
        columns = [
            select(func.count()).select_from(suppressions).scalar_subquery(),
            select(func.coalesce(func.max(suppressions.c.created_ms), 0)).scalar_subquery(),
            *(select(func.count()).select_from(t).scalar_subquery() for t in tables),
            *(select(func.coalesce(func.max(t.c.updated_ms), 0)).scalar_subquery() for t in tables),
        ]
        with self._engine.connect() as conn:
            row = conn.execute(select(*columns)).one()
        return ":".join(str(value) for value in row)

    def load(self, now: datetime) -> GateRules:
        """Read every rule that matters at now."""
        suppressed = {
            entry.address: Suppressed(_suppression_reason(entry), entry.expires_at)
            for entry in self._suppressions.entries(active_at=now)
        }
        return GateRules.build(
            now,
            self._pauses.listed(active_at=now),
            self._quarantines.listed(active_at=now),
            suppressed,
            self._warmups.listed(active_at=now),
        )


def _suppression_reason(entry: Suppression) -> str:
    return f"{entry.reason}, {entry.source_incident}" if entry.source_incident else entry.reason


def _not_expired(table: Any, now: datetime) -> Any:
    return or_(table.c.expires_ms.is_(None), table.c.expires_ms > to_ms(now))


def _insert(engine: Engine, table: Any, values: dict[str, Any]) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def _pause(row: Row[Any]) -> Pause:
    return Pause(
        run_key=row.run_key,
        scope=row.scope,
        key=row.key,
        reason=row.reason,
        created_by=row.created_by,
        created_at=from_ms(row.created_ms),
        incident_id=row.incident_id,
        expires_at=_dt(row.expires_ms),
        resumed_at=_dt(row.resumed_ms),
        resumed_by=row.resumed_by,
    )


def _quarantine(row: Row[Any]) -> Quarantine:
    return Quarantine(
        run_key=row.run_key,
        kind=row.kind,
        name=row.name,
        reason=row.reason,
        created_by=row.created_by,
        created_at=from_ms(row.created_ms),
        incident_id=row.incident_id,
        expires_at=_dt(row.expires_ms),
        released_at=_dt(row.released_ms),
        released_by=row.released_by,
    )


def _plan(row: Row[Any]) -> WarmupPlan:
    schedules = orjson.loads(row.schedules)
    return WarmupPlan(
        id=row.id,
        scope=row.scope,
        key=row.key,
        started_at=from_ms(row.started_ms),
        normal={str(k): float(v) for k, v in orjson.loads(row.normal).items()},
        schedules={str(k): tuple(float(x) for x in v) for k, v in schedules.items()},
        basis=row.basis,
        created_by=row.created_by,
        incident_id=row.incident_id,
        source_run=row.source_run,
        cancelled_at=_dt(row.cancelled_ms),
        cancelled_by=row.cancelled_by,
    )


def _suppression(row: Row[Any]) -> Suppression:
    return Suppression(
        address=row.address,
        reason=row.reason,
        created_by=row.created_by,
        created_at=from_ms(row.created_ms),
        source_incident=row.source_incident,
        run_key=row.run_key,
        expires_at=_dt(row.expires_ms),
    )


class SqlSendCounts:
    """Per-minute send counters from the detection rollups (for warm-up's normal volume)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def by_key(
        self, dimension: str, metric: str, since_minute: int, until_minute: int
    ) -> dict[str, list[int]]:
        """Per key of one dimension: the non-zero per-minute counts of metric in the range."""
        found: dict[str, list[int]] = {}
        for _minute, _dimension, key, _metric, count in rollup_sums(
            self._engine, since_minute, until_minute, [metric], dimension=dimension
        ):
            found.setdefault(key, []).append(count)
        return found
