"""Findings: inserted when they open, updated while they persist, listed for people and tools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Engine, insert, select, update

from mailwarden.detect.model import Finding, Scope
from mailwarden.store.metrics_tables import findings
from mailwarden.store.rows import from_ms, to_ms


class FindingStore:
    """Keeps findings; an open finding is one row, updated in place until it closes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(self, items: Sequence[Finding]) -> None:
        """Insert new findings (giving them ids) and update known ones, in one transaction."""
        if not items:
            return
        with self._engine.begin() as conn:
            for item in items:
                values = _values(item)
                if item.id is None:
                    result = conn.execute(insert(findings).values(values).returning(findings.c.id))
                    item.id = int(result.scalar_one())
                else:
                    conn.execute(update(findings).where(findings.c.id == item.id).values(values))

    def find(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Finding]:
        """Findings in the order they were first seen, optionally of one kind or status."""
        query = select(findings).order_by(findings.c.first_seen_ms, findings.c.id)
        if kind is not None:
            query = query.where(findings.c.kind == kind)
        if status is not None:
            query = query.where(findings.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [_finding(row._mapping) for row in conn.execute(query)]

    def get(self, finding_id: int) -> Finding | None:
        """One finding by id."""
        with self._engine.connect() as conn:
            row = conn.execute(select(findings).where(findings.c.id == finding_id)).first()
        return _finding(row._mapping) if row is not None else None


def _values(item: Finding) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "dimension": item.scope.dimension,
        "key": item.scope.key,
        "severity": item.severity,
        "status": item.status,
        "observed": float(item.observed),
        "expected": float(item.expected),
        "evidence": orjson.dumps(item.evidence, option=orjson.OPT_NON_STR_KEYS).decode(),
        "window_start_ms": to_ms(item.window_start),
        "window_end_ms": to_ms(item.window_end),
        "first_seen_ms": to_ms(item.first_seen),
        "last_seen_ms": to_ms(item.last_seen or item.first_seen),
        "closed_ms": to_ms(item.closed_at) if item.closed_at else None,
        "sample_event_ids": orjson.dumps(item.sample_event_ids).decode(),
    }


def _finding(row: Any) -> Finding:
    closed = row["closed_ms"]
    return Finding(
        kind=row["kind"],
        scope=Scope(row["dimension"], row["key"]),
        severity=row["severity"],
        observed=float(row["observed"]),
        expected=float(row["expected"]),
        evidence=orjson.loads(row["evidence"]),
        window_start=from_ms(row["window_start_ms"]),
        window_end=from_ms(row["window_end_ms"]),
        first_seen=from_ms(row["first_seen_ms"]),
        sample_event_ids=list(orjson.loads(row["sample_event_ids"])),
        last_seen=from_ms(row["last_seen_ms"]),
        id=int(row["id"]),
        status=row["status"],
        closed_at=from_ms(closed) if closed is not None else None,
    )
