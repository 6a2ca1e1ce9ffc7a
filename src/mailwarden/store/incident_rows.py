"""Convert incidents, links, timeline entries, silences and outbox messages to rows and back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson

from mailwarden.detect.model import Scope
from mailwarden.incidents.model import (
    Affected,
    FindingLink,
    Incident,
    RoleAssignment,
    TimelineEntry,
)
from mailwarden.incidents.records import Attachment, Matcher, OutboxMessage, Silence
from mailwarden.store.rows import from_ms, to_ms

Row = Mapping[Any, Any]


def dumps(value: Any) -> str:
    """JSON text for a column; unknown types become strings."""
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def ms(when: datetime | None) -> int | None:
    """Epoch milliseconds, or None."""
    return to_ms(when) if when is not None else None


def at(value: int | None) -> datetime | None:
    """A datetime from epoch milliseconds, or None."""
    return from_ms(value) if value is not None else None


def scopes_text(scopes: Iterable[Scope]) -> str:
    """A set of scopes as JSON [[dimension, key], ...], sorted."""
    return dumps(sorted([scope.dimension, scope.key] for scope in scopes))


def scopes_of(text: str) -> frozenset[Scope]:
    """Scopes back from scopes_text."""
    return frozenset(Scope(str(dim), str(key)) for dim, key in orjson.loads(text))


def incident_values(incident: Incident) -> dict[str, Any]:
    """The incidents row of an incident (without id and version)."""
    affected = incident.affected
    return {
        "type": incident.type,
        "severity": incident.severity,
        "title": incident.title,
        "description": incident.description,
        "state": incident.state,
        "origin": incident.origin,
        "scope_dimension": incident.scope.dimension,
        "scope_key": incident.scope.key,
        "lineage": scopes_text(incident.lineage),
        "started_ms": to_ms(incident.started_at),
        "detected_ms": to_ms(incident.detected_at),
        "acknowledged_ms": ms(incident.acknowledged_at),
        "contained_ms": ms(incident.contained_at),
        "eradicated_ms": ms(incident.eradicated_at),
        "recovered_ms": ms(incident.recovered_at),
        "closed_ms": ms(incident.closed_at),
        "reopened_ms": ms(incident.reopened_at),
        "reopen_count": incident.reopen_count,
        "merged_into": incident.merged_into,
        "affected_messages": affected.messages,
        "affected_recipients": affected.recipients,
        "affected_campaigns": affected.campaigns,
        "affected_basis": affected.basis,
        "last_signal_ms": ms(incident.last_signal_at),
        "hold_since_ms": ms(incident.hold_since),
        "updated_ms": to_ms(incident.updated_at or incident.detected_at),
    }


def incident_of(row: Row) -> Incident:
    """An incident (without links and roles) from its row."""
    return Incident(
        pk=row["id"],
        type=row["type"],
        severity=row["severity"],
        title=row["title"],
        description=row["description"],
        state=row["state"],
        origin=row["origin"],
        scope=Scope(row["scope_dimension"], row["scope_key"]),
        lineage=scopes_of(row["lineage"]),
        started_at=from_ms(row["started_ms"]),
        detected_at=from_ms(row["detected_ms"]),
        acknowledged_at=at(row["acknowledged_ms"]),
        contained_at=at(row["contained_ms"]),
        eradicated_at=at(row["eradicated_ms"]),
        recovered_at=at(row["recovered_ms"]),
        closed_at=at(row["closed_ms"]),
        reopened_at=at(row["reopened_ms"]),
        reopen_count=row["reopen_count"],
        merged_into=row["merged_into"],
        affected=Affected(
            row["affected_messages"],
            row["affected_recipients"],
            row["affected_campaigns"],
            row["affected_basis"],
        ),
        last_signal_at=at(row["last_signal_ms"]),
        hold_since=at(row["hold_since_ms"]),
        updated_at=from_ms(row["updated_ms"]),
        version=row["version"],
    )


def entry_values(incident_pk: int, entry: TimelineEntry) -> dict[str, Any]:
    """The incident_timeline row of an entry."""
    return {
        "incident_id": incident_pk,
        "at_ms": to_ms(entry.at),
        "kind": entry.kind,
        "actor": entry.actor,
        "actor_kind": entry.actor_kind,
        "source": entry.source,
        "note": entry.note,
        "data": dumps(entry.data),
    }


def entry_of(row: Row) -> TimelineEntry:
    """A timeline entry from its row."""
    return TimelineEntry(
        at=from_ms(row["at_ms"]),
        kind=row["kind"],
        actor=row["actor"],
        actor_kind=row["actor_kind"],
        note=row["note"],
        data=orjson.loads(row["data"]),
        source=row["source"],
        id=row["id"],
    )


def link_values(incident_pk: int, link: FindingLink) -> dict[str, Any]:
    """The incident_findings row of a link."""
    return {
        "incident_id": incident_pk,
        "kind": link.kind,
        "dimension": link.scope.dimension,
        "key": link.scope.key,
        "relation": link.relation,
        "finding_id": link.finding_id,
        "finding_count": link.finding_count,
        "finding_severity": link.finding_severity,
        "severity": link.severity,
        "observed": link.observed,
        "expected": link.expected,
        "window_start_ms": to_ms(link.window_start),
        "first_seen_ms": to_ms(link.first_seen),
        "last_seen_ms": to_ms(link.last_seen),
        "cleared_ms": ms(link.cleared_at),
        "attached_ms": to_ms(link.attached_at),
        "evidence": dumps(link.evidence),
        "roots": scopes_text(link.roots),
    }


def link_of(row: Row) -> FindingLink:
    """A finding link from its row."""
    return FindingLink(
        kind=row["kind"],
        scope=Scope(row["dimension"], row["key"]),
        relation=row["relation"],
        finding_severity=row["finding_severity"],
        observed=row["observed"],
        expected=row["expected"],
        window_start=from_ms(row["window_start_ms"]),
        first_seen=from_ms(row["first_seen_ms"]),
        last_seen=from_ms(row["last_seen_ms"]),
        attached_at=from_ms(row["attached_ms"]),
        evidence=orjson.loads(row["evidence"]),
        roots=scopes_of(row["roots"]),
        finding_id=row["finding_id"],
        finding_count=row["finding_count"],
        cleared_at=at(row["cleared_ms"]),
        severity=row["severity"],
    )


def role_values(incident_pk: int, role: RoleAssignment) -> dict[str, Any]:
    """The incident_roles row of an assignment."""
    return {
        "incident_id": incident_pk,
        "role": role.role,
        "person": role.person,
        "assigned_ms": to_ms(role.assigned_at),
        "assigned_by": role.assigned_by,
    }


def role_of(row: Row) -> RoleAssignment:
    """A role assignment from its row."""
    return RoleAssignment(
        row["role"], row["person"], from_ms(row["assigned_ms"]), row["assigned_by"]
    )


def attachment_of(row: Row) -> Attachment:
    """An attachment description from its row."""
    return Attachment(
        filename=row["filename"],
        content_type=row["content_type"],
        sha256=row["sha256"],
        size=row["size_bytes"],
        uploaded_at=from_ms(row["uploaded_ms"]),
        uploaded_by=row["uploaded_by"],
        pk=row["id"],
        incident_pk=row["incident_id"],
    )


def silence_values(silence: Silence) -> dict[str, Any]:
    """The silences row of a silence (without id)."""
    return {
        "owner": silence.owner,
        "reason": silence.reason,
        "kind_pattern": silence.matcher.kind,
        "dimension_pattern": silence.matcher.dimension,
        "key_pattern": silence.matcher.key,
        "type_pattern": silence.matcher.type,
        "starts_ms": to_ms(silence.starts_at),
        "expires_ms": to_ms(silence.expires_at),
        "created_by": silence.created_by,
        "remind_before_s": int(silence.remind_before.total_seconds()),
        "channel": silence.channel,
        "reminded_ms": ms(silence.reminded_at),
        "expiry_notified_ms": ms(silence.expiry_notified_at),
        "expired_by": silence.expired_by,
        "matched_count": silence.matched_count,
        "last_matched_ms": ms(silence.last_matched_at),
    }


def silence_of(row: Row) -> Silence:
    """A silence from its row."""
    return Silence(
        pk=row["id"],
        owner=row["owner"],
        reason=row["reason"],
        matcher=Matcher(
            row["kind_pattern"], row["dimension_pattern"], row["key_pattern"], row["type_pattern"]
        ),
        starts_at=from_ms(row["starts_ms"]),
        expires_at=from_ms(row["expires_ms"]),
        created_by=row["created_by"],
        remind_before=timedelta(seconds=row["remind_before_s"]),
        channel=row["channel"],
        reminded_at=at(row["reminded_ms"]),
        expiry_notified_at=at(row["expiry_notified_ms"]),
        expired_by=row["expired_by"],
        matched_count=row["matched_count"],
        last_matched_at=at(row["last_matched_ms"]),
    )


def outbox_values(message: OutboxMessage) -> dict[str, Any]:
    """The notification_outbox row of a message."""
    return {
        "channel": message.channel,
        "recipient": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "topic": message.topic,
        "created_ms": to_ms(message.created_at),
        "sent_ms": ms(message.sent_at),
    }


def outbox_of(row: Row) -> OutboxMessage:
    """An outbox message from its row."""
    return OutboxMessage(
        channel=row["channel"],
        recipient=row["recipient"],
        subject=row["subject"],
        body=row["body"],
        created_at=from_ms(row["created_ms"]),
        topic=row["topic"],
        sent_at=at(row["sent_ms"]),
        pk=row["id"],
    )
