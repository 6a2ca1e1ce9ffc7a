"""`mailwarden users|tokens|audit`: accounts, API tokens and the audit log from the shell."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import NoReturn

import orjson
import typer
from rich.console import Console
from rich.table import Table

from mailwarden.app import Services
from mailwarden.auth.errors import AuthError
from mailwarden.auth.roles import ROLE_NAMES, Role
from mailwarden.auth.service import Auth
from mailwarden.cli.context import DB_HELP, open_services
from mailwarden.events.model import format_time

users_app = typer.Typer(
    help="Console users: add, list, change role, disable.", no_args_is_help=True
)
tokens_app = typer.Typer(help="API tokens for scripts: create, list, revoke.", no_args_is_help=True)

DB = typer.Option(None, "--db", help=DB_HELP)
JSON = typer.Option(False, "--json", help="Print JSON, one object a line.")
ROLE_HELP = f"One of {', '.join(ROLE_NAMES)}."


def cli_actor() -> str:
    """How a shell user appears in the audit log."""
    return f"cli:{getpass.getuser()}"


def announce_first_admin(services: Services) -> None:
    """On an empty users table create 'admin' and print its one-time password, once."""
    password = _auth(services).users.ensure_first_admin()
    if password is None:
        return
    typer.echo(
        "\nNo users yet, so Mailwarden created one:\n"
        f"    username: admin\n    password: {password}\n"
        "This password is shown only now; you must change it when you first sign in.\n"
    )


@contextmanager
def _session(db: str | None) -> Iterator[Auth]:
    services = open_services(db)
    try:
        yield _auth(services)
    except AuthError as exc:
        _fail(str(exc))
    finally:
        services.close()


def _auth(services: Services) -> Auth:
    if services.auth is None:
        _fail("auth services are not built")
    return services.auth


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _role(text: str) -> Role:
    try:
        return Role.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _when(at: datetime | None) -> str:
    return format_time(at) if at is not None else ""


@users_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="Login name (lower-cased)."),
    role: str = typer.Option("viewer", "--role", help=ROLE_HELP),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin instead of generating one."
    ),
    db: str | None = DB,
) -> None:
    """Add a user; a generated one-time password is printed once and must be changed."""
    wanted = _role(role)
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _session(db) as auth:
        user, generated = auth.users.create(cli_actor(), username, wanted, password)
    typer.echo(f"added {user.username} ({user.role})")
    if generated is not None:
        typer.echo(f"one-time password: {generated}")
        typer.echo("shown only now; it must be changed at first sign-in")


@users_app.command("list")
def list_users(json_out: bool = JSON, db: str | None = DB) -> None:
    """List users."""
    with _session(db) as auth:
        found = auth.users.list_users()
    if json_out:
        for user in found:
            row = {
                "username": user.username,
                "role": user.role,
                "disabled": user.disabled,
                "must_change_password": user.must_change_password,
                "created_at": _when(user.created_at),
            }
            sys.stdout.buffer.write(orjson.dumps(row) + b"\n")
        return
    table = Table("username", "role", "state", "created")
    for user in found:
        state = (
            "disabled"
            if user.disabled
            else ("must change password" if user.must_change_password else "active")
        )
        table.add_row(user.username, user.role, state, _when(user.created_at))
    Console().print(table)


@users_app.command("set-role")
def set_role(
    username: str = typer.Argument(...),
    role: str = typer.Argument(..., help=ROLE_HELP),
    db: str | None = DB,
) -> None:
    """Change a user's role (effective at their next request)."""
    wanted = _role(role)
    with _session(db) as auth:
        user = auth.users.set_role(cli_actor(), username, wanted)
    typer.echo(f"{user.username} is now {user.role}")


@users_app.command("disable")
def disable(username: str = typer.Argument(...), db: str | None = DB) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    with _session(db) as auth:
        user = auth.users.set_disabled(cli_actor(), username, True)
    typer.echo(f"{user.username} is disabled")


@users_app.command("enable")
def enable(username: str = typer.Argument(...), db: str | None = DB) -> None:
    """Enable a disabled user again."""
    with _session(db) as auth:
        user = auth.users.set_disabled(cli_actor(), username, False)
    typer.echo(f"{user.username} is enabled")


@users_app.command("reset-password")
def reset_password(username: str = typer.Argument(...), db: str | None = DB) -> None:
    """Give a user a new one-time password (printed once) and end their sessions."""
    with _session(db) as auth:
        password = auth.users.reset_password(cli_actor(), username)
    typer.echo(f"one-time password for {username}: {password}")
    typer.echo("shown only now; it must be changed at first sign-in")


@tokens_app.command("create")
def create_token(
    user: str = typer.Option(..., "--user", help="The user the token acts as."),
    name: str = typer.Option(..., "--name", help="What the token is for, e.g. 'ci-export'."),
    role: str | None = typer.Option(None, "--role", help="At most the user's role (default)."),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1, max=3650),
    db: str | None = DB,
) -> None:
    """Create an API token; it is printed once and never again."""
    with _session(db) as auth:
        owner = auth.users.get(user)
        wanted = _role(role) if role else Role.parse(owner.role)
        lifetime = timedelta(days=expires_days) if expires_days else None
        made = auth.tokens.create(cli_actor(), owner, name, wanted, lifetime)
    typer.echo(f"token {made.record.id} ({made.record.role}) for {owner.username}:")
    typer.echo(made.secret)
    typer.echo("shown only now; send it as 'Authorization: Bearer <token>'")


@tokens_app.command("list")
def list_tokens(
    user: str | None = typer.Option(None, "--user", help="Only this user's tokens."),
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """List API tokens (never their secrets)."""
    with _session(db) as auth:
        names = {u.id: u.username for u in auth.users.list_users()}
        owner_id = auth.users.get(user).id if user else None
        found = auth.tokens.list_tokens(owner_id)
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "prefix": t.prefix,
            "owner": names.get(t.user_id, "?"),
            "role": t.role,
            "created_at": _when(t.created_at),
            "expires_at": _when(t.expires_at),
            "last_used_at": _when(t.last_used_at),
            "revoked_at": _when(t.revoked_at),
        }
        for t in found
    ]
    if json_out:
        for row in rows:
            sys.stdout.buffer.write(orjson.dumps(row) + b"\n")
        return
    table = Table(*rows[0].keys()) if rows else Table("id", "name", "owner", "role")
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    Console().print(table)


@tokens_app.command("revoke")
def revoke_token(token_id: int = typer.Argument(...), db: str | None = DB) -> None:
    """Revoke an API token at once."""
    with _session(db) as auth:
        token = auth.tokens.revoke(cli_actor(), token_id)
    typer.echo(f"token {token.id} ({token.name}) is revoked")


def audit(
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="At most this many entries."),
    action: str | None = typer.Option(None, "--action", help="Only this action, e.g. auth.login."),
    actor: str | None = typer.Option(None, "--actor", help="Only this actor."),
    json_out: bool = JSON,
    db: str | None = DB,
) -> None:
    """Show the audit log, newest first."""
    with _session(db) as auth:
        entries = auth.audit.entries(limit=limit, action=action, actor=actor)
    if json_out:
        for e in entries:
            row = {
                "id": e.id,
                "at": format_time(e.at),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
                "source_ip": e.source_ip,
            }
            sys.stdout.buffer.write(orjson.dumps(row) + b"\n")
        return
    table = Table("at", "actor", "action", "target", "detail")
    for e in entries:
        detail = orjson.dumps(e.detail).decode() if e.detail else ""
        table.add_row(format_time(e.at), e.actor, e.action, e.target or "", detail)
    Console().print(table)
