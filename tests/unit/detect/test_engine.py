"""The engine on a fake clock: rolls up, evaluates what is due, dedupes, publishes."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from tests.unit.detect.factory import SPAMHAUS, T0, Harness, event, minute_of_traffic, minutes

from mailwarden.bus.memory import InProcessBus
from mailwarden.clock import FakeClock
from mailwarden.detect.engine import DetectionEngine
from mailwarden.detect.model import FINDINGS_TOPIC
from mailwarden.store.rollups_repo import RollupRow, RollupVector, spread


def _healthy(harness: Harness, hours: int, per_minute: int = 40, **attrs: Any) -> None:
    for at in minutes(T0, hours * 60):
        harness.feed(minute_of_traffic(at, per_minute, hard=at.minute % 5 == 0, **attrs))


def test_a_bad_list_is_caught_within_minutes_on_its_campaign() -> None:
    harness = Harness()
    _healthy(harness, 3, campaign="weekly")
    start = T0 + timedelta(hours=3)
    for at in minutes(start, 10):
        harness.feed(minute_of_traffic(at, 150, hard=15, campaign="reengage"))
    hits = [f for f in harness.opened if f.kind == "hard_bounce_rate"]
    assert ("campaign", "reengage") in {(f.scope.dimension, f.scope.key) for f in hits}
    first = min(f.first_seen for f in hits)
    assert first - start <= timedelta(minutes=8)


def test_the_early_campaign_check_speaks_once_the_first_sends_are_in() -> None:
    harness = Harness(early_sends=500)
    _healthy(harness, 2, campaign="weekly")
    for at in minutes(T0 + timedelta(hours=2), 6):
        harness.feed(minute_of_traffic(at, 120, hard=12, campaign="stale-list"))
    early = [f for f in harness.opened if f.evidence.get("check") == "early campaign check"]
    assert [f.scope.key for f in early] == ["stale-list"]


def test_a_persisting_block_is_one_finding_per_scope() -> None:
    harness = Harness()
    _healthy(harness, 2, provider="yahoo")
    for at in minutes(T0 + timedelta(hours=2), 45):
        harness.feed(minute_of_traffic(at, 60, blocks=40, block=SPAMHAUS, provider="yahoo"))
    scopes = [(f.kind, f.scope) for f in harness.opened if f.kind == "block_rate"]
    assert len(scopes) == len(set(scopes)) > 0
    yahoo = [f for f in harness.opened if f.kind == "block_rate" and f.scope.key == "yahoo"]
    assert yahoo and yahoo[0].evidence["dominant_signal"] == "blocklist"
    assert yahoo[0].sample_event_ids


def test_findings_close_after_the_incident_ends() -> None:
    harness = Harness(hold_minutes=30)
    _healthy(harness, 2)
    for at in minutes(T0 + timedelta(hours=2), 20):
        harness.feed(minute_of_traffic(at, 60, blocks=40))
    for at in minutes(T0 + timedelta(hours=2, minutes=20), 120):
        harness.feed(minute_of_traffic(at, 60))
    assert {f.kind for f in harness.closed} >= {"block_rate"}
    assert harness.engine.tracker.open_findings() == []


def test_late_complaints_reopen_the_hour_they_belong_to() -> None:
    harness = Harness()
    _healthy(harness, 6)
    past = T0 + timedelta(hours=2, minutes=10)
    late = [event("complained", past + timedelta(seconds=i)) for i in range(60)]
    harness.feed(late, now=harness.clock.now() + timedelta(minutes=1))
    reopened = [f for f in harness.opened if f.evidence.get("reopened")]
    assert reopened and all(f.kind == "complaint_rate" for f in reopened)
    assert all(f.window_start <= past < f.window_end for f in reopened)
    assert all(f.first_seen > past + timedelta(hours=3) for f in reopened)


def test_out_of_order_arrival_finds_the_same_as_in_order() -> None:
    def run(shuffle: bool) -> set[tuple[str, str, str]]:
        harness = Harness()
        _healthy(harness, 2)
        batch = [
            e
            for at in minutes(T0 + timedelta(hours=2), 5)
            for e in minute_of_traffic(at, 100, hard=20, campaign="bad")
        ]
        if shuffle:
            random.Random(3).shuffle(batch)
        harness.feed(batch)
        harness.tick_until(harness.clock.now() + timedelta(minutes=5))
        return harness.kinds()

    assert run(shuffle=True) == run(shuffle=False)


def test_a_clock_that_jumps_days_and_a_day_without_traffic_raise_nothing() -> None:
    harness = Harness()
    _healthy(harness, 1)
    harness.clock.set(T0 + timedelta(days=3))
    harness.engine.tick()
    harness.tick_until(T0 + timedelta(days=4))
    assert harness.opened == []
    harness.clock.set(T0 + timedelta(days=1))  # and back: ignored, not a crash
    assert not harness.engine.tick()


def test_sends_with_no_outcomes_for_fifteen_minutes_is_event_silence() -> None:
    harness = Harness()
    _healthy(harness, 2)
    for at in minutes(T0 + timedelta(hours=2), 20):
        harness.feed([event("queued", at) for _ in range(40)])
    silence = [f for f in harness.opened if f.kind == "event_silence"]
    assert ("overall", "*") in {(f.scope.dimension, f.scope.key) for f in silence}


def test_new_and_changed_findings_are_published_on_the_findings_topic() -> None:
    bus = InProcessBus()
    heard: list[Any] = []
    bus.subscribe_messages(FINDINGS_TOPIC, heard.extend)
    clock = FakeClock(T0)
    engine = DetectionEngine(clock, bus=bus)
    engine.subscribe(bus)
    for at in minutes(T0, 60):
        bus.publish("events", minute_of_traffic(at, 50, blocks=30 if at.minute > 40 else 0))
        clock.set(at + timedelta(minutes=2))
        engine.tick()
    assert heard and all(f.to_dict()["kind"] == f.kind for f in heard)
    assert {f.kind for f in heard} >= {"block_rate"}


class _Rollups:
    """Stands in for the rollup store: remembers each write."""

    def __init__(self) -> None:
        self.writes: list[list[tuple[int, str, str, str, int]]] = []

    def add_vectors(
        self,
        metrics: Sequence[str],
        vectors: Sequence[RollupVector],
        rows: Sequence[RollupRow] = (),
    ) -> None:
        self.writes.append([*spread(metrics, vectors), *rows])


class _Wall:
    """A fake monotonic clock."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def _stored(rollups: _Rollups) -> int:
    return sum(
        count
        for write in rollups.writes
        for _m, dim, _k, metric, count in write
        if dim == "overall" and metric == "queued"
    )


def test_rollups_wait_in_memory_until_a_second_of_wall_time_has_passed() -> None:
    clock, rollups, wall = FakeClock(T0), _Rollups(), _Wall()
    engine = DetectionEngine(clock, rollups=rollups, wall=wall)  # type: ignore[arg-type]
    for at in minutes(T0, 30):  # half an hour of simulated time in no wall time at all
        engine.on_events(minute_of_traffic(at, 10))
        clock.set(at + timedelta(minutes=2))
        engine.tick()
    assert rollups.writes == []
    wall.seconds = 1.0
    engine.tick()
    assert len(rollups.writes) == 1 and _stored(rollups) == 30 * 10  # every minute, one write


def test_counts_are_written_before_a_finding_is_published() -> None:
    clock, rollups, wall = FakeClock(T0), _Rollups(), _Wall()
    bus = InProcessBus()
    stored_when_published: list[int] = []
    bus.subscribe_messages(
        FINDINGS_TOPIC, lambda _messages: stored_when_published.append(_stored(rollups))
    )
    engine = DetectionEngine(clock, rollups=rollups, bus=bus, wall=wall)  # type: ignore[arg-type]
    sent = 0
    for at in minutes(T0, 180):
        batch = minute_of_traffic(at, 60, blocks=40 if at >= T0 + timedelta(hours=2) else 0)
        sent += sum(1 for e in batch if e.type == "queued")
        engine.on_events(batch)
        clock.set(at + timedelta(minutes=2))
        if engine.tick().published:
            break
    assert stored_when_published and stored_when_published[0] == sent


def test_closing_the_services_writes_what_is_pending(tmp_path: Any) -> None:
    from mailwarden.app import build
    from mailwarden.config import Settings
    from mailwarden.store.rollups_repo import RollupStore

    clock = FakeClock(T0)
    services = build(Settings(database_url=f"sqlite:///{tmp_path}/mw.db"), clock=clock)
    assert services.detection is not None
    services.detection.on_events(minute_of_traffic(T0, 10))
    store = RollupStore(services.engine)
    assert list(store.rows(0)) == []
    services.close()
    assert any(metric == "queued" for _m, _d, _k, metric, _c in store.rows(0))


class _FailingOnce(_Rollups):
    """A rollup store whose first write fails (the database was away)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def add_vectors(self, *args: Any) -> None:
        if not self.failed:
            self.failed = True
            raise OSError("database unavailable")
        super().add_vectors(*args)


def test_a_failed_rollup_write_keeps_the_counts_for_the_next_tick() -> None:
    clock, rollups, wall = FakeClock(T0), _FailingOnce(), _Wall()
    engine = DetectionEngine(clock, rollups=rollups, wall=wall)  # type: ignore[arg-type]
    engine.on_events(minute_of_traffic(T0, 10))
    clock.set(T0 + timedelta(minutes=2))
    wall.seconds = 1.0
    engine.tick()  # the write fails: logged, the tick goes on
    assert rollups.failed and rollups.writes == []
    wall.seconds = 2.0
    engine.tick()
    assert _stored(rollups) == 10
