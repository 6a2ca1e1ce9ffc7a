"""API tokens for scripts: `Authorization: Bearer mw_...`, stored hashed, scoped, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from mailwarden.auth.audit import AuditLog
from mailwarden.auth.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from mailwarden.auth.model import Principal
from mailwarden.auth.randomness import API_TOKEN_PREFIX, digest, new_api_token
from mailwarden.auth.roles import Role
from mailwarden.clock import Clock
from mailwarden.store.auth_repo import AuthRepo, TokenRecord, UserRecord

TOUCH_EVERY = timedelta(minutes=1)  # write last_used at most this often
PREFIX_SHOWN = len(API_TOKEN_PREFIX) + 6
MAX_LIFETIME = timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just created: `secret` is shown once and never stored."""

    secret: str
    record: TokenRecord


class TokenService:
    """Creates, resolves, lists and revokes API tokens."""

    def __init__(self, repo: AuthRepo, clock: Clock, audit: AuditLog) -> None:
        self._repo = repo
        self._clock = clock
        self._audit = audit

    def create(
        self,
        actor: str,
        owner: UserRecord,
        name: str,
        role: Role,
        expires_in: timedelta | None = None,
    ) -> NewToken:
        """Create a token acting as owner with role (at most the owner's role)."""
        if role > Role.parse(owner.role):
            raise PermissionDeniedError(f"a token cannot have more than the {owner.role} role")
        if owner.disabled:
            raise PermissionDeniedError(f"{owner.username} is disabled")
        label = name.strip()
        if not 1 <= len(label) <= 100:
            raise InvalidInputError("a token needs a name of 1-100 characters")
        if expires_in is not None and not timedelta(0) < expires_in <= MAX_LIFETIME:
            raise InvalidInputError("a token's expiry must be in the future, within 10 years")
        now = self._clock.now()
        secret = new_api_token()
        expires_at = now + expires_in if expires_in is not None else None
        record = self._repo.add_token(
            label, digest(secret), secret[:PREFIX_SHOWN], (owner.id, role.label), now, expires_at
        )
        detail = {"name": label, "role": role.label, "owner": owner.username}
        self._audit.record(actor, "token.created", f"token:{record.id}", detail)
        return NewToken(secret, record)

    def resolve(self, secret: str) -> Principal | None:
        """Return the principal of a live token of an enabled owner, else None."""
        if not secret.startswith(API_TOKEN_PREFIX):
            return None
        found = self._repo.token_with_user(digest(secret))
        if found is None:
            return None
        token, owner = found
        now = self._clock.now()
        expired = token.expires_at is not None and now >= token.expires_at
        if token.revoked_at is not None or expired or owner.disabled:
            return None
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            self._repo.touch_token(token.id, now, now - TOUCH_EVERY)
        role = min(Role.parse(token.role), Role.parse(owner.role))
        return Principal(
            user_id=owner.id, username=owner.username, role=role, kind="token", token_id=token.id
        )

    def list_tokens(self, user_id: int | None = None) -> list[TokenRecord]:
        """Return tokens newest first: one user's, or everyone's when user_id is None."""
        return self._repo.list_tokens(user_id)

    def revoke(self, actor: Principal | str, token_id: int) -> TokenRecord:
        """Revoke a token: one's own, or anyone's for an admin (or the CLI, given a str)."""
        token = self._repo.token_by_id(token_id)
        if token is None:
            raise NotFoundError(f"no token {token_id}")
        if isinstance(actor, Principal):
            if token.user_id != actor.user_id and not actor.at_least(Role.ADMIN):
                raise NotFoundError(f"no token {token_id}")  # do not confirm it exists
            who = actor.actor
        else:
            who = actor
        if self._repo.revoke_token(token_id, self._clock.now()):
            self._audit.record(who, "token.revoked", f"token:{token_id}", {"name": token.name})
        revoked = self._repo.token_by_id(token_id)
        assert revoked is not None
        return revoked

    def revoke_all(self, actor: str, owner: UserRecord) -> int:
        """Revoke every live token of one user (containment); return how many."""
        count = self._repo.revoke_user_tokens(owner.id, self._clock.now())
        if count:
            target = f"user:{owner.username}"
            self._audit.record(actor, "token.revoked_all", target, {"count": count})
        return count
