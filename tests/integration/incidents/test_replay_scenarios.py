"""Replaying the simulator's scenarios leaves one incident per injected incident, of its type.

`mailwarden simulate` writes each scenario with its truth; `mailwarden replay` runs it through
ingest, detection and incidents on a simulated clock; `mailwarden incidents list --json` is
compared with the truth. Slow (a week of traffic per scenario): run with `-m slow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from mailwarden.cli.main import app
from mailwarden.events.model import parse_time

SCALE = "0.1"
SEED = "1"
# Detection reports long-window findings (complaints over hours) a while after they start.
GRACE = timedelta(hours=3)
EXPECTED_TYPES = {
    "bad_list_import": {"delivery_failure"},
    "complaint_spike": {"spam_complaints"},
    "complaint_creep": {"spam_complaints"},
    "gmail_auth_block": {"dns_auth"},
    "microsoft_auth_block": {"dns_auth"},
    "microsoft_throttling": {"delivery_failure"},
    "ip_blocklisted": {"blocklisting"},
    "night_volume_surge": {"unauthorized_access"},
    "webhook_silence": {"pipeline_outage"},
    "engagement_collapse": {"delivery_failure"},
}
# What the incident must be about, where the cause has one obvious root: a listing is about the
# listed IP (not its domain or one of its campaigns), an authentication failure about a domain.
EXPECTED_ROOTS = {
    "ip_blocklisted": "sending_ip",
    "gmail_auth_block": "sending_domain",
    "microsoft_auth_block": "sending_domain",
}
SCENARIOS = (
    "quiet_week",
    "bad_list_import",
    "complaint_spike",
    "gmail_auth_block",
    "microsoft_throttling",
    "ip_blocklisted",
    "night_volume_surge",
    "webhook_silence",
    "engagement_collapse",
    "complaint_creep",
    "mixed",
)
runner = CliRunner()


@dataclass(frozen=True)
class Truth:
    """One injected incident."""

    name: str
    kinds: frozenset[str]
    start: datetime
    end: datetime

    def explains(self, incident: dict[str, Any]) -> bool:
        """True when the incident was detected during this one and its findings are its kinds."""
        detected = parse_time(incident["detected_at"])
        in_time = self.start <= detected <= self.end + GRACE
        return in_time and bool(self.kinds & set(incident["finding_kinds"]))


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _truths(path: Path) -> list[Truth]:
    document = orjson.loads(path.read_bytes())
    return [
        Truth(
            item["name"],
            frozenset(item["kinds"]),
            parse_time(item["start"]),
            parse_time(item["end"]),
        )
        for item in document["incidents"]
    ]


def _replayed(scenario: str, tmp_path: Path) -> tuple[list[Truth], list[dict[str, Any]]]:
    stream = tmp_path / f"{scenario}.ndjson"
    _invoke("simulate", "--scenario", scenario, "--seed", SEED, "--scale", SCALE,
            "--out", str(stream))  # fmt: skip
    db = f"sqlite:///{tmp_path / 'replay.db'}"
    _invoke("replay", str(stream), "--db", db)
    listed = _invoke("incidents", "list", "--json", "--db", db)
    incidents = [orjson.loads(line) for line in listed.splitlines() if line.startswith("{")]
    live = [incident for incident in incidents if incident["state"] != "merged"]
    return _truths(Path(f"{stream}.truth.json")), live


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_replaying_a_scenario_opens_one_incident_per_injected_incident(
    scenario: str, tmp_path: Path
) -> None:
    truths, incidents = _replayed(scenario, tmp_path)
    for truth in truths:
        mine = [incident for incident in incidents if truth.explains(incident)]
        summary = [(i["id"], i["type"], i["scope"], i["finding_kinds"]) for i in mine]
        assert len(mine) == 1, f"{truth.name}: {summary}"
        assert mine[0]["type"] in EXPECTED_TYPES[truth.name], f"{truth.name}: {summary}"
        if truth.name in EXPECTED_ROOTS:
            assert mine[0]["scope"]["dimension"] == EXPECTED_ROOTS[truth.name], summary
    if not truths:  # the quiet week
        shown = [(i["id"], i["type"], i["scope"], i["finding_kinds"]) for i in incidents]
        assert incidents == [], f"incidents in a quiet week: {shown}"
