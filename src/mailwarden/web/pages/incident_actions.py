"""The incident page's actions: plan one, approve or reject it, run it, undo it.

All of it goes through the approval desk (mailwarden.actions.approvals), which decides who
may approve, run or undo; the runner's recorder puts every step on the incident timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mailwarden.actions.approvals import (
    ApprovalDesk,
    ApprovalStateError,
    Authority,
    NotAllowedError,
    Outcome,
)
from mailwarden.actions.errors import ActionError, InvalidParamsError, NotReversibleError
from mailwarden.actions.runner import ApprovalRequiredError, RunConflictError
from mailwarden.auth.roles import Role
from mailwarden.incidents.model import Incident
from mailwarden.web.auth.guard import principal_of
from mailwarden.web.pages.action_forms import fields_of, values_of
from mailwarden.web.pages.forms import back, read_form
from mailwarden.web.pages.render import Console

Show = Callable[[Request, str, tuple[int, str] | None], HTMLResponse]
_ERRORS: Final[tuple[tuple[type[Exception], int], ...]] = (
    (NotAllowedError, 403),
    (ApprovalRequiredError, 403),
    (ApprovalStateError, 409),
    (RunConflictError, 409),
    (NotReversibleError, 409),
    (InvalidParamsError, 400),
    (ActionError, 502),
    (LookupError, 404),
    (ValueError, 400),
)


def desk_of(console: Console) -> ApprovalDesk | None:
    """The approval desk, when containment is wired in."""
    containment = console.services.containment
    return containment.desk if containment is not None else None


def authority(request: Request) -> Authority:
    """The signed-in person as an approval authority."""
    principal = principal_of(request)
    if principal is None:
        return Authority("console")
    return Authority(principal.username, principal.role >= Role.COMMANDER)


def actions_context(console: Console, incident: Incident) -> dict[str, Any] | None:
    """The action catalog with its forms, and this incident's approvals with their runs."""
    desk = desk_of(console)
    if desk is None:
        return None
    prefill = {"source_incident": incident.id, "incident_id": incident.id, "reason": incident.title}
    catalog = [
        {"info": info, "fields": fields_of(info.params_schema, prefill)}
        for info in desk.registry.describe()
    ]
    approvals = desk.store.listed(incident_id=incident.id, limit=100)
    outcomes = [desk.outcome(approval) for approval in approvals]
    reversible = {info.name: info.reversible for info in desk.registry.describe()}
    return {"catalog": catalog, "outcomes": outcomes, "reversible": reversible}


def add_action_routes(router: APIRouter, console: Console, show: Show) -> None:
    """The action forms' routes on the incident pages' router."""
    routes = _ActionRoutes(console, show)
    router.add_api_route("/incidents/{incident_id}/actions", routes.plan, methods=["POST"])
    base = "/incidents/{incident_id}/approvals/{approval_id}"
    router.add_api_route(f"{base}/approve", routes.approve, methods=["POST"])
    router.add_api_route(f"{base}/reject", routes.reject, methods=["POST"])
    router.add_api_route(f"{base}/run", routes.run, methods=["POST"])
    router.add_api_route(
        "/incidents/{incident_id}/actions/{key}/undo", routes.undo, methods=["POST"]
    )


class _ActionRoutes:
    def __init__(self, console: Console, show: Show) -> None:
        self.console = console
        self.show = show

    async def plan(self, request: Request, incident_id: str) -> Response:
        """Dry-run an action for the incident and open its approval."""
        form = await read_form(request)
        desk = desk_of(self.console)
        name = form.get("action", "")
        if desk is None or name not in desk.registry:
            return self.show(request, incident_id, (400, f"No action called {name!r} here."))
        schema = desk.registry.get(name).params_model.model_json_schema()
        try:
            params = values_of(schema, form)
        except ValueError as exc:
            return self.show(request, incident_id, (400, str(exc)))
        mode = "commander" if form.get("approval") == "commander" else None
        work = partial(self._plan, desk, name, params, authority(request).name, incident_id, mode)
        return self._after(request, incident_id, work, "planned")

    async def approve(self, request: Request, incident_id: str, approval_id: str) -> Response:
        """Approve a pending action; it runs at once."""
        reason = (await read_form(request)).get("reason", "")
        return self._decide(request, incident_id, "approve", approval_id, reason)

    async def reject(self, request: Request, incident_id: str, approval_id: str) -> Response:
        """Reject a pending action (a reason is required)."""
        reason = (await read_form(request)).get("reason", "")
        return self._decide(request, incident_id, "reject", approval_id, reason)

    def run(self, request: Request, incident_id: str, approval_id: str) -> Response:
        """Run (or retry) an approved action."""
        desk = desk_of(self.console)
        if desk is None:
            return self.show(request, incident_id, (404, "Actions are not set up here."))
        work = partial(desk.run, approval_id, authority(request))
        return self._after(request, incident_id, work, "executed")

    def undo(self, request: Request, incident_id: str, key: str) -> Response:
        """Undo what a run applied."""
        desk = desk_of(self.console)
        if desk is None:
            return self.show(request, incident_id, (404, "Actions are not set up here."))
        work = partial(desk.undo, key, authority(request))
        return self._after(request, incident_id, work, "undone")

    def _decide(
        self, request: Request, incident_id: str, how: str, approval_id: str, reason: str
    ) -> Response:
        desk = desk_of(self.console)
        if desk is None:
            return self.show(request, incident_id, (404, "Actions are not set up here."))
        decide = desk.approve if how == "approve" else desk.reject
        work = partial(decide, approval_id, authority(request), reason)
        return self._after(
            request, incident_id, work, "executed" if how == "approve" else "rejected"
        )

    def _plan(
        self,
        desk: ApprovalDesk,
        name: str,
        params: dict[str, Any],
        requested_by: str,
        incident_id: str,
        mode: str | None,
    ) -> Outcome:
        incident = self.console.services.incidents
        ref = incident.get(incident_id).id if incident is not None else incident_id
        return desk.plan(
            name,
            params,
            requested_by=requested_by,
            incident_id=ref,
            mode="commander" if mode == "commander" else None,
        )

    def _after(
        self, request: Request, incident_id: str, work: Callable[[], object], done: str
    ) -> Response:
        try:
            work()
        except Exception as exc:
            for kind, status in _ERRORS:
                if isinstance(exc, kind):
                    return self.show(request, incident_id, (status, str(exc).strip("'\"")))
            raise
        return back(f"/incidents/{incident_id}", done, "actions")
