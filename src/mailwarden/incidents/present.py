"""JSON shapes of incidents and friends, shared by the API and the CLI (no logic of their own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailwarden.events.model import format_time
from mailwarden.incidents.model import (
    FindingLink,
    Incident,
    TimelineEntry,
    allowed_targets,
)
from mailwarden.incidents.records import Attachment, OutboxMessage, Silence


def _time(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None


def incident_summary(incident: Incident) -> dict[str, Any]:
    """The one-line shape of `incidents list --json` and GET /api/incidents."""
    affected = incident.affected
    return {
        "id": incident.id,
        "pk": incident.pk,
        "type": incident.type,
        "severity": incident.severity,
        "state": incident.state,
        "title": incident.title,
        "scope": incident.scope.to_dict(),
        "origin": incident.origin,
        "started_at": _time(incident.started_at),
        **{name: _time(value) for name, value in incident.stamps().items()},
        "reopen_count": incident.reopen_count,
        "merged_into": f"INC-{incident.merged_into}" if incident.merged_into else None,
        "finding_kinds": incident.finding_kinds(),
        "affected": {
            "messages": affected.messages,
            "recipients": affected.recipients,
            "campaigns": affected.campaigns,
            "basis": affected.basis,
        },
        "roles": {role: held.person for role, held in sorted(incident.roles.items())},
    }


def incident_detail(
    incident: Incident, timeline: list[TimelineEntry], attachments: list[Attachment]
) -> dict[str, Any]:
    """Everything about one incident: summary, findings, timeline, attachments, next moves."""
    return {
        **incident_summary(incident),
        "description": incident.description,
        "allowed_transitions": allowed_targets(incident.state),
        "findings": [link_dict(link) for link in incident.links.values()],
        "timeline": [entry_dict(entry) for entry in timeline],
        "attachments": [attachment_dict(item) for item in attachments],
    }


def link_dict(link: FindingLink) -> dict[str, Any]:
    """An attached finding."""
    return {
        "kind": link.kind,
        "scope": link.scope.to_dict(),
        "relation": link.relation,
        "finding_id": link.finding_id,
        "finding_count": link.finding_count,
        "finding_severity": link.finding_severity,
        "severity": link.severity,
        "observed": link.observed,
        "expected": link.expected,
        "window_start": _time(link.window_start),
        "first_seen": _time(link.first_seen),
        "last_seen": _time(link.last_seen),
        "cleared_at": _time(link.cleared_at),
        "evidence": link.evidence,
    }


def entry_dict(entry: TimelineEntry) -> dict[str, Any]:
    """A timeline entry."""
    return {
        "at": _time(entry.at),
        "kind": entry.kind,
        "actor": entry.actor,
        "actor_kind": entry.actor_kind,
        "source": entry.source,
        "note": entry.note,
        "data": entry.data,
    }


def attachment_dict(item: Attachment) -> dict[str, Any]:
    """An attachment's description (not its bytes)."""
    return {
        "id": item.pk,
        "filename": item.filename,
        "content_type": item.content_type,
        "sha256": item.sha256,
        "bytes": item.size,
        "uploaded_at": _time(item.uploaded_at),
        "uploaded_by": item.uploaded_by,
    }


def silence_dict(silence: Silence) -> dict[str, Any]:
    """A silence."""
    matcher = silence.matcher
    return {
        "id": silence.id,
        "owner": silence.owner,
        "reason": silence.reason,
        "matcher": {
            "kind": matcher.kind,
            "dimension": matcher.dimension,
            "key": matcher.key,
            "type": matcher.type,
        },
        "starts_at": _time(silence.starts_at),
        "expires_at": _time(silence.expires_at),
        "created_by": silence.created_by,
        "remind_before_minutes": int(silence.remind_before.total_seconds() // 60),
        "channel": silence.channel,
        "reminded_at": _time(silence.reminded_at),
        "expiry_notified_at": _time(silence.expiry_notified_at),
        "expired_by": silence.expired_by,
        "matched_count": silence.matched_count,
        "last_matched_at": _time(silence.last_matched_at),
    }


def outbox_dict(message: OutboxMessage) -> dict[str, Any]:
    """A queued notification."""
    return {
        "id": message.pk,
        "channel": message.channel,
        "recipient": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "topic": message.topic,
        "created_at": _time(message.created_at),
        "sent_at": _time(message.sent_at),
    }
