"""Server-side sessions: the cookie holds a random token, the table only its SHA-256."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mailwarden.auth.model import Client, Principal
from mailwarden.auth.randomness import digest, new_csrf_token, new_session_token
from mailwarden.auth.roles import Role
from mailwarden.clock import Clock
from mailwarden.store.auth_repo import AuthRepo, SessionRecord, UserRecord

TOUCH_EVERY = timedelta(minutes=1)  # write last_seen at most this often


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives without activity (idle) and at most (absolute)."""

    idle: timedelta = timedelta(hours=1)
    absolute: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just started: the token goes into the cookie and is never stored."""

    token: str
    record: SessionRecord
    user: UserRecord


class SessionService:
    """Starts, resolves and ends sessions; expired ones resolve to nothing."""

    def __init__(self, repo: AuthRepo, clock: Clock, policy: SessionPolicy) -> None:
        self._repo = repo
        self._clock = clock
        self.policy = policy

    def start(self, user: UserRecord, client: Client) -> NewSession:
        """Create a session with a fresh token (never reuse one: no fixation)."""
        now = self._clock.now()
        self._repo.prune_sessions(now, now - self.policy.idle)
        token = new_session_token()
        record = self._repo.add_session(
            digest(token),
            user.id,
            new_csrf_token(),
            now,
            now + self.policy.absolute,
            (client.ip, _clip(client.user_agent)),
        )
        return NewSession(token, record, user)

    def resolve(self, token: str) -> Principal | None:
        """Return the principal of a live session of an enabled user, else None."""
        found = self._repo.session_with_user(digest(token))
        if found is None:
            return None
        session, user = found
        now = self._clock.now()
        if now >= session.expires_at or now - session.last_seen_at >= self.policy.idle:
            self._repo.delete_session(digest(token))
            return None
        if user.disabled:
            return None
        if now - session.last_seen_at >= TOUCH_EVERY:
            self._repo.touch_session(session.id, now)
        return Principal(
            user_id=user.id,
            username=user.username,
            role=Role.parse(user.role),
            kind="session",
            must_change_password=user.must_change_password,
            csrf_token=session.csrf_token,
            session_id=session.id,
        )

    def end(self, token: str) -> bool:
        """End one session (sign-out); True if it existed."""
        return self._repo.delete_session(digest(token)) > 0

    def end_all(self, user_id: int) -> int:
        """End every session of one user; return how many."""
        return self._repo.delete_user_sessions(user_id)


def _clip(text: str | None, limit: int = 300) -> str | None:
    return text[:limit] if text else None
