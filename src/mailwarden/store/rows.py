"""Convert canonical events to table rows and back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from mailwarden.events.model import Bounce, Complaint, Event

EVENT_COLUMNS: Final = (
    "id",
    "type",
    "occurred_ms",
    "provider",
    "message_id",
    "recipient",
    "mailbox_provider",
    "sending_domain",
    "sending_ip",
    "campaign",
    "tags",
    "bounce_class",
    "bounce_reason",
    "smtp_code",
    "status",
    "diagnostic",
    "feedback_type",
    "url",
    "user_agent",
    "actor",
    "source_ip",
    "country",
    "resource",
    "count",
    "extra",
    "raw_id",
    "ingested_ms",
)
_EMPTY_LIST: Final = b"[]"
_EMPTY_DICT: Final = b"{}"


def to_ms(when: datetime) -> int:
    """Milliseconds since the Unix epoch."""
    return int(when.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def event_row(event: Event, raw_id: int | None, ingested_ms: int) -> tuple[Any, ...]:
    """Return the event as a tuple in EVENT_COLUMNS order."""
    bounce = event.bounce
    complaint = event.complaint
    return (
        event.id,
        event.type,
        to_ms(event.occurred_at),
        event.provider,
        event.message_id,
        event.recipient,
        event.mailbox_provider,
        event.sending_domain,
        event.sending_ip,
        event.campaign,
        (orjson.dumps(event.tags) if event.tags else _EMPTY_LIST).decode(),
        bounce.bounce_class if bounce else None,
        bounce.reason if bounce else None,
        bounce.smtp_code if bounce else None,
        bounce.status if bounce else None,
        bounce.diagnostic if bounce else None,
        complaint.feedback_type if complaint else None,
        event.url,
        event.user_agent,
        event.actor,
        event.source_ip,
        event.country,
        event.resource,
        event.count,
        (orjson.dumps(event.extra) if event.extra else _EMPTY_DICT).decode(),
        raw_id if raw_id is not None else event.raw_ref,
        ingested_ms,
    )


def row_event(row: Sequence[Any]) -> Event:
    """Rebuild an Event from a row selected in EVENT_COLUMNS order."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    bounce = None
    if values["bounce_class"] is not None:
        bounce = Bounce(
            values["bounce_class"],
            values["bounce_reason"] or "undefined",
            values["smtp_code"],
            values["status"],
            values["diagnostic"],
        )
    complaint = Complaint(values["feedback_type"]) if values["feedback_type"] else None
    return Event(
        id=values["id"],
        type=values["type"],
        occurred_at=from_ms(values["occurred_ms"]),
        provider=values["provider"],
        message_id=values["message_id"],
        recipient=values["recipient"],
        mailbox_provider=values["mailbox_provider"],
        sending_domain=values["sending_domain"],
        sending_ip=values["sending_ip"],
        campaign=values["campaign"],
        tags=orjson.loads(values["tags"]),
        bounce=bounce,
        complaint=complaint,
        url=values["url"],
        user_agent=values["user_agent"],
        extra=orjson.loads(values["extra"]),
        raw_ref=values["raw_id"],
        actor=values["actor"],
        source_ip=values["source_ip"],
        country=values["country"],
        resource=values["resource"],
        count=values["count"],
    )
