"""`mailwarden suppressions export`, `delistings list|add|update`, `warmups list`, `gate check`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from mailwarden.actions.delisting import DelistingError
from mailwarden.actions.export import suppressions_csv
from mailwarden.actions.gate import GateQuery
from mailwarden.app import Services
from mailwarden.cli.actions import actor_name, emit
from mailwarden.cli.context import DB_HELP, open_services
from mailwarden.containment.wiring import Containment
from mailwarden.events.model import parse_time

suppressions_app = typer.Typer(help="Mailwarden's own suppression list.", no_args_is_help=True)
delistings_app = typer.Typer(help="Delisting requests for blocklistings.", no_args_is_help=True)
warmups_app = typer.Typer(help="Warm-up plans after a pause.", no_args_is_help=True)
gate_app = typer.Typer(help="The sending gate.", no_args_is_help=True)

DB = typer.Option(None, "--db", help=DB_HELP)
JSON = typer.Option(False, "--json", help="Print JSON (one object a line for lists).")
ACTOR = typer.Option(None, "--actor", help="Who is acting (default: the OS user).")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error to stderr and exit with code."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def containment_of(db: str | None) -> Iterator[tuple[Services, Containment]]:
    """The services and containment; bad input becomes a message and exit code 2."""
    services: Services | None = None
    try:
        services = open_services(db)
        if services.containment is None:
            fail("containment is not configured")
        yield services, services.containment
    except DelistingError as exc:
        fail(str(exc), 2)
    except LookupError as exc:
        fail(str(exc).strip("'\""))
    finally:
        if services is not None:
            services.close()


@suppressions_app.command("export")
def export(
    format_: str = typer.Option("csv", "--format", help="Only csv."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    active: bool = typer.Option(False, "--active", help="Only active suppressions."),
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Export the suppression list as spreadsheet-safe CSV."""
    if format_ != "csv":
        fail(f"unknown format {format_!r}; use csv", 2)
    with containment_of(db) as (services, containment):
        now = services.clock.now()
        if services.auth is not None:
            detail = {"active_only": active, "via": "cli"}
            services.auth.audit.record(actor_name(actor), "suppressions.exported", None, detail)
        entries = containment.parts.suppressions.entries(active_at=now if active else None)
        chunks = suppressions_csv(entries, now)
        if output is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
            sys.stdout.flush()
            return
        with output.open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(chunks)


@delistings_app.command("list")
def list_delistings(
    status: str | None = typer.Option(None, "--status", help="requested, delisted, ..."),
    incident: str | None = typer.Option(None, "--incident", help="Only this incident's."),
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Delisting requests, oldest first."""
    with containment_of(db) as (services, containment):
        now = services.clock.now()
        found = containment.delistings.listed(status=status, incident_id=incident)
        if json_out:
            for request in found:
                emit(request.to_dict(now))
            return
        table = Table("id", "blocklist", "listed", "status", "incident", "requested", "delisted")
        for r in found:
            table.add_row(
                str(r.id),
                r.blocklist,
                r.listed_item,
                r.status,
                r.incident_id or "-",
                r.requested_at.isoformat(),
                r.delisted_at.isoformat() if r.delisted_at else "-",
            )
        Console().print(table)


@delistings_app.command("add")
def add_delisting(
    blocklist: str = typer.Argument(..., help="e.g. Spamhaus SBL, Barracuda."),
    listed_item: str = typer.Argument(..., help="The listed IP or domain."),
    incident: str | None = typer.Option(None, "--incident", help="The incident, e.g. INC-3."),
    reference: str = typer.Option("", "--reference", help="Ticket number or URL."),
    note: str = typer.Option("", "--note", help="A note."),
    requested_at: str | None = typer.Option(None, "--requested-at", help="ISO time, if earlier."),
    actor: str | None = ACTOR,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Record that delisting was requested."""
    when: datetime | None = parse_time(requested_at) if requested_at else None
    with containment_of(db) as (services, containment):
        incident_id = (
            services.incidents.get(incident).id if incident and services.incidents else None
        )
        made = containment.delistings.request(
            blocklist,
            listed_item,
            by=actor_name(actor),
            incident_id=incident_id,
            reference=reference,
            note=note,
            requested_at=when,
        )
        _print(made.to_dict(services.clock.now()), json_out, f"delisting request {made.id}")


@delistings_app.command("update")
def update_delisting(
    request_id: int = typer.Argument(..., help="The request's id."),
    status: str = typer.Argument(..., help="delisted, denied, withdrawn or requested (again)."),
    note: str = typer.Option("", "--note", help="A note."),
    actor: str | None = ACTOR,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Record the blocklist's answer."""
    with containment_of(db) as (_services, containment):
        changed = containment.delistings.update(request_id, status, by=actor_name(actor), note=note)
        _print(changed.to_dict(), json_out, f"delisting request {changed.id}: {changed.status}")


@warmups_app.command("list")
def list_warmups(
    active: bool = typer.Option(False, "--active", help="Only plans still ramping."),
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Warm-up plans with today's allowed rate per mailbox provider."""
    with containment_of(db) as (services, containment):
        now = services.clock.now()
        plans = containment.parts.warmups.listed(active_at=now if active else None)
        if json_out:
            for plan in plans:
                emit(plan.to_dict(now))
            return
        table = Table("id", "target", "day", "rates/min", "basis", "incident")
        for plan in plans:
            data = plan.to_dict(now)
            rates = ", ".join(f"{k}={v}" for k, v in data["rate_per_minute"].items())
            table.add_row(
                plan.id, plan.target, str(data["day"]), rates, plan.basis, plan.incident_id or "-"
            )
        Console().print(table)


@gate_app.command("check")
def check(
    campaign: str | None = typer.Option(None, "--campaign"),
    sending_domain: str | None = typer.Option(None, "--sending-domain"),
    mailbox_provider: str | None = typer.Option(None, "--mailbox-provider"),
    sending_ip: str | None = typer.Option(None, "--sending-ip"),
    recipient: str | None = typer.Option(None, "--recipient"),
    segment: str | None = typer.Option(None, "--segment"),
    batch: str | None = typer.Option(None, "--batch"),
    db: str | None = DB,
) -> None:
    """Ask the gate what it would answer a sender (JSON)."""
    query = GateQuery(
        campaign, sending_domain, mailbox_provider, sending_ip, recipient, segment, batch
    )
    with containment_of(db) as (_services, containment):
        emit(containment.gate.check(query).to_dict())


def _print(data: dict[str, object], json_out: bool, line: str) -> None:
    if json_out:
        emit(data)
    else:
        typer.echo(line)
