"""Incident pages: the list, the page a responder runs an incident from, its live timeline,
and the forms that move it, note it, grade it, staff it (and unstaff it), attach evidence
and check tasks off.

Every change goes through the incident service (or the playbook runner for tasks and
closing); a refusal is shown on the page with the service's own words.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mailwarden.incidents.desk import BadInputError, UnknownIncidentError
from mailwarden.incidents.model import (
    INCIDENT_TYPES,
    OPEN_STATES,
    ROLES,
    SEVERITY_LEVELS,
    STATES,
    Incident,
)
from mailwarden.incidents.service import IncidentService
from mailwarden.web.pages import incident_view as view
from mailwarden.web.pages.forms import Refusal, actor, attempt, back, read_form
from mailwarden.web.pages.incident_actions import actions_context, add_action_routes
from mailwarden.web.pages.render import Console


def incidents_pages(console: Console) -> APIRouter:
    """GET /incidents, GET /incidents/{id} (+ timeline fragment) and the incident's forms."""
    router = APIRouter(include_in_schema=False)
    pages = IncidentPages(console)
    router.add_api_route("/incidents", pages.list_page, methods=["GET"])
    router.add_api_route("/incidents/{incident_id}", pages.detail, methods=["GET"])
    router.add_api_route("/incidents/{incident_id}/timeline", pages.timeline, methods=["GET"])
    router.add_api_route("/incidents/{incident_id}/transition", pages.move, methods=["POST"])
    router.add_api_route("/incidents/{incident_id}/notes", pages.note, methods=["POST"])
    router.add_api_route("/incidents/{incident_id}/severity", pages.grade, methods=["POST"])
    router.add_api_route("/incidents/{incident_id}/roles", pages.assign, methods=["POST"])
    router.add_api_route(
        "/incidents/{incident_id}/roles/{role}/unassign", pages.unassign, methods=["POST"]
    )
    router.add_api_route("/incidents/{incident_id}/evidence", pages.attach, methods=["POST"])
    router.add_api_route(
        "/incidents/{incident_id}/tasks/{step}", pages.check_task, methods=["POST"]
    )
    add_action_routes(router, console, pages.show)
    return router


class IncidentPages:
    """Handlers of the incident pages."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @property
    def service(self) -> IncidentService:
        """The incident service (always built by mailwarden.app.build)."""
        service = self.console.services.incidents
        if service is None:
            raise RuntimeError("the incident service is not configured")
        return service

    def list_page(
        self, request: Request, state: str = "open", severity: str = "", type: str = ""
    ) -> HTMLResponse:
        """Incidents, newest first, filtered by state group, severity and type."""
        states = sorted(OPEN_STATES) if state == "open" else [state] if state in STATES else None
        types = [type] if type in INCIDENT_TYPES else None
        found = self.service.list_incidents(states=states, types=types, limit=500)
        if severity in SEVERITY_LEVELS:
            found = [incident for incident in found if incident.severity == severity]
        context = {
            "incidents": found,
            "filters": {"state": state, "severity": severity, "type": type},
            "states": STATES,
            "severities": SEVERITY_LEVELS,
            "types": INCIDENT_TYPES,
        }
        return self.console.render(request, "console/incidents.html", "incidents", context)

    def detail(self, request: Request, incident_id: str) -> HTMLResponse:
        """The incident page."""
        return self.show(request, incident_id)

    def show(
        self, request: Request, incident_id: str, refusal: Refusal | None = None
    ) -> HTMLResponse:
        """Render the incident page, with a refusal (status, message) when a change failed."""
        try:
            incident = self.service.get(incident_id)
        except (UnknownIncidentError, BadInputError) as exc:
            return self.console.render(
                request, "console/missing.html", "incidents", {"what": str(exc)}, status=404
            )
        status, error = refusal if refusal else (200, None)
        context = self._context(request, incident)
        return self.console.render(
            request, "console/incident.html", "incidents", context, status=status, error=error
        )

    def timeline(self, request: Request, incident_id: str) -> Response:
        """The timeline entries alone (the page refreshes them every few seconds)."""
        try:
            entries = self.service.timeline(incident_id)
        except (UnknownIncidentError, BadInputError):
            return HTMLResponse("", status_code=404)
        return self.console.fragment(request, "console/timeline.html", {"entries": entries})

    async def move(self, request: Request, incident_id: str) -> Response:
        """Move the incident to a state the transitions table allows (closing via playbooks)."""
        form = await read_form(request)
        target, note = form.get("to", ""), form.get("note", "")
        override = form.get("override_reason", "")
        tasks = self.console.services.tasks
        work: Callable[[], object]
        if target == "closed" and tasks is not None:
            work = partial(tasks.close, incident_id, actor(request), note, override)
        else:
            work = partial(self.service.transition, incident_id, target, actor(request), note)
        return self._after(request, incident_id, work, "moved", "state")

    async def note(self, request: Request, incident_id: str) -> Response:
        """Add a note to the timeline."""
        text = (await read_form(request)).get("note", "")
        work = partial(self.service.add_note, incident_id, text, actor(request))
        return self._after(request, incident_id, work, "noted", "notes")

    async def grade(self, request: Request, incident_id: str) -> Response:
        """Set the severity by hand; the reason goes on the timeline."""
        form = await read_form(request)
        level, reason = form.get("severity", ""), form.get("reason", "")
        work = partial(self.service.set_severity, incident_id, level, actor(request), reason)
        return self._after(request, incident_id, work, "graded", "severity")

    async def assign(self, request: Request, incident_id: str) -> Response:
        """Give a response role to a person."""
        form = await read_form(request)
        role, person = form.get("role", ""), form.get("person", "")
        work = partial(self.service.assign, incident_id, role, person, actor(request))
        return self._after(request, incident_id, work, "assigned", "roles")

    def unassign(self, request: Request, incident_id: str, role: str) -> Response:
        """Leave a response role empty (the timeline keeps who held it)."""
        work = partial(self.service.unassign, incident_id, role, actor(request))
        return self._after(request, incident_id, work, "unassigned", "roles")

    def attach(
        self, request: Request, incident_id: str, file: UploadFile | None = File(None)
    ) -> Response:
        """Keep an uploaded file as evidence."""
        if file is None or not file.filename:
            return self.show(request, incident_id, (400, "Choose a file to attach."))
        limit = self.service.max_attachment_bytes
        content = file.file.read(limit + 1)
        name, kind = file.filename, file.content_type or "application/octet-stream"
        work = partial(
            self.service.attach_evidence, incident_id, name, kind, content, actor(request)
        )
        return self._after(request, incident_id, work, "attached", "evidence")

    async def check_task(self, request: Request, incident_id: str, step: str) -> Response:
        """Check a task off as done, or skip it with a note."""
        form = await read_form(request)
        tasks = self.console.services.tasks
        if tasks is None:
            return self.show(request, incident_id, (404, "Playbooks are not running here."))
        skip, note = form.get("outcome") == "skip", form.get("note", "")
        work = partial(tasks.finish, incident_id, step, actor(request), note=note, skip=skip)
        return self._after(request, incident_id, work, "task", "tasks")

    def _after(
        self,
        request: Request,
        incident_id: str,
        work: Callable[[], object],
        done: str,
        anchor: str,
    ) -> Response:
        refusal = attempt(work)
        if refusal is not None:
            return self.show(request, incident_id, refusal)
        return back(f"/incidents/{incident_id}", done, anchor)

    def _context(self, request: Request, incident: Incident) -> dict[str, Any]:
        services = self.console.services
        now = services.clock.now()
        tasks = view.incident_tasks(services, incident)
        return {
            "incident": incident,
            "moves": view.moves(incident),
            "phases": view.phase_steps(incident),
            "tasks": view.tasks_by_phase(tasks) if tasks is not None else None,
            "clocks": view.incident_clocks(services, incident, now),
            "timeline": self.service.timeline(incident.id),
            "attachments": self.service.attachments(incident.id),
            "findings": list(incident.links.values()),
            "evidence": view.evidence_links(services, incident),
            "chart": view.chart_data(self.console.board, incident, now),
            "roles": ROLES,
            "role_rows": view.role_rows(incident),
            "severities": SEVERITY_LEVELS,
            "people": services.team.people() if services.team is not None else [],
            "actions": actions_context(self.console, incident),
            "now": now,
        }
