"""The event explorer and the dead-letter queue (payloads we could not parse), with replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mailwarden.events.errors import PayloadError
from mailwarden.events.ingest import ConfirmationError
from mailwarden.events.model import EVENT_TYPES, MAILBOX_PROVIDERS
from mailwarden.store.explorer_repo import EXACT_FILTERS, EventQuery, EventSearch
from mailwarden.store.rows import from_ms
from mailwarden.web.pages.forms import back, read_form
from mailwarden.web.pages.render import Console

DEADLETTER: Final = "deadletter"
DEFAULT_WINDOW: Final = timedelta(hours=24)
PAGE: Final = 100
MAX_IDS: Final = 200
PREVIEW: Final = 400
FIELDS: Final = (*EXACT_FILTERS, "recipient_domain", "ids", "since", "until")


@dataclass(frozen=True, slots=True)
class Replayed:
    """What replaying one dead letter did."""

    raw_id: int
    ok: bool
    detail: str


def explorer_pages(console: Console) -> APIRouter:
    """GET /events; GET /deadletters and its replay forms (one payload, or all)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/events", response_class=HTMLResponse)
    def explore(request: Request) -> HTMLResponse:
        """Events matching the query string, newest first."""
        params = request.query_params
        now = console.services.clock.now()
        try:
            query = event_query(dict(params), now)
        except ValueError as exc:
            return console.render(
                request,
                "console/events.html",
                "events",
                _form(params, now),
                status=400,
                error=str(exc),
            )
        found = EventSearch(console.services.engine).search(query)
        older = None
        if len(found) == PAGE:
            cursor = int(found[-1].occurred_at.timestamp() * 1000)
            kept = {key: value for key, value in params.items() if key != "before" and value}
            older = "/events?" + urlencode({**kept, "before": cursor})
        context = {**_form(params, now), "events": found, "older": older}
        return console.render(request, "console/events.html", "events", context)

    @router.get("/deadletters", response_class=HTMLResponse)
    def deadletters(request: Request) -> HTMLResponse:
        """The dead-letter queue."""
        return _deadletters(console, request, [])

    @router.post("/deadletters/{raw_id}/replay")
    def replay_one(request: Request, raw_id: int) -> Response:
        """Replay one dead letter and show what happened."""
        return _deadletters(console, request, [replay(console, raw_id)])

    @router.post("/deadletters/replay")
    async def replay_all(request: Request) -> Response:
        """Replay every dead letter (the form says confirm=all)."""
        if (await read_form(request)).get("confirm") != "all":
            return back("/deadletters", "replayed")
        rows = console.services.store.payloads(DEADLETTER, limit=1000)
        return _deadletters(console, request, [replay(console, row.id) for row in rows])

    return router


def event_query(params: dict[str, str], now: datetime) -> EventQuery:
    """The search a query string asks for; ValueError says what is wrong with it."""
    until = _time(params.get("until"), "until") or now + timedelta(minutes=1)
    since = _time(params.get("since"), "since") or until - DEFAULT_WINDOW
    if since >= until:
        raise ValueError("'since' must be before 'until'")
    ids = [i.strip() for i in params.get("ids", "").split(",") if i.strip()][:MAX_IDS]
    before = params.get("before", "")
    return EventQuery(
        since=since,
        until=until,
        filters={name: params[name] for name in EXACT_FILTERS if params.get(name)},
        recipient_domain=params.get("recipient_domain") or None,
        ids=ids,
        before_ms=int(before) if before.isdigit() else None,
        limit=PAGE,
    )


def replay(console: Console, raw_id: int) -> Replayed:
    """Parse a dead letter again and store what it holds."""
    try:
        outcome = console.services.ingest.replay(raw_id)
    except (LookupError, PayloadError, ConfirmationError) as exc:
        return Replayed(raw_id, False, f"still failing: {exc}")
    detail = f"accepted {outcome.accepted}, duplicates {outcome.duplicates}"
    return Replayed(raw_id, True, detail)


def _deadletters(console: Console, request: Request, replayed: list[Replayed]) -> HTMLResponse:
    rows = console.services.store.payloads(DEADLETTER, limit=200)
    letters = [
        {
            "id": row.id,
            "provider": row.provider,
            "source": row.source,
            "received_at": from_ms(row.received_at_ms),
            "reason": row.reason or "",
            "size": len(row.body),
            "preview": row.body[:PREVIEW].decode("utf-8", errors="replace"),
        }
        for row in rows
    ]
    context = {"letters": letters, "replayed": replayed}
    return console.render(request, "console/deadletters.html", "deadletters", context)


def _form(params: Any, now: datetime) -> dict[str, Any]:
    return {
        "values": {key: params.get(key, "") for key in FIELDS},
        "types": sorted(EVENT_TYPES),
        "mailbox_providers": sorted(MAILBOX_PROVIDERS),
        "events": [],
        "now": now,
    }


def _time(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{name}' is not a time like 2026-11-27T08:00") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
