"""Convert canonical events to table rows and back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from mailwarden.events.model import EVENT_TYPES, SECURITY_PREFIX, Bounce, Complaint, Event

# Columns are what queries filter and group on; everything else rides in one JSON
# "detail" document, which keeps the row narrow and the insert fast.
EVENT_COLUMNS: Final = (
    "id",
    "type",
    "occurred_ms",
    "provider",
    "recipient",
    "mailbox_provider",
    "sending_domain",
    "sending_ip",
    "campaign",
    "bounce_class",
    "bounce_reason",
    "raw_id",
    "detail",
)
_SECURITY: Final = ("actor", "source_ip", "country", "resource", "count")


def to_ms(when: datetime) -> int:
    """Milliseconds since the Unix epoch."""
    return int(when.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def event_rows(events: Iterable[Event], raw_id: int | None) -> list[tuple[Any, ...]]:
    """Rows for a batch of events; each distinct time is converted once (a batch shares few)."""
    millis: dict[datetime, int] = {}
    dumps = orjson.dumps
    rows: list[tuple[Any, ...]] = []
    append = rows.append
    # One loop body, no call per event: this runs for every event on the ingest hot path.
    for event in events:
        when = event.occurred_at
        ms = millis.get(when)
        if ms is None:
            ms = millis[when] = to_ms(when)
        detail: dict[str, Any] = {}
        if event.message_id is not None:
            detail["message_id"] = event.message_id
        if event.tags:
            detail["tags"] = event.tags
        bounce = event.bounce
        if bounce is not None:
            detail["smtp_code"] = bounce.smtp_code
            detail["status"] = bounce.status
            detail["diagnostic"] = bounce.diagnostic
        if event.complaint is not None:
            detail["feedback_type"] = event.complaint.feedback_type
        if event.url is not None:
            detail["url"] = event.url
        if event.user_agent is not None:
            detail["user_agent"] = event.user_agent
        if event.type not in EVENT_TYPES and event.type.startswith(SECURITY_PREFIX):
            for name in _SECURITY:
                detail[name] = getattr(event, name)
        if event.extra:
            detail["extra"] = event.extra
        append(
            (
                event.id,
                event.type,
                ms,
                event.provider,
                event.recipient,
                event.mailbox_provider,
                event.sending_domain,
                event.sending_ip,
                event.campaign,
                None if bounce is None else bounce.bounce_class,
                None if bounce is None else bounce.reason,
                raw_id if raw_id is not None else event.raw_ref,
                dumps(detail).decode(),
            )
        )
    return rows


def event_row(event: Event, raw_id: int | None) -> tuple[Any, ...]:
    """Return the event as a tuple in EVENT_COLUMNS order."""
    return event_rows((event,), raw_id)[0]


def row_event(row: Sequence[Any]) -> Event:
    """Rebuild an Event from a row selected in EVENT_COLUMNS order."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    detail: dict[str, Any] = orjson.loads(values["detail"])
    bounce = None
    if values["bounce_class"] is not None:
        bounce = Bounce(
            values["bounce_class"],
            values["bounce_reason"] or "undefined",
            detail.get("smtp_code"),
            detail.get("status"),
            detail.get("diagnostic"),
        )
    feedback = detail.get("feedback_type")
    return Event(
        id=values["id"],
        type=values["type"],
        occurred_at=from_ms(values["occurred_ms"]),
        provider=values["provider"],
        message_id=detail.get("message_id"),
        recipient=values["recipient"],
        mailbox_provider=values["mailbox_provider"],
        sending_domain=values["sending_domain"],
        sending_ip=values["sending_ip"],
        campaign=values["campaign"],
        tags=detail.get("tags", []),
        bounce=bounce,
        complaint=Complaint(feedback) if feedback else None,
        url=detail.get("url"),
        user_agent=detail.get("user_agent"),
        extra=detail.get("extra", {}),
        raw_ref=values["raw_id"],
        **{name: detail.get(name) for name in _SECURITY},
    )
