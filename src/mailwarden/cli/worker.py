"""`mailwarden worker`: consume the Redis Streams bus and tick the clocks (at scale).

With MAILWARDEN_BUS_URL set, `serve` only receives and publishes; a worker runs the bus
handlers (detection, incidents, containment) in their consumer groups and the scheduler that
`serve` runs in embedded mode (detection windows, incident holds, SLA clocks, reminders).
SIGTERM or Ctrl-C stops it after the current round; what it read but did not acknowledge is
reclaimed by the next worker once it has been idle for MAILWARDEN_BUS_CLAIM_IDLE_MS.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import redis
import typer

from mailwarden.app import build
from mailwarden.bus.redis_streams import PumpReport, RedisStreamsBus
from mailwarden.cli.context import DB_HELP
from mailwarden.cli.serve import tick_target
from mailwarden.config import Settings
from mailwarden.detect.scheduler import TickScheduler
from mailwarden.runtime import tune_gc

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0  # wait after Redis could not be reached, then try again


def worker(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    bus: str | None = typer.Option(None, "--bus", help="Bus URL (default: MAILWARDEN_BUS_URL)."),
    batch: int = typer.Option(100, "--batch", min=1, help="Entries a group reads at a time."),
    block_ms: int = typer.Option(
        1000, "--block-ms", min=0, max=20_000, help="Wait for new entries (ms)."
    ),
    until_idle: bool = typer.Option(
        False, "--until-idle", help="Stop when a round finds nothing to do (scripts, tests)."
    ),
    tick: bool = typer.Option(True, "--tick/--no-tick", help="Run the detection/SLA scheduler."),
) -> None:
    """Consume the Redis Streams bus until stopped (SIGTERM or Ctrl-C)."""
    overrides: dict[str, object] = {}
    if db is not None:
        overrides["database_url"] = db
    if bus is not None:
        overrides["bus_url"] = bus
    settings = Settings(**overrides)  # type: ignore[arg-type]
    try:
        services = build(settings)
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
    stream_bus = services.bus
    target = tick_target(services) if tick else None
    scheduler = TickScheduler(target, settings.detection_tick_seconds) if target else None
    groups = ", ".join(sorted({sub.group for sub in stream_bus.subscriptions}))
    total = PumpReport()
    stop = threading.Event()
    try:
        with _stop_on_signals(stop.set):
            typer.echo(f"worker {stream_bus.consumer}: groups {groups}")
            tune_gc()
            if scheduler is not None:
                scheduler.start()
            _run(stream_bus, stop, total, batch=batch, block_ms=block_ms, until_idle=until_idle)
    finally:
        if scheduler is not None:
            scheduler.stop()
        services.close()
    typer.echo(
        f"worker stopped: handled {total.handled}, failed {total.failed}, "
        f"reclaimed {total.reclaimed}, dead-lettered {total.dead_lettered}"
    )


def _run(
    bus: RedisStreamsBus,
    stop: threading.Event,
    total: PumpReport,
    *,
    batch: int,
    block_ms: int,
    until_idle: bool,
) -> None:
    while not stop.is_set():
        try:
            report = bus.pump(batch, 0 if until_idle else block_ms)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("bus unreachable (%s); retrying in %.0f s", exc, RETRY_SECONDS)
            stop.wait(RETRY_SECONDS)
            continue
        total.add(report)
        if until_idle and report.idle:
            return


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
