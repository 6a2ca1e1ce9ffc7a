"""Done-when of "Containment and recovery": a replayed complaint spike is contained and recovers.

The simulator's `complaint_spike` scenario (small scale) is replayed through ingest and
detection on a simulated clock. It opens a spam-complaints incident; the team's playbook
suppresses the complainers by itself; the incident commander approves pausing the campaign's
SES configuration set (against the fake SESv2 server on 127.0.0.1: moto 5.2 does not
implement put_configuration_set_sending_options) and at Mailwarden's own gate; the
complaint rate falls back; the incident auto-recovers and the gate resumes the campaign on a
warm-up ramp.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import orjson
import pytest

from mailwarden.actions.approvals import Authority
from mailwarden.actions.gate import GateQuery
from mailwarden.app import Services, build
from mailwarden.auth.roles import Role
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.detect.engine import DetectionEngine
from mailwarden.detect.replay import Replayer, first_time
from mailwarden.incidents.model import Actor, Incident
from mailwarden.incidents.ticking import TickTogether
from mailwarden.simulate.engine import Simulation
from mailwarden.simulate.model import DEFAULT_START, Config, to_seconds
from tests.integration.actions.fakes.sesv2 import FakeSesV2

ACCESS_KEY_ID = "AKIAMAILWARDENE2E001"
SECRET_KEY = "mailwarden-e2e-secret-0123456789"
COMMANDER = "carol"
CHUNK = 200  # lines replayed between looks at the incident (a few simulated minutes)

PLAYBOOK = """\
format: 1
type: spam_complaints
version: 2
title: Complaint spike (our ESP is SES)
steps:
  - id: take_command
    title: Name an incident commander
    phase: identification
    role: incident_commander
    due: 15m after detected
    mandatory: true
  - id: suppress_complainers
    title: Suppress everyone who complained
    phase: containment
    role: deliverability_lead
    due: 15m after detected
    mandatory: true
    action:
      name: mailwarden.suppress
      params:
        reason: "complained during {incident_id}"
        source_incident: "{incident_id}"
  - id: pause_configuration_set
    title: Pause the campaign's SES configuration set
    phase: containment
    role: deliverability_lead
    due: 30m after detected
    mandatory: true
    action:
      name: ses.disable_configuration_set_sending
      params:
        configuration_set: "{scope_key}"
  - id: pause_at_gate
    title: Pause the campaign at the sending gate
    phase: containment
    role: deliverability_lead
    due: 30m after detected
    action:
      name: mailwarden.pause_sending
      params:
        scope: "{scope_dimension}"
        key: "{scope_key}"
        reason: "complaint spike {incident_id}"
        source_incident: "{incident_id}"
"""


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def ses() -> Iterator[FakeSesV2]:
    fake = FakeSesV2(ACCESS_KEY_ID)
    fake.server.start()
    yield fake
    fake.server.stop()


def simulate() -> tuple[list[bytes], str]:
    """The scenario's lines in arrival order, and the campaign whose readers complain."""
    start = to_seconds(DEFAULT_START)
    simulation = Simulation("complaint_spike", Config(seed=1, start=start, days=3, scale=0.03))
    lines = [line.rstrip(b"\n") for line in simulation.lines()]
    (spike,) = simulation.truth()["incidents"]
    campaign = next(s["key"] for s in spike["scopes"] if s["dimension"] == "campaign")
    return lines, campaign


def build_services(tmp_path: Path, clock: FakeClock, ses: FakeSesV2) -> Services:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "spam_complaints.yaml").write_text(PLAYBOOK)
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path / 'e2e.db'}",
            "sqlite_synchronous": "NORMAL",
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            "playbooks_dir": str(folder),
            "aws_region": "us-east-1",
            "aws_endpoint_url": ses.server.url,
            "action_timeout_seconds": 2.0,
        }
    )
    services = build(settings, clock=clock)
    assert services.auth is not None
    services.auth.users.create("test", COMMANDER, Role.RESPONDER, "correct horse battery staple")
    return services


def the_incident(services: Services, campaign: str) -> Incident | None:
    """The spam-complaints incident about the campaign, once grouping has put it there."""
    assert services.incidents is not None
    for incident in services.incidents.list_incidents(types=["spam_complaints"]):
        if (incident.scope.dimension, incident.scope.key) == ("campaign", campaign):
            return incident
    return None


def command(services: Services, incident: Incident) -> int:
    """What the commander does on each look: take command, approve what waits. Returns approvals."""
    assert services.incidents is not None and services.containment is not None
    if "incident_commander" not in incident.roles:
        services.incidents.assign(incident.id, "incident_commander", COMMANDER, Actor("lead"))
    desk = services.containment.desk
    approved = 0
    for approval in desk.pending(incident.id):
        outcome = desk.approve(approval.id, Authority(COMMANDER), "complaints well above 0.3%")
        assert outcome.run.state == "succeeded", outcome.run.error
        approved += 1
    return approved


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_complaint_spike_is_contained_then_recovers_into_a_warm_up(
    tmp_path: Path, aws_env: None, ses: FakeSesV2
) -> None:
    lines, campaign = simulate()
    ses.state.config_sets[campaign] = True
    clock = FakeClock(first_time(lines))
    services = build_services(tmp_path, clock, ses)
    try:
        assert services.detection is not None and services.incidents is not None
        ticking = cast(DetectionEngine, TickTogether(services.detection, services.incidents))
        replayer = Replayer(services.ingest, clock, ticking, source="e2e")
        approvals = 0
        for start in range(0, len(lines), CHUNK):
            replayer.run(lines[start : start + CHUNK])
            incident = the_incident(services, campaign)
            if incident is not None and incident.is_active:
                approvals += command(services, incident)
        assert approvals >= 2  # the SES configuration set and the gate
        check(services, campaign, lines, ses)
    finally:
        services.close()


def check(services: Services, campaign: str, lines: list[bytes], ses: FakeSesV2) -> None:
    """Everything the issue's Done-when asks for, on the timeline and at the providers."""
    assert services.incidents is not None and services.containment is not None
    incident = the_incident(services, campaign)
    assert incident is not None, "no incident about the campaign"
    desk, gate = services.containment.desk, services.containment.gate
    approvals = desk.store.listed(incident_id=incident.id)

    suppress = [a for a in approvals if a.action == "mailwarden.suppress"]
    assert suppress and all(a.rule == "low_risk" and a.decided_by == "mailwarden" for a in suppress)
    complainer = next(
        event["recipient"]
        for event in map(orjson.loads, lines)
        if event["type"] == "complained" and event["campaign"] == campaign
    )
    assert gate.check(GateQuery(recipient=complainer)).decision == "deny"

    (ses_pause,) = [a for a in approvals if a.action.startswith("ses.") and a.state == "approved"]
    assert ses_pause.decided_by == COMMANDER
    assert ses.state.config_sets[campaign] is False  # paused at SES
    run = desk.runner.get(ses_pause.key)
    assert run is not None and run.state == "succeeded" and run.approved_by == COMMANDER

    recovered = services.incidents.get(incident.id)
    assert recovered.recovered_at is not None and recovered.state in ("recovered", "closed")
    (plan,) = [
        p for p in services.containment.parts.warmups.listed() if p.incident_id == incident.id
    ]
    assert plan.target == f"campaign={campaign}"
    throttle = gate.check(GateQuery(campaign=campaign, mailbox_provider="gmail"))
    assert throttle.decision in ("throttle", "allow")  # allow once the ramp has finished
    at_start = plan.rate_per_minute("gmail", plan.started_at)
    assert at_start is not None and at_start >= 1

    entries = services.incidents.timeline(incident.id)
    kinds = [entry.kind for entry in entries]
    for kind in (
        "action_auto_approved",
        "action_approval_requested",
        "action_approved",
        "action_execute",
        "transitioned",
        "action_undo",
        "warmup_started",
        "recovery_pending_undo",
    ):
        assert kind in kinds, f"{kind} missing from the timeline"
    ses_runs = [
        e for e in entries if e.kind == "action_execute" and e.data.get("provider") == "ses"
    ]
    assert ses_runs and ses_runs[0].data["approved_by"] == COMMANDER
    audit = services.auth.audit.entries(limit=1000, actor=COMMANDER)  # type: ignore[union-attr]
    assert {"action.approved", "action.execute"} <= {entry.action for entry in audit}
