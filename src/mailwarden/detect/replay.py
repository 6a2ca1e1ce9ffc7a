"""Replay a canonical NDJSON file through the live path: ingest, bus, rollups, detection.

The file is read in arrival order (the simulator's order: late events carry older
occurred_at). A simulated clock follows the events: it reads the latest occurred_at seen so
far. Lines go to `IngestService.receive` in batches cut at each simulated minute (and at
`batch` lines), and the engine ticks once for every simulated minute that passes, exactly
as the scheduler would tick a live server, only as fast as the machine allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO, Final, Protocol

from mailwarden.clock import FakeClock
from mailwarden.detect.lifecycle import Changes
from mailwarden.events.errors import PayloadError
from mailwarden.events.ingest import IngestService
from mailwarden.events.model import parse_time
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.events.providers.ndjson import event_from_json

_MARK: Final = b'"occurred_at":'


@dataclass(slots=True)
class ReplayStats:
    """What a replay did."""

    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    batches: int = 0
    ticks: int = 0
    findings: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        """Lines replayed per wall-clock second."""
        return self.lines / self.seconds if self.seconds else 0.0


class _Times:
    """Reads occurred_at from a raw line cheaply (cached by text), in epoch seconds."""

    def __init__(self) -> None:
        self._cache: dict[bytes, float] = {}

    def of(self, line: bytes) -> float | None:
        """The line's occurred_at in epoch seconds, or None when it has none."""
        at = line.find(_MARK)
        if at < 0:
            return None
        start = line.find(b'"', at + len(_MARK)) + 1
        end = line.find(b'"', start)
        text = line[start:end]
        cached = self._cache.get(text)
        if cached is None:
            try:
                cached = parse_time(text.decode()).timestamp()
            except (ValueError, UnicodeDecodeError):
                return None
            if len(self._cache) > 200_000:
                self._cache.clear()
            self._cache[text] = cached
        return cached


def first_time(lines: Iterable[bytes]) -> datetime | None:
    """The occurred_at of the first line that has one (to start the simulated clock)."""
    times = _Times()
    for line in lines:
        seconds = times.of(line)
        if seconds is not None:
            return datetime.fromtimestamp(seconds, UTC)
    return None


def start_of(stream: BinaryIO) -> datetime | None:
    """The first occurred_at in a seekable stream of lines, which is left at its start."""
    found = first_time(stream)
    stream.seek(0)
    return found


def batches(
    lines: Iterable[bytes], size: int = 1000
) -> Iterator[tuple[list[tuple[int, bytes]], float]]:
    """Numbered non-empty lines grouped by simulated minute (at most size), with the clock."""
    times = _Times()
    batch: list[tuple[int, bytes]] = []
    latest = -1.0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        seconds = times.of(line)
        if seconds is not None and seconds > latest:
            if batch and (int(seconds) // 60 != int(latest) // 60 or len(batch) >= size):
                yield batch, latest
                batch = []
            latest = seconds
        elif len(batch) >= size:
            yield batch, latest
            batch = []
        batch.append((number, line))
    if batch:
        yield batch, latest


class Ticker(Protocol):
    """The detection engine, or anything that ticks it (with the incident service, say)."""

    def tick(self, now: datetime | None = None) -> Changes:
        """Evaluate what is due at now."""
        ...

    def flush(self) -> None:
        """Write the counts still pending to the store."""
        ...


class Replayer:
    """Feeds lines through ingest and ticks detection on a simulated clock."""

    def __init__(
        self,
        ingest: IngestService,
        clock: FakeClock,
        engine: Ticker | None,
        *,
        source: str = "replay",
        batch: int = 1000,
        progress: Callable[[ReplayStats], None] | None = None,
    ) -> None:
        self._ingest = ingest
        self._clock = clock
        self._engine = engine
        self._source = source
        self._batch = batch
        self._progress = progress
        self._ticked: int | None = None

    def run(self, lines: Iterable[bytes]) -> ReplayStats:
        """Replay every line; return the tally."""
        stats = ReplayStats()
        started = time.perf_counter()
        for batch, latest in batches(lines, self._batch):
            self.step(batch, latest, stats)
        self.finish()
        stats.seconds = time.perf_counter() - started
        return stats

    def step(self, batch: list[tuple[int, bytes]], latest: float, stats: ReplayStats) -> None:
        """Send one batch of numbered lines, the clock at its latest time, and tick what passed."""
        if latest >= 0 and latest > self._clock.now().timestamp():
            self._clock.set(datetime.fromtimestamp(latest, UTC))
        self._send(batch, stats)
        self._tick_to(self._clock.now(), stats)
        if self._progress is not None and stats.batches % 500 == 0:
            self._progress(stats)

    def finish(self) -> None:
        """Tick once more and write the counts still pending."""
        if self._engine is not None:
            self._engine.tick(self._clock.now())
            self._engine.flush()

    def _tick_to(self, now: datetime, stats: ReplayStats) -> None:
        engine = self._engine
        if engine is None:
            return
        minute = int(now.timestamp()) // 60
        if self._ticked is None:
            self._ticked = minute - 1
        for step in range(self._ticked + 1, minute + 1):
            changes = engine.tick(datetime.fromtimestamp(step * 60, UTC))
            stats.ticks += 1
            stats.findings += len(changes.opened)
        self._ticked = max(self._ticked, minute)

    def _send(self, batch: list[tuple[int, bytes]], stats: ReplayStats) -> None:
        stats.lines += len(batch)
        stats.batches += 1
        try:
            self._receive([line for _, line in batch], stats)
        except PayloadError:
            good = []
            for number, line in batch:
                try:
                    event_from_json(line)
                except PayloadError as exc:
                    stats.rejected.append((number, str(exc)))
                else:
                    good.append(line)
            if good:
                self._receive(good, stats)

    def _receive(self, lines: list[bytes], stats: ReplayStats) -> None:
        request = WebhookRequest(headers={}, body=b"\n".join(lines), received_at=self._clock.now())
        outcome = self._ingest.receive("ndjson", request, verify=False, source=self._source)
        stats.accepted += outcome.accepted
        stats.duplicates += outcome.duplicates
