"""Persistence for the audit log: append and read, nothing else (the table refuses changes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, RowMapping, insert, select

from mailwarden.store.auth_tables import audit_log
from mailwarden.store.rows import from_ms, to_ms


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit log entry."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]
    source_ip: str | None


class AuditRepo:
    """Appends audit entries and reads them back, newest first."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(
        self,
        at: datetime,
        who: tuple[str, str | None],
        action: str,
        target: str | None,
        detail: Mapping[str, Any],
    ) -> int:
        """Append one entry; who is (actor, source ip). Return its id."""
        values = {
            "at_ms": to_ms(at),
            "actor": who[0],
            "source_ip": who[1],
            "action": action,
            "target": target,
            "detail": orjson.dumps(dict(detail), default=str).decode(),
        }
        with self._engine.begin() as conn:
            result = conn.execute(insert(audit_log).values(values).returning(audit_log.c.id))
            return int(result.scalar_one())

    def entries(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        action: str | None = None,
        actor: str | None = None,
    ) -> list[AuditRecord]:
        """Return entries newest first, optionally filtered; page with before_id."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        if action is not None:
            query = query.where(audit_log.c.action == action)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        with self._engine.connect() as conn:
            return [_record(row._mapping) for row in conn.execute(query)]


def _record(m: RowMapping) -> AuditRecord:
    return AuditRecord(
        id=m["id"],
        at=from_ms(m["at_ms"]),
        actor=m["actor"],
        action=m["action"],
        target=m["target"],
        detail=orjson.loads(m["detail"]),
        source_ip=m["source_ip"],
    )
