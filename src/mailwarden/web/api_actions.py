"""REST API for containment actions: catalog, plan, approve, reject, run, undo.

Who may do what: the permission table lets responders plan and run; the approval desk then
refuses medium/high-risk runs, approvals, rejections and undos to anyone but the incident's
commander or a user with the commander role (403 `not_allowed`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from mailwarden.actions.approval_records import run_dict
from mailwarden.actions.approvals import (
    ApprovalDesk,
    ApprovalStateError,
    Authority,
    NotAllowedError,
    UnknownApprovalError,
)
from mailwarden.actions.errors import ActionError, InvalidParamsError, NotReversibleError
from mailwarden.actions.runner import ApprovalRequiredError, RunConflictError
from mailwarden.app import Services
from mailwarden.auth.roles import Role
from mailwarden.incidents.desk import BadInputError
from mailwarden.incidents.service import IncidentService
from mailwarden.web.auth.guard import principal_of
from mailwarden.web.errors import error_response

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "Bad parameters; `detail` says what was wrong"},
    403: {"description": "Only the incident commander or the commander role may do this"},
    404: {"description": "Unknown action, approval, run or incident"},
    409: {"description": "Not possible in the current state (already decided, not approved)"},
    502: {"description": "The provider refused or failed; `kind` says how"},
}


class ActionIn(BaseModel):
    """An action with its parameters, optionally for an incident and under a key."""

    action: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    incident_id: str | None = None
    key: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = ""


class DecisionIn(BaseModel):
    """Why an approval was given or refused."""

    reason: str = ""


def authority(request: Request) -> Authority:
    """The signed-in principal as an approval authority."""
    principal = principal_of(request)
    if principal is None:
        return Authority("api")
    return Authority(principal.username, principal.role >= Role.COMMANDER)


def act(work: Callable[[], Any], status: int = 200) -> Response:
    """Run a desk call and turn its errors into JSON errors."""
    try:
        result = work()
    except (NotAllowedError, ApprovalRequiredError) as exc:
        return error_response(403, "not_allowed", str(exc))
    except (ApprovalStateError, RunConflictError, NotReversibleError) as exc:
        return error_response(409, "conflict", str(exc))
    except LookupError as exc:  # unknown approval, run, action, incident or request
        return error_response(404, "not_found", str(exc).strip("'\""))
    except (InvalidParamsError, BadInputError, ValueError) as exc:
        return error_response(400, "bad_request", str(exc))
    except ActionError as exc:
        return error_response(502, "provider_error", str(exc), kind=exc.kind)
    return result if isinstance(result, Response) else JSONResponse(result, status_code=status)


def actions_router(services: Services) -> APIRouter:
    """Routes under /api/actions."""
    router = APIRouter(prefix="/api/actions", tags=["actions"])
    if services.containment is None or services.incidents is None:
        return router
    desk, incidents = services.containment.desk, services.incidents
    _reads(router, desk)
    _requests(router, desk, incidents)
    _decisions(router, desk)
    return router


def _incident(incidents: IncidentService, ref: str | None) -> str | None:
    return incidents.get(ref).id if ref else None


def _reads(router: APIRouter, desk: ApprovalDesk) -> None:
    @router.get("", summary="The actions that can run here, with risk and parameter schema")
    def catalog() -> Response:
        infos = desk.registry.describe()
        return JSONResponse(
            {
                "actions": [
                    {
                        "name": i.name,
                        "provider": i.provider,
                        "risk": str(i.risk),
                        "reversible": i.reversible,
                        "description": i.description,
                        "params_schema": i.params_schema,
                    }
                    for i in infos
                ]
            }
        )

    @router.get("/approvals", summary="Approvals, newest first", responses=_ERRORS)
    def approvals(
        state: str | None = Query(None, description="pending, approved or rejected"),
        incident: str | None = Query(None, description="Only this incident's, e.g. INC-3"),
        limit: int = Query(200, ge=1, le=1000),
    ) -> Response:
        def work() -> dict[str, Any]:
            found = desk.store.listed(state=state, incident_id=incident, limit=limit)
            return {"approvals": [desk.outcome(a).to_dict() for a in found]}

        return act(work)

    @router.get("/approvals/{approval_id}", summary="One approval and its run", responses=_ERRORS)
    def approval(approval_id: str) -> Response:
        def work() -> dict[str, Any]:
            outcome = desk.outcome(desk.get(approval_id))
            steps = [step.to_dict() for step in desk.runner.steps(outcome.run.key)]
            return {**outcome.to_dict(), "steps": steps}

        return act(work)

    @router.get("/runs/{key}", summary="One action run and its steps", responses=_ERRORS)
    def run(key: str) -> Response:
        def work() -> dict[str, Any]:
            found = desk.runner.get(key)
            if found is None:
                raise UnknownApprovalError(f"no action run with key {key!r}")
            steps = [step.to_dict() for step in desk.runner.steps(key)]
            return {"run": run_dict(found), "steps": steps}

        return act(work)


def _requests(router: APIRouter, desk: ApprovalDesk, incidents: IncidentService) -> None:
    @router.post(
        "/plan",
        summary="Dry-run an action and open its approval (medium/high wait for the commander)",
        responses=_ERRORS,
        status_code=201,
    )
    def plan(body: ActionIn, request: Request) -> Response:
        def work() -> dict[str, Any]:
            outcome = desk.plan(
                body.action,
                body.params,
                requested_by=authority(request).name,
                incident_id=_incident(incidents, body.incident_id),
                key=body.key,
            )
            return outcome.to_dict()

        return act(work, 201)

    @router.post(
        "/run",
        summary="Run an action: anyone for low risk, the commander for medium/high",
        responses=_ERRORS,
    )
    def run_now(body: ActionIn, request: Request) -> Response:
        def work() -> dict[str, Any]:
            outcome = desk.run_now(
                body.action,
                body.params,
                authority(request),
                incident_id=_incident(incidents, body.incident_id),
                key=body.key,
                reason=body.reason,
            )
            return outcome.to_dict()

        return act(work)


def _decisions(router: APIRouter, desk: ApprovalDesk) -> None:
    @router.post(
        "/approvals/{approval_id}/approve",
        summary="Approve a pending action and run it (incident commander)",
        responses=_ERRORS,
    )
    def approve(approval_id: str, body: DecisionIn, request: Request) -> Response:
        return act(lambda: desk.approve(approval_id, authority(request), body.reason).to_dict())

    @router.post(
        "/approvals/{approval_id}/reject",
        summary="Reject a pending action with a reason (incident commander)",
        responses=_ERRORS,
    )
    def reject(approval_id: str, body: DecisionIn, request: Request) -> Response:
        return act(lambda: desk.reject(approval_id, authority(request), body.reason).to_dict())

    @router.post(
        "/approvals/{approval_id}/run",
        summary="Run (or retry) an approved action",
        responses=_ERRORS,
    )
    def run_approved(approval_id: str, request: Request) -> Response:
        return act(lambda: desk.run(approval_id, authority(request)).to_dict())

    @router.post(
        "/runs/{key}/undo",
        summary="Undo a succeeded run (a pause resumes through warm-up)",
        responses=_ERRORS,
    )
    def undo(key: str, request: Request) -> Response:
        return act(lambda: {"run": run_dict(desk.undo(key, authority(request)))})
