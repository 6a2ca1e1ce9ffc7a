"""REST API for the sending gate and recovery: gate answers, rules, suppressions CSV,
warm-up plans, delisting requests and reminders.

GET /api/gate is what a team's sending code calls before each batch (with an API token):
it answers from the gate's in-memory snapshot, so it costs no database query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mailwarden.actions.export import suppressions_csv
from mailwarden.actions.gate import GateQuery
from mailwarden.app import Services
from mailwarden.containment.wiring import Containment
from mailwarden.web.api_actions import act, authority
from mailwarden.web.errors import error_response

JSON: Final = "application/json"
_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "Bad input; `detail` says what was wrong"},
    404: {"description": "Unknown plan, request or incident"},
}


class DelistingIn(BaseModel):
    """A delisting request that was sent to a blocklist."""

    blocklist: str = Field(min_length=1, max_length=200)
    listed_item: str = Field(min_length=1, max_length=300)
    incident_id: str | None = None
    reference: str = Field(default="", max_length=500)
    note: str = Field(default="", max_length=2000)
    requested_at: datetime | None = None


class StatusIn(BaseModel):
    """A delisting request's new status."""

    status: str
    note: str = Field(default="", max_length=2000)


def gate_router(services: Services) -> APIRouter:
    """Routes under /api/gate, /api/suppressions.csv, /api/warmups, /api/delistings."""
    router = APIRouter(prefix="/api", tags=["gate"])
    containment = services.containment
    if containment is None:
        return router
    _gate(router, containment)
    _suppressions(router, services, containment)
    _warmups(router, services, containment)
    _delistings(router, services, containment)
    return router


def _gate(router: APIRouter, containment: Containment) -> None:
    gate = containment.gate

    @router.get(
        "/gate",
        summary="Ask before sending a batch: allow, deny or throttle (with a rate)",
        response_description='{"decision", "rate_per_minute", "reasons", "ttl_seconds"}',
    )
    async def ask(
        campaign: str | None = None,
        sending_domain: str | None = None,
        mailbox_provider: str | None = None,
        sending_ip: str | None = None,
        recipient: str | None = None,
        segment: str | None = None,
        batch: str | None = None,
    ) -> Response:
        query = GateQuery(
            campaign, sending_domain, mailbox_provider, sending_ip, recipient, segment, batch
        )
        if not gate.loaded:  # the first snapshot reads the database: not on the event loop
            await run_in_threadpool(gate.rules)
        return Response(orjson.dumps(gate.check(query).to_dict()), media_type=JSON)

    @router.get("/gate/rules", summary="What the gate is enforcing now")
    def rules() -> Response:
        snapshot = gate.rules()
        now = snapshot.built_at
        parts = containment.parts
        return JSONResponse(
            {
                "snapshot_built_at": now.isoformat(),
                "counts": snapshot.counts(),
                "pauses": [p.to_dict() for p in parts.pauses.listed(active_at=now)],
                "quarantines": [q.to_dict() for q in parts.quarantines.listed(active_at=now)],
                "warmups": [w.to_dict(now) for w in parts.warmups.listed(active_at=now)],
            }
        )


def _suppressions(router: APIRouter, services: Services, containment: Containment) -> None:
    @router.get(
        "/suppressions.csv",
        summary="Mailwarden's suppression list as CSV (spreadsheet-safe)",
        response_class=StreamingResponse,
    )
    def export(
        request: Request, active: bool = Query(False, description="Only active suppressions")
    ) -> StreamingResponse:
        now = services.clock.now()
        if services.auth is not None:
            who = authority(request).name
            detail = {"active_only": active}
            services.auth.audit.record(who, "suppressions.exported", "suppressions", detail)
        entries = containment.parts.suppressions.entries(active_at=now if active else None)
        headers = {"content-disposition": 'attachment; filename="suppressions.csv"'}
        return StreamingResponse(
            suppressions_csv(entries, now), media_type="text/csv; charset=utf-8", headers=headers
        )

    @router.get("/reminders", summary="Reminders that went out, newest first")
    def reminders(limit: int = Query(100, ge=1, le=1000)) -> Response:
        found = containment.reminder_log.recent(limit)
        return JSONResponse({"reminders": [r.to_dict() for r in found]})


def _warmups(router: APIRouter, services: Services, containment: Containment) -> None:
    planner = containment.parts.planner

    @router.get("/warmups", summary="Warm-up plans with today's rates per mailbox provider")
    def warmups(active: bool = Query(False, description="Only plans still ramping")) -> Response:
        now = services.clock.now()
        plans = planner.store.listed(active_at=now if active else None)
        return JSONResponse({"warmups": [plan.to_dict(now) for plan in plans]})

    @router.post(
        "/warmups/{plan_id}/cancel",
        summary="End a warm-up early: full volume from now",
        responses=_ERRORS,
    )
    def cancel(plan_id: str, request: Request) -> Response:
        plan = planner.store.get(plan_id)
        if plan is None:
            return error_response(404, "not_found", f"no warm-up plan {plan_id!r}")
        who = authority(request).name
        if planner.cancel(plan_id, who):
            containment.gate.invalidate()
            if plan.incident_id:
                text = f"warm-up of {plan.target} ended early by {who}: full volume"
                containment.timeline.note(plan.incident_id, "warmup_cancelled", text, who, {})
        stored = planner.store.get(plan_id)
        return JSONResponse(stored.to_dict(services.clock.now()) if stored else {})


def _delistings(router: APIRouter, services: Services, containment: Containment) -> None:
    desk = containment.delistings
    incidents = services.incidents

    @router.get("/delistings", summary="Delisting requests, oldest first", responses=_ERRORS)
    def listed(
        status: str | None = Query(None, description="requested, delisted, denied, withdrawn"),
        incident: str | None = Query(None, description="Only this incident's"),
    ) -> Response:
        now = services.clock.now()
        return act(
            lambda: {
                "delistings": [
                    d.to_dict(now) for d in desk.listed(status=status, incident_id=incident)
                ]
            }
        )

    @router.post(
        "/delistings", summary="Record a delisting request", responses=_ERRORS, status_code=201
    )
    def create(body: DelistingIn, request: Request) -> Response:
        def work() -> dict[str, Any]:
            incident_id = None
            if body.incident_id and incidents is not None:
                incident_id = incidents.get(body.incident_id).id
            made = desk.request(
                body.blocklist,
                body.listed_item,
                by=authority(request).name,
                incident_id=incident_id,
                reference=body.reference,
                note=body.note,
                requested_at=body.requested_at,
            )
            return made.to_dict(services.clock.now())

        return act(work, 201)

    @router.post(
        "/delistings/{request_id}/status",
        summary="Record the blocklist's answer (delisted, denied) or withdraw",
        responses=_ERRORS,
    )
    def status(request_id: int, body: StatusIn, request: Request) -> Response:
        by = authority(request).name
        return act(lambda: desk.update(request_id, body.status, by=by, note=body.note).to_dict())
