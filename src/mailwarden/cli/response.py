"""`mailwarden tasks list|done|skip|close` and `mailwarden sla show|update|personal-data|
authority-notified`: working an incident's playbook and its clocks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from mailwarden.app import Services
from mailwarden.cli.context import open_services
from mailwarden.cli.incidents import ACTOR, DB, JSON, NOTE, default_actor, fail, print_json
from mailwarden.events.model import parse_time
from mailwarden.incidents.desk import BadInputError, UnknownIncidentError
from mailwarden.incidents.model import IllegalTransitionError
from mailwarden.playbooks.present import task_dict
from mailwarden.playbooks.runner import TaskStateError, UnknownTaskError
from mailwarden.sla.present import clock_dict

tasks_app = typer.Typer(help="An incident's playbook tasks.", no_args_is_help=True)
sla_app = typer.Typer(help="An incident's SLA clocks and GDPR duties.", no_args_is_help=True)
INCIDENT = typer.Argument(..., help="Incident id, e.g. INC-42.")


@contextmanager
def response(db: str | None) -> Iterator[Services]:
    """The services for one command, with domain errors turned into messages and exit codes."""
    services: Services | None = None
    try:
        services = open_services(db)
        if services.tasks is None or services.monitor is None:
            fail("the playbook runner is not configured")
        yield services
    except BadInputError as exc:
        fail(str(exc), 2)
    except (IllegalTransitionError, TaskStateError) as exc:
        fail(str(exc))
    except (UnknownIncidentError, UnknownTaskError) as exc:
        fail(str(exc).strip("'\""))
    finally:
        if services is not None:
            services.close()


@tasks_app.command("list")
def list_tasks(incident: str = INCIDENT, json_out: bool = JSON, db: str | None = DB) -> None:
    """List an incident's tasks, with what is due and what is overdue."""
    with response(db) as services:
        assert services.tasks is not None
        now = services.clock.now()
        found = [task_dict(task, now) for task in services.tasks.tasks(incident)]
        if json_out:
            for item in found:
                print_json(item)
            return
        table = Table("", "step", "phase", "role", "due", "state", "title")
        for item in found:
            mark = "!" if item["overdue"] else ("*" if item["mandatory"] else "")
            state = item["state"] + (f" ({item['done_by']})" if item["done_by"] else "")
            due = item["due_at"] or f"({item['due']})"
            table.add_row(
                mark, item["step"], item["phase"], item["role"], due, state, item["title"]
            )
        Console().print(table)
        typer.echo("* mandatory   ! overdue")


@tasks_app.command("done")
def done(
    incident: str = INCIDENT,
    step: str = typer.Argument(..., help="Step id, e.g. pause_campaign."),
    note: str = NOTE,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Check a task off as done."""
    with response(db) as services:
        assert services.tasks is not None
        task = services.tasks.finish(incident, step, default_actor(actor), note=note)
        typer.echo(f"{incident} {task.step_id}: done by {task.done_by}")


@tasks_app.command("skip")
def skip(
    incident: str = INCIDENT,
    step: str = typer.Argument(..., help="Step id."),
    note: str = typer.Option("", "--note", help="Why (required for mandatory tasks)."),
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Skip a task that does not apply."""
    with response(db) as services:
        assert services.tasks is not None
        task = services.tasks.finish(incident, step, default_actor(actor), note=note, skip=True)
        typer.echo(f"{incident} {task.step_id}: skipped by {task.done_by}")


@tasks_app.command("close")
def close(
    incident: str = INCIDENT,
    note: str = NOTE,
    override: str = typer.Option(
        "", "--override", help="Commander only: close with mandatory tasks open, saying why."
    ),
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Close a recovered incident (refused while mandatory tasks are open, unless overridden)."""
    with response(db) as services:
        assert services.tasks is not None
        closed = services.tasks.close(incident, default_actor(actor), note, override)
        typer.echo(f"{closed.id}: {closed.state}")


@sla_app.command("show")
def show(incident: str = INCIDENT, json_out: bool = JSON, db: str | None = DB) -> None:
    """Show the incident's clocks: acknowledge-by, contain-by, updates, authority notice."""
    with response(db) as services:
        assert services.monitor is not None
        clocks = [clock_dict(state) for state in services.monitor.clocks(incident)]
        if json_out:
            print_json({"incident": incident, "clocks": clocks})
            return
        for item in clocks:
            due = item["due_at"] or "-"
            typer.echo(f"{item['clock']:20} {item['state']:9} due {due}  {item['detail']}")


@sla_app.command("update")
def update(
    incident: str = INCIDENT,
    text: str = typer.Argument(..., help="What stakeholders are told."),
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Record a stakeholder update (resets the update cadence)."""
    with response(db) as services:
        assert services.monitor is not None
        services.monitor.post_update(incident, text, default_actor(actor))
        typer.echo(f"{incident}: stakeholder update recorded")


@sla_app.command("personal-data")
def personal_data(
    incident: str = INCIDENT,
    aware_at: str | None = typer.Option(None, "--aware-at", help="When we became aware (ISO)."),
    note: str = NOTE,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Confirm a data breach involves personal data: the 72-hour authority clock starts."""
    when: datetime | None = None
    if aware_at is not None:
        try:
            when = parse_time(aware_at)
        except ValueError:
            hint = "--aware-at"
            raise typer.BadParameter(f"not an ISO time: {aware_at!r}", param_hint=hint) from None
    with response(db) as services:
        assert services.monitor is not None
        services.monitor.confirm_personal_data(
            incident, default_actor(actor), aware_at=when, note=note
        )
        typer.echo(f"{incident}: personal data confirmed; the authority must be told within 72h")


@sla_app.command("authority-notified")
def authority_notified(
    incident: str = INCIDENT, note: str = NOTE, actor: str | None = ACTOR, db: str | None = DB
) -> None:
    """Record that the supervisory authority was notified."""
    with response(db) as services:
        assert services.monitor is not None
        services.monitor.authority_notified(incident, default_actor(actor), note)
        typer.echo(f"{incident}: authority notice recorded")
