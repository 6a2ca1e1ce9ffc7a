"""`mailwarden team people|roles|rota|override|escalation ...` and `mailwarden oncall show`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import typer
from rich.console import Console
from rich.table import Table

from mailwarden.app import Services
from mailwarden.cli.context import open_services
from mailwarden.cli.incidents import ACTOR, DB, JSON, default_actor, fail, print_json
from mailwarden.events.model import parse_time
from mailwarden.team.calendar import parse_duration
from mailwarden.team.model import TeamInputError, UnknownTeamItemError
from mailwarden.team.oncall import shifts
from mailwarden.team.present import (
    override_dict,
    person_dict,
    policy_dict,
    role_dict,
    rota_dict,
    shift_dict,
)
from mailwarden.team.service import TeamService

team_app = typer.Typer(help="The team: people, roles, rotas, overrides, escalation.")
people_app = typer.Typer(help="People and how to reach them.", no_args_is_help=True)
roles_app = typer.Typer(help="Response roles.", no_args_is_help=True)
rota_app = typer.Typer(help="On-call rotas.", no_args_is_help=True)
override_app = typer.Typer(help="Cover a rota for a while.", no_args_is_help=True)
escalation_app = typer.Typer(help="Escalation policies.", no_args_is_help=True)
oncall_app = typer.Typer(help="Who is on call.", no_args_is_help=True)
team_app.add_typer(people_app, name="people")
team_app.add_typer(roles_app, name="roles")
team_app.add_typer(rota_app, name="rota")
team_app.add_typer(override_app, name="override")
team_app.add_typer(escalation_app, name="escalation")
team_app.info.no_args_is_help = True


@contextmanager
def team_service(db: str | None) -> Iterator[tuple[TeamService, Services]]:
    """The team directory for one command; bad input exits 2, unknown names exit 1."""
    services: Services | None = None
    try:
        services = open_services(db)
        if services.team is None:
            fail("the team directory is not configured")
        yield services.team, services
    except TeamInputError as exc:
        fail(str(exc), 2)
    except UnknownTeamItemError as exc:
        fail(str(exc).strip("'\""))
    finally:
        if services is not None:
            services.close()


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO time: {text!r}", param_hint=option) from None


@people_app.command("add")
def people_add(
    handle: str = typer.Argument(..., help="Short lower-case handle, e.g. alex."),
    name: str = typer.Option("", "--name", help="Display name."),
    email: list[str] = typer.Option([], "--email", help="Email address (repeatable)."),
    slack: list[str] = typer.Option([], "--slack", help="Slack handle, e.g. @alex."),
    phone: list[str] = typer.Option([], "--phone", help="Phone in E.164, e.g. +4930123456."),
    webhook: list[str] = typer.Option([], "--webhook", help="Webhook URL."),
    timezone: str | None = typer.Option(None, "--tz", help="The person's time zone."),
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Add a person (or update one) with their contact channels."""
    contacts = [
        (channel, address)
        for channel, values in (
            ("email", email),
            ("slack", slack),
            ("phone", phone),
            ("webhook", webhook),
        )
        for address in values
    ]
    with team_service(db) as (team, _services):
        person = team.add_person(handle, name, contacts, timezone)
        if json_out:
            print_json(person_dict(person))
        else:
            typer.echo(f"{person.handle}: {len(person.contacts)} contact(s)")


@people_app.command("list")
def people_list(json_out: bool = JSON, db: str | None = DB) -> None:
    """List the team."""
    with team_service(db) as (team, _services):
        people = team.people()
        if json_out:
            for person in people:
                print_json(person_dict(person))
            return
        table = Table("handle", "name", "contacts")
        for person in people:
            contacts = ", ".join(f"{c.channel}:{c.address}" for c in person.contacts)
            table.add_row(person.handle, person.name, contacts or "-")
        Console().print(table)


@roles_app.command("list")
def roles_list(json_out: bool = JSON, db: str | None = DB) -> None:
    """List the response roles (standard and the team's own)."""
    with team_service(db) as (team, _services):
        for role in team.roles():
            if json_out:
                print_json(role_dict(role))
            else:
                typer.echo(f"{role.name:22} {role.description}")


@roles_app.command("add")
def roles_add(
    name: str = typer.Argument(..., help="snake_case role name, e.g. legal_counsel."),
    description: str = typer.Option("", "--description", help="What the role does."),
    db: str | None = DB,
) -> None:
    """Add a custom response role."""
    with team_service(db) as (team, _services):
        typer.echo(f"added role {team.add_role(name, description).name}")


@rota_app.command("add")
def rota_add(
    name: str = typer.Argument(..., help="Rota name, e.g. primary."),
    rotation: str = typer.Option("weekly", "--rotation", help="daily or weekly."),
    handoff: str = typer.Option("09:00", "--handoff", help="Local handoff time HH:MM."),
    timezone: str = typer.Option("UTC", "--tz", help="Time zone of the handoff."),
    starts: str = typer.Option(..., "--starts", help="Date of the first turn (YYYY-MM-DD)."),
    member: list[str] = typer.Option(..., "--member", help="Handles in turn order (repeatable)."),
    description: str = typer.Option("", "--description"),
    db: str | None = DB,
) -> None:
    """Add or replace a rota; members take turns in the order given."""
    try:
        first = date.fromisoformat(starts)
    except ValueError:
        raise typer.BadParameter(f"not a date: {starts!r}", param_hint="--starts") from None
    with team_service(db) as (team, _services):
        rota = team.add_rota(
            name,
            rotation=rotation,
            handoff=handoff,
            timezone=timezone,
            starts_on=first,
            members=member,
            description=description,
        )
        typer.echo(f"rota {rota.name}: {rota.rotation}, {', '.join(rota.members)}")


@rota_app.command("show")
def rota_show(
    name: str = typer.Argument(..., help="Rota name."),
    start: str | None = typer.Option(None, "--from", help="Start (ISO time; default now)."),
    days: int = typer.Option(14, "--days", min=1, max=366, help="How many days of shifts."),
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Show a rota and its shifts from now (overrides included)."""
    with team_service(db) as (team, services):
        rota = team.rota(name)
        begin = _when(start, "--from") or services.clock.now()
        found = shifts(rota, begin, begin + timedelta(days=days))
        if json_out:
            print_json({**rota_dict(rota), "shifts": [shift_dict(s) for s in found]})
            return
        typer.echo(f"{rota.name}: {rota.rotation} at {rota.handoff:%H:%M} {rota.timezone}")
        table = Table("person", "from", "until", "override")
        for shift in found:
            item = shift_dict(shift)
            table.add_row(shift.person, item["start"], item["end"], "yes" if shift.override else "")
        Console().print(table)


@override_app.command("add")
def override_add(
    rota: str = typer.Argument(..., help="Rota name."),
    person: str = typer.Argument(..., help="Who covers."),
    start: str = typer.Option(..., "--from", help="Start (ISO time)."),
    until: str = typer.Option(..., "--until", help="End (ISO time)."),
    reason: str = typer.Option("", "--reason"),
    actor: str | None = ACTOR,
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Put someone on call for a rota for a time range."""
    begin, end = _when(start, "--from"), _when(until, "--until")
    assert begin is not None and end is not None
    with team_service(db) as (team, _services):
        override = team.add_override(
            rota, person, begin, end, reason=reason, actor=default_actor(actor).name
        )
        if json_out:
            print_json(override_dict(override))
        else:
            typer.echo(f"{person} covers {rota} from {start} until {until}")


@escalation_app.command("set")
def escalation_set(
    name: str = typer.Argument("default", help="Policy name ('default' covers the rest)."),
    level: list[str] = typer.Option(
        ..., "--level", help='Targets then wait, e.g. "rota:primary after 15m" (repeatable).'
    ),
    repeat: int = typer.Option(0, "--repeat", min=0, help="Rounds after the first (0: stop)."),
    type_: list[str] = typer.Option([], "--type", help="Only incidents of these types."),
    severity: list[str] = typer.Option([], "--severity", help="Only these severities."),
    description: str = typer.Option("", "--description"),
    db: str | None = DB,
) -> None:
    """Set an escalation policy: each level is notified if the previous did not acknowledge."""
    levels = [_level(text) for text in level]
    with team_service(db) as (team, _services):
        policy = team.set_policy(
            name,
            levels,
            repeat=repeat,
            description=description,
            incident_types=type_,
            severities=severity,
        )
        typer.echo(f"policy {policy.name}: {len(policy.levels)} level(s), repeat {policy.repeat}")


def _level(text: str) -> tuple[list[str], int]:
    targets, _, wait = text.partition(" after ")
    try:
        minutes = int(parse_duration(wait).total_seconds() // 60) if wait.strip() else 0
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--level") from None
    return [t.strip() for t in targets.replace(",", " ").split() if t.strip()], minutes


@escalation_app.command("show")
def escalation_show(
    name: str | None = typer.Argument(None, help="Policy name (default: all)."),
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Show escalation policies."""
    with team_service(db) as (team, _services):
        policies = [team.policy(name)] if name else team.policies()
        for policy in policies:
            if json_out:
                print_json(policy_dict(policy))
                continue
            typer.echo(f"{policy.name}  (repeat {policy.repeat}) {policy.description}")
            for number, lvl in enumerate(policy.levels, 1):
                targets = ", ".join(str(t) for t in lvl.targets)
                typer.echo(f"  level {number}: {targets}; next after {lvl.after_minutes} min")


@oncall_app.command("show")
def oncall_show(
    at: str | None = typer.Option(None, "--at", help="When (ISO time; default now)."),
    rota: str | None = typer.Option(None, "--rota", help="Only this rota."),
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Who is on call now (or at --at), per rota."""
    with team_service(db) as (team, services):
        when = _when(at, "--at") or services.clock.now()
        found = team.on_call(when, rota)
        if json_out:
            print_json({"at": when.isoformat(), "on_call": [shift_dict(s) for s in found]})
            return
        if not found:
            typer.echo("no rotas yet; add one with `mailwarden team rota add`")
        for shift in found:
            item = shift_dict(shift)
            cover = " (override)" if shift.override else ""
            typer.echo(f"{shift.rota}: {shift.person}{cover} until {item['end']}")
