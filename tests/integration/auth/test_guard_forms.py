"""The guard reads a form's CSRF field and hands the untouched body on to the route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, File, Form, UploadFile
from fastapi.testclient import TestClient
from tests.integration.auth.conftest import make_services
from tests.integration.auth.helpers import auth_of, session_headers

from mailwarden.app import Services
from mailwarden.auth.roles import Role
from mailwarden.clock import FakeClock
from mailwarden.web.auth.cookies import CookiePolicy
from mailwarden.web.auth.guard import AuthGuard
from mailwarden.web.auth.permissions import RESPONDER, VIEWER


@pytest.fixture
def guarded(sqlite_url: str, clock: FakeClock) -> Iterator[tuple[Services, TestClient]]:
    services = make_services(sqlite_url, clock)
    app = FastAPI()

    @app.post("/notes")
    def note(text: str = Form(...)) -> dict[str, str]:
        return {"text": text}

    @app.post("/evidence")
    async def evidence(file: UploadFile = File(...)) -> dict[str, int]:
        return {"size": len(await file.read())}

    table = {"POST /notes": VIEWER, "POST /evidence": RESPONDER}
    app.add_middleware(
        AuthGuard,
        routes=app.router.routes,
        auth=auth_of(services),
        cookies=CookiePolicy(),
        table=table,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield services, client
    services.close()


def test_an_urlencoded_form_with_the_token_reaches_the_route_intact(
    guarded: tuple[Services, TestClient],
) -> None:
    services, client = guarded
    headers = session_headers(services, "alice", Role.VIEWER)
    cookie = {"cookie": headers["cookie"]}
    form = {"text": "paused the campaign", "csrf_token": headers["x-csrf-token"]}
    response = client.post("/notes", data=form, headers=cookie)
    assert response.status_code == 200 and response.json() == {"text": "paused the campaign"}
    forged = client.post("/notes", data={**form, "csrf_token": "x"}, headers=cookie)
    assert forged.status_code == 403


def test_a_multipart_upload_with_the_token_reaches_the_route_intact(
    guarded: tuple[Services, TestClient],
) -> None:
    services, client = guarded
    headers = session_headers(services, "rick", Role.RESPONDER)
    payload = b"Received: from mx.example\r\n" * 5000
    response = client.post(
        "/evidence",
        data={"csrf_token": headers["x-csrf-token"]},
        files={"file": ("bounce.eml", payload, "message/rfc822")},
        headers={"cookie": headers["cookie"]},
    )
    assert response.status_code == 200 and response.json() == {"size": len(payload)}
    missing = client.post(
        "/evidence",
        files={"file": ("bounce.eml", payload, "message/rfc822")},
        headers={"cookie": headers["cookie"]},
    )
    assert missing.status_code == 403
