"""What people do: report incidents with evidence, take roles, note, merge; others observe."""

from __future__ import annotations

import hashlib

import pytest
from tests.unit.incidents.builders import ALEX, at, finding, kinds, make_service

from mailwarden.clock import FakeClock
from mailwarden.detect.model import Scope
from mailwarden.incidents.desk import BadInputError, UnknownIncidentError
from mailwarden.incidents.model import Actor
from mailwarden.incidents.ports import IncidentEvent
from mailwarden.incidents.service import IncidentService

MAIL = b"From: billing@examp1e.org\r\nSubject: invoice\r\n\r\npay here"


def test_a_reported_phishing_mail_opens_an_incident_with_its_evidence(
    service: IncidentService,
) -> None:
    incident = service.open_manual(
        incident_type="phishing",
        title="Customer forwarded a spoofed invoice",
        actor=ALEX,
        description="DMARC fail, lookalike domain",
        attachments=[("../../invoice.eml", "message/rfc822", MAIL)],
    )
    assert (incident.id, incident.severity, incident.origin) == ("INC-1", "SEV2", "manual")
    (kept,) = service.attachments(incident.id)
    assert kept.filename == "invoice.eml" and kept.size == len(MAIL)
    assert kept.sha256 == hashlib.sha256(MAIL).hexdigest()
    assert service.attachment(incident.id, kept.pk or 0)[1] == MAIL
    assert kinds(service.timeline(incident.id)) == ["opened", "attachment_added"]
    assert "reported by alex: DMARC fail" in service.timeline(incident.id)[0].note


def test_attachments_over_the_limit_are_refused(clock: FakeClock) -> None:
    service, _repo = make_service(clock)
    service.max_attachment_bytes = 10
    ref = service.open_manual(incident_type="other", title="x", actor=ALEX).id
    with pytest.raises(BadInputError, match="limit is 10"):
        service.attach_evidence(ref, "big.bin", "", b"x" * 11, ALEX)
    assert kinds(service.timeline(ref)) == ["opened"]


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"incident_type": "outage"}, "type 'outage'"),
        ({"severity": "SEV0"}, "severity 'SEV0'"),
        ({"title": "  "}, "needs a title"),
        ({"scope": Scope("planet", "earth")}, "scope dimension"),
        ({"started_at": at(60)}, "in the future"),
    ],
)
def test_a_report_that_makes_no_sense_says_what_was_wrong(
    service: IncidentService, fields: dict[str, object], complaint: str
) -> None:
    report: dict[str, object] = {"incident_type": "phishing", "title": "t", "actor": ALEX}
    with pytest.raises(BadInputError, match=complaint):
        service.open_manual(**{**report, **fields})  # type: ignore[arg-type]


def test_roles_are_recorded_and_replaced_on_the_timeline(service: IncidentService) -> None:
    ref = service.open_manual(incident_type="data_breach", title="export", actor=ALEX).id
    service.assign(ref, "incident_commander", "kim", ALEX)
    service.assign(ref, "incident_commander", "lee", ALEX)
    service.assign(ref, "legal_liaison", "max", ALEX)
    incident = service.get(ref)
    assert {r: a.person for r, a in incident.roles.items()} == {
        "incident_commander": "lee",
        "legal_liaison": "max",
    }
    assert service.timeline(ref)[2].data == {
        "role": "incident_commander",
        "person": "lee",
        "previous": "kim",
    }
    with pytest.raises(BadInputError, match="neither one of"):
        service.assign(ref, "Chief Panic Officer", "x", ALEX)


def test_a_role_taken_away_is_empty_and_the_timeline_says_who_held_it(
    service: IncidentService,
) -> None:
    ref = service.open_manual(incident_type="data_breach", title="export", actor=ALEX).id
    service.assign(ref, "scribe", "kim", ALEX)
    service.unassign(ref, "scribe", ALEX, "kim went off shift")
    assert service.get(ref).roles == {}
    entry = service.timeline(ref)[-1]
    assert (entry.kind, entry.data) == ("role_unassigned", {"role": "scribe", "previous": "kim"})
    assert entry.note == "kim is no longer scribe: kim went off shift"
    with pytest.raises(BadInputError, match="nobody holds scribe"):
        service.unassign(ref, "scribe", ALEX)


def test_a_person_changes_the_severity_with_a_reason_on_the_timeline(
    service: IncidentService,
) -> None:
    ref = service.open_manual(incident_type="phishing", title="spoof", actor=ALEX).id
    assert service.set_severity(ref, "SEV1", ALEX, "customers are paying the fake invoices")
    entry = service.timeline(ref)[-1]
    assert (entry.kind, entry.actor, entry.data) == (
        "severity_changed",
        "alex",
        {"from": "SEV2", "to": "SEV1", "rule": "manual"},
    )
    assert "customers are paying" in entry.note and service.get(ref).severity == "SEV1"
    for level, reason, complaint in (("SEV0", "x", "not one of"), ("SEV3", " ", "a reason"),
                                     ("SEV1", "again", "SEV1 already")):  # fmt: skip
        with pytest.raises(BadInputError, match=complaint):
            service.set_severity(ref, level, ALEX, reason)
    assert len(service.timeline(ref)) == 2


def test_a_severity_lowered_by_hand_stays_until_a_finding_gets_worse(
    service: IncidentService, clock: FakeClock
) -> None:
    service.on_findings([finding("block_rate", "mailbox_provider", "gmail", finding_id=1)])
    ref = service.list_incidents()[0].id
    assert service.get(ref).severity == "SEV2"
    service.set_severity(ref, "SEV4", ALEX, "warm-up traffic only; Gmail is fine")
    clock.set(at(20))
    same = finding("block_rate", "mailbox_provider", "gmail", minute=20, finding_id=1)
    assert service.on_findings([same]) == ["updated"]
    assert service.get(ref).severity == "SEV4"
    clock.set(at(25))
    worse = finding("policy_threshold", "mailbox_provider", "gmail", minute=25,
                    severity="critical")  # fmt: skip
    service.on_findings([worse])
    assert service.get(ref).severity == "SEV2"
    assert kinds(service.timeline(ref))[-2:] == ["dedup", "severity_changed"]


def test_notes_and_entries_from_other_modules_join_the_timeline(
    service: IncidentService,
) -> None:
    ref = service.open_manual(incident_type="other", title="x", actor=ALEX).id
    service.add_note(ref, "called the ESP", ALEX)
    service.record(
        ref,
        "task_created",
        "suppress complainers",
        Actor("playbooks", "system"),
        data={"task": 7},
        source="playbooks",
    )
    entries = service.timeline(ref)
    assert [(e.kind, e.source) for e in entries[1:]] == [
        ("note", "incidents"),
        ("task_created", "playbooks"),
    ]


def test_merging_keeps_both_histories_and_moves_the_findings(service: IncidentService) -> None:
    service.on_findings([finding("complaint_rate", "campaign", "bf")])
    service.on_findings([finding("complaint_rate", "campaign", "xmas", minute=90)])
    service.add_note("INC-1", "same list import", ALEX)
    target = service.merge("INC-1", "INC-2", ALEX, "one root cause")
    merged = service.get("INC-1")
    assert merged.state == "merged" and merged.merged_into == target.pk
    assert kinds(service.timeline("INC-1")) == ["opened", "note", "transitioned"]
    assert kinds(service.timeline("INC-2"))[-1] == "absorbed"
    assert service.get("INC-2").finding_kinds() == ["complaint_rate"]
    assert len(service.get("INC-2").links) == 2


def test_unknown_and_malformed_ids_are_told_apart(service: IncidentService) -> None:
    with pytest.raises(UnknownIncidentError, match="INC-7"):
        service.get("INC-7")
    with pytest.raises(BadInputError, match="not an incident id"):
        service.get("seven")


def _broken(event: IncidentEvent) -> None:
    raise RuntimeError(f"cannot handle {event.name}")


def test_observers_hear_every_change_as_a_domain_event(service: IncidentService) -> None:
    heard: list[IncidentEvent] = []
    service.observe(heard.append)
    service.observe(_broken)  # a broken observer does not break the change
    service.on_findings([finding("hard_bounce_rate", "campaign", "bf")])
    service.acknowledge("INC-1", ALEX)
    assert [e.name for e in heard] == ["incident.opened", "incident.transitioned"]
    assert heard[1].data["to"] == "acknowledged" and heard[1].incident_id == "INC-1"
