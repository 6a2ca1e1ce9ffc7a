"""`mailwarden bus deadletter list|show|replay` against the real Redis and the real poison path."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
import pytest
import redis
from tests.contract.redis_support import REDIS_URL
from typer.testing import CliRunner

from mailwarden.bus.redis_streams import RedisStreamsBus, StreamOptions
from mailwarden.cli.main import app
from mailwarden.events.model import Event

runner = CliRunner()
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
GROUP = "detection"


class Poisoned:
    """A handler that fails until fixed, and remembers what it handled."""

    def __init__(self) -> None:
        self.broken = True
        self.handled: list[str] = []

    def __call__(self, batch: Sequence[Event]) -> None:
        if self.broken:
            raise ValueError("cannot handle this batch")
        self.handled.extend(event.id for event in batch)


@pytest.fixture
def env(redis_prefix: str) -> dict[str, str]:
    return {"MAILWARDEN_BUS_URL": REDIS_URL, "MAILWARDEN_BUS_PREFIX": redis_prefix}


def _bus(client: redis.Redis, prefix: str) -> RedisStreamsBus:
    options = StreamOptions(prefix=prefix, claim_idle_ms=2, max_deliveries=2)
    return RedisStreamsBus(client, options=options, consumer="one")


def _poison(bus: RedisStreamsBus, *ids: str) -> None:
    """Publish a batch and pump until the bus gives up on it (its own dead-letter path)."""
    bus.publish("events", [Event(i, "delivered", T0, "sendgrid") for i in ids])
    for _ in range(50):
        if bus.pump().dead_lettered:
            return
        time.sleep(0.005)
    raise AssertionError("the batch was never dead-lettered")


def _ids(client: redis.Redis, prefix: str) -> list[str]:
    return [entry_id.decode() for entry_id, _ in client.xrange(f"{prefix}:deadletter")]


def test_a_poisoned_entry_is_listed_shown_replayed_and_handled_once_by_its_group(
    env: dict[str, str], redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix)
    poisoned = Poisoned()
    others: list[str] = []
    bus.subscribe("events", poisoned, group=GROUP)
    bus.subscribe("events", lambda batch: others.extend(e.id for e in batch), group="other")
    _poison(bus, "a", "b")
    (entry_id,) = _ids(redis_client, redis_prefix)
    stream = f"{redis_prefix}:events:0"

    listed = runner.invoke(app, ["bus", "deadletter", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    row = orjson.loads(listed.output)
    assert (row["id"], row["stream"], row["group"], row["deliveries"]) == (
        entry_id,
        stream,
        GROUP,
        2,
    )
    assert "last error: ValueError: cannot handle this batch" in row["reason"]
    table = runner.invoke(app, ["bus", "deadletter", "list"], env=env)
    assert table.exit_code == 0 and entry_id in table.output and GROUP in table.output

    shown = runner.invoke(app, ["bus", "deadletter", "show", entry_id], env=env)
    assert shown.exit_code == 0, shown.output
    assert f"group: {GROUP}" in shown.output and f"stream: {stream}" in shown.output
    assert '"id": "a"' in shown.output and '"id": "b"' in shown.output  # the decoded batch

    poisoned.broken = False  # the bug is fixed
    replayed = runner.invoke(app, ["bus", "deadletter", "replay", entry_id], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert f"{entry_id}: replayed to {stream}" in replayed.output
    assert _ids(redis_client, redis_prefix) == []
    report = bus.pump()
    assert report.handled == 1 and bus.pump().idle
    assert poisoned.handled == ["a", "b"]  # once, by its group
    assert others == ["a", "b"]  # the other group handled it the first time only
    for group in (GROUP, "other"):
        assert int(redis_client.xpending(stream, group)["pending"]) == 0


def test_replay_all_puts_every_entry_back(
    env: dict[str, str], redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix)
    poisoned = Poisoned()
    bus.subscribe("events", poisoned, group=GROUP)
    _poison(bus, "a")
    _poison(bus, "b")
    assert len(_ids(redis_client, redis_prefix)) == 2
    poisoned.broken = False
    result = runner.invoke(app, ["bus", "deadletter", "replay", "--all"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.count("replayed to") == 2
    bus.pump()
    assert poisoned.handled == ["a", "b"]
    again = runner.invoke(app, ["bus", "deadletter", "replay", "--all"], env=env)
    assert again.exit_code == 0 and "the dead-letter stream is empty" in again.output


def test_an_unknown_id_is_an_error(env: dict[str, str], redis_prefix: str) -> None:
    for args in (["show", "1-0"], ["replay", "1-0"], ["show", "not-an-id"]):
        result = runner.invoke(app, ["bus", "deadletter", *args], env=env)
        assert result.exit_code == 1, result.output
        assert "no dead-lettered bus entry" in result.output


def test_without_a_redis_bus_it_says_so() -> None:
    result = runner.invoke(app, ["bus", "deadletter", "list"], env={"MAILWARDEN_BUS_URL": ""})
    assert result.exit_code == 2
    assert "no Redis bus configured" in result.output
    result = runner.invoke(app, ["bus", "deadletter", "list", "--bus", "amqp://broker/"])
    assert result.exit_code == 2 and "expected redis://" in result.output
