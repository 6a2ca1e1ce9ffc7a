"""`mailwarden incidents list|show|ack|transition|assign|unassign|severity|note|merge|open`."""

from __future__ import annotations

import getpass
import mimetypes
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.table import Table

from mailwarden.app import Services
from mailwarden.cli.context import DB_HELP, open_services
from mailwarden.detect.model import Scope
from mailwarden.events.model import parse_time
from mailwarden.incidents.desk import BadInputError, UnknownIncidentError
from mailwarden.incidents.model import Actor, IllegalTransitionError
from mailwarden.incidents.present import incident_detail, incident_summary
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.silences import UnknownSilenceError

app = typer.Typer(help="Incidents: list, inspect and run them.", no_args_is_help=True)

DB = typer.Option(None, "--db", help=DB_HELP)
ACTOR = typer.Option(
    None, "--actor", help="Who is acting, for the timeline (default: the OS user)."
)
JSON = typer.Option(False, "--json", help="Print JSON (one object a line for lists).")
NOTE = typer.Option("", "--note", help="A note for the timeline.")


def default_actor(name: str | None) -> Actor:
    """The named person, or the OS user."""
    if name:
        return Actor(name)
    try:
        return Actor(getpass.getuser())
    except (KeyError, OSError):
        return Actor("unknown")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error to stderr and exit with code."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def incident_service(db: str | None) -> Iterator[IncidentService]:
    """Build the services for one command and turn domain errors into messages and exit codes."""
    services: Services | None = None
    try:
        services = open_services(db)
        if services.incidents is None:
            fail("the incident service is not configured")
        yield services.incidents
    except BadInputError as exc:
        fail(str(exc), 2)
    except IllegalTransitionError as exc:
        fail(str(exc))
    except (UnknownIncidentError, UnknownSilenceError) as exc:
        fail(str(exc).strip("'\""))
    finally:
        if services is not None:
            services.close()


def print_json(obj: Any) -> None:
    """Write one JSON object on a line."""
    sys.stdout.buffer.write(orjson.dumps(obj) + b"\n")
    sys.stdout.flush()


@app.command("list")
def list_incidents(
    state: list[str] = typer.Option([], "--state", help="Only these states (repeatable)."),
    type_: list[str] = typer.Option([], "--type", help="Only these types (repeatable)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many."),
    json_out: bool = JSON,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """List incidents, newest first."""
    with incident_service(db) as service:
        found = service.list_incidents(states=state or None, types=type_ or None, limit=limit)
        if json_out:
            for incident in found:
                print_json(incident_summary(incident))
            return
        table = Table("id", "sev", "state", "type", "scope", "started", "title")
        for incident in found:
            summary = incident_summary(incident)
            table.add_row(
                incident.id,
                incident.severity,
                incident.state,
                incident.type,
                str(incident.scope),
                summary["started_at"],
                incident.title,
            )
        Console().print(table)


@app.command("show")
def show(
    incident: str = typer.Argument(..., help="Incident id, e.g. INC-42."),
    json_out: bool = JSON,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Show one incident with its findings and timeline."""
    with incident_service(db) as service:
        found = service.get(incident)
        detail = incident_detail(found, service.timeline(incident), service.attachments(incident))
        if json_out:
            print_json(detail)
            return
        _print_detail(detail)


def _print_detail(detail: dict[str, Any]) -> None:
    scope = detail["scope"]
    typer.echo(f"{detail['id']}  {detail['severity']}  {detail['state']}  {detail['title']}")
    typer.echo(f"type: {detail['type']}   scope: {scope['dimension']}={scope['key']}")
    for name in ("started_at", "detected_at", "acknowledged_at", "contained_at"):
        typer.echo(f"{name}: {detail[name] or '-'}")
    for name in ("eradicated_at", "recovered_at", "closed_at", "reopened_at"):
        typer.echo(f"{name}: {detail[name] or '-'}")
    typer.echo(f"affected: {detail['affected']['basis']}")
    typer.echo(f"findings: {', '.join(detail['finding_kinds']) or '-'}")
    for role, person in detail["roles"].items():
        typer.echo(f"{role}: {person}")
    typer.echo(f"next: {', '.join(detail['allowed_transitions']) or '-'}")
    typer.echo("timeline:")
    for entry in detail["timeline"]:
        typer.echo(f"  {entry['at']}  {entry['actor']:<12} {entry['kind']:<16} {entry['note']}")
    for item in detail["attachments"]:
        typer.echo(f"attachment {item['id']}: {item['filename']} ({item['bytes']} bytes)")


def _changed(db: str | None, act: Callable[[IncidentService], Any], json_out: bool = False) -> None:
    with incident_service(db) as service:
        incident = act(service)
        if json_out:
            print_json(incident_summary(incident))
        else:
            typer.echo(f"{incident.id}: {incident.state}  {incident.title}")


@app.command("ack")
def ack(
    incident: str = typer.Argument(..., help="Incident id."),
    note: str = NOTE,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Acknowledge an incident."""
    _changed(db, lambda s: s.acknowledge(incident, default_actor(actor), note))


@app.command("transition")
def transition(
    incident: str = typer.Argument(..., help="Incident id."),
    state: str = typer.Argument(..., help="Target state, e.g. contained."),
    note: str = NOTE,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Move an incident to another state (the transitions table decides)."""
    _changed(db, lambda s: s.transition(incident, state, default_actor(actor), note))


@app.command("assign")
def assign(
    incident: str = typer.Argument(..., help="Incident id."),
    role: str = typer.Argument(..., help="incident_commander, communications_lead, ..."),
    person: str = typer.Argument(..., help="Who takes the role."),
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Give a response role to a person."""
    _changed(db, lambda s: s.assign(incident, role, person, default_actor(actor)))


@app.command("unassign")
def unassign(
    incident: str = typer.Argument(..., help="Incident id."),
    role: str = typer.Argument(..., help="The role to leave empty."),
    note: str = NOTE,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Take a response role away from whoever holds it."""
    _changed(db, lambda s: s.unassign(incident, role, default_actor(actor), note))


@app.command("severity")
def severity(
    incident: str = typer.Argument(..., help="Incident id."),
    level: str = typer.Argument(..., help="SEV1..SEV4."),
    reason: str = typer.Option(..., "--reason", help="Why (goes on the timeline)."),
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Change an incident's severity by hand."""
    _changed(db, lambda s: s.set_severity(incident, level, default_actor(actor), reason))


@app.command("note")
def note_(
    incident: str = typer.Argument(..., help="Incident id."),
    text: str = typer.Argument(..., help="The note."),
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Add a note to the timeline."""
    _changed(db, lambda s: s.add_note(incident, text, default_actor(actor)))


@app.command("merge")
def merge(
    incident: str = typer.Argument(..., help="The incident to merge away."),
    into: str = typer.Option(..., "--into", help="The incident that takes it over."),
    note: str = NOTE,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Merge one incident into another; both keep their history."""
    _changed(db, lambda s: s.merge(incident, into, default_actor(actor), note))


@app.command("open")
def open_incident(
    type_: str = typer.Option(..., "--type", help="phishing, data_breach, delivery_failure, ..."),
    title: str = typer.Option(..., "--title", help="A short title."),
    severity: str | None = typer.Option(None, "--severity", help="SEV1..SEV4 (default: rules)."),
    scope: str | None = typer.Option(None, "--scope", help="dimension=key, e.g. campaign=bf."),
    description: str = typer.Option("", "--description", help="What was reported."),
    started_at: str | None = typer.Option(None, "--started-at", help="ISO time it began."),
    attach: list[Path] = typer.Option([], "--attach", help="A file to keep as evidence."),
    json_out: bool = JSON,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Open an incident someone reported (e.g. a customer forwarded a phishing mail)."""
    files = [_read_attachment(path) for path in attach]
    parsed_scope = _parse_scope(scope) if scope else None
    began = _parse_time(started_at) if started_at else None

    def act(service: IncidentService) -> Any:
        return service.open_manual(
            incident_type=type_,
            title=title,
            actor=default_actor(actor),
            description=description,
            severity=severity,
            scope=parsed_scope,
            started_at=began,
            attachments=files,
        )

    _changed(db, act, json_out)


def _read_attachment(path: Path) -> tuple[str, str, bytes]:
    try:
        content = path.read_bytes()
    except OSError as exc:
        message = f"cannot read {path}: {exc.strerror}"
        raise typer.BadParameter(message, param_hint="--attach") from None
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, content_type, content


def _parse_scope(text: str) -> Scope:
    dimension, sep, key = text.partition("=")
    if not sep or not dimension or not key:
        raise typer.BadParameter(f"expected dimension=key, got {text!r}", param_hint="--scope")
    return Scope(dimension, key)


def _parse_time(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        message = f"not an ISO 8601 time: {text!r}"
        raise typer.BadParameter(message, param_hint="--started-at") from None
