"""The audit log: an append-only record of who did what, for sign-ins and every action run.

Other modules call `record(actor, action, target, detail)`; actor is a Principal's `actor`
(or "system"), action a dotted name such as "action.pause_campaign", target what it was
done to ("campaign:black-friday"). Secrets are scrubbed from detail before it is stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mailwarden.auth.randomness import API_TOKEN_PREFIX
from mailwarden.clock import Clock
from mailwarden.store.audit_repo import AuditRecord, AuditRepo

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"(^|[_-])(password|passwd|secret|token|cookie|authorization|hash|api[_-]?key)$", re.I
)


def scrub(detail: Mapping[str, Any]) -> dict[str, Any]:
    """Return detail with secret-looking keys and API-token-looking values redacted."""
    return {str(key): _scrub_value(str(key), value) for key, value in detail.items()}


def _scrub_value(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, Mapping):
        return scrub(value)
    if isinstance(value, list | tuple):
        return [_scrub_value("", item) for item in value]
    if isinstance(value, str) and value.startswith(API_TOKEN_PREFIX) and len(value) > 20:
        return REDACTED
    return value


class AuditLog:
    """Appends entries stamped by the Clock; reads them newest first."""

    def __init__(self, repo: AuditRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def record(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        detail: Mapping[str, Any] | None = None,
        *,
        source_ip: str | None = None,
    ) -> int:
        """Append one entry and return its id."""
        if not actor or not action:
            raise ValueError("an audit entry needs an actor and an action")
        return self._repo.append(
            self._clock.now(), (actor, source_ip), action, target, scrub(detail or {})
        )

    def entries(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        action: str | None = None,
        actor: str | None = None,
    ) -> list[AuditRecord]:
        """Return entries newest first; page backwards with before_id."""
        limit = max(1, min(limit, 1000))
        return self._repo.entries(limit=limit, before_id=before_id, action=action, actor=actor)
