"""The auth services, built together over one engine and one clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from mailwarden.auth.api_tokens import TokenService
from mailwarden.auth.audit import AuditLog
from mailwarden.auth.passwords import PasswordHasher
from mailwarden.auth.sessions import SessionPolicy, SessionService
from mailwarden.auth.signin import SignInService
from mailwarden.auth.throttle import ACCOUNT_RULE, ADDRESS_RULE, LoginThrottle, ThrottleRule
from mailwarden.auth.users import UserService
from mailwarden.clock import Clock
from mailwarden.store.audit_repo import AuditRepo
from mailwarden.store.auth_repo import AuthRepo


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Tunables: session lifetimes, argon2 cost, throttle rules."""

    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    account_rule: ThrottleRule = ACCOUNT_RULE
    address_rule: ThrottleRule = ADDRESS_RULE


@dataclass(frozen=True, slots=True)
class Auth:
    """Everything the doors need to let people in and keep the wrong ones out."""

    users: UserService
    sessions: SessionService
    tokens: TokenService
    signin: SignInService
    audit: AuditLog


def build_auth(engine: Engine, clock: Clock, policy: AuthPolicy | None = None) -> Auth:
    """Wire the auth services over the database."""
    policy = policy or AuthPolicy()
    repo = AuthRepo(engine)
    audit = AuditLog(AuditRepo(engine), clock)
    hasher = PasswordHasher(
        time_cost=policy.argon2_time_cost, memory_kib=policy.argon2_memory_kib, parallelism=1
    )
    users = UserService(repo, hasher, clock, audit)
    sessions = SessionService(repo, clock, policy.sessions)
    throttle = LoginThrottle(repo, clock, policy.account_rule, policy.address_rule)
    tokens = TokenService(repo, clock, audit)
    signin = SignInService(users, sessions, throttle, audit)
    return Auth(users, sessions, tokens, signin, audit)
