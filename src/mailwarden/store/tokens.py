"""A durable replay guard: one-time webhook tokens remembered in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from mailwarden.store.rows import to_ms
from mailwarden.store.tables import webhook_tokens


class DatabaseReplayGuard:
    """Remembers tokens for a retention period; stale timestamps are refused before that."""

    def __init__(self, engine: Engine, retention: timedelta = timedelta(days=1)) -> None:
        self._engine = engine
        self._retention = retention

    def first_use(self, provider: str, token: str, seen_at: datetime) -> bool:
        """Record the token; return False if it was already used."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(webhook_tokens).values(
                        provider=provider, token=token, seen_ms=to_ms(seen_at)
                    )
                )
        except IntegrityError:
            return False
        return True

    def prune(self, now: datetime) -> int:
        """Forget tokens older than the retention; return how many."""
        cutoff = to_ms(now - self._retention)
        with self._engine.begin() as conn:
            result = conn.execute(delete(webhook_tokens).where(webhook_tokens.c.seen_ms < cutoff))
        return int(result.rowcount)
