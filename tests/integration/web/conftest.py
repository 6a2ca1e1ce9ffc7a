"""Console fixtures: the whole app over SQLite on the fake clock, and a browser-like client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.integration.auth.conftest import make_services

from mailwarden.app import Services
from mailwarden.clock import FakeClock
from mailwarden.web.app import create_app

SECRETS = {
    "mailgun_webhook_signing_key": "mg-signing-SECRET-1",
    "postmark_webhook_password": "pm-pass-SECRET-2",
    "sendgrid_api_key": "SG.api-SECRET-3",
}


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    """Services with a few secrets set (so pages can be checked for never showing them)."""
    built = make_services(sqlite_url, clock, **SECRETS)
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True, follow_redirects=False) as test_client:
        yield test_client
