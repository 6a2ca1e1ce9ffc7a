"""Templates for the sign-in pages, and the CSRF token the console's own forms must carry."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from mailwarden.web.auth.guard import principal_of

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def make_templates() -> Jinja2Templates:
    """A Jinja2 environment over web/templates, with csrf_token(request) available."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.globals["csrf_token"] = csrf_token
    return templates


def csrf_token(conn: HTTPConnection) -> str:
    """The signed-in session's CSRF token, for a hidden `csrf_token` field ('' if anonymous)."""
    principal = principal_of(conn)
    return principal.csrf_token or "" if principal is not None else ""
