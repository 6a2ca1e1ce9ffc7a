"""The shell door: users, tokens and the audit log, with secrets printed once and never logged."""

from __future__ import annotations

import getpass
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from mailwarden.cli.main import app

runner = CliRunner()
CHEAP = {"MAILWARDEN_ARGON2_TIME_COST": "1", "MAILWARDEN_ARGON2_MEMORY_KIB": "1024"}


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(db: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--db", db], input=stdin, env=CHEAP)
    return result.exit_code, result.output


def json_lines(out: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_adding_a_user_prints_a_one_time_password_once(db: str) -> None:
    code, out = run(db, "users", "add", "Alice", "--role", "responder")
    assert code == 0 and "added alice (responder)" in out
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if "one-time" in line)
    assert len(password) == 23
    code, out = run(db, "users", "list", "--json")
    (alice,) = json_lines(out)
    assert alice["role"] == "responder" and alice["must_change_password"] is True
    assert password not in out


def test_a_scripted_user_can_take_a_password_from_stdin(db: str) -> None:
    code, out = run(db, "users", "add", "bob", "--password-stdin", stdin="a long passphrase here\n")
    assert code == 0 and "one-time" not in out
    (bob,) = json_lines(run(db, "users", "list", "--json")[1])
    assert bob["must_change_password"] is False


def test_roles_change_users_are_disabled_and_passwords_reset(db: str) -> None:
    run(db, "users", "add", "root", "--role", "admin")
    run(db, "users", "add", "carol")
    assert "carol is now commander" in run(db, "users", "set-role", "carol", "commander")[1]
    assert "carol is disabled" in run(db, "users", "disable", "carol")[1]
    assert "carol is enabled" in run(db, "users", "enable", "carol")[1]
    code, out = run(db, "users", "reset-password", "carol")
    assert code == 0 and "one-time password for carol" in out
    code, out = run(db, "users", "disable", "root")
    assert code == 1 and "last enabled admin" in out
    code, out = run(db, "users", "set-role", "nobody", "viewer")
    assert code == 1 and "no user" in out
    code, out = run(db, "users", "set-role", "carol", "overlord")
    assert code != 0


def test_tokens_are_created_listed_without_secret_and_revoked(db: str) -> None:
    run(db, "users", "add", "root", "--role", "admin")
    code, out = run(db, "tokens", "create", "--user", "root", "--name", "ci", "--role", "viewer")
    assert code == 0
    secret = next(line for line in out.splitlines() if line.startswith("mw_"))
    code, out = run(db, "tokens", "list", "--json")
    (token,) = json_lines(out)
    assert token["role"] == "viewer" and token["owner"] == "root" and secret not in out
    assert "is revoked" in run(db, "tokens", "revoke", str(token["id"]))[1]
    (token,) = json_lines(run(db, "tokens", "list", "--json")[1])
    assert token["revoked_at"]


def test_the_audit_log_shows_who_did_what_from_the_shell_without_secrets(db: str) -> None:
    out = run(db, "users", "add", "root", "--role", "admin")[1]
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if "one-time" in line)
    token_out = run(db, "tokens", "create", "--user", "root", "--name", "ci")[1]
    secret = next(line for line in token_out.splitlines() if line.startswith("mw_"))
    code, out = run(db, "audit", "--json")
    assert code == 0
    entries = json_lines(out)
    assert [e["action"] for e in entries] == ["token.created", "user.created"]
    assert entries[0]["actor"] == f"cli:{getpass.getuser()}"
    assert password not in out and secret not in out
    assert "token.created" in run(db, "audit")[1]
