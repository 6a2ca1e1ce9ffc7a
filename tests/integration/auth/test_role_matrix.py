"""Every route the app exposes answers each caller exactly as the permission table says.

The routes come from create_app(services) itself, so routes other modules add later are
covered without touching this file; a route missing from the table fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.integration.auth.conftest import make_services
from tests.integration.auth.helpers import auth_of, bearer_headers, ensure_user

from mailwarden.app import Services
from mailwarden.auth.model import Client
from mailwarden.auth.roles import Role
from mailwarden.clock import FakeClock
from mailwarden.web.app import create_app
from mailwarden.web.auth.guard import GUARD_HEADER
from mailwarden.web.auth.permissions import PERMISSIONS, Access
from mailwarden.web.auth.routes import route_specs

TABLE_FILE = "src/mailwarden/web/auth/permissions.py"
DUMMY = "999999"  # fills every path parameter: an id or a name nothing has


@dataclass(frozen=True)
class Caller:
    """Who knocks: anonymous (as a browser or as a script), a session or a token of a role."""

    label: str
    kind: str  # "browser", "script", "session", "token"
    role: Role | None = None


CALLERS = [
    Caller("anonymous browser", "browser"),
    Caller("anonymous script", "script"),
    *(Caller(f"{role.label} session", "session", role) for role in Role),
    *(Caller(f"{role.label} token", "token", role) for role in Role),
]


@pytest.fixture
def matrix_services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    built = make_services(sqlite_url, clock)
    yield built
    built.close()


@pytest.fixture
def matrix_app(matrix_services: Services) -> FastAPI:
    return create_app(matrix_services)


def table_keys(app: FastAPI) -> list[str]:
    """Every "METHOD /template" the app serves, in dispatch order."""
    return [key for spec in route_specs(app.router.routes) for key in spec.table_keys()]


def concrete(key: str) -> tuple[str, str]:
    """The method and a concrete path for a table key."""
    method, template = key.split(" ", 1)
    path = re.sub(r"\{[^}]+\}", DUMMY, template).replace("/*", f"/{DUMMY}")
    return method, path


def allowed(access: Access, caller: Caller) -> bool:
    """What the table says about this caller."""
    if access.public:
        return True
    if caller.role is None or (access.session_only and caller.kind == "token"):
        return False
    assert access.role is not None
    return caller.role >= access.role


def headers_for(services: Services, caller: Caller) -> dict[str, str]:
    """Fresh credentials per request, so a sign-out route cannot spoil the next one."""
    if caller.kind == "browser":
        return {"accept": "text/html,application/xhtml+xml"}
    if caller.kind == "script":
        return {"accept": "application/json"}
    assert caller.role is not None
    name = f"matrix-{caller.role.label}"
    if caller.kind == "token":
        return {**bearer_headers(services, name, caller.role), "accept": "application/json"}
    user = ensure_user(services, name, caller.role)
    session = auth_of(services).sessions.start(user, Client("127.0.0.1", "matrix"))
    return {
        "cookie": f"mw_session={session.token}",
        "x-csrf-token": session.record.csrf_token,
        "accept": "application/json",
    }


def verdict(key: str, access: Access, caller: Caller, response: httpx.Response) -> str | None:
    """None when the response is what the table says, else what went wrong."""
    refused_by_guard = GUARD_HEADER in response.headers
    status = response.status_code
    if not allowed(access, caller):
        if caller.kind == "browser" and key.startswith("GET "):
            location = response.headers.get("location", "")
            if status == 303 and location.startswith("/login?next=") and refused_by_guard:
                return None
            return f"expected a redirect to /login, got {status} {location}"
        if refused_by_guard and status in (401, 403):
            return None
        return f"expected 401/403 from the guard, got {status}"
    if refused_by_guard:
        return f"refused by the guard ({response.headers[GUARD_HEADER]}), but the table allows it"
    if not access.public and status in (401, 403):
        return f"the handler answered {status}"
    if status >= 500:
        return f"server error {status}"
    return None


def test_every_route_is_in_the_permission_table(matrix_app: FastAPI) -> None:
    missing = [key for key in table_keys(matrix_app) if key not in PERMISSIONS]
    assert not missing, (
        f"Routes missing from the permission table; add each to PERMISSIONS in {TABLE_FILE} "
        "with who may call it (PUBLIC, VIEWER, RESPONDER, COMMANDER or ADMIN):\n"
        + "\n".join(f'    "{key}": VIEWER,' for key in missing)
    )


def test_every_route_answers_every_caller_as_the_table_says(
    matrix_app: FastAPI, matrix_services: Services
) -> None:
    problems: list[str] = []
    with TestClient(matrix_app, raise_server_exceptions=False, follow_redirects=False) as client:
        for key in table_keys(matrix_app):
            access = PERMISSIONS.get(key)
            if access is None:
                continue  # reported by the test above
            method, path = concrete(key)
            for caller in CALLERS:
                body: dict[str, str] | None = {} if method in ("POST", "PUT", "PATCH") else None
                response = client.request(
                    method, path, json=body, headers=headers_for(matrix_services, caller)
                )
                problem = verdict(key, access, caller, response)
                if problem:
                    problems.append(f"{key} as {caller.label}: {problem}")
    assert not problems, "\n".join(problems)


def test_a_route_missing_from_the_table_is_refused_even_to_admins(
    matrix_app: FastAPI, matrix_services: Services
) -> None:
    @matrix_app.get("/api/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "contact list"}

    assert "GET /api/forgotten" in table_keys(matrix_app)
    headers = bearer_headers(matrix_services, "root", Role.ADMIN)
    with TestClient(matrix_app, raise_server_exceptions=False) as client:
        response = client.get("/api/forgotten", headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "not_in_permission_table"
    assert "contact list" not in response.text


def test_a_mounted_app_is_guarded_by_its_wildcard_key(
    matrix_app: FastAPI, matrix_services: Services
) -> None:
    inner = FastAPI()

    @inner.get("/peek")
    def peek() -> dict[str, str]:
        return {"secret": "contacts"}

    matrix_app.mount("/internal", inner)
    assert "GET /internal/*" in table_keys(matrix_app)
    headers = bearer_headers(matrix_services, "root", Role.ADMIN)
    with TestClient(matrix_app, raise_server_exceptions=False) as client:
        assert client.get("/internal/peek", headers=headers).status_code == 403


def test_public_routes_are_only_the_listed_exceptions() -> None:
    public = sorted(key for key, access in PERMISSIONS.items() if access.public)
    assert public == [
        "GET /healthz",
        "GET /login",
        "GET /static/*",
        "POST /login",
        "POST /webhooks/{provider}",
    ]
