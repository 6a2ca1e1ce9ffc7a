"""Persistence for auth: users, hashed sessions and API tokens, login failures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, RowMapping, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mailwarden.store.auth_tables import api_tokens, auth_sessions, login_failures, users
from mailwarden.store.rows import from_ms, to_ms


class DuplicateUserError(ValueError):
    """A user with that name exists already."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A stored user (with the password's argon2 hash, never the password)."""

    id: int
    username: str
    role: str
    password_hash: str
    must_change_password: bool
    disabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A stored session; the token itself is not kept, only its digest."""

    id: int
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    source_ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored API token; prefix is the first characters, safe to show."""

    id: int
    name: str
    prefix: str
    user_id: int
    role: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _ms(when: datetime | None) -> int | None:
    return to_ms(when) if when is not None else None


def _dt(ms: int | None) -> datetime | None:
    return from_ms(ms) if ms is not None else None


def _user(m: RowMapping, prefix: str = "") -> UserRecord:
    return UserRecord(
        m[f"{prefix}id"],
        m[f"{prefix}username"],
        m[f"{prefix}role"],
        m[f"{prefix}password_hash"],
        bool(m[f"{prefix}must_change_password"]),
        bool(m[f"{prefix}disabled"]),
        from_ms(m[f"{prefix}created_ms"]),
        from_ms(m[f"{prefix}updated_ms"]),
    )


def _session(m: RowMapping) -> SessionRecord:
    return SessionRecord(
        m["id"],
        m["user_id"],
        m["csrf_token"],
        from_ms(m["created_ms"]),
        from_ms(m["last_seen_ms"]),
        from_ms(m["expires_ms"]),
        m["source_ip"],
        m["user_agent"],
    )


def _token(m: RowMapping) -> TokenRecord:
    return TokenRecord(
        m["id"],
        m["name"],
        m["prefix"],
        m["user_id"],
        m["role"],
        from_ms(m["created_ms"]),
        _dt(m["expires_ms"]),
        _dt(m["last_used_ms"]),
        _dt(m["revoked_ms"]),
    )


_USER_LABELLED = [c.label(f"u_{c.name}") for c in users.c]
_SESSION_COLUMNS = [c for c in auth_sessions.c if c.name != "token_hash"]
_TOKEN_COLUMNS = [c for c in api_tokens.c if c.name != "token_hash"]


class AuthRepo:
    """SQL for the auth tables; one short transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # users

    def count_users(self) -> int:
        """Count users, disabled ones included."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(users)).scalar_one())

    def count_enabled(self, role: str) -> int:
        """Count enabled users with one role."""
        query = select(func.count()).where(users.c.role == role, users.c.disabled.is_(False))
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def add_user(
        self, username: str, role: str, password_hash: str, must_change: bool, at: datetime
    ) -> UserRecord:
        """Insert a user; raise DuplicateUserError when the name is taken."""
        values = {
            "username": username,
            "role": role,
            "password_hash": password_hash,
            "must_change_password": must_change,
            "disabled": False,
            "created_ms": to_ms(at),
            "updated_ms": to_ms(at),
        }
        try:
            with self._engine.begin() as conn:
                row = conn.execute(insert(users).values(values).returning(*users.c)).one()
        except IntegrityError:
            raise DuplicateUserError(f"user {username!r} exists already") from None
        return _user(row._mapping)

    def user_by_name(self, username: str) -> UserRecord | None:
        """Return one user by name."""
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return _user(row._mapping) if row is not None else None

    def user_by_id(self, user_id: int) -> UserRecord | None:
        """Return one user by id."""
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row._mapping) if row is not None else None

    def list_users(self) -> list[UserRecord]:
        """Return every user by name."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.username))
            return [_user(row._mapping) for row in rows]

    def update_user(self, user_id: int, at: datetime, changes: Mapping[str, object]) -> None:
        """Change role, password_hash, must_change_password or disabled of one user."""
        allowed = {"role", "password_hash", "must_change_password", "disabled"}
        if not set(changes) <= allowed:
            raise ValueError(f"cannot change {sorted(set(changes) - allowed)}")
        with self._engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values({**changes, "updated_ms": to_ms(at)})
            )

    # sessions

    def add_session(
        self,
        token_hash: str,
        user_id: int,
        csrf_token: str,
        at: datetime,
        expires_at: datetime,
        client: tuple[str | None, str | None],
    ) -> SessionRecord:
        """Insert a session; client is (source ip, user agent)."""
        values = {
            "token_hash": token_hash,
            "user_id": user_id,
            "csrf_token": csrf_token,
            "created_ms": to_ms(at),
            "last_seen_ms": to_ms(at),
            "expires_ms": to_ms(expires_at),
            "source_ip": client[0],
            "user_agent": client[1],
        }
        with self._engine.begin() as conn:
            row = conn.execute(
                insert(auth_sessions).values(values).returning(*_SESSION_COLUMNS)
            ).one()
        return _session(row._mapping)

    def session_with_user(self, token_hash: str) -> tuple[SessionRecord, UserRecord] | None:
        """Return the session with this digest and its user."""
        query = (
            select(*_SESSION_COLUMNS, *_USER_LABELLED)
            .join(users, users.c.id == auth_sessions.c.user_id)
            .where(auth_sessions.c.token_hash == token_hash)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return _session(row._mapping), _user(row._mapping, "u_")

    def touch_session(self, session_id: int, at: datetime) -> None:
        """Record activity on a session (the caller limits how often)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(auth_sessions)
                .where(auth_sessions.c.id == session_id)
                .values(last_seen_ms=to_ms(at))
            )

    def delete_session(self, token_hash: str) -> int:
        """Forget one session by digest; return how many rows went."""
        with self._engine.begin() as conn:
            result = conn.execute(
                delete(auth_sessions).where(auth_sessions.c.token_hash == token_hash)
            )
        return int(result.rowcount)

    def delete_user_sessions(self, user_id: int) -> int:
        """Forget every session of one user."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(auth_sessions).where(auth_sessions.c.user_id == user_id))
        return int(result.rowcount)

    def prune_sessions(self, now: datetime, idle_before: datetime) -> int:
        """Forget sessions past their absolute expiry or idle since idle_before."""
        stale = or_(
            auth_sessions.c.expires_ms <= to_ms(now),
            auth_sessions.c.last_seen_ms < to_ms(idle_before),
        )
        with self._engine.begin() as conn:
            return int(conn.execute(delete(auth_sessions).where(stale)).rowcount)

    # API tokens

    def add_token(
        self,
        name: str,
        token_hash: str,
        prefix: str,
        owner: tuple[int, str],
        at: datetime,
        expires_at: datetime | None,
    ) -> TokenRecord:
        """Insert an API token; owner is (user id, role)."""
        values = {
            "name": name,
            "token_hash": token_hash,
            "prefix": prefix,
            "user_id": owner[0],
            "role": owner[1],
            "created_ms": to_ms(at),
            "expires_ms": _ms(expires_at),
        }
        with self._engine.begin() as conn:
            row = conn.execute(insert(api_tokens).values(values).returning(*_TOKEN_COLUMNS)).one()
        return _token(row._mapping)

    def token_with_user(self, token_hash: str) -> tuple[TokenRecord, UserRecord] | None:
        """Return the API token with this digest and its owner."""
        query = (
            select(*_TOKEN_COLUMNS, *_USER_LABELLED)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == token_hash)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return _token(row._mapping), _user(row._mapping, "u_")

    def token_by_id(self, token_id: int) -> TokenRecord | None:
        """Return one API token by id."""
        with self._engine.connect() as conn:
            query = select(*_TOKEN_COLUMNS).where(api_tokens.c.id == token_id)
            row = conn.execute(query).first()
        return _token(row._mapping) if row is not None else None

    def list_tokens(self, user_id: int | None = None) -> list[TokenRecord]:
        """Return API tokens, newest first; only one user's when user_id is given."""
        query = select(*_TOKEN_COLUMNS).order_by(api_tokens.c.id.desc())
        if user_id is not None:
            query = query.where(api_tokens.c.user_id == user_id)
        with self._engine.connect() as conn:
            return [_token(row._mapping) for row in conn.execute(query)]

    def touch_token(self, token_id: int, at: datetime, unless_since: datetime) -> None:
        """Set last_used unless it is already at or after unless_since."""
        with self._engine.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(
                    api_tokens.c.id == token_id,
                    or_(
                        api_tokens.c.last_used_ms.is_(None),
                        api_tokens.c.last_used_ms < to_ms(unless_since),
                    ),
                )
                .values(last_used_ms=to_ms(at))
            )

    def revoke_token(self, token_id: int, at: datetime) -> bool:
        """Revoke one live token; False if it was revoked already or does not exist."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_ms.is_(None))
                .values(revoked_ms=to_ms(at))
            )
        return bool(result.rowcount)

    def revoke_user_tokens(self, user_id: int, at: datetime) -> int:
        """Revoke every live token of one user."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_ms.is_(None))
                .values(revoked_ms=to_ms(at))
            )
        return int(result.rowcount)

    # login failures

    def add_failure(self, scope: str, key: str, at: datetime, forget_before: datetime) -> int:
        """Record a failed sign-in, forget this key's failures before forget_before; return id."""
        with self._engine.begin() as conn:
            result = conn.execute(
                insert(login_failures)
                .values(scope=scope, key=key, at_ms=to_ms(at))
                .returning(login_failures.c.id)
            )
            conn.execute(
                delete(login_failures).where(
                    login_failures.c.scope == scope,
                    login_failures.c.key == key,
                    login_failures.c.at_ms < to_ms(forget_before),
                )
            )
            return int(result.scalar_one())

    def delete_failure(self, failure_id: int) -> None:
        """Forget one recorded failure (an attempt that turned out to succeed)."""
        with self._engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.id == failure_id))

    def prune_failures(self, before: datetime) -> int:
        """Forget every failure older than before, whatever its key."""
        with self._engine.begin() as conn:
            stale = delete(login_failures).where(login_failures.c.at_ms < to_ms(before))
            return int(conn.execute(stale).rowcount)

    def failures_since(self, scope: str, key: str, since: datetime) -> list[datetime]:
        """Return the times of failures for one key since a moment, oldest first."""
        query = (
            select(login_failures.c.at_ms)
            .where(
                login_failures.c.scope == scope,
                login_failures.c.key == key,
                login_failures.c.at_ms >= to_ms(since),
            )
            .order_by(login_failures.c.at_ms)
        )
        with self._engine.connect() as conn:
            return [from_ms(ms) for ms in conn.execute(query).scalars()]

    def clear_failures(self, scope: str, key: str) -> None:
        """Forget the failures of one key (after a successful sign-in)."""
        with self._engine.begin() as conn:
            conn.execute(
                delete(login_failures).where(
                    login_failures.c.scope == scope, login_failures.c.key == key
                )
            )
