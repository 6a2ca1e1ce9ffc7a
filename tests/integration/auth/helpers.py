"""Helpers for any web test that needs a signed-in user or an API token.

headers = bearer_headers(services, "alice", Role.RESPONDER)
client.get("/api/incidents", headers=headers)

headers = session_headers(services, "bob", Role.ADMIN)   # cookie + CSRF header
client.post("/api/incidents", json={...}, headers=headers)
"""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from mailwarden.app import Services
from mailwarden.auth.model import Client
from mailwarden.auth.roles import Role
from mailwarden.auth.service import Auth
from mailwarden.store.auth_repo import UserRecord

TEST_PASSWORD = "correct horse battery staple"


def auth_of(services: Services) -> Auth:
    """The auth services (always built by mailwarden.app.build)."""
    assert services.auth is not None
    return services.auth


def ensure_user(
    services: Services, username: str, role: Role, password: str = TEST_PASSWORD
) -> UserRecord:
    """Return the user, creating it with password if absent."""
    auth = auth_of(services)
    existing = [user for user in auth.users.list_users() if user.username == username]
    if existing:
        return existing[0]
    user, _ = auth.users.create("test", username, role, password)
    return user


def session_headers(services: Services, username: str, role: Role) -> dict[str, str]:
    """Headers of a browser signed in as username: its session cookie and CSRF token."""
    user = ensure_user(services, username, role)
    session = auth_of(services).sessions.start(user, Client("127.0.0.1", "pytest"))
    return {"cookie": f"mw_session={session.token}", "x-csrf-token": session.record.csrf_token}


def bearer_headers(services: Services, username: str, role: Role) -> dict[str, str]:
    """Headers of a script calling with a fresh API token of role for username."""
    user = ensure_user(services, username, role)
    made = auth_of(services).tokens.create("test", user, f"test-{role.label}", role)
    return {"authorization": f"Bearer {made.secret}"}


def login_form_token(client: TestClient, next_path: str = "/") -> str:
    """GET /login (which sets the sign-in CSRF cookie) and return the form's token."""
    page = client.get("/login", params={"next": next_path})
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the sign-in form has no CSRF field"
    return found.group(1)


def sign_in(
    client: TestClient, username: str, password: str = TEST_PASSWORD, next_path: str = "/"
) -> httpx.Response:
    """Sign in through the HTML form, as a browser does; the client keeps the cookie."""
    token = login_form_token(client, next_path)
    form = {"username": username, "password": password, "csrf_token": token, "next": next_path}
    response: httpx.Response = client.post("/login", data=form)
    return response


def page_csrf(client: TestClient, path: str = "/account/password") -> str:
    """The session's CSRF token, read from a signed-in page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found and found.group(1), f"{path} has no CSRF field"
    return found.group(1)
