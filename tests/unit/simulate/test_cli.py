"""`mailwarden simulate`: files, truth, summary and clear errors."""

from __future__ import annotations

from pathlib import Path

import orjson
from tests.unit.simulate.stats import check_truth
from typer.testing import CliRunner

from mailwarden.cli.main import app
from mailwarden.simulate.scenarios import NAMES

runner = CliRunner()
TINY = ["--days", "1", "--scale", "0.002", "--seed", "4"]


def test_simulate_writes_the_file_its_truth_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "ip.ndjson"
    result = runner.invoke(
        app, ["simulate", "--scenario", "ip_blocklisted", "--out", str(out), *TINY]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().splitlines()
    truth = orjson.loads((tmp_path / "ip.ndjson.truth.json").read_bytes())
    check_truth(truth, len(lines))
    assert truth["scenario"] == "ip_blocklisted"
    assert f"{len(lines):,} events" in result.output
    assert "1 incident(s) injected" in result.output


def test_simulate_all_writes_every_scenario_into_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", "--scenario", "all", "--out", f"{out}/", *TINY])
    assert result.exit_code == 0, result.output
    for name in NAMES:
        data = (out / f"{name}.ndjson").read_bytes()
        truth = orjson.loads((out / f"{name}.ndjson.truth.json").read_bytes())
        check_truth(truth, len(data.splitlines()))
        assert truth["scenario"] == name
    assert f"{len(NAMES)} scenarios" in result.output


def test_simulate_all_with_a_prefix_names_the_files_after_it(tmp_path: Path) -> None:
    prefix = tmp_path / "runs" / "w1-"
    result = runner.invoke(app, ["simulate", "--scenario", "all", "--out", str(prefix), *TINY])
    assert result.exit_code == 0, result.output
    written = sorted(path.name for path in (tmp_path / "runs").iterdir())
    assert written == sorted(
        name
        for scenario in NAMES
        for name in (f"w1-{scenario}.ndjson", f"w1-{scenario}.ndjson.truth.json")
    )


def test_simulate_start_moves_the_window(tmp_path: Path) -> None:
    out = tmp_path / "quiet.ndjson"
    start = "2027-03-10T06:00:00Z"
    result = runner.invoke(
        app,
        ["simulate", "--scenario", "quiet_week", "--out", str(out), "--start", start, *TINY],
    )
    assert result.exit_code == 0, result.output
    truth = orjson.loads(out.with_name("quiet.ndjson.truth.json").read_bytes())
    assert (truth["start"], truth["end"]) == (start, "2027-03-11T06:00:00Z")
    first = orjson.loads(out.read_bytes().splitlines()[0])
    assert first["extra"]["received_at"] >= start


def test_simulate_rejects_an_unknown_scenario(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "--scenario", "tuesday", "--out", str(tmp_path / "x"), *TINY]
    )
    assert result.exit_code == 2
    assert "unknown scenario 'tuesday'" in result.output
    assert not (tmp_path / "x").exists()


def test_simulate_rejects_a_start_that_is_no_time(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["simulate", "--scenario", "mixed", "--out", str(tmp_path / "x"), "--start", "soon", *TINY],
    )
    assert result.exit_code == 2
    assert "not an ISO 8601 time" in result.output
