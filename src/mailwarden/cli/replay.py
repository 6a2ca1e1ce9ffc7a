"""`mailwarden replay`: feed a canonical NDJSON file through ingest and detection on a
simulated clock driven by the events' own times."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, cast

import typer

from mailwarden.app import build
from mailwarden.cli.context import DB_HELP
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.detect.engine import DetectionEngine
from mailwarden.detect.replay import Replayer, ReplayStats, start_of
from mailwarden.incidents.ticking import TickTogether


def _open(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="FILE") from None


def replay(
    file: Path = typer.Argument(..., help="Canonical NDJSON, in arrival order."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    batch: int = typer.Option(1000, "--batch", min=1, help="At most this many lines a receive."),
) -> None:
    """Replay events through ingest and detection as if they arrived live, as fast as possible."""
    with _open(file) as lines:  # streamed: a week of events need not fit in memory
        _replay(lines, file, db, batch)


def _replay(lines: BinaryIO, file: Path, db: str | None, batch: int) -> None:
    start = start_of(lines)
    if start is None:
        raise typer.BadParameter(f"{file}: no line with an occurred_at", param_hint="FILE")
    clock = FakeClock(start)
    settings = Settings() if db is None else Settings(database_url=db)
    # A replay ticks its own simulated clock: always the in-process bus.
    services = build(settings.model_copy(update={"bus_url": ""}), clock=clock)
    engine = services.detection
    if engine is not None and services.incidents is not None:  # incidents tick every minute too
        engine = cast(DetectionEngine, TickTogether(engine, services.incidents))
    try:
        replayer = Replayer(
            services.ingest, clock, engine, source=f"replay:{file.name}", batch=batch
        )
        stats = replayer.run(lines)
    finally:
        services.close()
    _report(stats, file)
    if stats.rejected:
        raise typer.Exit(1)


def _report(stats: ReplayStats, file: Path) -> None:
    typer.echo(
        f"replayed {stats.lines} lines in {stats.seconds:.1f} s ({stats.events_per_second:,.0f}/s):"
        f" accepted {stats.accepted}, duplicates {stats.duplicates},"
        f" rejected {len(stats.rejected)}; {stats.ticks} simulated minutes,"
        f" {stats.findings} findings opened"
    )
    for number, reason in stats.rejected[:50]:
        typer.echo(f"  rejected {file}:{number}: {reason}")
    if len(stats.rejected) > 50:
        typer.echo(f"  ... and {len(stats.rejected) - 50} more")
