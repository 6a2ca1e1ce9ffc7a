"""Form plumbing for the console: read a form, redirect after a change, name the actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from mailwarden.incidents.desk import BadInputError, UnknownIncidentError
from mailwarden.incidents.model import Actor, IllegalTransitionError
from mailwarden.incidents.ports import ConflictError
from mailwarden.playbooks.runner import TaskStateError, UnknownTaskError
from mailwarden.web.auth.guard import principal_of

MAX_FIELD: int = 20_000

Refusal = tuple[int, str]
_ERRORS: Final[tuple[tuple[type[Exception], int], ...]] = (
    (UnknownIncidentError, 404),
    (UnknownTaskError, 404),
    (IllegalTransitionError, 409),
    (TaskStateError, 409),
    (ConflictError, 409),
    (BadInputError, 400),
)


def attempt(work: Callable[[], object]) -> Refusal | None:
    """Run a service call; a domain refusal becomes (status, message) for the page."""
    try:
        work()
    except Exception as exc:
        for kind, status in _ERRORS:
            if isinstance(exc, kind):
                return status, _sentence(str(exc).strip("'\""))
        raise
    return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


async def read_form(request: Request) -> dict[str, str]:
    """The text fields of a posted form (empty for a body that is not a form)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return {}
    async with request.form(max_files=0) as form:
        return {key: value[:MAX_FIELD] for key, value in form.items() if isinstance(value, str)}


def actor(request: Request) -> Actor:
    """The signed-in person, as the incident timeline names them."""
    principal = principal_of(request)
    return Actor(principal.username if principal is not None else "console")


def back(path: str, done: str, anchor: str = "") -> RedirectResponse:
    """303 to a page of this site with a notice code (and an anchor)."""
    target = quote(path, safe="/-_.~")
    return RedirectResponse(f"{target}?done={done}{'#' + anchor if anchor else ''}", 303)
