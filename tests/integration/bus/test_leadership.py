"""One worker leads (consumes, ticks), the others stand by: the lease on the real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from tests.contract.redis_support import REDIS_URL

from mailwarden.bus.leader import LeaderLease, leader_key
from mailwarden.bus.redis_streams import PumpReport, RedisStreamsBus, StreamOptions
from mailwarden.cli.worker import WhileLeading, WorkerOptions, run_worker
from mailwarden.config import Settings
from mailwarden.events.model import Event

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
DETECTION = "mailwarden.detect.engine.DetectionEngine.on_events"
TTL_MS = 300


class Worker:
    """`run_worker` on a thread, with what it printed and how it ended."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lines: list[str] = []
        self.stop = threading.Event()
        self.total: PumpReport | None = None
        options = WorkerOptions(block_ms=50, tune_memory=False)
        self._thread = threading.Thread(
            target=lambda: self._run(options), name="test-worker", daemon=True
        )

    def _run(self, options: WorkerOptions) -> None:
        self.total = run_worker(self.settings, options, self.stop, self.lines.append)

    def start(self) -> Worker:
        """Start the worker's thread and wait until it has said who it is."""
        self._thread.start()
        self.wait_for(": groups ")
        return self

    @property
    def name(self) -> str:
        """The worker's consumer name (its first line: 'worker NAME: groups ...')."""
        return self.lines[0].split(" ", 2)[1].rstrip(":")

    def wait_for(self, text: str, timeout: float = 10.0, *, times: int = 1) -> None:
        """Wait until `times` lines contain text."""
        _until(lambda: sum(text in line for line in self.lines) >= times, timeout, text)

    def said(self, text: str) -> int:
        """How many lines contain text."""
        return sum(text in line for line in self.lines)

    def finish(self) -> PumpReport:
        """Stop the worker, as SIGTERM would, and return its totals."""
        self.stop.set()
        self._thread.join(20)
        assert not self._thread.is_alive(), self.lines
        assert self.total is not None
        return self.total


def _until(done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def settings(tmp_path: Path, redis_prefix: str) -> Callable[[int], Settings]:
    def make(ttl_ms: int = TTL_MS) -> Settings:
        return Settings(
            database_url=f"sqlite:///{tmp_path / 'leader.db'}",
            bus_url=REDIS_URL,
            bus_prefix=redis_prefix,
            bus_leader_ttl_ms=ttl_ms,
        )

    return make


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop.set()
    for worker in started:
        worker.finish()


def _publish(client: redis.Redis, prefix: str, *ids: str) -> None:
    bus = RedisStreamsBus(client, options=StreamOptions(prefix=prefix), consumer="publisher")
    for event_id in ids:
        bus.publish(
            "events", [Event(event_id, "delivered", T0, "sendgrid", sending_domain="x.org")]
        )


def _group(client: redis.Redis, prefix: str) -> dict[str, int]:
    """The detection group's lag and pending entries ({} before a worker created it)."""
    for info in client.xinfo_groups(f"{prefix}:events:0"):
        if info["name"] == DETECTION.encode():
            return {"lag": int(info["lag"] or 0), "pending": int(info["pending"])}
    return {}


def _drained(client: redis.Redis, prefix: str) -> Callable[[], bool]:
    return lambda: _group(client, prefix) == {"lag": 0, "pending": 0}


def test_a_second_worker_stands_by_while_the_first_leads(
    settings: Callable[[int], Settings],
    workers: list[Worker],
    redis_client: redis.Redis,
    redis_prefix: str,
) -> None:
    first = Worker(settings(TTL_MS)).start()
    workers.append(first)
    first.wait_for(f"worker {first.name} leads")
    second = Worker(settings(TTL_MS)).start()
    workers.append(second)
    second.wait_for(f"worker {second.name} stands by: {first.name} leads")

    _publish(redis_client, redis_prefix, "a", "b", "c")
    _until(_drained(redis_client, redis_prefix), 10, "the batches to be handled")
    time.sleep(4 * TTL_MS / 1000)  # the leader renews; its lease never lapses
    assert redis_client.get(leader_key(redis_prefix)) == first.name.encode()
    assert second.said("leads") == 1  # only "stands by: ... leads"
    stream = f"{redis_prefix}:events:0"
    consumers = redis_client.xinfo_consumers(stream, DETECTION)
    assert [c["name"] for c in consumers] == [first.name.encode()]

    assert second.finish().handled == 0
    assert first.finish().handled == 3
    assert redis_client.get(leader_key(redis_prefix)) is None


def test_the_standby_takes_over_when_the_leader_stops_renewing(
    settings: Callable[[int], Settings],
    workers: list[Worker],
    redis_client: redis.Redis,
    redis_prefix: str,
) -> None:
    dead = LeaderLease(redis_client, leader_key(redis_prefix), "dead-worker", TTL_MS)
    taken = time.monotonic()
    assert dead.acquire() == "dead-worker"  # and it never renews: the process died
    _publish(redis_client, redis_prefix, "a", "b")
    standby = Worker(settings(TTL_MS)).start()
    workers.append(standby)
    standby.wait_for(f"worker {standby.name} stands by: dead-worker leads")
    assert _group(redis_client, redis_prefix) == {}  # a standby reads nothing

    standby.wait_for(f"worker {standby.name} leads", timeout=5)
    assert time.monotonic() - taken >= TTL_MS / 1000 * 0.9  # not before the lease lapsed
    _until(_drained(redis_client, redis_prefix), 10, "the batches to be handled")
    assert redis_client.get(leader_key(redis_prefix)) == standby.name.encode()
    assert standby.finish().handled == 2


def test_a_leader_that_lost_its_lease_stops_consuming(
    settings: Callable[[int], Settings],
    workers: list[Worker],
    redis_client: redis.Redis,
    redis_prefix: str,
) -> None:
    leader = Worker(settings(TTL_MS)).start()
    workers.append(leader)
    leader.wait_for(f"worker {leader.name} leads")
    _publish(redis_client, redis_prefix, "a")
    _until(_drained(redis_client, redis_prefix), 10, "the first batch to be handled")

    # Another worker holds the lease now (as after a pause longer than the ttl).
    redis_client.set(leader_key(redis_prefix), "usurper", px=60_000)
    leader.wait_for(f"worker {leader.name} lost the lease", timeout=5)
    leader.wait_for(f"worker {leader.name} stands by: usurper leads")
    _publish(redis_client, redis_prefix, "b")
    time.sleep(3 * TTL_MS / 1000)
    assert _group(redis_client, redis_prefix) == {"lag": 1, "pending": 0}  # nobody read it
    assert redis_client.get(leader_key(redis_prefix)) == b"usurper"  # renewals left it alone

    redis_client.delete(leader_key(redis_prefix))  # the usurper goes away
    leader.wait_for(f"worker {leader.name} leads", times=2)
    _until(_drained(redis_client, redis_prefix), 10, "the second batch to be handled")
    assert leader.finish().handled == 2


def test_a_clean_shutdown_hands_over_at_once(
    settings: Callable[[int], Settings],
    workers: list[Worker],
    redis_client: redis.Redis,
    redis_prefix: str,
) -> None:
    ttl_ms = 30_000  # waiting for the lease to lapse would take this long
    first = Worker(settings(ttl_ms)).start()
    workers.append(first)
    first.wait_for(f"worker {first.name} leads")
    second = Worker(settings(ttl_ms)).start()
    workers.append(second)
    second.wait_for(f"worker {second.name} stands by: {first.name} leads")

    stopped = time.monotonic()
    first.finish()
    assert f"worker {first.name} released the lease" in first.lines
    second.wait_for(f"worker {second.name} leads", timeout=5)
    assert time.monotonic() - stopped < 5 < ttl_ms / 1000
    _publish(redis_client, redis_prefix, "a")
    _until(_drained(redis_client, redis_prefix), 10, "the batch to be handled")
    assert second.finish().handled == 1


def test_a_lease_is_renewed_and_released_only_by_its_holder(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    key = leader_key(redis_prefix)
    mine = LeaderLease(redis_client, key, "mine", 10_000)
    other = LeaderLease(redis_client, key, "other", 10_000)
    assert mine.acquire() == "mine" and mine.held()
    assert other.acquire() == "mine" and not other.held()
    assert not other.renew() and not other.release()
    assert redis_client.get(key) == b"mine"
    assert mine.acquire() == "mine"  # taking it again renews it
    assert mine.release() and not mine.held()
    assert redis_client.get(key) is None
    assert other.acquire() == "other"


def test_a_holder_stops_leading_when_its_renewals_stall(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    now = [100.0]
    lease = LeaderLease(
        redis_client, leader_key(redis_prefix), "mine", TTL_MS, clock=lambda: now[0]
    )
    assert lease.acquire() == "mine"
    now[0] += 0.25
    assert lease.held()  # within the ttl of the acquisition it sent
    now[0] += 0.05
    assert not lease.held()  # the ttl (less drift) has passed: it no longer counts itself leader
    assert lease.renew() and lease.held()  # the key was still its own


def test_a_worker_ticks_only_while_it_leads(redis_client: redis.Redis, redis_prefix: str) -> None:
    ticks: list[int] = []

    class Target:
        def tick(self) -> object:
            ticks.append(1)
            return None

    lease = LeaderLease(redis_client, leader_key(redis_prefix), "mine", 10_000)
    gated = WhileLeading(Target(), lease)
    gated.tick()
    assert ticks == []  # not acquired yet
    lease.acquire()
    gated.tick()
    assert ticks == [1]
    redis_client.set(leader_key(redis_prefix), "other")
    assert not lease.renew()
    gated.tick()
    assert ticks == [1]
