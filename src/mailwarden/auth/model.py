"""Who is acting (a Principal) and from where (a Client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mailwarden.auth.roles import Role


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request came from; both parts are advisory and only for the audit trail."""

    ip: str | None = None
    user_agent: str | None = None


SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user (by session) or a script (by API token), with its effective role."""

    user_id: int
    username: str
    role: Role
    kind: Literal["session", "token"]
    must_change_password: bool = False
    csrf_token: str | None = None
    session_id: int | None = None
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """How this principal appears in the audit log, e.g. 'alice' or 'alice/token:3'."""
        if self.kind == "token":
            return f"{self.username}/token:{self.token_id}"
        return self.username

    def at_least(self, role: Role) -> bool:
        """True when this principal's role is role or above."""
        return self.role >= role
