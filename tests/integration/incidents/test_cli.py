"""The CLI door: `mailwarden incidents ...` and `mailwarden silences ...` on a SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.unit.incidents.builders import finding
from typer.testing import CliRunner

from mailwarden.app import build
from mailwarden.cli.main import app
from mailwarden.config import Settings

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _lines(out: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]


def _detect(db: str) -> None:
    services = build(Settings(database_url=db))
    try:
        assert services.incidents is not None
        services.incidents.on_findings(
            [
                finding("hard_bounce_rate", "campaign", "bf", dominant_sending_ip="203.0.113.5"),
                finding("hard_bounce_rate", "campaign", "cm", dominant_sending_ip="203.0.113.5"),
            ]
        )
    finally:
        services.close()


def test_list_json_prints_one_incident_a_line_with_its_phases_and_finding_kinds(db: str) -> None:
    _detect(db)
    code, out = _run("incidents", "list", "--json", "--db", db)
    assert code == 0, out
    (incident,) = _lines(out)
    assert incident["id"] == "INC-1" and incident["type"] == "delivery_failure"
    assert incident["scope"] == {"dimension": "sending_ip", "key": "203.0.113.5"}
    assert incident["finding_kinds"] == ["hard_bounce_rate"]
    assert incident["started_at"] == "2026-11-27T07:45:00Z"
    for stamp in ("detected_at", "acknowledged_at", "contained_at", "eradicated_at"):
        assert stamp in incident
    assert incident["recovered_at"] is None and incident["closed_at"] is None


def test_a_responder_runs_an_incident_from_the_command_line(db: str) -> None:
    _detect(db)
    assert (
        _run("incidents", "ack", "INC-1", "--note", "on it", "--actor", "kim", "--db", db)[0] == 0
    )
    code, out = _run("incidents", "transition", "INC-1", "closed", "--actor", "kim", "--db", db)
    assert code == 1 and "cannot move from acknowledged to closed" in out
    assert "allowed: contained" in out
    assert _run("incidents", "assign", "INC-1", "incident_commander", "kim", "--db", db)[0] == 0
    assert _run("incidents", "note", "INC-1", "paused the campaign", "--db", db)[0] == 0
    code, out = _run("incidents", "show", "INC-1", "--json", "--db", db)
    detail = orjson.loads(out)
    assert detail["roles"] == {"incident_commander": "kim"}
    assert [e["kind"] for e in detail["timeline"]] == [
        "opened",
        "grouped",
        "transitioned",
        "role_assigned",
        "note",
    ]
    assert detail["timeline"][2]["actor"] == "kim" and detail["timeline"][2]["note"] == "on it"
    code, out = _run("incidents", "show", "INC-1", "--db", db)
    assert code == 0 and "paused the campaign" in out


def test_a_responder_changes_severity_and_frees_a_role_from_the_command_line(db: str) -> None:
    _detect(db)
    assert _run("incidents", "assign", "INC-1", "scribe", "lee", "--db", db)[0] == 0
    assert (
        _run("incidents", "unassign", "INC-1", "scribe", "--note", "off shift", "--db", db)[0] == 0
    )
    code, out = _run("incidents", "severity", "INC-1", "SEV1", "--reason", "VIP list", "--db", db)
    assert code == 0
    detail = orjson.loads(_run("incidents", "show", "INC-1", "--json", "--db", db)[1])
    assert detail["roles"] == {} and detail["severity"] == "SEV1"
    assert [e["kind"] for e in detail["timeline"][-3:]] == [
        "role_assigned",
        "role_unassigned",
        "severity_changed",
    ]
    code, out = _run("incidents", "unassign", "INC-1", "scribe", "--db", db)
    assert code == 2 and "nobody holds scribe" in out


def test_a_reported_incident_keeps_its_attachment_and_can_be_merged(
    db: str, tmp_path: Path
) -> None:
    mail = tmp_path / "forwarded.eml"
    mail.write_bytes(b"Subject: pay now\r\n\r\nclick")
    code, out = _run(
        "incidents", "open", "--type", "phishing", "--title", "Spoofed invoice",
        "--attach", str(mail), "--json", "--actor", "alex", "--db", db,
    )  # fmt: skip
    assert code == 0, out
    assert _lines(out)[0]["severity"] == "SEV2"
    _run("incidents", "open", "--type", "phishing", "--title", "Same campaign", "--db", db)
    code, out = _run("incidents", "merge", "INC-2", "--into", "INC-1", "--db", db)
    assert code == 0, out
    detail = orjson.loads(_run("incidents", "show", "INC-1", "--json", "--db", db)[1])
    assert detail["attachments"][0]["filename"] == "forwarded.eml"
    assert detail["timeline"][-1]["kind"] == "absorbed"
    merged = orjson.loads(_run("incidents", "show", "INC-2", "--json", "--db", db)[1])
    assert merged["state"] == "merged" and merged["merged_into"] == "INC-1"


def test_bad_input_and_unknown_incidents_get_clear_errors(db: str, tmp_path: Path) -> None:
    code, out = _run("incidents", "open", "--type", "outage", "--title", "x", "--db", db)
    assert code == 2 and "type 'outage' is not one of" in out
    code, out = _run("incidents", "show", "INC-9", "--db", db)
    assert code == 1 and "no incident INC-9" in out
    code, out = _run("incidents", "open", "--type", "other", "--title", "x",
                     "--attach", str(tmp_path / "missing.eml"), "--db", db)  # fmt: skip
    assert code == 2 and "cannot read" in out


def test_silences_are_added_listed_and_expired(db: str) -> None:
    code, out = _run(
        "silences", "add", "--reason", "IP warm-up", "--for", "2h", "--kind", "block_rate",
        "--key", "203.0.113.*", "--owner", "sam@example.org", "--json", "--db", db,
    )  # fmt: skip
    assert code == 0, out
    assert _lines(out)[0]["matcher"]["key"] == "203.0.113.*"
    (listed,) = _lines(_run("silences", "list", "--json", "--db", db)[1])
    assert listed["id"] == "SIL-1" and listed["owner"] == "sam@example.org"
    code, out = _run("silences", "expire", "SIL-1", "--actor", "alex", "--db", db)
    assert code == 0 and "SIL-1: expired" in out
    assert _lines(_run("silences", "list", "--json", "--db", db)[1]) == []
    assert len(_lines(_run("silences", "list", "--all", "--json", "--db", db)[1])) == 1
    code, out = _run("silences", "add", "--reason", "x", "--for", "soon", "--db", db)
    assert code == 2 and "expected a duration" in out
