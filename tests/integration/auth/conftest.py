"""Auth integration fixtures: services with cheap argon2 on each database, and a web client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mailwarden.app import Services, build
from mailwarden.auth.service import Auth
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.web.app import create_app

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}


def make_services(url: str, clock: FakeClock, **overrides: object) -> Services:
    """Services over url with a cheap password hash, on the fake clock."""
    values: dict[str, object] = {
        "database_url": url,
        "sqlite_synchronous": "NORMAL",
        **CHEAP_ARGON2,
        **overrides,
    }
    settings = Settings.model_validate(values)
    return build(settings, clock=clock)


@pytest.fixture
def services(database_url: str, clock: FakeClock) -> Iterator[Services]:
    """Services on SQLite and on PostgreSQL."""
    built = make_services(database_url, clock)
    yield built
    built.close()


@pytest.fixture
def auth(services: Services) -> Auth:
    """The auth services."""
    assert services.auth is not None
    return services.auth


@pytest.fixture
def app(services: Services) -> FastAPI:
    """The whole web app."""
    return create_app(services)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client over plain http that does not follow redirects."""
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client
