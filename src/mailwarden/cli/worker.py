"""`mailwarden worker`: consume the Redis Streams bus and tick the clocks (at scale).

With MAILWARDEN_BUS_URL set, `serve` only receives and publishes; a worker runs the bus
handlers (detection, incidents, containment) in their consumer groups and the scheduler that
`serve` runs in embedded mode (detection windows, incident holds, SLA clocks, reminders).
Only the worker holding the leadership lease (bus/leader.py) does so; any other stands by
and takes over when the lease lapses or is released. Each time a worker starts to lead it
warms detection up from the database, so it starts from what the last leader stored.
SIGTERM or Ctrl-C stops it after the current round and hands the lease over at once; what it
read but did not acknowledge is reclaimed by the next leader once it has been idle for
MAILWARDEN_BUS_CLAIM_IDLE_MS.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import redis
import typer

from mailwarden.app import Services, build
from mailwarden.bus.leader import LeaderLease, LeaseKeeper, leader_key, stand_by
from mailwarden.bus.redis_streams import PumpReport, RedisStreamsBus
from mailwarden.cli.context import DB_HELP
from mailwarden.cli.serve import tick_target
from mailwarden.config import Settings
from mailwarden.detect.scheduler import Tickable, TickScheduler
from mailwarden.runtime import tune_gc

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0  # wait after Redis could not be reached, then try again
Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """How a worker reads the bus: batch size, blocking wait, when to stop, what else to do."""

    batch: int = 100
    block_ms: int = 1000
    until_idle: bool = False
    tick: bool = True
    tune_memory: bool = True  # tune_gc() once built (tests running workers in threads: off)


def worker(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    bus: str | None = typer.Option(None, "--bus", help="Bus URL (default: MAILWARDEN_BUS_URL)."),
    batch: int = typer.Option(100, "--batch", min=1, help="Entries a group reads at a time."),
    block_ms: int = typer.Option(
        1000, "--block-ms", min=0, max=20_000, help="Wait for new entries (ms)."
    ),
    until_idle: bool = typer.Option(
        False,
        "--until-idle",
        help="Stop when a round finds nothing to do (scripts, tests); a standby leads first.",
    ),
    tick: bool = typer.Option(True, "--tick/--no-tick", help="Run the detection/SLA scheduler."),
) -> None:
    """Consume the Redis Streams bus until stopped (SIGTERM or Ctrl-C); one worker leads."""
    overrides: dict[str, object] = {}
    if db is not None:
        overrides["database_url"] = db
    if bus is not None:
        overrides["bus_url"] = bus
    settings = Settings(**overrides)  # type: ignore[arg-type]
    stop = threading.Event()
    with _stop_on_signals(stop.set):
        total = run_worker(settings, WorkerOptions(batch, block_ms, until_idle, tick), stop)
    typer.echo(
        f"worker stopped: handled {total.handled}, failed {total.failed}, "
        f"reclaimed {total.reclaimed}, dead-lettered {total.dead_lettered}"
    )


def run_worker(
    settings: Settings, options: WorkerOptions, stop: threading.Event, echo: Echo = typer.echo
) -> PumpReport:
    """Stand by until this worker holds the lease, lead until stopped or the lease is lost."""
    first = _open(settings)
    stream_bus = _stream_bus(first)
    services: Services | None = first
    me = stream_bus.consumer
    lease = LeaderLease.from_url(
        settings.bus_url.strip(), leader_key(settings.bus_prefix), me, settings.bus_leader_ttl_ms
    )
    groups = ", ".join(sorted({sub.group for sub in stream_bus.subscriptions}))
    echo(f"worker {me}: groups {groups}")
    if options.tune_memory:
        tune_gc()
    total = PumpReport()
    try:
        while stand_by(lease, stop, lambda leader: echo(f"worker {me} stands by: {leader} leads")):
            services = services or _open(settings, consumer=me)
            finished = _lead(services, lease, stop, total, options, echo)
            services.close()  # a new term builds and warms detection up again
            services = None
            if finished:
                break
    finally:
        _hand_over(lease, echo)
        if services is not None:
            services.close()
    return total


def _open(settings: Settings, *, consumer: str | None = None) -> Services:
    """Build the services (exit 2 unless the bus is Redis); a later term skips migrations."""
    try:
        services = build(settings, upgrade_schema=consumer is None)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(services.bus, RedisStreamsBus):
        services.close()
        typer.echo(
            "The worker consumes the Redis Streams bus: set MAILWARDEN_BUS_URL=redis://... "
            "(with the in-process bus, `mailwarden serve` does everything).",
            err=True,
        )
        raise typer.Exit(2)
    if consumer is not None:
        services.bus.consumer = consumer  # one name per worker process, term after term
    return services


def _stream_bus(services: Services) -> RedisStreamsBus:
    assert isinstance(services.bus, RedisStreamsBus)  # _open made sure
    return services.bus


def _lead(
    services: Services,
    lease: LeaderLease,
    stop: threading.Event,
    total: PumpReport,
    options: WorkerOptions,
    echo: Echo,
) -> bool:
    """One term: keep the lease, tick and pump; True when --until-idle found nothing to do."""
    echo(f"worker {lease.holder} leads (lease {lease.ttl_ms} ms)")
    keeper = LeaseKeeper(lease)
    scheduler: TickScheduler | None = None
    keeper.start()
    try:
        target = tick_target(services) if options.tick else None  # warms detection up
        if target is not None:
            seconds = services.settings.detection_tick_seconds
            scheduler = TickScheduler(WhileLeading(target, lease), seconds)
            scheduler.start()
        finished = _run(_stream_bus(services), lease, stop, total, options)
    finally:
        if scheduler is not None:
            scheduler.stop()  # one last tick, if still leading
        if services.detection is not None:
            services.detection.flush()  # counts of acknowledged batches are never dropped
        keeper.stop()
    if not lease.held() and not stop.is_set() and not finished:
        echo(f"worker {lease.holder} lost the lease: it stops consuming and ticking")
    return finished


def _run(
    bus: RedisStreamsBus,
    lease: LeaderLease,
    stop: threading.Event,
    total: PumpReport,
    options: WorkerOptions,
) -> bool:
    """Pump while leading; True when --until-idle found nothing to do."""
    block_ms = min(options.block_ms, int(lease.renew_every * 1000))  # notice a lost lease
    while not stop.is_set() and lease.held():
        try:
            report = bus.pump(options.batch, 0 if options.until_idle else block_ms)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("bus unreachable (%s); retrying in %.0f s", exc, RETRY_SECONDS)
            stop.wait(RETRY_SECONDS)
            continue
        total.add(report)
        if options.until_idle and report.idle:
            return True
    return False


def _hand_over(lease: LeaderLease, echo: Echo) -> None:
    """Release the lease if it is still ours (a standby takes over at once), and disconnect."""
    try:
        if lease.release():
            echo(f"worker {lease.holder} released the lease")
    except redis.RedisError as exc:
        log.warning("could not release the leadership lease (%s); it lapses on its own", exc)
    finally:
        lease.close()


class WhileLeading:
    """Ticks the target only while the lease is held: a worker that lost it ticks nothing."""

    def __init__(self, target: Tickable, lease: LeaderLease) -> None:
        self._target = target
        self._lease = lease

    def tick(self) -> object:
        """Tick the target if this worker still leads."""
        return self._target.tick() if self._lease.held() else None


@contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Call stop on SIGTERM and SIGINT (main thread only), restoring the handlers after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop()

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
