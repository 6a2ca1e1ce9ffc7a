"""Sign-in and sign-out: throttle, verify, start a fresh session, audit either way."""

from __future__ import annotations

from mailwarden.auth.audit import AuditLog
from mailwarden.auth.errors import InvalidCredentialsError, InvalidInputError, ThrottledError
from mailwarden.auth.model import Client, Principal
from mailwarden.auth.sessions import NewSession, SessionService
from mailwarden.auth.throttle import LoginThrottle
from mailwarden.auth.users import UserService, normalise_username


class SignInService:
    """The one way into a session."""

    def __init__(
        self,
        users: UserService,
        sessions: SessionService,
        throttle: LoginThrottle,
        audit: AuditLog,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._throttle = throttle
        self._audit = audit

    def sign_in(
        self, username: str, password: str, client: Client, replacing: str | None = None
    ) -> NewSession:
        """Return a new session; raise ThrottledError or InvalidCredentialsError.

        `replacing` is the session token the browser already had: it is ended, so a token
        planted before sign-in never becomes an authenticated session.
        """
        name = _name_or_blank(username)
        try:
            attempt = self._throttle.begin(name, client.ip)
        except ThrottledError as exc:
            detail = {"reason": "throttled", "retry_after_s": exc.retry_after_seconds}
            self._audit.record(name or "?", "auth.login_failed", None, detail, source_ip=client.ip)
            raise
        user = self._users.verify(name, password)
        if user is None:
            detail = {"reason": "bad_credentials"}
            self._audit.record(name or "?", "auth.login_failed", None, detail, source_ip=client.ip)
            raise InvalidCredentialsError("wrong username or password")
        self._throttle.succeeded(attempt)
        if replacing:
            self._sessions.end(replacing)
        session = self._sessions.start(user, client)
        detail = {"session_id": session.record.id, "user_agent": session.record.user_agent}
        self._audit.record(user.username, "auth.login", None, detail, source_ip=client.ip)
        return session

    def sign_out(self, principal: Principal, token: str, client: Client) -> None:
        """End the session behind token and audit it."""
        self._sessions.end(token)
        detail = {"session_id": principal.session_id}
        self._audit.record(principal.actor, "auth.logout", None, detail, source_ip=client.ip)


def _name_or_blank(username: str) -> str:
    try:
        return normalise_username(username)
    except InvalidInputError:
        return ""
