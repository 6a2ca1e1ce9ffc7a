"""Replay through the live path (ingest -> bus -> rollups -> detection) and read the findings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.unit.detect.factory import T0, minute_of_traffic, minutes
from typer.testing import CliRunner

from mailwarden.app import build
from mailwarden.cli.main import app
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.detect.model import FINDINGS_TOPIC
from mailwarden.detect.replay import Replayer, first_time
from mailwarden.events.model import Event


def _arrival_order(events: list[Event]) -> list[bytes]:
    ordered = sorted(events, key=lambda e: e.occurred_at)
    return [orjson.dumps(e.to_dict()) for e in ordered]


def _bad_list_file(path: Path) -> Path:
    events: list[Event] = []
    for at in minutes(T0, 150):
        events += minute_of_traffic(at, 30, hard=1 if at.minute % 4 == 0 else 0, campaign="weekly")
    start = T0 + timedelta(minutes=150)
    for at in minutes(start, 15):
        events += minute_of_traffic(at, 80, hard=10, campaign="reengage")
    path.write_bytes(b"\n".join(_arrival_order(events)) + b"\n")
    return path


def test_replay_finds_a_bad_list_stores_and_publishes_it(database_url: str, tmp_path: Path) -> None:
    lines = _bad_list_file(tmp_path / "bad.ndjson").read_bytes().splitlines()
    start = first_time(lines)
    assert start is not None
    clock = FakeClock(start)
    services = build(Settings(database_url=database_url), clock=clock)
    heard: list[Any] = []
    services.bus.subscribe_messages(FINDINGS_TOPIC, heard.extend)
    try:
        stats = Replayer(services.ingest, clock, services.detection).run(lines)
        assert services.detection is not None
        found = services.detection.list_findings(kind="hard_bounce_rate")
    finally:
        services.close()
    assert stats.accepted == len(lines) and stats.rejected == []
    assert stats.ticks >= 160  # one a simulated minute
    assert ("campaign", "reengage") in {(f.scope.dimension, f.scope.key) for f in found}
    assert any(f.id is not None for f in found)
    assert {f.kind for f in heard} >= {"hard_bounce_rate"}
    last = max(orjson.loads(line)["occurred_at"] for line in lines)
    assert clock.now().strftime("%Y-%m-%dT%H:%M:%SZ") == last  # the clock followed the events


runner = CliRunner()


@pytest.mark.slow
def test_the_replay_and_findings_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    path = _bad_list_file(tmp_path / "bad.ndjson")
    result = runner.invoke(app, ["replay", str(path), "--db", db])
    assert result.exit_code == 0, result.output
    assert "findings opened" in result.output
    listed = runner.invoke(app, ["findings", "--json", "--kind", "hard_bounce_rate", "--db", db])
    assert listed.exit_code == 0, listed.output
    rows = [orjson.loads(line) for line in listed.output.splitlines()]
    assert rows and all(row["kind"] == "hard_bounce_rate" for row in rows)
    assert {"scope", "severity", "observed", "expected", "evidence", "first_seen"} <= set(rows[0])
    table = runner.invoke(app, ["findings", "--db", db])
    assert table.exit_code == 0 and "kind" in table.output and "open" in table.output


def test_replay_reports_bad_lines_with_their_line_numbers(tmp_path: Path) -> None:
    path = _bad_list_file(tmp_path / "bad.ndjson")
    lines = path.read_bytes().splitlines()
    lines.insert(5, b'{"type": "delivered"}')
    path.write_bytes(b"\n".join(lines))
    result = runner.invoke(app, ["replay", str(path), "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1
    assert f"{path}:6" in result.output and "occurred_at" in result.output


def test_findings_rejects_an_unknown_kind(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["findings", "--kind", "nope", "--db", f"sqlite:///{tmp_path / 'y.db'}"]
    )
    assert result.exit_code != 0
    assert "unknown kind" in result.output


def test_replay_names_a_file_it_cannot_read_or_that_holds_no_events(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'z.db'}"
    missing = runner.invoke(app, ["replay", str(tmp_path / "nope.ndjson"), "--db", db])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"\n\n")
    result = runner.invoke(app, ["replay", str(empty), "--db", db])
    assert result.exit_code == 2 and "no line with an occurred_at" in result.output
