"""REST API for the team (people, roles, rotas, overrides, escalation, on-call), playbooks,
incident tasks and SLA clocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mailwarden.app import Services
from mailwarden.playbooks.library import PlaybookLibrary
from mailwarden.playbooks.present import playbook_detail, playbook_summary, task_dict
from mailwarden.playbooks.runner import TaskRunner, TaskStateError, UnknownTaskError
from mailwarden.sla.monitor import ResponseMonitor
from mailwarden.sla.present import clock_dict
from mailwarden.team.model import TeamInputError, UnknownTeamItemError
from mailwarden.team.oncall import shifts
from mailwarden.team.present import (
    override_dict,
    person_dict,
    policy_dict,
    role_dict,
    rota_dict,
    shift_dict,
)
from mailwarden.team.service import TeamService
from mailwarden.web.api_incidents import actor_of, answer
from mailwarden.web.errors import error_response

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "Bad input; `detail` says what was wrong"},
    404: {"description": "Unknown person, rota, policy, playbook, incident or task"},
    409: {"description": "Not allowed now (e.g. mandatory tasks open, task already done)"},
}


class ContactIn(BaseModel):
    """A way to reach a person."""

    channel: str
    address: str


class PersonIn(BaseModel):
    """A person on the team."""

    handle: str
    name: str = ""
    contacts: list[ContactIn] = Field(default_factory=list)
    timezone: str | None = None


class RoleIn(BaseModel):
    """A custom response role."""

    name: str
    description: str = ""


class RotaIn(BaseModel):
    """An on-call rota."""

    name: str
    rotation: str = "weekly"
    handoff: str = "09:00"
    timezone: str = "UTC"
    starts_on: date
    members: list[str]
    description: str = ""


class OverrideIn(BaseModel):
    """Someone covers a rota for a time range."""

    person: str
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


class LevelIn(BaseModel):
    """An escalation level: targets like rota:primary or person:dana, then a wait."""

    targets: list[str]
    after_minutes: int = Field(default=0, ge=0)


class PolicyIn(BaseModel):
    """An escalation policy."""

    levels: list[LevelIn] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0)
    description: str = ""
    incident_types: list[str] = Field(default_factory=list)
    severities: list[str] = Field(default_factory=list)


class NoteIn(BaseModel):
    """An optional note."""

    note: str = ""


class OverrideCloseIn(BaseModel):
    """Close with mandatory tasks open: the commander's reason."""

    reason: str = Field(min_length=1)
    note: str = ""


class UpdateIn(BaseModel):
    """A stakeholder update."""

    text: str = Field(min_length=1)


class PersonalDataIn(BaseModel):
    """Personal data is involved; when we became aware of it (default: now)."""

    aware_at: datetime | None = None
    note: str = ""


def guarded(work: Callable[[], Any], status: int = 200) -> Response:
    """Like answer(), with the team and task errors mapped as well."""

    def run() -> Any:
        try:
            return work()
        except TeamInputError as exc:
            return error_response(400, "bad_request", str(exc))
        except (UnknownTeamItemError, UnknownTaskError) as exc:
            return error_response(404, "not_found", str(exc).strip("'\""))
        except TaskStateError as exc:
            return error_response(409, "conflict", str(exc))

    return answer(run, status)


def team_router(services: Services) -> APIRouter:
    """Routes under /api/team, /api/oncall, /api/playbooks and the incident task/SLA routes."""
    router = APIRouter(prefix="/api", tags=["team"])
    if services.team is not None:
        _people(router, services.team)
        _rotas(router, services.team, services)
        _escalation(router, services.team)
    if services.tasks is not None:
        _playbooks(router, services.tasks.library)
        _tasks(router, services.tasks, services)
    if services.monitor is not None:
        _clocks(router, services.monitor)
    return router


def _people(router: APIRouter, team: TeamService) -> None:
    @router.get("/team/people", summary="The team", responses=_ERRORS)
    def people() -> Response:
        return guarded(lambda: {"people": [person_dict(p) for p in team.people()]})

    @router.post("/team/people", summary="Add or update a person", responses=_ERRORS)
    def add_person(body: PersonIn) -> Response:
        contacts = [(c.channel, c.address) for c in body.contacts]
        return guarded(
            lambda: person_dict(team.add_person(body.handle, body.name, contacts, body.timezone)),
            201,
        )

    @router.get("/team/roles", summary="Response roles", responses=_ERRORS)
    def roles() -> Response:
        return guarded(lambda: {"roles": [role_dict(r) for r in team.roles()]})

    @router.post("/team/roles", summary="Add a custom role", responses=_ERRORS)
    def add_role(body: RoleIn) -> Response:
        return guarded(lambda: role_dict(team.add_role(body.name, body.description)), 201)


def _rotas(router: APIRouter, team: TeamService, services: Services) -> None:
    @router.get("/team/rotas", summary="On-call rotas", responses=_ERRORS)
    def rotas() -> Response:
        return guarded(lambda: {"rotas": [rota_dict(r) for r in team.rotas()]})

    @router.post("/team/rotas", summary="Add or replace a rota", responses=_ERRORS)
    def add_rota(body: RotaIn) -> Response:
        def work() -> dict[str, Any]:
            return rota_dict(
                team.add_rota(
                    body.name,
                    rotation=body.rotation,
                    handoff=body.handoff,
                    timezone=body.timezone,
                    starts_on=body.starts_on,
                    members=body.members,
                    description=body.description,
                )
            )

        return guarded(work, 201)

    @router.get("/team/rotas/{name}", summary="A rota and its coming shifts", responses=_ERRORS)
    def show_rota(
        name: str,
        start: datetime | None = Query(None, alias="from"),
        days: int = Query(14, ge=1, le=366),
    ) -> Response:
        def work() -> dict[str, Any]:
            rota = team.rota(name)
            begin = start or services.clock.now()
            found = shifts(rota, begin, begin + timedelta(days=days))
            return {**rota_dict(rota), "shifts": [shift_dict(s) for s in found]}

        return guarded(work)

    @router.post("/team/rotas/{name}/overrides", summary="Cover a rota", responses=_ERRORS)
    def add_override(name: str, body: OverrideIn, request: Request) -> Response:
        actor = actor_of(request).name
        return guarded(
            lambda: override_dict(
                team.add_override(
                    name, body.person, body.starts_at, body.ends_at, reason=body.reason, actor=actor
                )
            ),
            201,
        )

    @router.get("/oncall", summary="Who is on call now (or at)", responses=_ERRORS)
    def oncall(at: datetime | None = Query(None), rota: str | None = Query(None)) -> Response:
        def work() -> dict[str, Any]:
            when = at or services.clock.now()
            return {
                "at": when.isoformat(),
                "on_call": [shift_dict(s) for s in team.on_call(when, rota)],
            }

        return guarded(work)


def _escalation(router: APIRouter, team: TeamService) -> None:
    @router.get("/team/escalation-policies", summary="Escalation policies", responses=_ERRORS)
    def policies() -> Response:
        return guarded(lambda: {"policies": [policy_dict(p) for p in team.policies()]})

    @router.put(
        "/team/escalation-policies/{name}", summary="Set an escalation policy", responses=_ERRORS
    )
    def set_policy(name: str, body: PolicyIn) -> Response:
        levels = [(level.targets, level.after_minutes) for level in body.levels]
        return guarded(
            lambda: policy_dict(
                team.set_policy(
                    name,
                    levels,
                    repeat=body.repeat,
                    description=body.description,
                    incident_types=body.incident_types,
                    severities=body.severities,
                )
            )
        )


def _playbooks(router: APIRouter, library: PlaybookLibrary) -> None:
    @router.get("/playbooks", summary="The playbook in force per incident type", responses=_ERRORS)
    def playbooks() -> Response:
        return guarded(
            lambda: {
                "playbooks": [playbook_summary(p) for p in library.all()],
                "problems": [str(p) for p in library.problems],
            }
        )

    @router.get("/playbooks/{incident_type}", summary="One playbook's steps", responses=_ERRORS)
    def playbook(incident_type: str) -> Response:
        found = {p.spec.type: p for p in library.all()}
        if incident_type not in found:
            return error_response(404, "not_found", f"no playbook for {incident_type!r}")
        return guarded(lambda: playbook_detail(found[incident_type]))


def _tasks(router: APIRouter, runner: TaskRunner, services: Services) -> None:
    @router.get("/incidents/{incident_id}/tasks", summary="An incident's tasks", responses=_ERRORS)
    def tasks(incident_id: str) -> Response:
        now = services.clock.now()
        return guarded(lambda: {"tasks": [task_dict(t, now) for t in runner.tasks(incident_id)]})

    @router.post(
        "/incidents/{incident_id}/tasks/{step}/done", summary="Check a task off", responses=_ERRORS
    )
    def done(incident_id: str, step: str, body: NoteIn, request: Request) -> Response:
        actor = actor_of(request)
        return guarded(lambda: task_dict(runner.finish(incident_id, step, actor, note=body.note)))

    @router.post(
        "/incidents/{incident_id}/tasks/{step}/skip",
        summary="Skip a task (mandatory ones need a note)",
        responses=_ERRORS,
    )
    def skip(incident_id: str, step: str, body: NoteIn, request: Request) -> Response:
        actor = actor_of(request)
        return guarded(
            lambda: task_dict(runner.finish(incident_id, step, actor, note=body.note, skip=True))
        )

    @router.post(
        "/incidents/{incident_id}/close",
        summary="Close (refused while mandatory tasks are open)",
        responses=_ERRORS,
    )
    def close(incident_id: str, body: NoteIn, request: Request) -> Response:
        actor = actor_of(request)
        return guarded(lambda: _closed(runner.close(incident_id, actor, body.note)))

    @router.post(
        "/incidents/{incident_id}/close-override",
        summary="Commander: close with mandatory tasks open, giving the reason",
        responses=_ERRORS,
    )
    def close_override(incident_id: str, body: OverrideCloseIn, request: Request) -> Response:
        actor = actor_of(request)
        return guarded(
            lambda: _closed(
                runner.close(incident_id, actor, body.note, override_reason=body.reason)
            )
        )


def _closed(incident: Any) -> dict[str, Any]:
    return {"id": incident.id, "state": incident.state}


def _clocks(router: APIRouter, monitor: ResponseMonitor) -> None:
    @router.get("/incidents/{incident_id}/sla", summary="An incident's clocks", responses=_ERRORS)
    def clocks(incident_id: str) -> Response:
        return guarded(
            lambda: {"clocks": [clock_dict(state) for state in monitor.clocks(incident_id)]}
        )

    @router.post(
        "/incidents/{incident_id}/stakeholder-updates",
        summary="Record a stakeholder update",
        responses=_ERRORS,
        status_code=201,
    )
    def stakeholder_update(incident_id: str, body: UpdateIn, request: Request) -> Response:
        actor = actor_of(request)
        return guarded(lambda: _entry(monitor.post_update(incident_id, body.text, actor)), 201)

    @router.post(
        "/incidents/{incident_id}/personal-data",
        summary="Confirm a breach involves personal data (starts the 72h clock)",
        responses=_ERRORS,
        status_code=201,
    )
    def personal_data(incident_id: str, body: PersonalDataIn, request: Request) -> Response:
        actor = actor_of(request)
        return guarded(
            lambda: _entry(
                monitor.confirm_personal_data(
                    incident_id, actor, aware_at=body.aware_at, note=body.note
                )
            ),
            201,
        )

    @router.post(
        "/incidents/{incident_id}/authority-notified",
        summary="Record that the supervisory authority was notified",
        responses=_ERRORS,
        status_code=201,
    )
    def authority_notified(incident_id: str, body: NoteIn, request: Request) -> Response:
        actor = actor_of(request)
        return guarded(
            lambda: _entry(monitor.authority_notified(incident_id, actor, body.note)), 201
        )


def _entry(entry: Any) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "note": entry.note,
    }
