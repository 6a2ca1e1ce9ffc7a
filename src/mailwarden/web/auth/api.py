"""The auth REST API: who am I, users (admin), API tokens, the audit log (admin)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mailwarden.auth.errors import InvalidInputError
from mailwarden.auth.model import Principal
from mailwarden.auth.roles import Role
from mailwarden.auth.service import Auth
from mailwarden.store.audit_repo import AuditRecord
from mailwarden.store.auth_repo import TokenRecord, UserRecord
from mailwarden.web.auth.guard import principal_of


def current_principal(request: Request) -> Principal:
    """The signed-in user or token behind this request (the guard has already checked it)."""
    principal = principal_of(request)
    if principal is None:
        raise HTTPException(401, "sign in first")
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


class UserOut(BaseModel):
    """A user as the API shows it (never the password hash)."""

    username: str
    role: str
    disabled: bool
    must_change_password: bool
    created_at: datetime
    updated_at: datetime


class NewUserIn(BaseModel):
    """A user to add; without a password a one-time one is generated and returned."""

    username: str
    role: str = "viewer"
    password: str | None = Field(default=None, repr=False)


class NewUserOut(BaseModel):
    """The added user and, when generated, its one-time password (shown this once)."""

    user: UserOut
    password: str | None


class UserPatch(BaseModel):
    """Changes to a user: role, and/or disabled."""

    role: str | None = None
    disabled: bool | None = None


class PasswordOut(BaseModel):
    """A one-time password, shown this once."""

    password: str


class TokenIn(BaseModel):
    """A token to create: its name, role (default: yours) and optional lifetime."""

    name: str
    role: str | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    """An API token as listed (never the secret)."""

    id: int
    name: str
    prefix: str
    owner: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    """A token just created; `token` is the secret, shown this once."""

    token: str


class AuditOut(BaseModel):
    """One audit log entry."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]
    source_ip: str | None


class AuditPage(BaseModel):
    """Entries newest first; pass next_before as `before` for the next page."""

    entries: list[AuditOut]
    next_before: int | None


class MeOut(BaseModel):
    """Who is calling."""

    username: str
    role: str
    via: str
    must_change_password: bool


def auth_api_router(auth: Auth) -> APIRouter:
    """Routes under /api for accounts, tokens and the audit log."""
    router = APIRouter(prefix="/api", tags=["auth"])
    _account_routes(router)
    _user_routes(router, auth)
    _token_routes(router, auth)
    _audit_routes(router, auth)
    return router


def _account_routes(router: APIRouter) -> None:
    @router.get("/me", summary="Who is calling")
    def me(caller: Caller) -> MeOut:
        return MeOut(
            username=caller.username,
            role=caller.role.label,
            via=caller.kind,
            must_change_password=caller.must_change_password,
        )


def _user_routes(router: APIRouter, auth: Auth) -> None:
    @router.get("/users", summary="List users")
    def list_users(caller: Caller) -> list[UserOut]:
        return [_user_out(user) for user in auth.users.list_users()]

    @router.post("/users", status_code=201, summary="Add a user")
    def add_user(body: NewUserIn, caller: Caller) -> NewUserOut:
        user, password = auth.users.create(
            caller.actor, body.username, _role(body.role), body.password
        )
        return NewUserOut(user=_user_out(user), password=password)

    @router.patch("/users/{username}", summary="Change a user's role or disable/enable them")
    def patch_user(username: str, body: UserPatch, caller: Caller) -> UserOut:
        user = auth.users.get(username)
        if body.role is not None:
            user = auth.users.set_role(caller.actor, username, _role(body.role))
        if body.disabled is not None:
            user = auth.users.set_disabled(caller.actor, username, body.disabled)
        return _user_out(user)

    @router.post("/users/{username}/reset-password", summary="Give a user a one-time password")
    def reset_password(username: str, caller: Caller) -> PasswordOut:
        return PasswordOut(password=auth.users.reset_password(caller.actor, username))


def _token_routes(router: APIRouter, auth: Auth) -> None:
    @router.get("/tokens", summary="List your API tokens (admins: all=true for everyone's)")
    def list_tokens(caller: Caller, all_users: bool = Query(False, alias="all")) -> list[TokenOut]:
        if all_users and not caller.at_least(Role.ADMIN):
            raise HTTPException(403, "only admins may list everyone's tokens")
        tokens = auth.tokens.list_tokens(None if all_users else caller.user_id)
        names = {user.id: user.username for user in auth.users.list_users()}
        return [_token_out(token, names.get(token.user_id, "?")) for token in tokens]

    @router.post("/tokens", status_code=201, summary="Create an API token (shown once)")
    def create_token(body: TokenIn, caller: Caller) -> NewTokenOut:
        owner = auth.users.get(caller.username)
        role = _role(body.role) if body.role is not None else caller.role
        lifetime = timedelta(days=body.expires_in_days) if body.expires_in_days else None
        made = auth.tokens.create(caller.actor, owner, body.name, role, lifetime)
        listed = _token_out(made.record, owner.username)
        return NewTokenOut(**listed.model_dump(), token=made.secret)

    @router.delete("/tokens/{token_id}", summary="Revoke an API token (yours; admins: any)")
    def revoke_token(token_id: int, caller: Caller) -> TokenOut:
        token = auth.tokens.revoke(caller, token_id)
        names = {user.id: user.username for user in auth.users.list_users()}
        return _token_out(token, names.get(token.user_id, "?"))


def _audit_routes(router: APIRouter, auth: Auth) -> None:
    @router.get("/audit", summary="The audit log, newest first")
    async def audit(
        caller: Caller,
        limit: int = Query(100, ge=1, le=1000),
        before: int | None = Query(None, ge=1),
        action: str | None = None,
        actor: str | None = None,
    ) -> AuditPage:
        entries = await run_in_threadpool(
            auth.audit.entries, limit=limit, before_id=before, action=action, actor=actor
        )
        items = [AuditOut(**_fields(entry)) for entry in entries]
        next_before = items[-1].id if len(items) == limit else None
        return AuditPage(entries=items, next_before=next_before)


def _role(text: str) -> Role:
    try:
        return Role.parse(text)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None


def _user_out(user: UserRecord) -> UserOut:
    return UserOut(
        username=user.username,
        role=user.role,
        disabled=user.disabled,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def _token_out(token: TokenRecord, owner: str) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        owner=owner,
        role=token.role,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def _fields(entry: AuditRecord) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditOut.model_fields}
