"""Users: create, list, change role, disable, reset and change passwords; the first admin."""

from __future__ import annotations

import re

from mailwarden.auth.audit import AuditLog
from mailwarden.auth.errors import (
    ConflictError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
)
from mailwarden.auth.model import SYSTEM, Client
from mailwarden.auth.passwords import PasswordHasher, check_policy
from mailwarden.auth.randomness import new_password
from mailwarden.auth.roles import Role
from mailwarden.clock import Clock
from mailwarden.store.auth_repo import AuthRepo, DuplicateUserError, UserRecord

FIRST_ADMIN = "admin"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,63}$")


def normalise_username(text: str) -> str:
    """Return the canonical (lower-case) form of a username; InvalidInputError if malformed."""
    name = text.strip().lower()
    if not _USERNAME.match(name):
        raise InvalidInputError(
            "a username has 1-64 characters: letters, digits and . _ @ + - (not first)"
        )
    return name


class UserService:
    """Manages accounts; every change is audited, no password ever is."""

    def __init__(
        self, repo: AuthRepo, hasher: PasswordHasher, clock: Clock, audit: AuditLog
    ) -> None:
        self._repo = repo
        self._hasher = hasher
        self._clock = clock
        self._audit = audit

    def create(
        self, actor: str, username: str, role: Role, password: str | None = None
    ) -> tuple[UserRecord, str | None]:
        """Add a user; without a password one is generated, returned once and must be changed."""
        name = normalise_username(username)
        generated = password is None
        secret = new_password() if password is None else password
        if not generated:
            check_policy(secret, name)
        try:
            user = self._repo.add_user(
                name, role.label, self._hasher.hash(secret), generated, self._clock.now()
            )
        except DuplicateUserError as exc:
            raise ConflictError(str(exc)) from None
        self._audit.record(actor, "user.created", f"user:{name}", {"role": role.label})
        return user, (secret if generated else None)

    def ensure_first_admin(self) -> str | None:
        """On an empty users table create 'admin' and return its one-time password."""
        if self._repo.count_users() > 0:
            return None
        try:
            _, password = self.create(SYSTEM, FIRST_ADMIN, Role.ADMIN)
        except ConflictError:
            return None  # another process won the race
        return password

    def get(self, username: str) -> UserRecord:
        """Return one user; NotFoundError if absent."""
        user = self._repo.user_by_name(username.strip().lower())
        if user is None:
            raise NotFoundError(f"no user {username!r}")
        return user

    def list_users(self) -> list[UserRecord]:
        """Return every user by name."""
        return self._repo.list_users()

    def set_role(self, actor: str, username: str, role: Role) -> UserRecord:
        """Change a user's role; refuse to demote the last enabled admin."""
        user = self.get(username)
        if user.role == role.label:
            return user
        if user.role == Role.ADMIN.label and not user.disabled:
            self._keep_an_admin(user)
        self._repo.update_user(user.id, self._clock.now(), {"role": role.label})
        detail = {"from": user.role, "to": role.label}
        self._audit.record(actor, "user.role_changed", f"user:{user.username}", detail)
        return self.get(user.username)

    def set_disabled(self, actor: str, username: str, disabled: bool) -> UserRecord:
        """Disable (ending every session) or enable a user; never the last enabled admin."""
        user = self.get(username)
        if user.disabled == disabled:
            return user
        if disabled and user.role == Role.ADMIN.label:
            self._keep_an_admin(user)
        self._repo.update_user(user.id, self._clock.now(), {"disabled": disabled})
        ended = self._repo.delete_user_sessions(user.id) if disabled else 0
        action = "user.disabled" if disabled else "user.enabled"
        self._audit.record(actor, action, f"user:{user.username}", {"sessions_ended": ended})
        return self.get(user.username)

    def reset_password(self, actor: str, username: str) -> str:
        """Give a user a new one-time password (returned once) and end their sessions."""
        user = self.get(username)
        password = new_password()
        changes = {"password_hash": self._hasher.hash(password), "must_change_password": True}
        self._repo.update_user(user.id, self._clock.now(), changes)
        ended = self._repo.delete_user_sessions(user.id)
        detail = {"sessions_ended": ended}
        self._audit.record(actor, "user.password_reset", f"user:{user.username}", detail)
        return password

    def change_password(
        self, user_id: int, current: str, new: str, client: Client | None = None
    ) -> UserRecord:
        """Change one's own password after proving the current one; end all sessions."""
        user = self._repo.user_by_id(user_id)
        if user is None or user.disabled:
            raise NotFoundError("no such user")
        if not self._hasher.verify(user.password_hash, current):
            raise InvalidCredentialsError("the current password is wrong")
        check_policy(new, user.username)
        if self._hasher.verify(user.password_hash, new):
            raise InvalidInputError("the new password must differ from the current one")
        changes = {"password_hash": self._hasher.hash(new), "must_change_password": False}
        self._repo.update_user(user.id, self._clock.now(), changes)
        self._repo.delete_user_sessions(user.id)
        ip = client.ip if client else None
        self._audit.record(
            user.username, "user.password_changed", f"user:{user.username}", source_ip=ip
        )
        return self.get(user.username)

    def verify(self, username: str, password: str) -> UserRecord | None:
        """Return the enabled user whose password this is, else None (in about the same time)."""
        user = self._repo.user_by_name(username)
        if user is None or user.disabled:
            self._hasher.verify_unknown(password)
            return None
        if not self._hasher.verify(user.password_hash, password):
            return None
        if self._hasher.needs_rehash(user.password_hash):
            changes = {"password_hash": self._hasher.hash(password)}
            self._repo.update_user(user.id, self._clock.now(), changes)
        return user

    def _keep_an_admin(self, user: UserRecord) -> None:
        if self._repo.count_enabled(Role.ADMIN.label) <= 1:
            raise ConflictError(f"{user.username} is the last enabled admin; add another first")
