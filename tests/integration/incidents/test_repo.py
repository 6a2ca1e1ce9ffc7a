"""The SQL incident repository on SQLite and PostgreSQL: round trips, versions, append-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from mailwarden.detect.model import Scope
from mailwarden.incidents.model import (
    SYSTEM_ACTOR,
    Actor,
    ConflictError,
    FindingLink,
    Incident,
    RoleAssignment,
)
from mailwarden.incidents.records import (
    Attachment,
    Matcher,
    NewAttachment,
    OutboxMessage,
    Silence,
)
from mailwarden.store import migrate
from mailwarden.store.incidents_repo import SqlIncidentRepository

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
IP = Scope("sending_ip", "203.0.113.5")


def _incident() -> Incident:
    incident = Incident(
        type="blocklisting",
        severity="SEV2",
        title="Blocklisting on sending_ip 203.0.113.5",
        scope=IP,
        started_at=T0 - timedelta(minutes=15),
        detected_at=T0,
        lineage=frozenset({IP}),
        last_signal_at=T0,
    )
    incident.attach(
        FindingLink(
            kind="block_rate",
            scope=IP,
            relation="trigger",
            finding_severity="critical",
            observed=0.4,
            expected=0.01,
            window_start=T0 - timedelta(minutes=15),
            first_seen=T0,
            last_seen=T0,
            attached_at=T0,
            evidence={"dominant_reason": "blocked", "by_campaign": {"bf": 3}},
            roots=frozenset({IP}),
            finding_id=7,
        )
    )
    incident.record("opened", SYSTEM_ACTOR, T0, "opened from block_rate", {"finding_id": 7})
    return incident


def test_an_incident_comes_back_as_it_was_saved(engine: Engine) -> None:
    repo = SqlIncidentRepository(engine)
    incident = _incident()
    incident.assign(RoleAssignment("incident_commander", "kim", T0, "alex"))
    meta = Attachment("invoice.eml", "message/rfc822", "ab" * 32, 3, T0, "alex")
    incident.new_attachments.append(NewAttachment(meta, b"abc"))
    repo.save([incident])
    assert incident.id == "INC-1" and incident.version == 1 and incident.pending == []
    loaded = repo.get(1)
    assert loaded is not None
    assert (loaded.scope, loaded.lineage, loaded.detected_at) == (IP, frozenset({IP}), T0)
    assert loaded.links == incident.links
    assert loaded.roles["incident_commander"].person == "kim"
    (entry,) = repo.timeline(1)
    assert entry.kind == "opened" and entry.data == {"finding_id": 7}
    (kept,) = repo.attachments(1)
    assert repo.attachment_content(1, kept.pk or 0) == (kept, b"abc")
    assert [i.id for i in repo.find(states=["detected"], types=["blocklisting"])] == ["INC-1"]
    assert repo.find(states=["closed"]) == []


def test_changes_append_to_the_timeline_and_bump_the_version(engine: Engine) -> None:
    repo = SqlIncidentRepository(engine)
    repo.save([_incident()])
    loaded = repo.get(1)
    assert loaded is not None
    loaded.transition("acknowledged", Actor("alex"), T0 + timedelta(minutes=4), "on it")
    repo.save([loaded])
    again = repo.get(1)
    assert again is not None and again.version == 2 and again.acknowledged_at is not None
    assert [e.kind for e in repo.timeline(1)] == ["opened", "transitioned"]


def test_a_stale_copy_cannot_overwrite_a_newer_one(engine: Engine) -> None:
    repo = SqlIncidentRepository(engine)
    repo.save([_incident()])
    first, second = repo.get(1), repo.get(1)
    assert first is not None and second is not None
    first.transition("acknowledged", Actor("alex"), T0)
    repo.save([first])
    second.transition("contained", Actor("sam"), T0)
    with pytest.raises(ConflictError):
        repo.save([second])
    assert [e.kind for e in repo.timeline(1)] == ["opened", "transitioned"]
    assert second.pending, "a failed save keeps the pending changes"


def test_the_database_refuses_to_edit_or_delete_timeline_entries(engine: Engine) -> None:
    SqlIncidentRepository(engine).save([_incident()])
    for statement in (
        "UPDATE incident_timeline SET note = 'rewritten'",
        "DELETE FROM incident_timeline",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert SqlIncidentRepository(engine).timeline(1)[0].note == "opened from block_rate"


def test_silences_and_outbox_messages_round_trip(engine: Engine) -> None:
    repo = SqlIncidentRepository(engine)
    silence = Silence(
        owner="sam",
        reason="warm-up",
        matcher=Matcher(kind="block_rate", key="203.0.113.*"),
        starts_at=T0,
        expires_at=T0 + timedelta(hours=2),
        created_by="alex",
        remind_before=timedelta(minutes=30),
    )
    message = OutboxMessage("email", "sam", "Silence SIL-1 expires", "body", T0, topic="x")
    repo.save([], silences=[silence], outbox=[message])
    assert silence.id == "SIL-1"
    assert repo.silences(now=T0) == [silence]
    assert repo.silences(now=T0 + timedelta(hours=3)) == []
    assert len(repo.silences(now=T0 + timedelta(hours=3), include_expired=True)) == 1
    silence.expiry_notified_at = T0
    repo.save([], silences=[silence])
    assert repo.silences_to_notify() == []
    (queued,) = repo.outbox()
    assert queued.subject == "Silence SIL-1 expires" and queued.sent_at is None and queued.pk


def test_the_incident_migration_goes_down_and_up_again(engine: Engine) -> None:
    assert {"incidents", "incident_timeline", "silences"} <= set(inspect(engine).get_table_names())
    migrate.downgrade(engine, "0002")
    assert "incidents" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    SqlIncidentRepository(engine).save([_incident()])
