"""`mailwarden silences add|list|expire`: time-boxed mutes of findings, with reminders."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

import typer
from rich.console import Console
from rich.table import Table

from mailwarden.cli.incidents import (
    ACTOR,
    DB,
    JSON,
    default_actor,
    incident_service,
    print_json,
)
from mailwarden.incidents.present import silence_dict
from mailwarden.incidents.records import Matcher

app = typer.Typer(help="Silences: mute matching findings for a while.", no_args_is_help=True)

_DURATION: Final = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str, hint: str) -> timedelta:
    """30m, 2h, 1d, ... → timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise typer.BadParameter(
            f"expected a duration like 30m, 2h or 1d, got {text!r}", param_hint=hint
        )
    value, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(value)})


@app.command("add")
def add(
    reason: str = typer.Option(..., "--reason", help="Why these findings are expected."),
    duration: str = typer.Option(..., "--for", help="How long, e.g. 2h, 30m, 1d."),
    owner: str | None = typer.Option(None, "--owner", help="Who is told (default: the actor)."),
    kind: str = typer.Option("*", "--kind", help="Finding kind pattern, e.g. block_rate."),
    dimension: str = typer.Option("*", "--dimension", help="Scope dimension pattern."),
    key: str = typer.Option("*", "--key", help="Scope key pattern, e.g. 203.0.113.*."),
    type_: str = typer.Option("*", "--type", help="Incident type pattern."),
    remind: str = typer.Option("1h", "--remind-before", help="Remind this long before expiry."),
    channel: str = typer.Option("email", "--channel", help="Where reminders go."),
    json_out: bool = JSON,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """Silence findings that match every pattern, for a while."""
    length = parse_duration(duration, "--for")
    remind_before = parse_duration(remind, "--remind-before")
    who = default_actor(actor)
    matcher = Matcher(kind=kind, dimension=dimension, key=key, type=type_)
    with incident_service(db) as service:
        silence = service.silences.add(
            owner=owner or who.name,
            reason=reason,
            matcher=matcher,
            duration=length,
            actor=who,
            remind_before=remind_before,
            channel=channel,
        )
        if json_out:
            print_json(silence_dict(silence))
        else:
            typer.echo(
                f"{silence.id}: {matcher.describe()} until {silence_dict(silence)['expires_at']}"
            )


@app.command("list")
def list_silences(
    include_expired: bool = typer.Option(False, "--all", help="Include expired silences."),
    json_out: bool = JSON,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """List silences in force (or all)."""
    with incident_service(db) as service:
        found = service.silences.list_silences(include_expired=include_expired)
        if json_out:
            for silence in found:
                print_json(silence_dict(silence))
            return
        table = Table("id", "owner", "matcher", "expires", "muted", "reason")
        for silence in found:
            shown = silence_dict(silence)
            table.add_row(
                silence.id,
                silence.owner,
                silence.matcher.describe(),
                shown["expires_at"],
                str(silence.matched_count),
                silence.reason,
            )
        Console().print(table)


@app.command("expire")
def expire(
    silence: str = typer.Argument(..., help="Silence id, e.g. SIL-3."),
    json_out: bool = JSON,
    actor: str | None = ACTOR,
    db: str | None = DB,
) -> None:
    """End a silence now (its owner is told)."""
    with incident_service(db) as service:
        ended = service.silences.expire(silence, default_actor(actor))
        if json_out:
            print_json(silence_dict(ended))
        else:
            typer.echo(f"{ended.id}: expired at {silence_dict(ended)['expires_at']}")
