"""A durable replay guard: one-time webhook tokens remembered in the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from mailwarden.store.rows import to_ms
from mailwarden.store.tables import webhook_tokens


class DatabaseReplayGuard:
    """Remembers tokens for a retention period; stale timestamps are refused before that."""

    def __init__(self, engine: Engine, retention: timedelta = timedelta(days=1)) -> None:
        self._engine = engine
        self._retention = retention

    def first_use(self, provider: str, token: str, seen_at: datetime, fingerprint: str) -> bool:
        """Record the token; False if it was already used with a different body."""
        row = {"provider": provider, "token": token, "seen_ms": to_ms(seen_at)}
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(webhook_tokens).values(**row, fingerprint=fingerprint))
        except IntegrityError:
            return self._fingerprint(provider, token) == fingerprint
        return True

    def _fingerprint(self, provider: str, token: str) -> str | None:
        query = select(webhook_tokens.c.fingerprint).where(
            webhook_tokens.c.provider == provider, webhook_tokens.c.token == token
        )
        with self._engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def prune(self, now: datetime) -> int:
        """Forget tokens older than the retention; return how many."""
        cutoff = to_ms(now - self._retention)
        with self._engine.begin() as conn:
            result = conn.execute(delete(webhook_tokens).where(webhook_tokens.c.seen_ms < cutoff))
        return int(result.rowcount)
