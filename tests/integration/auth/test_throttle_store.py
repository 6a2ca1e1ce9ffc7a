"""Throttling on the database and the fake clock: attempts count up front, stale rows go."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from tests.integration.auth.helpers import TEST_PASSWORD, ensure_user

from mailwarden.app import Services
from mailwarden.auth.errors import InvalidCredentialsError, ThrottledError
from mailwarden.auth.model import Client
from mailwarden.auth.roles import Role
from mailwarden.auth.service import Auth
from mailwarden.auth.throttle import LoginThrottle
from mailwarden.clock import FakeClock
from mailwarden.store.auth_repo import AuthRepo
from mailwarden.store.auth_tables import login_failures


def count_failures(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(login_failures)).scalar_one())


def test_attempts_in_flight_count_before_their_passwords_are_checked(
    engine: Engine, clock: FakeClock
) -> None:
    throttle = LoginThrottle(AuthRepo(engine), clock)
    for _ in range(5):
        throttle.begin("alice", "198.51.100.7")  # five guesses racing, none finished
    with pytest.raises(ThrottledError) as refused:
        throttle.begin("alice", "198.51.100.7")
    assert refused.value.retry_after_seconds == 15


def test_a_success_clears_the_account_and_prunes_expired_failures(
    services: Services, auth: Auth, clock: FakeClock
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    client = Client("198.51.100.7")
    for name in ("alice", "ghost"):
        with pytest.raises(InvalidCredentialsError):
            auth.signin.sign_in(name, "nope nope nope", client)
    clock.advance(timedelta(hours=2))
    auth.signin.sign_in("alice", TEST_PASSWORD, client)
    assert count_failures(services.engine) == 0


def test_the_wait_is_measured_on_the_injected_clock(
    services: Services, auth: Auth, clock: FakeClock
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    client = Client("198.51.100.7")
    for _ in range(5):
        with pytest.raises(InvalidCredentialsError):
            auth.signin.sign_in("alice", "nope nope nope", client)
    clock.advance(timedelta(seconds=14))
    with pytest.raises(ThrottledError):
        auth.signin.sign_in("alice", TEST_PASSWORD, client)
    clock.advance(timedelta(seconds=2))
    assert auth.signin.sign_in("alice", TEST_PASSWORD, client).user.username == "alice"
