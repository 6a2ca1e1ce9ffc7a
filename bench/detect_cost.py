"""Detection's cost next to ingest alone, measured batch by batch in one process.

Two replays of the same file run side by side: one through services built with detection
disabled (ingest alone), one with detection. They take turns on every batch (a simulated
minute, at most 1,000 lines), each batch's CPU time charged to the side that spent it, and
the side that goes first alternates. A shared machine's speed drifts by tens of percent
over seconds; measured this way both sides see the same drift, where two whole replays one
after the other each see their own (seen here: the same replay 20-28 us per event in
consecutive runs). Detection's ticks, its last tick and its pending rollup write are
charged to the detection side.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from mailwarden.app import Services, build
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.detect.replay import Replayer, ReplayStats, batches, start_of


@dataclass
class _Side:
    """One of the two replays and the CPU and wall time charged to it."""

    services: Services
    replayer: Replayer
    stats: ReplayStats = field(default_factory=ReplayStats)
    cpu: float = 0.0
    wall: float = 0.0

    def timed(self, work: Callable[[], None]) -> None:
        """Run work, charging its CPU and wall time to this side."""
        cpu, wall = time.process_time(), time.perf_counter()
        work()
        self.cpu += time.process_time() - cpu
        self.wall += time.perf_counter() - wall


def fresh_services(db: Path, start: datetime, *, detection: bool) -> tuple[Services, FakeClock]:
    """Services on a new SQLite file, detection on or off, and their simulated clock."""
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    clock = FakeClock(start)
    settings = Settings(
        database_url=f"sqlite:///{db}", sqlite_synchronous="NORMAL", detection_enabled=detection
    )
    return build(settings, clock=clock), clock


def _side(db: Path, start: datetime, source: str, *, detection: bool) -> _Side:
    services, clock = fresh_services(db, start, detection=detection)
    return _Side(services, Replayer(services.ingest, clock, services.detection, source=source))


def measure_paired(path: Path, workdir: Path) -> dict[str, float]:
    """CPU and wall time per event of one file, ingest alone and with detection, interleaved."""
    with path.open("rb") as lines:
        start = start_of(lines)
        assert start is not None, f"{path}: no events"
        alone = _side(workdir / "cost-alone.db", start, path.name, detection=False)
        detected = _side(workdir / "cost-detect.db", start, path.name, detection=True)
        try:
            for turn, (batch, latest) in enumerate(batches(lines)):
                order = (alone, detected) if turn % 2 == 0 else (detected, alone)
                for side in order:
                    side.timed(partial(side.replayer.step, batch, latest, side.stats))
            for side in (alone, detected):
                side.timed(side.replayer.finish)
        finally:
            alone.services.close()
            detected.services.close()
    events = max(alone.stats.lines, 1)
    return {
        "events": alone.stats.lines,
        "ingest_only_events_per_s": events / alone.wall,
        "ingest_only_cpu_us_per_event": alone.cpu / events * 1e6,
        "replay_events_per_s": events / detected.wall,
        "replay_cpu_us_per_event": detected.cpu / events * 1e6,
    }


def measure_cost(path: Path, workdir: Path, repeats: int = 1) -> dict[str, float]:
    """The paired measurement, repeated; the sum of each side's time over the repeats."""
    runs = [measure_paired(path, workdir) for _ in range(repeats)]
    cpu = {key: statistics.fmean(run[key] for run in runs) for key in runs[0] if "cpu" in key}
    walls = {
        key: len(runs) / sum(1 / run[key] for run in runs) for key in runs[0] if "per_s" in key
    }
    return {"events": runs[0]["events"], **cpu, **walls}


def median_cost(runs: list[dict[str, float]], days: int) -> dict[str, float]:
    """The median of each figure over the seeds, with the overheads and the events a minute."""
    cost = {key: statistics.median(c[key] for c in runs) for key in runs[0]}
    cost["overhead"] = cost["replay_cpu_us_per_event"] / cost["ingest_only_cpu_us_per_event"] - 1
    cost["overhead_wall"] = cost["ingest_only_events_per_s"] / cost["replay_events_per_s"] - 1
    cost["events_per_minute"] = cost["events"] / (days * 1440)
    return cost


def split_cost(cost: dict[float, dict[str, float]]) -> dict[str, float]:
    """Detection's CPU per event and per simulated minute, solved from the lowest and the
    highest volume (overhead per event = per_event + per_minute / events a minute)."""
    if len(cost) < 2:
        return {}
    low, high = cost[min(cost)], cost[max(cost)]
    extra = [c["replay_cpu_us_per_event"] - c["ingest_only_cpu_us_per_event"] for c in (low, high)]
    rates = [c["events_per_minute"] for c in (low, high)]
    if rates[0] == rates[1]:
        return {}
    per_minute = (extra[0] - extra[1]) / (1 / rates[0] - 1 / rates[1])
    per_event = extra[1] - per_minute / rates[1]
    ingest = high["ingest_only_cpu_us_per_event"]
    return {
        "per_event_us": per_event,
        "per_minute_us": per_minute,
        "ingest_us_per_event": ingest,
        "per_event_overhead": per_event / ingest,
    }


def describe_cost(scale: float, cost: dict[str, Any]) -> None:
    """Print one volume's cost in words."""
    print(
        f"detection cost at scale {scale:g} ({cost['events_per_minute']:,.0f} events a minute):"
        f" replay {cost['replay_events_per_s']:,.0f} events/s with detection,"
        f" {cost['ingest_only_events_per_s']:,.0f} events/s ingest alone (same file, batches"
        f" interleaved); CPU per event {cost['replay_cpu_us_per_event']:.1f} us vs"
        f" {cost['ingest_only_cpu_us_per_event']:.1f} us: detection adds"
        f" {cost['overhead']:.0%} (floor: at most 30 %)"
    )


def describe_split(split: dict[str, float]) -> None:
    """Print the per-event and per-minute parts in words."""
    print(
        f"detection cost split: {split['per_event_us']:.2f} us per event"
        f" ({split['per_event_overhead']:.0%} of ingest's {split['ingest_us_per_event']:.1f} us)"
        f" plus {split['per_minute_us'] / 1000:.2f} ms per simulated minute"
    )
