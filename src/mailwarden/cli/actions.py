"""`mailwarden actions list|catalog|plan|approve|reject|run|undo|show`.

The same rules as the API: low risk runs for anyone; approving, rejecting, running
medium/high directly and undoing need the incident's commander or a user with the commander
role (the --actor is looked up among Mailwarden's users).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.table import Table

from mailwarden.actions.approval_records import run_dict
from mailwarden.actions.approvals import (
    ApprovalDesk,
    ApprovalStateError,
    Authority,
    NotAllowedError,
)
from mailwarden.actions.errors import ActionError
from mailwarden.actions.runner import ApprovalRequiredError, RunConflictError
from mailwarden.app import Services
from mailwarden.auth.roles import Role
from mailwarden.cli.context import DB_HELP, open_services
from mailwarden.incidents.desk import BadInputError

app = typer.Typer(help="Containment actions: plan, approve, run, undo.", no_args_is_help=True)

DB = typer.Option(None, "--db", help=DB_HELP)
ACTOR = typer.Option(None, "--actor", help="Who is acting (default: the OS user).")
JSON = typer.Option(False, "--json", help="Print JSON (one object a line for lists).")
INCIDENT = typer.Option(None, "--incident", help="The incident this is for, e.g. INC-3.")
PARAMS = typer.Option("{}", "--params", help='Parameters as JSON, e.g. \'{"scope": "all"}\'.')
KEY = typer.Option(None, "--key", help="Idempotency key (a retry with it never applies twice).")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error to stderr and exit with code."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def emit(obj: Any) -> None:
    """Print one JSON object on a line."""
    typer.echo(orjson.dumps(obj).decode())


def actor_name(name: str | None) -> str:
    """The named actor, or the OS user."""
    if name:
        return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def authority_of(services: Services, name: str | None) -> Authority:
    """The actor, with the commander role if they are a Mailwarden user holding it."""
    who = actor_name(name)
    if services.auth is None:
        return Authority(who)
    found = [u for u in services.auth.users.list_users() if u.username == who.lower()]
    role = Role.parse(found[0].role) if found and not found[0].disabled else Role.VIEWER
    return Authority(who, role >= Role.COMMANDER)


@contextmanager
def desk_of(db: str | None) -> Iterator[tuple[Services, ApprovalDesk]]:
    """The services and the approval desk; domain errors become messages and exit codes."""
    services: Services | None = None
    try:
        services = open_services(db)
        if services.containment is None:
            fail("containment is not configured")
        yield services, services.containment.desk
    except (NotAllowedError, ApprovalRequiredError) as exc:
        fail(f"not allowed: {exc}", 3)
    except (ApprovalStateError, RunConflictError) as exc:
        fail(str(exc))
    except (BadInputError, ValueError) as exc:
        fail(str(exc), 2)
    except LookupError as exc:
        fail(str(exc).strip("'\""))
    except ActionError as exc:
        fail(f"{exc.kind}: {exc}")
    finally:
        if services is not None:
            services.close()


def _params(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        fail(f"--params is not JSON: {exc}", 2)
    if not isinstance(value, dict):
        fail("--params must be a JSON object", 2)
    return value


def _incident(services: Services, ref: str | None) -> str | None:
    if not ref or services.incidents is None:
        return None
    return services.incidents.get(ref).id


@app.command("catalog")
def catalog(json_out: bool = JSON, db: str | None = DB) -> None:
    """The actions that can run here, with their risk."""
    with desk_of(db) as (_services, desk):
        infos = desk.registry.describe()
        if json_out:
            for i in infos:
                emit({"name": i.name, "provider": i.provider, "risk": str(i.risk)})
            return
        table = Table("action", "risk", "reversible", "description")
        for i in infos:
            table.add_row(i.name, str(i.risk), "yes" if i.reversible else "no", i.description)
        Console().print(table)


@app.command("list")
def list_approvals(
    state: str | None = typer.Option(None, "--state", help="pending, approved or rejected."),
    incident: str | None = INCIDENT,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Approvals (pending ones wait for the commander), newest first."""
    with desk_of(db) as (services, desk):
        found = desk.store.listed(state=state, incident_id=_incident(services, incident))
        outcomes = [desk.outcome(approval) for approval in found]
        if json_out:
            for outcome in outcomes:
                emit(outcome.to_dict())
            return
        table = Table("approval", "incident", "action", "risk", "state", "run", "by", "plan")
        for o in outcomes:
            a = o.approval
            table.add_row(
                a.id,
                a.incident_id or "-",
                a.action,
                a.risk,
                a.state,
                o.run.state,
                a.decided_by or a.requested_by,
                str(a.plan.get("summary", "")),
            )
        Console().print(table)


@app.command("show")
def show(approval: str = typer.Argument(..., help="Approval id."), db: str | None = DB) -> None:
    """One approval, its run and its steps, as JSON."""
    with desk_of(db) as (_services, desk):
        outcome = desk.outcome(desk.get(approval))
        steps = [step.to_dict() for step in desk.runner.steps(outcome.run.key)]
        emit({**outcome.to_dict(), "steps": steps})


@app.command("plan")
def plan(
    action: str = typer.Argument(..., help="Action name, e.g. mailwarden.pause_sending."),
    params: str = PARAMS,
    incident: str | None = INCIDENT,
    key: str | None = KEY,
    actor: str | None = ACTOR,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Dry-run an action and open its approval; nothing changes yet."""
    with desk_of(db) as (services, desk):
        outcome = desk.plan(
            action,
            _params(params),
            requested_by=actor_name(actor),
            incident_id=_incident(services, incident),
            key=key,
        )
        _show(outcome.to_dict(), json_out)


@app.command("approve")
def approve(
    approval: str = typer.Argument(..., help="Approval id."),
    reason: str = typer.Option("", "--reason", help="Why (for the timeline)."),
    actor: str | None = ACTOR,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Approve a pending action and run it (incident commander)."""
    _decide(
        db, lambda s, d: d.approve(approval, authority_of(s, actor), reason).to_dict(), json_out
    )


@app.command("reject")
def reject(
    approval: str = typer.Argument(..., help="Approval id."),
    reason: str = typer.Option(..., "--reason", help="Why it must not run."),
    actor: str | None = ACTOR,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Reject a pending action (incident commander)."""
    _decide(
        db,
        lambda s, d: {"approval": d.reject(approval, authority_of(s, actor), reason).to_dict()},
        json_out,
    )


@app.command("run")
def run(
    target: str = typer.Argument(..., help="An approved approval's id, or an action name."),
    params: str = PARAMS,
    incident: str | None = INCIDENT,
    key: str | None = KEY,
    actor: str | None = ACTOR,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Run an approved action (retry-safe), or run an action directly."""

    def work(services: Services, desk: ApprovalDesk) -> dict[str, Any]:
        who = authority_of(services, actor)
        if target in desk.registry:
            ref = _incident(services, incident)
            return desk.run_now(target, _params(params), who, incident_id=ref, key=key).to_dict()
        return desk.run(target, who).to_dict()

    _decide(db, work, json_out)


@app.command("undo")
def undo(
    key: str = typer.Argument(..., help="The run's idempotency key (see `actions show`)."),
    actor: str | None = ACTOR,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Undo a succeeded run (commander); a pause resumes through a warm-up plan."""
    _decide(db, lambda s, d: {"run": run_dict(d.undo(key, authority_of(s, actor)))}, json_out)


def _decide(
    db: str | None, work: Callable[[Services, ApprovalDesk], dict[str, Any]], json_out: bool
) -> None:
    with desk_of(db) as (services, desk):
        _show(work(services, desk), json_out)


def _show(result: dict[str, Any], json_out: bool) -> None:
    if json_out:
        emit(result)
        return
    approval, run_ = result.get("approval"), result.get("run")
    if approval:
        typer.echo(
            f"approval {approval['id']}: {approval['action']} ({approval['risk']} risk) "
            f"{approval['state']}"
            + (f" by {approval['decided_by']}" if approval["decided_by"] else "")
        )
        typer.echo(f"  plan: {approval['plan'].get('summary', '')}")
    if run_:
        typer.echo(f"run {run_['key']}: {run_['state']}")
        if run_.get("error"):
            typer.echo(f"  error: {run_['error']['kind']}: {run_['error']['message']}")
        if run_.get("provider_response_id"):
            typer.echo(f"  provider response: {run_['provider_response_id']}")
