"""`mailwarden events`: list stored events, or print them as canonical NDJSON."""

from __future__ import annotations

import sys

import orjson
import typer
from rich.console import Console
from rich.table import Table

from mailwarden.cli.context import DB_HELP, open_services
from mailwarden.events.model import format_time, parse_time


def events(
    type_: str | None = typer.Option(None, "--type", help="Only this event type, e.g. bounced."),
    since: str | None = typer.Option(
        None, "--since", help="Only events at or after this ISO time."
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many events."),
    json_out: bool = typer.Option(False, "--json", help="Print canonical NDJSON."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Show stored events in time order."""
    try:
        since_at = parse_time(since) if since else None
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {since!r}", param_hint="--since") from None
    services = open_services(db)
    try:
        found = services.store.events(type_=type_, since=since_at, limit=limit)
        if json_out:
            write = sys.stdout.buffer.write
            for event in found:
                write(orjson.dumps(event.to_dict()) + b"\n")
            return
        table = Table("occurred_at", "type", "provider", "recipient", "campaign", "bounce")
        for event in found:
            bounce = f"{event.bounce.bounce_class}/{event.bounce.reason}" if event.bounce else ""
            table.add_row(
                format_time(event.occurred_at),
                event.type,
                event.provider,
                event.recipient or "",
                event.campaign or "",
                bounce,
            )
        Console().print(table)
    finally:
        services.close()
