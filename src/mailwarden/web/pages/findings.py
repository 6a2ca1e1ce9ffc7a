"""Findings (what detection raised) and silences (time-boxed mutes), with the silence forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mailwarden.detect.model import DIMENSIONS, FINDING_KINDS, FINDING_STATUSES, Finding
from mailwarden.incidents.model import INCIDENT_TYPES
from mailwarden.incidents.records import Matcher
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.silences import UnknownSilenceError
from mailwarden.store.findings_repo import FindingStore
from mailwarden.web.pages.forms import actor, attempt, back, read_form
from mailwarden.web.pages.render import Console

PAGE_SIZE: Final = 200


def findings_pages(console: Console) -> APIRouter:
    """GET /findings, GET /silences, POST /silences, POST /silences/{silence_id}/expire."""
    router = APIRouter(include_in_schema=False)

    @router.get("/findings", response_class=HTMLResponse)
    def findings(request: Request, status: str = "", kind: str = "") -> HTMLResponse:
        """The newest findings, filtered."""
        context = {
            "findings": list_findings(console, status, kind),
            "filters": {"status": status, "kind": kind},
            "statuses": FINDING_STATUSES,
            "kinds": sorted(FINDING_KINDS),
            "limit": PAGE_SIZE,
        }
        return console.render(request, "console/findings.html", "findings", context)

    @router.get("/silences", response_class=HTMLResponse)
    def silences(request: Request, all: bool = False) -> HTMLResponse:
        """Silences in force (or all of them)."""
        return _silences_page(console, request, include_expired=all)

    @router.post("/silences")
    async def add_silence(request: Request) -> Response:
        """Add a silence from the form."""
        form = await read_form(request)
        try:
            minutes = int(form.get("duration_minutes", "0") or "0")
            remind = int(form.get("remind_before_minutes", "60") or "60")
        except ValueError:
            return _silences_page(console, request, error=(400, "Durations are whole minutes."))
        matcher = Matcher(
            kind=form.get("kind") or "*",
            dimension=form.get("dimension") or "*",
            key=form.get("key") or "*",
            type=form.get("type") or "*",
        )
        work = partial(
            _service(console).silences.add,
            owner=form.get("owner") or actor(request).name,
            reason=form.get("reason", ""),
            matcher=matcher,
            duration=timedelta(minutes=minutes),
            actor=actor(request),
            remind_before=timedelta(minutes=max(0, remind)),
        )
        return _after(console, request, work, "silenced")

    @router.post("/silences/{silence_id}/expire")
    def expire(request: Request, silence_id: str) -> Response:
        """End a silence now."""
        work = partial(_service(console).silences.expire, silence_id, actor(request))
        return _after(console, request, work, "expired")

    return router


def list_findings(console: Console, status: str, kind: str) -> list[Finding]:
    """The newest findings, optionally of one status and kind."""
    reader = console.board.hourly.reader
    store = FindingStore(console.services.engine)
    ids = reader.recent_finding_ids(
        PAGE_SIZE,
        status=status if status in FINDING_STATUSES else None,
        kind=kind if kind in FINDING_KINDS else None,
    )
    found = (store.get(pk) for pk in ids)
    return [finding for finding in found if finding is not None]


def _service(console: Console) -> IncidentService:
    service = console.services.incidents
    if service is None:
        raise RuntimeError("the incident service is not configured")
    return service


def _after(console: Console, request: Request, work: Callable[[], object], done: str) -> Response:
    try:
        refusal = attempt(work)
    except UnknownSilenceError as exc:
        refusal = (404, str(exc).strip("'\""))
    if refusal is not None:
        return _silences_page(console, request, error=refusal)
    return back("/silences", done)


def _silences_page(
    console: Console,
    request: Request,
    *,
    include_expired: bool = False,
    error: tuple[int, str] | None = None,
) -> HTMLResponse:
    service = _service(console)
    context = {
        "silences": service.silences.list_silences(include_expired=include_expired),
        "include_expired": include_expired,
        "now": console.services.clock.now(),
        "kinds": sorted(FINDING_KINDS),
        "dimensions": DIMENSIONS,
        "types": INCIDENT_TYPES,
    }
    status, message = error if error else (200, None)
    return console.render(
        request, "console/silences.html", "silences", context, status=status, error=message
    )
