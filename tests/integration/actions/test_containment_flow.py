"""Playbook containment through the real services: auto-runs, approvals, the emergency rule,
recovery warm-up and reminders, each on the incident's timeline and in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.integration.actions.containment_helpers import (
    CAMPAIGN,
    assign_commander,
    complaint_finding,
    kinds,
    make_services,
    open_incident,
    parts,
    store_complaints,
)

from mailwarden.actions.approvals import Authority, NotAllowedError
from mailwarden.actions.gate import GateQuery
from mailwarden.app import Services
from mailwarden.clock import FakeClock
from mailwarden.detect.model import Scope
from mailwarden.incidents.model import Actor

PLAYBOOK = """\
format: 1
type: spam_complaints
version: 7
title: Complaint spike (team)
steps:
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
  - id: pause_campaign
    title: Pause the campaign at the gate
    phase: containment
    role: deliverability_lead
    due: 30m after detected
    mandatory: true
    action:
      name: mailwarden.pause_sending
      params:
        scope: "{scope_dimension}"
        key: "{scope_key}"
        reason: "complaint spike {incident_id}"
        source_incident: "{incident_id}"
"""


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "spam_complaints.yaml").write_text(PLAYBOOK)
    return folder


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock, playbooks: Path) -> Iterator[Services]:
    built = make_services(sqlite_url, clock, playbooks_dir=str(playbooks))
    yield built
    built.close()


def complainers(count: int) -> list[str]:
    return [f"reader{n}@example.com" for n in range(count)]


def test_the_playbook_suppresses_complainers_at_once_and_waits_to_pause(
    services: Services, clock: FakeClock
) -> None:
    store_complaints(services, complainers(3), clock.now() - timedelta(minutes=10))

    incident = open_incident(services, complaint_finding(clock))
    incidents, containment = parts(services)

    approvals = {a.step_id: a for a in containment.desk.store.listed(incident_id=incident.id)}
    assert approvals["suppress_complainers"].state == "approved"
    assert approvals["suppress_complainers"].rule == "low_risk"
    assert approvals["pause_campaign"].state == "pending"
    gate = containment.gate
    assert gate.check(GateQuery(recipient="reader1@example.com")).decision == "deny"
    assert gate.check(GateQuery(campaign=CAMPAIGN)).decision == "allow"
    timeline = kinds(services, incident.id)
    for kind in ("action_plan", "action_auto_approved", "action_execute", "action_verify"):
        assert kind in timeline
    assert "action_approval_requested" in timeline
    tasks = {t.step_id: t for t in services.tasks.tasks(incident.id)}  # type: ignore[union-attr]
    assert tasks["suppress_complainers"].state == "done"
    assert tasks["suppress_complainers"].done_by == "mailwarden"
    assert tasks["pause_campaign"].state == "open"
    assert incidents.get(incident.id).state == "detected"


def test_later_complainers_are_topped_up_on_tick(services: Services, clock: FakeClock) -> None:
    store_complaints(services, complainers(2), clock.now() - timedelta(minutes=10))
    incident = open_incident(services, complaint_finding(clock))
    incidents, containment = parts(services)

    store_complaints(services, ["late@example.com"], clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(minutes=6))
    incidents.tick()

    assert containment.gate.check(GateQuery(recipient="late@example.com")).decision == "deny"
    suppress = [
        a
        for a in containment.desk.store.listed(incident_id=incident.id)
        if a.action.endswith("suppress")
    ]
    assert len(suppress) == 2
    assert suppress[0].params["addresses"] == ["late@example.com"]


def test_only_the_commander_approves_the_pause_and_then_the_gate_denies(
    services: Services, clock: FakeClock
) -> None:
    incident = open_incident(services, complaint_finding(clock))
    assign_commander(services, incident.id, "carol")
    _, containment = parts(services)
    desk = containment.desk
    pending = desk.pending(incident.id)[0]

    with pytest.raises(NotAllowedError):
        desk.approve(pending.id, Authority("dave"), "looks bad")
    outcome = desk.approve(pending.id, Authority("carol"), "complaints at 0.6%")

    assert outcome.run.state == "succeeded" and outcome.run.approved_by == "carol"
    assert containment.gate.check(GateQuery(campaign=CAMPAIGN)).decision == "deny"
    entries = parts(services)[0].timeline(incident.id)
    approved = next(e for e in entries if e.kind == "action_approved")
    assert approved.actor == "carol" and "complaints at 0.6%" in approved.note
    ran = [e for e in entries if e.kind == "action_execute"][-1]
    assert ran.data["approved_by"] == "carol" and ran.data["params"]["key"] == CAMPAIGN
    audit = services.auth.audit.entries(limit=50)  # type: ignore[union-attr]
    actions = {(e.actor, e.action) for e in audit}
    assert ("carol", "action.approved") in actions
    assert ("carol", "action.execute") in actions


def test_the_emergency_rule_is_off_by_default(services: Services, clock: FakeClock) -> None:
    incident = open_incident(
        services, complaint_finding(clock, dimension="overall", key="*", critical=True)
    )

    assert incident.severity == "SEV1"
    _, containment = parts(services)
    assert containment.playbook.emergency == ()
    assert containment.gate.check(GateQuery(campaign="any")).decision == "allow"
    assert all(
        a.rule != "emergency:severe_complaints_pause" for a in containment.desk.store.listed()
    )


def test_the_emergency_rule_when_on_pauses_at_once_and_says_so(
    sqlite_url: str, clock: FakeClock, playbooks: Path
) -> None:
    services = make_services(
        sqlite_url, clock, playbooks_dir=str(playbooks), emergency_containment_enabled=True
    )
    try:
        finding = complaint_finding(clock, dimension="overall", key="*", critical=True)
        incident = open_incident(services, finding)
        _, containment = parts(services)

        assert containment.gate.check(GateQuery(campaign="any")).decision == "deny"
        entries = parts(services)[0].timeline(incident.id)
        auto = [e for e in entries if e.kind == "action_auto_approved" and "emergency" in e.note]
        assert auto and "auto-run by rule emergency:severe_complaints_pause" in auto[0].note
        ran = [e for e in entries if e.kind == "action_execute"]
        assert any(e.actor == "rule:emergency:severe_complaints_pause" for e in ran)
        assert any(e.kind == "action_auto_approved" for e in entries)
    finally:
        services.close()


def test_a_smaller_incident_does_not_trigger_the_emergency_rule(
    sqlite_url: str, clock: FakeClock, playbooks: Path
) -> None:
    services = make_services(
        sqlite_url, clock, playbooks_dir=str(playbooks), emergency_containment_enabled=True
    )
    try:
        incident = open_incident(services, complaint_finding(clock))
        assert incident.severity != "SEV1"
        assert parts(services)[1].gate.check(GateQuery(campaign=CAMPAIGN)).decision == "allow"
    finally:
        services.close()


def test_recovery_resumes_the_gate_pause_through_warm_up(
    services: Services, clock: FakeClock
) -> None:
    incident = open_incident(services, complaint_finding(clock))
    incidents, containment = parts(services)
    desk = containment.desk
    desk.approve(desk.pending(incident.id)[0].id, Authority("erin", commander_role=True))
    assert containment.gate.check(GateQuery(campaign=CAMPAIGN)).decision == "deny"

    incidents.transition(incident.id, "recovered", Actor("carol"), "complaints back to normal")
    incidents.tick()

    decision = containment.gate.check(GateQuery(campaign=CAMPAIGN, mailbox_provider="gmail"))
    assert decision.decision == "throttle" and decision.rate_per_minute == 10
    timeline = kinds(services, incident.id)
    assert "action_undo" in timeline and "warmup_started" in timeline
    plan = containment.parts.warmups.listed()[0]
    assert plan.incident_id == incident.id and plan.basis.startswith("configured")


def test_reminders_reach_the_timeline_and_the_outbox(services: Services, clock: FakeClock) -> None:
    incidents, containment = parts(services)
    incident = incidents.open_manual(
        incident_type="spam_complaints", title="complaints from a partner list", actor=Actor("dave")
    )  # opened by a person: it never recovers by itself, so the pause stays
    containment.playbook.drain()
    desk = containment.desk
    desk.approve(desk.pending(incident.id)[0].id, Authority("erin", commander_role=True))

    clock.advance(timedelta(hours=25))
    incidents.tick()

    reminders = [e for e in incidents.timeline(incident.id) if e.kind == "reminder"]
    assert reminders and "has been on for 25 h" in reminders[0].note
    assert any(m.topic.startswith("reminder:pause:") for m in incidents.outbox())
    incidents.tick()
    again = [e for e in incidents.timeline(incident.id) if e.kind == "reminder"]
    assert len(again) == len(reminders)


def test_a_playbook_step_may_make_even_suppression_wait_for_the_commander(
    sqlite_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    folder = tmp_path / "careful"
    folder.mkdir()
    careful = PLAYBOOK.replace(
        "      name: mailwarden.suppress\n",
        "      name: mailwarden.suppress\n      approval: commander\n",
    )
    (folder / "spam_complaints.yaml").write_text(careful)
    services = make_services(sqlite_url, clock, playbooks_dir=str(folder))
    try:
        store_complaints(services, complainers(2), clock.now() - timedelta(minutes=5))
        incident = open_incident(services, complaint_finding(clock))
        _, containment = parts(services)

        steps = {a.step_id: a.state for a in containment.desk.pending(incident.id)}
        assert steps == {"suppress_complainers": "pending", "pause_campaign": "pending"}
        gate = containment.gate
        assert gate.check(GateQuery(recipient="reader0@example.com")).decision == "allow"
    finally:
        services.close()


def test_a_request_superseded_by_a_wider_scope_is_withdrawn(
    services: Services, clock: FakeClock
) -> None:
    incident = open_incident(services, complaint_finding(clock))
    incidents, containment = parts(services)
    first = containment.desk.pending(incident.id)[0]
    stored = incidents.get(incident.id)
    stored.scope = Scope("sending_domain", "news.example.org")  # as grouping widens it
    incidents._repo.save([stored])  # stand-in for triage widening the scope

    containment.playbook.contain(incident.id)

    (pending,) = containment.desk.pending(incident.id)
    assert (
        pending.params["scope"] == "sending_domain" and pending.params["key"] == "news.example.org"
    )
    withdrawn = containment.desk.get(first.id)
    assert withdrawn.state == "rejected" and withdrawn.decided_by == "mailwarden"
    assert withdrawn.reason.startswith("superseded")
    assert "action_withdrawn" in kinds(services, incident.id)
