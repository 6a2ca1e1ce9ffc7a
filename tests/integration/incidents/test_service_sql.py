"""The incident service over the SQL repository on SQLite and PostgreSQL, end to end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from tests.unit.incidents.builders import ALEX, T0, at, finding, kinds

from mailwarden.clock import FakeClock
from mailwarden.detect.model import Scope
from mailwarden.events.model import Bounce, Event
from mailwarden.incidents.noise import NoisePolicy
from mailwarden.incidents.records import Matcher
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.severity import load_severity_rules
from mailwarden.store.events_repo import EventStore, RawPayload
from mailwarden.store.incidents_repo import EventSamples, SqlIncidentRepository

IP = "203.0.113.5"
SPAMHAUS = ["550 5.7.1 blocked using Spamhaus"]


def _service(engine: Engine, clock: FakeClock) -> IncidentService:
    return IncidentService(
        SqlIncidentRepository(engine),
        clock,
        load_severity_rules(),
        policy=NoisePolicy(),
        samples=EventSamples(engine),
    )


def test_a_blocklisted_ip_is_one_incident_that_recovers_after_the_hold(engine: Engine) -> None:
    clock = FakeClock(T0)
    service = _service(engine, clock)
    for minute, campaign in enumerate(["bf", "cm", "xmas"]):
        service.on_findings([finding("hard_bounce_rate", "campaign", campaign, minute=minute,
                                     dominant_sending_ip=IP, finding_id=minute + 1)])  # fmt: skip
    listed = finding("block_rate", "sending_ip", IP, minute=3, sample_diagnostics=SPAMHAUS,
                     finding_id=4)  # fmt: skip
    service.on_findings([listed])
    (incident,) = service.list_incidents()
    assert (incident.type, incident.scope) == ("blocklisting", Scope("sending_ip", IP))
    assert incident.affected.campaigns == 3
    for number, campaign in enumerate(["bf", "cm", "xmas"], start=1):
        closed = finding("hard_bounce_rate", "campaign", campaign, minute=5, finding_id=number,
                         status="closed", closed_minute=20)  # fmt: skip
        service.on_findings([closed])
    service.on_findings([finding("block_rate", "sending_ip", IP, minute=5, finding_id=4,
                                 status="closed", closed_minute=20)])  # fmt: skip
    for minute in range(20, 40):
        service.tick(at(minute))
    recovered = service.get(incident.id)
    assert recovered.state == "recovered" and recovered.recovered_at == at(20)
    assert kinds(service.timeline(incident.id)) == [
        "opened",
        "grouped",
        "grouped",
        "grouped",
        "severity_changed",
        "hysteresis",
        "transitioned",
    ]


def test_silence_reminders_are_queued_once_in_the_outbox(engine: Engine) -> None:
    clock = FakeClock(T0)
    service = _service(engine, clock)
    silence = service.silences.add(owner="sam@example.org", reason="warm-up", actor=ALEX,
                                   matcher=Matcher(kind="block_rate"),
                                   duration=timedelta(minutes=90),
                                   remind_before=timedelta(minutes=30))  # fmt: skip
    assert service.on_findings([finding("block_rate", "sending_ip", IP)]) == ["silenced"]
    for minute in range(0, 120):
        service.tick(at(minute))
    assert [(m.subject, m.created_at) for m in service.outbox()] == [
        (f"Silence {silence.id} expires in 30 min", at(60)),
        (f"Silence {silence.id} has expired", at(90)),
    ]
    assert service.silences.list_silences(include_expired=True)[0].matched_count == 1


def test_sample_events_tell_which_ip_a_campaign_finding_is_about(engine: Engine) -> None:
    store = EventStore(engine)
    bounces = [
        Event(id=f"e{n}-{campaign}", type="bounced", occurred_at=at(-5), provider="sendgrid",
              campaign=campaign, sending_ip=IP, bounce=Bounce("hard", "userunknown"),
              mailbox_provider=("gmail", "yahoo")[n % 2])
        for campaign in ("bf", "cm")
        for n in range(5)
    ]  # fmt: skip
    raw = RawPayload("sendgrid", "test", at(-5), {}, b"[]", verified=True)
    store.record(raw, bounces, "parsed")
    service = _service(engine, FakeClock(T0))
    for campaign in ("bf", "cm"):
        found = finding("hard_bounce_rate", "campaign", campaign)
        found.sample_event_ids = [f"e{n}-{campaign}" for n in range(5)]
        service.on_findings([found])
    (incident,) = service.list_incidents()
    assert incident.scope == Scope("sending_ip", IP)
    link = incident.links[("hard_bounce_rate", Scope("campaign", "cm"))]
    assert link.evidence["breakdown"]["sending_ip"] == {IP: 5}
