"""The CLI doors: team setup, on-call, playbook validation with file and line, tasks, clocks."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from mailwarden.cli.main import app

RUN = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = RUN.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_team_is_set_up_and_asked_who_is_on_call(sqlite_url: str) -> None:
    db = ("--db", sqlite_url)
    assert run("team", "people", "add", "alex", "--email", "alex@example.org", *db)[0] == 0
    assert run("team", "people", "add", "sam", "--slack", "@sam", *db)[0] == 0
    code, _out, err = run("team", "people", "add", "kim", "--phone", "12", *db)
    assert code == 2 and "E.164" in err
    rota = ("--rotation", "daily", "--starts", "2026-11-02", "--tz", "Europe/Berlin")
    assert (
        run("team", "rota", "add", "primary", *rota, "--member", "alex", "--member", "sam", *db)[0]
        == 0
    )
    override = (
        "--from",
        "2026-11-27T12:00Z",
        "--until",
        "2026-11-27T18:00Z",
        "--reason",
        "dentist",
    )
    assert run("team", "override", "add", "primary", "sam", *override, *db)[0] == 0
    code, out, _err = run("oncall", "show", "--at", "2026-11-27T13:00Z", "--json", *db)
    assert code == 0
    (shift,) = orjson.loads(out)["on_call"]
    assert (shift["person"], shift["override"]) == ("sam", True)
    levels = ("--level", "rota:primary after 10m", "--level", "person:alex after 30m")
    assert run("team", "escalation", "set", "default", *levels, *db)[0] == 0
    code, out, _err = run("team", "escalation", "show", "default", "--json", *db)
    assert orjson.loads(out)["levels"][1] == {"targets": ["person:alex"], "after_minutes": 30}


def test_validate_names_file_line_and_problem_and_fails(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "format: 1\ntype: phishing\nversion: 1\ntitle: t\nsteps:\n"
        "  - id: warn\n    title: Warn\n    phase: containment\n    role: scribe\n"
        "    due: soon\n"
    )
    code, _out, err = run("playbooks", "validate", str(tmp_path))
    assert code == 1
    assert f"{tmp_path / 'mine.yaml'}:10: steps.0.due: 'soon' is not a due rule" in err
    code, out, _err = run("playbooks", "list", "--json")
    assert code == 0 and len(out.splitlines()) == 9


def test_tasks_and_clocks_from_the_command_line(sqlite_url: str) -> None:
    db = ("--db", sqlite_url)
    opened = ("--type", "blocklisting", "--title", "Listed on Spamhaus", "--actor", "alex")
    code, out, err = run("incidents", "open", *opened, "--json", *db)
    assert code == 0, err
    ref = orjson.loads(out)["id"]
    code, out, _err = run("tasks", "list", ref, "--json", *db)
    assert orjson.loads(out.splitlines()[1])["step"] == "identify_listing"
    assert run("tasks", "done", ref, "identify_listing", "--actor", "sam", *db)[0] == 0
    code, _out, err = run("tasks", "skip", ref, "warm_up", *db)
    assert code == 2 and "needs a note" in err
    code, out, _err = run("sla", "show", ref, "--json", *db)
    assert {c["clock"] for c in orjson.loads(out)["clocks"]} >= {"acknowledge_by", "contain_by"}
    code, _out, err = run("sla", "personal-data", ref, *db)
    assert code == 2 and "not a data_breach" in err
