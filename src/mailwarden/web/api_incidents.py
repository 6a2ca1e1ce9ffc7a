"""REST API for incidents and silences: one router, so a role guard can be added in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from mailwarden.app import Services
from mailwarden.detect.model import Scope
from mailwarden.incidents.desk import BadInputError, UnknownIncidentError
from mailwarden.incidents.model import Actor, IllegalTransitionError
from mailwarden.incidents.present import (
    attachment_dict,
    entry_dict,
    incident_detail,
    incident_summary,
    silence_dict,
)
from mailwarden.incidents.records import Matcher
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.silences import UnknownSilenceError
from mailwarden.web.errors import error_response

ACTOR_HEADER: Final = "x-mailwarden-actor"
_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "Bad input; `detail` says what was wrong"},
    404: {"description": "Unknown incident or silence"},
}
_MOVES: Final[dict[int | str, dict[str, Any]]] = {
    **_ERRORS,
    409: {"description": "Not allowed from the current state; `allowed` lists what is"},
}


class ScopeIn(BaseModel):
    """A scope: dimension and key."""

    dimension: str
    key: str


class OpenIn(BaseModel):
    """An incident someone reports."""

    type: str
    title: str = Field(min_length=1)
    description: str = ""
    severity: str | None = None
    scope: ScopeIn | None = None
    started_at: datetime | None = None


class NoteIn(BaseModel):
    """A note for the timeline."""

    note: str = ""


class SeverityIn(BaseModel):
    """A severity set by hand, and why."""

    severity: str
    reason: str = Field(min_length=1)


class TransitionIn(BaseModel):
    """A move to another state."""

    to: str
    note: str = ""


class RoleIn(BaseModel):
    """A person taking a response role."""

    role: str
    person: str


class MergeIn(BaseModel):
    """Merge this incident into another."""

    into: str
    note: str = ""


class MatcherIn(BaseModel):
    """Glob patterns a finding must all match."""

    kind: str = "*"
    dimension: str = "*"
    key: str = "*"
    type: str = "*"


class SilenceIn(BaseModel):
    """A silence."""

    reason: str = Field(min_length=1)
    owner: str | None = None
    matcher: MatcherIn = Field(default_factory=MatcherIn)
    duration_minutes: int = Field(gt=0)
    remind_before_minutes: int = Field(default=60, ge=0)
    channel: str = "email"


def actor_of(request: Request) -> Actor:
    """The signed-in principal if there is one, else the X-Mailwarden-Actor header, else api."""
    principal = request.scope.get("state", {}).get("principal")
    name = getattr(principal, "username", None) or request.headers.get(ACTOR_HEADER) or "api"
    return Actor(str(name))


def answer(work: Callable[[], Any], status: int = 200) -> Response:
    """Run a service call and turn its domain errors into JSON errors."""
    try:
        result = work()
    except IllegalTransitionError as exc:
        return error_response(409, "illegal_transition", str(exc), allowed=exc.allowed)
    except (UnknownIncidentError, UnknownSilenceError) as exc:
        return error_response(404, "not_found", str(exc).strip("'\""))
    except BadInputError as exc:
        return error_response(400, "bad_request", str(exc))
    return result if isinstance(result, Response) else JSONResponse(result, status_code=status)


def incidents_router(services: Services) -> APIRouter:
    """Routes under /api/incidents and /api/silences."""
    router = APIRouter(prefix="/api", tags=["incidents"])
    service = services.incidents
    if service is None:
        return router
    _incident_reads(router, service)
    _incident_changes(router, service)
    _attachments(router, service)
    _silences(router, service)
    return router


def _incident_reads(router: APIRouter, service: IncidentService) -> None:
    @router.get("/incidents", summary="List incidents, newest first", responses=_ERRORS)
    def list_incidents(
        state: list[str] | None = Query(None, description="Only these states"),
        type: list[str] | None = Query(None, description="Only these types"),
        limit: int | None = Query(None, ge=1, le=1000),
    ) -> Response:
        return answer(
            lambda: {
                "incidents": [
                    incident_summary(incident)
                    for incident in service.list_incidents(states=state, types=type, limit=limit)
                ]
            }
        )

    @router.get("/incidents/{incident_id}", summary="One incident in full", responses=_ERRORS)
    def show(incident_id: str) -> Response:
        return answer(
            lambda: incident_detail(
                service.get(incident_id),
                service.timeline(incident_id),
                service.attachments(incident_id),
            )
        )

    @router.get(
        "/incidents/{incident_id}/timeline", summary="An incident's timeline", responses=_ERRORS
    )
    def timeline(incident_id: str) -> Response:
        return answer(
            lambda: {"timeline": [entry_dict(entry) for entry in service.timeline(incident_id)]}
        )


def _incident_changes(router: APIRouter, service: IncidentService) -> None:
    @router.post(
        "/incidents",
        summary="Open an incident someone reported",
        responses=_ERRORS,
        status_code=201,
    )
    def open_incident(body: OpenIn, request: Request) -> Response:
        scope = Scope(body.scope.dimension, body.scope.key) if body.scope else None

        def work() -> dict[str, Any]:
            incident = service.open_manual(
                incident_type=body.type,
                title=body.title,
                actor=actor_of(request),
                description=body.description,
                severity=body.severity,
                scope=scope,
                started_at=body.started_at,
            )
            return incident_summary(incident)

        return answer(work, 201)

    @router.post(
        "/incidents/{incident_id}/transitions",
        summary="Move an incident to a state",
        responses=_MOVES,
    )
    def move(incident_id: str, body: TransitionIn, request: Request) -> Response:
        return answer(
            lambda: incident_summary(
                service.transition(incident_id, body.to, actor_of(request), body.note)
            )
        )

    @router.post(
        "/incidents/{incident_id}/acknowledge", summary="Acknowledge an incident", responses=_MOVES
    )
    def acknowledge(incident_id: str, body: NoteIn, request: Request) -> Response:
        return answer(
            lambda: incident_summary(service.acknowledge(incident_id, actor_of(request), body.note))
        )

    @router.post(
        "/incidents/{incident_id}/notes", summary="Add a note to the timeline", responses=_ERRORS
    )
    def note(incident_id: str, body: NoteIn, request: Request) -> Response:
        return answer(
            lambda: incident_summary(service.add_note(incident_id, body.note, actor_of(request)))
        )

    @router.post(
        "/incidents/{incident_id}/roles",
        summary="Give a response role to a person",
        responses=_ERRORS,
    )
    def assign(incident_id: str, body: RoleIn, request: Request) -> Response:
        return answer(
            lambda: incident_summary(
                service.assign(incident_id, body.role, body.person, actor_of(request))
            )
        )

    @router.delete(
        "/incidents/{incident_id}/roles/{role}",
        summary="Take a response role away (the timeline keeps who held it)",
        responses=_ERRORS,
    )
    def unassign(incident_id: str, role: str, request: Request) -> Response:
        return answer(
            lambda: incident_summary(service.unassign(incident_id, role, actor_of(request)))
        )

    @router.post(
        "/incidents/{incident_id}/severity",
        summary="Change the severity by hand, with a reason",
        responses=_ERRORS,
    )
    def severity(incident_id: str, body: SeverityIn, request: Request) -> Response:
        return answer(
            lambda: incident_summary(
                service.set_severity(incident_id, body.severity, actor_of(request), body.reason)
            )
        )

    @router.post(
        "/incidents/{incident_id}/merge", summary="Merge into another incident", responses=_MOVES
    )
    def merge(incident_id: str, body: MergeIn, request: Request) -> Response:
        return answer(
            lambda: incident_summary(
                service.merge(incident_id, body.into, actor_of(request), body.note)
            )
        )


def _attachments(router: APIRouter, service: IncidentService) -> None:

    @router.post(
        "/incidents/{incident_id}/attachments",
        summary="Attach evidence (multipart)",
        responses={**_ERRORS, 413: {"description": "File too large"}},
        status_code=201,
    )
    def upload(incident_id: str, request: Request, file: UploadFile = File(...)) -> Response:
        limit = service.max_attachment_bytes
        content = file.file.read(limit + 1)
        if len(content) > limit:
            return error_response(413, "too_large", f"the limit is {limit} bytes")
        name = file.filename or ""
        kind = file.content_type or "application/octet-stream"
        return answer(
            lambda: attachment_dict(
                service.attach_evidence(incident_id, name, kind, content, actor_of(request))
            ),
            201,
        )

    @router.get(
        "/incidents/{incident_id}/attachments/{attachment_id}",
        summary="Download an attachment",
        responses=_ERRORS,
    )
    def download(incident_id: str, attachment_id: int) -> Response:
        def work() -> Response:
            meta, content = service.attachment(incident_id, attachment_id)
            safe = meta.filename.replace('"', "")
            disposition = f'attachment; filename="{safe}"'
            headers = {"content-disposition": disposition, "x-content-sha256": meta.sha256}
            return Response(content, media_type=meta.content_type, headers=headers)

        return answer(work)


def _silences(router: APIRouter, service: IncidentService) -> None:
    @router.get("/silences", summary="List silences in force (or all)", responses=_ERRORS)
    def list_silences(include_expired: bool = Query(False, alias="all")) -> Response:
        found = service.silences.list_silences(include_expired=include_expired)
        return answer(lambda: {"silences": [silence_dict(item) for item in found]})

    @router.post(
        "/silences",
        summary="Silence matching findings for a while",
        responses=_ERRORS,
        status_code=201,
    )
    def add(body: SilenceIn, request: Request) -> Response:
        actor = actor_of(request)

        def work() -> dict[str, Any]:
            silence = service.silences.add(
                owner=body.owner or actor.name,
                reason=body.reason,
                matcher=Matcher(**body.matcher.model_dump()),
                duration=timedelta(minutes=body.duration_minutes),
                actor=actor,
                remind_before=timedelta(minutes=body.remind_before_minutes),
                channel=body.channel,
            )
            return silence_dict(silence)

        return answer(work, 201)

    @router.post("/silences/{silence_id}/expire", summary="End a silence now", responses=_ERRORS)
    def expire(silence_id: str, request: Request) -> Response:
        return answer(lambda: silence_dict(service.silences.expire(silence_id, actor_of(request))))
