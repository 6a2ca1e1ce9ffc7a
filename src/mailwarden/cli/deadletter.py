"""`mailwarden deadletter list|show|replay|publish`: payloads we could not parse or publish."""

from __future__ import annotations

import orjson
import typer
from rich.console import Console
from rich.table import Table

from mailwarden.cli.context import DB_HELP, open_services
from mailwarden.events.errors import PayloadError
from mailwarden.events.ingest import ConfirmationError
from mailwarden.events.model import format_time
from mailwarden.events.outbox import CLAIM_LEASE, PUBLISHING, UNPUBLISHED
from mailwarden.store.rows import from_ms

app = typer.Typer(
    help="Payloads that could not be parsed, kept with the reason.", no_args_is_help=True
)
DEADLETTER = "deadletter"


@app.command("list")
def list_(
    limit: int = typer.Option(100, "--limit", min=1),
    status: str = typer.Option(
        DEADLETTER,
        "--status",
        help="deadletter, unpublished (stored during a bus outage) or publishing (claimed by "
        "a process; taken over once the claim is older than the lease).",
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object a line."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """List dead-lettered (or unpublished, or publishing) payloads, newest first."""
    services = open_services(db)
    try:
        rows = services.store.payloads(status, limit=limit)
    finally:
        services.close()
    if json_out:
        for row in rows:
            typer.echo(
                orjson.dumps(
                    {
                        "id": row.id,
                        "provider": row.provider,
                        "source": row.source,
                        "received_at": format_time(from_ms(row.received_at_ms)),
                        "reason": row.reason,
                        "bytes": len(row.body),
                    }
                ).decode()
            )
        return
    table = Table("id", "received", "provider", "source", "reason")
    for row in rows:
        when = format_time(from_ms(row.received_at_ms))
        table.add_row(str(row.id), when, row.provider, row.source, row.reason or "")
    Console().print(table)


@app.command("show")
def show(
    raw_id: int = typer.Argument(..., help="The payload id."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Print one kept payload: reason, headers and body."""
    services = open_services(db)
    try:
        row = services.store.payload(raw_id)
    finally:
        services.close()
    if row is None:
        typer.echo(f"no payload with id {raw_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"id: {row.id}\nprovider: {row.provider}\nsource: {row.source}")
    typer.echo(f"status: {row.status}\nreason: {row.reason or ''}\nverified: {row.verified}")
    for name, value in row.headers.items():
        typer.echo(f"header {name}: {value}")
    typer.echo("")
    typer.echo(row.body.decode("utf-8", errors="replace"))


@app.command("replay")
def replay(
    raw_ids: list[int] = typer.Argument(None, help="Payload ids; none with --all."),
    all_: bool = typer.Option(False, "--all", help="Replay every dead-lettered payload."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Parse kept payloads again and store their events (repeats count once)."""
    services = open_services(db)
    failed = 0
    try:
        ids = raw_ids or []
        if all_:
            ids = [row.id for row in services.store.payloads(DEADLETTER, limit=1_000_000)]
        if not ids:
            typer.echo("nothing to replay: give ids or --all", err=True)
            raise typer.Exit(2)
        for raw_id in ids:
            try:
                outcome = services.ingest.replay(raw_id)
            except (LookupError, PayloadError, ConfirmationError) as exc:
                failed += 1
                typer.echo(f"{raw_id}: still failing: {exc}")
            else:
                typer.echo(
                    f"{raw_id}: accepted {outcome.accepted}, duplicates {outcome.duplicates}"
                )
    finally:
        services.close()
    if failed:
        raise typer.Exit(1)


@app.command("publish")
def publish(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Publish now the events of payloads held back by a bus outage or a process that died."""
    services = open_services(db)
    try:
        lapsed_before = services.clock.now() - CLAIM_LEASE
        waiting = services.store.claimable_ids(UNPUBLISHED, PUBLISHING, lapsed_before, 1_000_000)
        done = services.ingest.publish_waiting()
        left = services.store.claimable_ids(UNPUBLISHED, PUBLISHING, lapsed_before, 1_000_000)
        held = services.store.count_payloads(PUBLISHING)
    finally:
        services.close()
    typer.echo(f"published {len(waiting) - len(left)} payloads; {len(left)} still waiting")
    if held:
        minutes = int(CLAIM_LEASE.total_seconds() // 60)
        typer.echo(
            f"{held} claimed by another process; "
            f"a claim is taken over once it is {minutes} minutes old"
        )
    if not done:
        raise typer.Exit(1)
