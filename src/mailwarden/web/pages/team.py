"""Team and on-call (who is on now, rotas, escalation) and playbooks (view, validate a file)."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mailwarden.playbooks.loader import load_text
from mailwarden.web.pages.forms import read_form
from mailwarden.web.pages.render import Console

PASTED: Final = "pasted playbook"


def team_pages(console: Console) -> APIRouter:
    """GET /team, GET /playbooks, POST /playbooks/validate."""
    router = APIRouter(include_in_schema=False)

    @router.get("/team", response_class=HTMLResponse)
    def team(request: Request) -> HTMLResponse:
        """People, rotas, who is on call, escalation."""
        return console.render(request, "console/team.html", "team", team_context(console))

    @router.get("/playbooks", response_class=HTMLResponse)
    def playbooks(request: Request) -> HTMLResponse:
        """The playbooks in force."""
        return console.render(
            request, "console/playbooks.html", "playbooks", playbooks_context(console)
        )

    @router.post("/playbooks/validate", response_class=HTMLResponse)
    async def validate(request: Request) -> HTMLResponse:
        """Check a pasted playbook and say what is wrong, by line."""
        text = (await read_form(request)).get("playbook", "")
        catalog = console.services.actions.registry if console.services.actions else None
        spec, problems = load_text(text, PASTED, catalog) if text.strip() else (None, [])
        checked = {"text": text, "spec": spec, "problems": problems, "empty": not text.strip()}
        context = {**playbooks_context(console), "checked": checked}
        status = 400 if problems or not text.strip() else 200
        return console.render(
            request, "console/playbooks.html", "playbooks", context, status=status
        )

    return router


def team_context(console: Console) -> dict[str, Any]:
    """People, roles, rotas with who is on call now, and escalation policies."""
    team = console.services.team
    if team is None:
        return {"team": None}
    now = console.services.clock.now()
    return {
        "team": team,
        "now": now,
        "people": team.people(),
        "roles": team.roles(),
        "rotas": team.rotas(),
        "on_call": team.on_call(now),
        "policies": team.policies(),
    }


def playbooks_context(console: Console) -> dict[str, Any]:
    """The playbooks in force and what was wrong with the team's files."""
    tasks = console.services.tasks
    if tasks is None:
        return {"playbooks": None, "problems": [], "checked": None}
    library = tasks.library
    return {"playbooks": library.all(), "problems": library.problems, "checked": None}
