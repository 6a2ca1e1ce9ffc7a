"""`mailwarden bus deadletter list|show|replay`: bus entries the handlers gave up on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import orjson
import redis
import typer
from rich.console import Console
from rich.table import Column, Table

from mailwarden.app import build_bus
from mailwarden.bus.deadletter import DeadLetter, DeadLetters
from mailwarden.bus.redis_streams import RedisStreamsBus
from mailwarden.config import Settings
from mailwarden.events.model import format_time

app = typer.Typer(help="The Redis Streams bus (MAILWARDEN_BUS_URL).", no_args_is_help=True)
deadletter_app = typer.Typer(
    help="Bus entries tried MAILWARDEN_BUS_MAX_DELIVERIES times (or undecodable), with why.",
    no_args_is_help=True,
)
app.add_typer(deadletter_app, name="deadletter")
BUS_HELP = "Bus URL (default: MAILWARDEN_BUS_URL)."


@contextmanager
def _dead_letters(bus_url: str | None) -> Iterator[DeadLetters]:
    """The dead-letter stream of the configured Redis bus; exit 2 without one, 1 if down."""
    settings = Settings() if bus_url is None else Settings(bus_url=bus_url)
    try:
        bus = build_bus(settings)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(bus, RedisStreamsBus):
        typer.echo(
            "error: no Redis bus configured: set MAILWARDEN_BUS_URL=redis://... (the in-process "
            "bus keeps no dead-letter stream; `mailwarden deadletter` lists stored payloads).",
            err=True,
        )
        raise typer.Exit(2)
    try:
        yield DeadLetters(bus.client, bus.options)
    except redis.RedisError as exc:
        typer.echo(f"error: Redis: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        bus.client.close()


@deadletter_app.command("list")
def list_(
    limit: int = typer.Option(100, "--limit", min=1),
    json_out: bool = typer.Option(False, "--json", help="One JSON object a line."),
    bus: str | None = typer.Option(None, "--bus", help=BUS_HELP),
) -> None:
    """List dead-lettered bus entries, newest first."""
    with _dead_letters(bus) as letters:
        rows = letters.newest(limit)
        total = letters.count()
    if json_out:
        for row in rows:
            typer.echo(orjson.dumps(_summary(row)).decode())
        return
    whole_id = Column("id", no_wrap=True)  # to copy into show and replay
    table = Table(whole_id, "dead-lettered", "stream", "group", "deliveries", "reason")
    for row in rows:
        table.add_row(row.id, _when(row), row.stream, row.group, str(row.deliveries), row.reason)
    Console().print(table)
    if total > len(rows):
        typer.echo(f"{len(rows)} of {total} shown (--limit)")


@deadletter_app.command("show")
def show(
    entry_id: str = typer.Argument(..., help="The dead-letter entry id (from list)."),
    bus: str | None = typer.Option(None, "--bus", help=BUS_HELP),
) -> None:
    """Print one dead-lettered entry: where it came from, why, and its batch."""
    with _dead_letters(bus) as letters:
        row = letters.get(entry_id)
    if row is None:
        typer.echo(f"no dead-lettered bus entry with id {entry_id}", err=True)
        raise typer.Exit(1)
    for name, value in _summary(row).items():
        typer.echo(f"{name}: {value}")
    typer.echo("")
    typer.echo(_batch_text(row.data))


@deadletter_app.command("replay")
def replay(
    entry_ids: list[str] = typer.Argument(None, help="Dead-letter entry ids; none with --all."),
    all_: bool = typer.Option(False, "--all", help="Replay every dead-lettered entry."),
    bus: str | None = typer.Option(None, "--bus", help=BUS_HELP),
) -> None:
    """Put entries back on their stream for their group, then drop them from the dead letters."""
    if not entry_ids and not all_:
        typer.echo("nothing to replay: give ids or --all", err=True)
        raise typer.Exit(2)
    failed = 0
    targets: list[tuple[str, DeadLetter | None]]
    with _dead_letters(bus) as letters:
        if all_:
            targets = [(row.id, row) for row in letters.all()]
        else:
            targets = [(wanted, letters.get(wanted)) for wanted in entry_ids]
        for wanted, row in targets:
            if not _replay_one(letters, wanted, row):
                failed += 1
    if all_ and not targets:
        typer.echo("nothing to replay: the dead-letter stream is empty")
    if failed:
        raise typer.Exit(1)


def _replay_one(letters: DeadLetters, wanted: str, row: DeadLetter | None) -> bool:
    """Replay one entry and say where it went; False (and why) when it cannot be."""
    try:
        added = None if row is None else letters.replay(row)
    except ValueError as exc:
        typer.echo(f"{wanted}: {exc}", err=True)
        return False
    if row is None or added is None:  # unknown, or replayed by someone else meanwhile
        typer.echo(f"{wanted}: no dead-lettered bus entry with this id", err=True)
        return False
    typer.echo(f"{wanted}: replayed to {row.stream} as {added} for group {row.group}")
    return True


def _summary(row: DeadLetter) -> dict[str, object]:
    return {
        "id": row.id,
        "dead_lettered_at": _when(row),
        "topic": row.topic,
        "stream": row.stream,
        "group": row.group,
        "entry_id": row.entry_id,
        "deliveries": row.deliveries,
        "reason": row.reason,
        "bytes": len(row.data),
    }


def _when(row: DeadLetter) -> str:
    return format_time(datetime.fromtimestamp(row.dead_lettered_ms // 1000, UTC))


def _batch_text(data: bytes) -> str:
    """The batch as indented JSON, or as text when it is not JSON (undecodable entries)."""
    try:
        return orjson.dumps(orjson.loads(data), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return data.decode("utf-8", errors="replace")
