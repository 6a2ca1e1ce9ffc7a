"""Rendering console pages: one Jinja environment (built in the app factory), CSP, nav, notices.

Buttons are shown from the same permission table the guard enforces (`can(request, key)`),
so a page never offers what the server would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from mailwarden import __version__
from mailwarden.app import Services
from mailwarden.auth.model import Principal
from mailwarden.auth.roles import Role
from mailwarden.demo import DemoJob
from mailwarden.reports.health import HealthBoard
from mailwarden.web.auth.guard import principal_of
from mailwarden.web.auth.permissions import PERMISSIONS
from mailwarden.web.auth.templating import make_templates

STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"
VENDOR_DIR: Final = STATIC_DIR / "vendor"
CONSOLE_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# (section, label, path, route key that must be allowed)
NAV: Final = (
    ("overview", "Overview", "/", "GET /"),
    ("incidents", "Incidents", "/incidents", "GET /incidents"),
    ("findings", "Findings", "/findings", "GET /findings"),
    ("silences", "Silences", "/silences", "GET /silences"),
    ("playbooks", "Playbooks", "/playbooks", "GET /playbooks"),
    ("team", "Team", "/team", "GET /team"),
    ("events", "Events", "/events", "GET /events"),
    ("deadletters", "Dead letters", "/deadletters", "GET /deadletters"),
    ("settings", "Settings", "/settings", "GET /settings"),
)
# Notices after a change are chosen by code, so no page reflects text from a URL.
NOTICES: Final = {
    "moved": "The incident moved; the timeline has the entry.",
    "noted": "Note added to the timeline.",
    "assigned": "Role assigned.",
    "unassigned": "Role left empty; the timeline keeps who held it.",
    "graded": "Severity changed; the timeline has the reason.",
    "attached": "Evidence attached.",
    "task": "Task updated.",
    "planned": "Action planned: review the plan, then run or approve it.",
    "executed": "Action run.",
    "undone": "Action undone.",
    "rejected": "Action rejected; it will not run.",
    "silenced": "Silence added.",
    "expired": "Silence ended.",
    "replayed": "Dead letters replayed; see the result below.",
    "demo": "The demo is loading.",
}


@dataclass(frozen=True, slots=True)
class Assets:
    """Which third-party files `make assets` put in static/vendor (pages work without them)."""

    uplot_js: bool
    uplot_css: bool

    @classmethod
    def found(cls, vendor: Path = VENDOR_DIR) -> Assets:
        """Look for the vendored files now."""
        return cls((vendor / "uPlot.iife.min.js").is_file(), (vendor / "uPlot.min.css").is_file())


def can(request: Request, key: str) -> bool:
    """True when the signed-in principal may call the route key ("METHOD /template")."""
    principal = principal_of(request)
    access = PERMISSIONS.get(key)
    if principal is None or access is None:
        return False
    return access.public or (access.role is not None and principal.role >= access.role)


def signed_in(request: Request) -> Principal:
    """The principal of a guarded page (the guard lets no anonymous request through)."""
    principal = principal_of(request)
    if principal is None:
        raise PermissionError("no principal on a guarded page")
    return principal


def when(value: datetime | None, *, seconds: bool = False) -> str:
    """A UTC time as '2026-11-27 08:05' (or '-' for none)."""
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def iso(value: datetime | None) -> str:
    """A machine-readable time for <time datetime=...>."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def pct(value: float | None, digits: int = 2) -> str:
    """A rate as a percentage ('0.12 %'), or '-' when unknown."""
    if value is None:
        return "-"
    return f"{value * 100:.{digits}f} %"


def epoch(seconds: float) -> str:
    """Epoch seconds as a UTC time ('2026-11-27 08:05')."""
    return when(datetime.fromtimestamp(seconds, UTC))


def minute(value: datetime, extra: int = 0) -> str:
    """A time as the explorer's since/until field wants it ('2026-11-27T08:05')."""
    moment = value.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=extra)
    return moment.strftime("%Y-%m-%dT%H:%M")


def number(value: int | float | None) -> str:
    """A count with thousands separators."""
    if value is None:
        return "-"
    return f"{value:,.0f}"


def build_templates() -> Jinja2Templates:
    """The console's Jinja environment: the auth helpers plus our filters and globals."""
    templates = make_templates()
    env = templates.env
    env.filters.update(when=when, iso=iso, pct=pct, number=number, epoch=epoch, minute=minute)
    env.globals.update(can=can, version=__version__)
    return templates


class Console:
    """What every page handler needs: the services, the templates and the vendored assets."""

    def __init__(
        self,
        services: Services,
        templates: Jinja2Templates,
        assets: Assets,
        board: HealthBoard,
        demo: DemoJob,
    ) -> None:
        self.services = services
        self.templates = templates
        self.assets = assets
        self.board = board
        self.demo = demo

    def render(
        self,
        request: Request,
        name: str,
        section: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        error: str | None = None,
    ) -> HTMLResponse:
        """A whole page in the console layout."""
        principal = principal_of(request)
        done = request.query_params.get("done", "")
        values = {
            "nav": _nav(request, section),
            "user": _user(principal),
            "assets": self.assets,
            "notice": NOTICES.get(done),
            "error": error,
            **(context or {}),
        }
        return self._respond(request, name, values, status)

    def fragment(
        self, request: Request, name: str, context: Mapping[str, Any], status: int = 200
    ) -> HTMLResponse:
        """A piece of a page (for the live parts), without the layout."""
        return self._respond(request, name, dict(context), status)

    def _respond(
        self, request: Request, name: str, context: dict[str, Any], status: int
    ) -> HTMLResponse:
        headers = {"content-security-policy": CONSOLE_CSP, "cache-control": "no-store"}
        return self.templates.TemplateResponse(
            request, name, context, status_code=status, headers=headers
        )


def _nav(request: Request, section: str) -> list[dict[str, Any]]:
    return [
        {"label": label, "href": href, "current": key == section}
        for key, label, href, route in NAV
        if can(request, route)
    ]


def _user(principal: Principal | None) -> dict[str, str] | None:
    if principal is None:
        return None
    return {"username": principal.username, "role": Role(principal.role).label}
