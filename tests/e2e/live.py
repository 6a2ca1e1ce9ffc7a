"""Helpers of the browser tests: a real console served by uvicorn on 127.0.0.1 over a temp
SQLite file holding a replayed scenario, driven by Debian's Chromium through Playwright.

The scenario (a bad list import at small scale) is replayed up to an hour into its
incident, on a fake clock the server keeps, so the incident is freshly detected and the
page shows the same thing on every run. No test here needs the internet.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import orjson

from mailwarden.app import Services
from mailwarden.clock import FakeClock
from mailwarden.detect.replay import Replayer, first_time
from mailwarden.events.model import parse_time
from mailwarden.simulate.engine import Simulation
from mailwarden.simulate.model import DEFAULT_START, Config, to_seconds

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path("test-artifacts")
SCENARIO = "bad_list_import"  # hard bounces from a bad list on day 1, 10:30-13:05 UTC
SCALE = 0.05  # about 34,000 events by NOW: enough mail for every rate to mean something
NOW = "2026-11-03T11:30:00Z"  # an hour into it: detected, not yet recovered
COMMANDER, VIEWER = "casey", "vic"


@dataclass(frozen=True)
class LiveConsole:
    """A running console: where it listens, its services and the incident to work on."""

    base_url: str
    services: Services
    incident_id: str


def replay_scenario(services: Services, clock: FakeClock, until: str) -> None:
    """Simulate the scenario and replay what arrived by `until` through the live path."""
    cut = parse_time(until)
    config = Config(seed=7, start=to_seconds(DEFAULT_START), days=2, scale=SCALE)
    lines = []
    for line in Simulation(SCENARIO, config).lines():
        if parse_time(orjson.loads(line)["extra"]["received_at"]) > cut:
            break
        lines.append(line)
    start = first_time(lines)
    assert start is not None
    clock.set(start)
    Replayer(services.ingest, clock, services.detection, source="e2e").run(lines)
    clock.set(cut)
    if services.detection is not None:
        services.detection.tick(cut)
    assert services.incidents is not None
    services.incidents.tick(cut)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
