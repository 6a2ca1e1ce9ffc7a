"""The CLI door: `mailwarden actions ...`, `suppressions export`, `delistings`, `gate check`."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.integration.actions.containment_helpers import make_services
from typer.testing import CliRunner

from mailwarden.auth.roles import Role
from mailwarden.cli.main import app
from mailwarden.clock import FakeClock

runner = CliRunner()
PAUSE = '{"scope": "campaign", "key": "black-friday", "reason": "complaint spike"}'


@pytest.fixture
def db(tmp_path: Path, clock: FakeClock) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    services = make_services(url, clock)
    assert services.auth is not None
    services.auth.users.create("test", "erin", Role.COMMANDER, "correct horse battery staple")
    services.auth.users.create("test", "dave", Role.RESPONDER, "correct horse battery staple")
    services.close()
    return url


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def one(out: str) -> dict[str, Any]:
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, out
    data: dict[str, Any] = orjson.loads(lines[-1])
    return data


def test_plan_then_approve_by_a_commander_then_undo_into_warm_up(db: str) -> None:
    code, out = cli(
        "actions", "plan", "mailwarden.pause_sending", "--params", PAUSE,
        "--key", "p1", "--actor", "dave", "--json", "--db", db,
    )  # fmt: skip
    assert code == 0, out
    approval = one(out)["approval"]
    assert approval["state"] == "pending"

    code, out = cli("actions", "approve", approval["id"], "--actor", "dave", "--db", db)
    assert code == 3 and "not allowed" in out

    code, out = cli(
        "actions", "approve", approval["id"], "--actor", "erin", "--reason", "go", "--json",
        "--db", db,
    )  # fmt: skip
    assert code == 0, out
    assert one(out)["run"]["state"] == "succeeded"
    assert one(cli("gate", "check", "--campaign", "black-friday", "--db", db)[1])["decision"] == (
        "deny"
    )

    code, out = cli("actions", "undo", "p1", "--actor", "erin", "--json", "--db", db)
    assert code == 0 and one(out)["run"]["state"] == "undone"
    decision = one(cli("gate", "check", "--campaign", "black-friday", "--db", db)[1])
    assert decision["decision"] == "throttle" and decision["rate_per_minute"] == 10
    code, out = cli("warmups", "list", "--json", "--db", db)
    assert one(out)["target"] == "campaign=black-friday"


def test_list_shows_pending_approvals_and_reject_needs_a_reason(db: str) -> None:
    cli("actions", "plan", "mailwarden.pause_sending", "--params", PAUSE, "--db", db)

    code, out = cli("actions", "list", "--state", "pending", "--json", "--db", db)
    assert code == 0
    approval = one(out)["approval"]
    code, out = cli("actions", "reject", approval["id"], "--actor", "erin", "--db", db)
    assert code != 0  # --reason is required
    code, out = cli(
        "actions", "reject", approval["id"], "--actor", "erin", "--reason", "ended", "--db", db
    )
    assert code == 0 and "rejected by erin" in out


def test_a_responder_runs_a_low_risk_action_directly_and_exports_the_list(db: str) -> None:
    params = '{"addresses": ["alex@example.com"], "reason": "@SUM(1+1)"}'
    code, out = cli(
        "actions", "run", "mailwarden.suppress", "--params", params, "--actor", "dave",
        "--json", "--db", db,
    )  # fmt: skip
    assert code == 0, out
    assert one(out)["run"]["state"] == "succeeded"

    code, out = cli("suppressions", "export", "--format", "csv", "--db", db)

    assert code == 0
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0][0] == "address" and rows[1][:2] == ["alex@example.com", "'@SUM(1+1)"]
    assert cli("suppressions", "export", "--format", "xlsx", "--db", db)[0] == 2


def test_bad_input_gets_a_message_and_an_exit_code(db: str) -> None:
    assert cli("actions", "plan", "nope.x", "--db", db)[0] == 1
    code, out = cli("actions", "plan", "mailwarden.pause_sending", "--params", "[1]", "--db", db)
    assert code == 2 and "JSON object" in out
    code, out = cli("actions", "approve", "nope", "--actor", "erin", "--db", db)
    assert code == 1 and "no approval" in out


def test_delisting_requests_from_the_cli(db: str) -> None:
    code, out = cli(
        "delistings", "add", "Spamhaus SBL", "203.0.113.5", "--reference", "SBL-1",
        "--actor", "dave", "--json", "--db", db,
    )  # fmt: skip
    assert code == 0, out
    request_id = str(one(out)["id"])

    code, out = cli("delistings", "update", request_id, "delisted", "--json", "--db", db)
    assert code == 0 and one(out)["status"] == "delisted"
    code, out = cli("delistings", "update", request_id, "denied", "--db", db)
    assert code == 2 and "cannot move" in out
    code, out = cli("delistings", "list", "--json", "--db", db)
    assert one(out)["reference"] == "SBL-1"
