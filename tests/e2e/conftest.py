"""Fixtures of the browser tests: the live console (see live.py) and the skip without Chromium."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator

import pytest
import uvicorn

from mailwarden.app import build
from mailwarden.auth.roles import Role
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.incidents.model import Actor
from mailwarden.web.app import create_app
from tests.e2e.live import (
    CHROMIUM,
    COMMANDER,
    NOW,
    SCENARIO,
    VIEWER,
    LiveConsole,
    free_port,
    replay_scenario,
)
from tests.integration.auth.helpers import ensure_user


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the browser tests, saying why, on a machine without Debian's Chromium."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing (CI installs it: apt-get install chromium)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveConsole]:
    """The console on 127.0.0.1 with the scenario loaded; a commander and a viewer exist."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    db = tmp_path_factory.mktemp("console") / "mailwarden.db"
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{db}",
            "sqlite_synchronous": "NORMAL",
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
        }
    )
    clock = FakeClock()
    services = build(settings, clock=clock)
    replay_scenario(services, clock, NOW)
    assert services.incidents is not None
    detected = services.incidents.list_incidents(states=["detected"])
    if not detected:  # the console is under test here, not detection's tuning: say so, go on
        warnings.warn(f"{SCENARIO} opened no incident by {NOW}; using a reported one", stacklevel=1)
        detected = [
            services.incidents.open_manual(
                incident_type="delivery_failure",
                title="Hard bounces after a list import",
                actor=Actor("pat"),
            )
        ]
    ensure_user(services, COMMANDER, Role.COMMANDER)
    ensure_user(services, VIEWER, Role.VIEWER)
    port = free_port()
    config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    yield LiveConsole(f"http://127.0.0.1:{port}", services, detected[0].id)
    server.should_exit = True
    thread.join(timeout=10)
    services.close()
