"""Every benchmark `make bench` runs still runs: tiny sizes, one JSON figure line each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _figures(script: str, *args: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout[-2000:]
    return [orjson.loads(line) for line in lines]


@pytest.mark.slow
def test_the_ingest_bench_prints_its_figure_next_to_its_floor() -> None:
    first = _figures("ingest.py", "--events", "2000", "--http-events", "0", "--senders", "2")[0]
    assert first["bench"] == "ingest"
    assert isinstance(first["events_per_s"], int) and first["events_per_s"] > 0
    assert isinstance(first["floor_events_per_s"], int) and first["floor_events_per_s"] > 0


@pytest.mark.slow
def test_the_overview_bench_builds_its_store_and_times_renders(tmp_path: Path) -> None:
    db = str(tmp_path / "overview.db")
    (figure,) = _figures("overview.py", "--events", "20000", "--renders", "2", "--db", db)
    assert figure["bench"] == "overview" and figure["events"] == 20000


@pytest.mark.slow
def test_the_gate_bench_times_its_requests() -> None:
    figures = _figures("gate.py", "--requests", "50")
    assert figures[-1]["bench"] == "gate"


@pytest.mark.slow
def test_the_detection_bench_scores_a_tiny_replay(tmp_path: Path) -> None:
    args = ["--seeds", "1", "--scale", "0.02", "--days", "1", "--scenarios", "quiet_week"]
    args += ["--cost-scales", "0.02,0.04", "--workdir", str(tmp_path), "--hot-path-events", "2000"]
    kinds = {figure["bench"] for figure in _figures("detect.py", *args)}
    assert {"detect", "detect_cost", "detect_cost_split", "detect_cost_hot_path"} <= kinds
