"""Writes a scenario's NDJSON file and its truth file; decides file names for ``all``.

The truth file (``FILE.truth.json``) is what the detection benchmark scores against::

    {"scenario": "ip_blocklisted", "seed": 1, "start": "...Z", "end": "...Z", "events": 1234,
     "incidents": [{"name": "ip_blocklisted", "kinds": ["block_rate", ...],
                    "scopes": [{"dimension": "sending_ip", "key": "203.0.113.7"}, ...],
                    "start": "...Z", "end": "...Z", "step": true, "notes": "..."}]}

``complaint_creep`` incidents add ``"crosses": {"0.1%": "...Z" | null, "0.3%": ...}``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from mailwarden.simulate.engine import Simulation
from mailwarden.simulate.model import Config

CHUNK = 4_096


@dataclass(frozen=True, slots=True)
class Summary:
    """What one scenario run wrote."""

    scenario: str
    path: Path
    truth_path: Path
    events: int
    incidents: int
    seconds: float


def truth_path(path: Path) -> Path:
    """The truth file that goes with an NDJSON file: FILE.truth.json."""
    return path.with_name(path.name + ".truth.json")


def output_paths(out: str, scenarios: Iterable[str], *, many: bool) -> dict[str, Path]:
    """Where each scenario goes: out itself, or with many, out/<name>.ndjson or out<name>.ndjson.

    With many scenarios, an out ending in a slash or naming a directory is a directory;
    anything else is a file-name prefix.
    """
    names = list(scenarios)
    if not many:
        return {name: Path(out) for name in names}
    if out.endswith(("/", "\\")) or Path(out).is_dir():
        return {name: Path(out) / f"{name}.ndjson" for name in names}
    return {name: Path(f"{out}{name}.ndjson") for name in names}


def write_scenario(scenario: str, config: Config, path: Path) -> Summary:
    """Simulate one scenario into path and its truth file; return what was written."""
    began = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    simulation = Simulation(scenario, config)
    with path.open("wb") as handle:
        chunk: list[bytes] = []
        for line in simulation.lines():
            chunk.append(line)
            if len(chunk) >= CHUNK:
                handle.write(b"".join(chunk))
                chunk.clear()
        handle.write(b"".join(chunk))
    truth = simulation.truth()
    target = truth_path(path)
    target.write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
    return Summary(
        scenario=scenario,
        path=path,
        truth_path=target,
        events=simulation.events,
        incidents=len(truth["incidents"]),
        seconds=time.perf_counter() - began,
    )


def read_truth(path: Path) -> dict[str, Any]:
    """Load a truth file."""
    data = orjson.loads(path.read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a truth file holds one JSON object")
    return data
