"""Replay: the clock follows the latest occurred_at, batches cut at each simulated minute."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from tests.unit.detect.factory import T0, event

from mailwarden.clock import FakeClock
from mailwarden.detect.lifecycle import Changes
from mailwarden.detect.replay import Replayer, ReplayStats, batches, first_time, start_of


@dataclass
class Recorder:
    """Stands in for the ingest service and the engine: remembers receives and ticks."""

    clock: FakeClock
    receives: list[tuple[datetime, int]] = field(default_factory=list)
    ticks: list[datetime] = field(default_factory=list)
    flushes: int = 0

    def receive(self, provider: str, request: Any, *, source: str, verify: bool) -> Any:
        assert provider == "ndjson" and not verify
        lines = request.body.splitlines()
        self.receives.append((self.clock.now(), len(lines)))
        return type("Outcome", (), {"accepted": len(lines), "duplicates": 0})()

    def tick(self, now: datetime | None = None) -> Changes:
        assert now is not None
        self.ticks.append(now)
        return Changes()

    def flush(self) -> None:
        self.flushes += 1


def _line(kind: str, at: datetime) -> bytes:
    return orjson.dumps(event(kind, at).to_dict())


def test_the_clock_follows_the_events_and_late_lines_do_not_turn_it_back() -> None:
    lines = [
        _line("queued", T0),
        _line("delivered", T0 + timedelta(seconds=30)),
        _line("complained", T0 - timedelta(hours=5)),  # late: arrives now, happened before
        _line("queued", T0 + timedelta(minutes=3, seconds=5)),
    ]
    clock = FakeClock(first_time(lines) or T0)
    recorder = Recorder(clock)
    stats = Replayer(recorder, clock, recorder).run(lines)  # type: ignore[arg-type]
    assert [(at, n) for at, n in recorder.receives] == [
        (T0 + timedelta(seconds=30), 3),
        (T0 + timedelta(minutes=3, seconds=5), 1),
    ]
    assert recorder.ticks[:4] == [T0 + timedelta(minutes=m) for m in range(4)]
    assert stats.lines == 4 and stats.accepted == 4
    assert recorder.flushes == 1  # what the last tick left pending is written


def test_stepping_batch_by_batch_replays_exactly_as_a_whole_run() -> None:
    lines = [_line("queued", T0 + timedelta(seconds=25 * i)) for i in range(12)]
    lines.insert(5, _line("complained", T0 - timedelta(hours=1)))
    whole_clock, stepped_clock = FakeClock(T0), FakeClock(T0)
    whole, stepped = Recorder(whole_clock), Recorder(stepped_clock)
    expected = Replayer(whole, whole_clock, whole).run(lines)  # type: ignore[arg-type]
    replayer = Replayer(stepped, stepped_clock, stepped)  # type: ignore[arg-type]
    stats = ReplayStats()
    for batch, latest in batches(lines):
        replayer.step(batch, latest, stats)
    replayer.finish()
    assert (stepped.receives, stepped.ticks, stepped.flushes) == (
        whole.receives,
        whole.ticks,
        whole.flushes,
    )
    assert (stats.lines, stats.batches, stats.ticks) == (
        expected.lines,
        expected.batches,
        expected.ticks,
    )


def test_batches_never_exceed_the_batch_size() -> None:
    lines = [_line("queued", T0 + timedelta(milliseconds=i)) for i in range(25)]
    clock = FakeClock(T0)
    recorder = Recorder(clock)
    Replayer(recorder, clock, None, batch=10).run(lines)  # type: ignore[arg-type]
    assert [n for _at, n in recorder.receives] == [10, 10, 5]
    assert recorder.ticks == []


def test_the_first_time_skips_lines_without_one() -> None:
    assert first_time([b"{}", _line("queued", T0)]) == T0
    assert first_time([b'{"type": "queued"}']) is None


def test_the_start_of_a_stream_leaves_it_at_its_beginning() -> None:
    stream = io.BytesIO(b"{}\n" + _line("queued", T0) + b"\n")
    assert start_of(stream) == T0
    assert stream.read(2) == b"{}"
