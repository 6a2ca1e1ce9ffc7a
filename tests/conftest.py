"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable) and a fake clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from mailwarden.clock import FakeClock
from mailwarden.store import migrate
from mailwarden.store.engine import make_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "MAILWARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def clock() -> FakeClock:
    """A clock that starts at 2026-11-27 08:00 UTC and moves only when told."""
    return FakeClock(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))


def _postgres_reachable() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    """Whether the PostgreSQL server of this machine answers."""
    return _postgres_reachable()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'mailwarden.db'}"


@pytest.fixture
def postgres_url(postgres_available: bool) -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    if not postgres_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")
        pytest.skip("PostgreSQL is not reachable")
    name = f"mw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each database."""
    engine = make_engine(database_url, sqlite_synchronous="NORMAL")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
