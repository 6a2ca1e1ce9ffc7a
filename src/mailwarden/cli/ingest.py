"""`mailwarden ingest`: load provider payload files, mail and NDJSON into the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from mailwarden.cli.context import DB_HELP, open_services
from mailwarden.clock import Clock
from mailwarden.events.errors import PayloadError, SignatureError
from mailwarden.events.ingest import IngestService
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.events.sources.files import Unit, UnitError, iter_json_units, iter_mail_units


class Source(StrEnum):
    """Payload formats the ingest command reads."""

    sendgrid = "sendgrid"
    mailgun = "mailgun"
    ses = "ses"
    postmark = "postmark"
    eml = "eml"
    ndjson = "ndjson"


@dataclass(slots=True)
class Tally:
    """Running totals of an import."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)


def ingest(
    paths: list[Path] = typer.Argument(
        ..., help="Files or directories (.json, .ndjson, .eml, .mbox)."
    ),
    provider: Source = typer.Option(..., "--provider", "-p", help="What the files hold."),
    no_verify: bool = typer.Option(
        False,
        "--no-verify",
        help="Skip signature checks (offline files whose signatures are gone).",
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Import payloads from files; print accepted, duplicates and rejects (file:line, reason)."""
    services = open_services(db)
    try:
        tally = _run(
            services.ingest, provider.value, paths, verify=not no_verify, clock=services.clock
        )
    finally:
        services.close()
    _report(tally, verified=not no_verify, provider=provider.value)
    if tally.rejected:
        raise typer.Exit(1)


def _run(
    service: IngestService, provider: str, paths: list[Path], *, verify: bool, clock: Clock
) -> Tally:
    tally = Tally()
    units = iter_mail_units(paths) if provider == "eml" else iter_json_units(paths)
    console = Console(stderr=True)
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(f"ingesting {provider}", total=None)
        for unit in units:
            _one(service, provider, unit, tally, verify=verify, clock=clock)
            progress.advance(task)
    return tally


def _one(
    service: IngestService,
    provider: str,
    unit: Unit | UnitError,
    tally: Tally,
    *,
    verify: bool,
    clock: Clock,
) -> None:
    if isinstance(unit, UnitError):
        tally.rejected.append((unit.label, unit.reason))
        return
    request = WebhookRequest(headers={}, body=unit.body, received_at=clock.now())
    try:
        outcome = service.receive(provider, request, source=unit.label, verify=verify)
    except SignatureError as exc:
        hint = " (offline file? pass --no-verify)" if verify else ""
        tally.rejected.append((unit.label, f"signature: {exc}{hint}"))
    except PayloadError as exc:
        tally.rejected.append((unit.label, str(exc)))
    else:
        tally.accepted += outcome.accepted
        tally.duplicates += outcome.duplicates


def _report(tally: Tally, *, verified: bool, provider: str) -> None:
    if not verified:
        warning = f"signatures not checked (--no-verify): trust these {provider} files yourself"
        typer.secho(warning, fg=typer.colors.YELLOW)
    rejected = len(tally.rejected)
    typer.echo(f"accepted: {tally.accepted}  duplicates: {tally.duplicates}  rejected: {rejected}")
    for label, reason in tally.rejected:
        typer.echo(f"  rejected {label}: {reason}")
