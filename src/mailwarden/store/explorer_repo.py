"""The event explorer's query: stored events in a time window, newest first, filtered.

Every search is bounded by a time window on the events' time-leading index, and pages with
a cursor (the occurred time of the last row shown), so it never reads the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from mailwarden.events.model import Event
from mailwarden.store.rows import EVENT_COLUMNS, row_event, to_ms
from mailwarden.store.tables import events

# filter name -> the events column it matches exactly
EXACT_FILTERS = {
    "type": "type",
    "provider": "provider",
    "mailbox_provider": "mailbox_provider",
    "campaign": "campaign",
    "sending_domain": "sending_domain",
    "sending_ip": "sending_ip",
    "bounce_class": "bounce_class",
}


@dataclass(frozen=True, slots=True)
class EventQuery:
    """What to look for: a time window, exact filters, a recipient domain, some event ids."""

    since: datetime
    until: datetime
    filters: dict[str, str] = field(default_factory=dict)
    recipient_domain: str | None = None
    ids: Sequence[str] = ()
    before_ms: int | None = None  # the cursor: only events that occurred before this
    limit: int = 100


class EventSearch:
    """Searches stored events for the console."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def search(self, query: EventQuery) -> list[Event]:
        """Matching events, newest first, at most query.limit."""
        until_ms = to_ms(query.until)
        if query.before_ms is not None:
            until_ms = min(until_ms, query.before_ms)
        statement = (
            select(*(events.c[name] for name in EVENT_COLUMNS))
            .where(events.c.occurred_ms >= to_ms(query.since), events.c.occurred_ms < until_ms)
            .order_by(events.c.occurred_ms.desc(), events.c.id.desc())
            .limit(query.limit)
        )
        for name, value in query.filters.items():
            if name in EXACT_FILTERS and value:
                statement = statement.where(events.c[EXACT_FILTERS[name]] == value)
        if query.recipient_domain:
            pattern = "%@" + _escape_like(query.recipient_domain.strip().lower())
            statement = statement.where(events.c.recipient.like(pattern, escape="\\"))
        if query.ids:
            statement = statement.where(events.c.id.in_(list(query.ids)))
        with self._engine.connect() as conn:
            return [row_event(row) for row in conn.execute(statement)]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
