"""A simulated week with incidents, replayed into an empty install so a newcomer sees a working
console within a minute: the simulator writes the week (ending now), and the replay feeds it
through ingest, rollups, detection and incidents on a clock that follows the events.

Used by `mailwarden demo` and by the first-run page's button; both call `load_demo`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from mailwarden.app import Services, build
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.detect.replay import Replayer, ReplayStats, first_time
from mailwarden.simulate.engine import Simulation
from mailwarden.simulate.model import Config
from mailwarden.store.health_repo import RollupReader

SCENARIO: Final = "mixed"
DAYS: Final = 7
SCALE: Final = 0.02  # about 30,000 events: loads in well under a minute
SEED: Final = 7

Progress = Callable[[int, int], None]  # (lines done, lines in all)


class NotEmptyError(RuntimeError):
    """The demo only loads into an install that has no data yet."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo loaded."""

    events: int
    incidents: int
    findings: int
    seconds: float
    start: datetime
    end: datetime


def simulate_week(
    end: datetime, *, days: int = DAYS, scale: float = SCALE, scenario: str = SCENARIO
) -> list[bytes]:
    """The simulator's events for the `days` days before end, in arrival order."""
    start = int((end - timedelta(days=days)).timestamp()) // 60 * 60
    simulation = Simulation(scenario, Config(seed=SEED, start=start, days=days, scale=scale))
    return list(simulation.lines())


def is_empty(services: Services) -> bool:
    """True when nothing was rolled up and no incident exists."""
    if RollupReader(services.engine).last_minute() is not None:
        return False
    return services.incidents is None or not services.incidents.list_incidents(limit=1)


def load_demo(
    settings: Settings,
    *,
    end: datetime | None = None,
    days: int = DAYS,
    scale: float = SCALE,
    scenario: str = SCENARIO,
    progress: Progress | None = None,
) -> DemoResult:
    """Simulate a week ending at end (default: now) and replay it into the settings' database."""
    end = end or datetime.now(UTC)
    lines = simulate_week(end, days=days, scale=scale, scenario=scenario)
    clock = FakeClock(first_time(lines) or end - timedelta(days=days))
    # Services of its own on simulated time: what detection and incidents stamp is event time.
    # Simulated time is ticked here, in this process: the in-process bus, whatever is configured.
    local = settings.model_copy(update={"detection_enabled": True, "bus_url": ""})
    services = build(local, clock=clock)
    try:
        if not is_empty(services):
            raise NotEmptyError("the demo loads only into an empty install; this one has data")
        total = len(lines)
        report = (lambda stats: progress(stats.lines, total)) if progress else None
        replayer = Replayer(
            services.ingest, clock, services.detection, source="demo", progress=report
        )
        stats = replayer.run(lines)
        if services.incidents is not None:
            services.incidents.tick(clock.now())  # holds, playbook tasks, SLA clocks
        return _result(services, stats, end - timedelta(days=days), end)
    finally:
        services.close()


def _result(services: Services, stats: ReplayStats, start: datetime, end: datetime) -> DemoResult:
    incidents = services.incidents.list_incidents() if services.incidents else []
    return DemoResult(
        events=stats.accepted,
        incidents=len(incidents),
        findings=stats.findings,
        seconds=stats.seconds,
        start=start,
        end=end,
    )


@dataclass(slots=True)
class DemoJob:
    """The first-run page's background load: one at a time, with progress to show."""

    state: str = "idle"  # idle, running, finished, failed
    done: int = 0
    total: int = 0
    message: str = "Not started."
    result: DemoResult | None = None
    loader: Callable[..., DemoResult] = load_demo
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, settings: Settings, on_finish: Callable[[], None] | None = None) -> bool:
        """Start loading in a thread; False when a load is already running or done."""
        with self._lock:
            if self.state in ("running", "finished"):
                return False
            self.state, self.done, self.message = "running", 0, "Simulating a week of mail..."
        thread = threading.Thread(
            target=self._run, args=(settings, on_finish), name="mailwarden-demo", daemon=True
        )
        thread.start()
        return True

    def status(self) -> dict[str, object]:
        """The job's state for the progress bar."""
        return {
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "message": self.message,
        }

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self.message = f"Replayed {done:,} of {total:,} events through detection..."

    def _run(self, settings: Settings, on_finish: Callable[[], None] | None) -> None:
        try:
            result = self.loader(settings, progress=self._progress)
        except Exception as exc:  # shown on the page; the install stays as it was
            self.state, self.message = "failed", f"The demo could not load: {exc}"
            return
        self.result, self.done = result, self.total
        self.message = (
            f"Loaded {result.events:,} events; {result.incidents} incident(s) opened. Reloading..."
        )
        if on_finish is not None:
            on_finish()
        self.state = "finished"
