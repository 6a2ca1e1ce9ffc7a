"""Signing in and out through the browser door: redirects, cookies, fixation, CSRF, expiry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.integration.auth.conftest import make_services
from tests.integration.auth.helpers import (
    TEST_PASSWORD,
    ensure_user,
    login_form_token,
    page_csrf,
    session_headers,
    sign_in,
)

from mailwarden.app import Services
from mailwarden.auth.model import Client
from mailwarden.auth.roles import Role
from mailwarden.auth.service import Auth
from mailwarden.clock import FakeClock
from mailwarden.web.app import create_app

HTML = {"accept": "text/html"}


def session_cookie(client: TestClient) -> str:
    value = client.cookies.get("mw_session")
    assert value, "no session cookie"
    return str(value)


def test_anonymous_browser_is_sent_to_sign_in_with_the_page_to_return_to(
    client: TestClient,
) -> None:
    response = client.get("/", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F"


def test_anonymous_script_gets_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_health_check_stays_public(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_sign_in_page_is_labelled_keyboard_and_phone_friendly(client: TestClient) -> None:
    page = client.get("/login")
    html = page.text
    assert page.status_code == 200
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert '<label for="username">' in html and 'id="username"' in html
    assert '<label for="password">' in html and 'autocomplete="current-password"' in html
    assert 'autocomplete="username"' in html and '<button type="submit">' in html
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"


def test_signing_in_sets_an_httponly_samesite_cookie_and_returns_to_next(
    client: TestClient, services: Services
) -> None:
    ensure_user(services, "alice", Role.RESPONDER)
    response = sign_in(client, "alice", next_path="/api/me")
    assert response.status_code == 303 and response.headers["location"] == "/api/me"
    cookie = next(c for c in response.headers.get_list("set-cookie") if "mw_session=" in c)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in this test
    me = client.get("/api/me").json()
    assert (me["username"], me["role"], me["via"]) == ("alice", "responder", "session")


def test_over_https_the_cookie_is_secure_and_host_prefixed(
    app: FastAPI, services: Services
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as tls:
        response = sign_in(tls, "alice")
        cookie = next(c for c in response.headers.get_list("set-cookie") if "mw_session=" in c)
        assert cookie.startswith("__Host-mw_session=")
        assert "Secure" in cookie and "HttpOnly" in cookie
        assert tls.get("/api/me").status_code == 200


@pytest.fixture
def proxied(sqlite_url: str, clock: FakeClock) -> Iterator[tuple[Services, TestClient]]:
    built = make_services(sqlite_url, clock, trust_proxy=True)
    with TestClient(create_app(built), follow_redirects=False) as test_client:
        yield built, test_client
    built.close()


def test_behind_a_trusted_proxy_forwarded_https_makes_the_cookie_secure(
    proxied: tuple[Services, TestClient],
) -> None:
    built, test_client = proxied
    ensure_user(built, "alice", Role.VIEWER)
    https = {"x-forwarded-proto": "https"}
    page = test_client.get("/login", headers=https)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    assert "Secure" in page.headers["set-cookie"]
    # the browser sees https and sends the Secure cookie back; httpx over http would not
    cookie = f"__Host-mw_login_csrf={token.group(1)}"
    form = {"username": "alice", "password": TEST_PASSWORD, "csrf_token": token.group(1)}
    response = test_client.post("/login", data=form, headers={**https, "cookie": cookie})
    assert response.status_code == 303
    assert any(
        c.startswith("__Host-mw_session=") and "Secure" in c
        for c in response.headers.get_list("set-cookie")
    )


def test_forwarded_proto_is_ignored_without_a_trusted_proxy(client: TestClient) -> None:
    page = client.get("/login", headers={"x-forwarded-proto": "https"})
    assert "Secure" not in page.headers["set-cookie"]


def test_a_planted_session_token_is_ended_and_replaced_at_sign_in(
    client: TestClient, services: Services, auth: Auth
) -> None:
    mallory = ensure_user(services, "mallory", Role.VIEWER)
    ensure_user(services, "alice", Role.ADMIN)
    planted = auth.sessions.start(mallory, Client()).token
    csrf = login_form_token(client)
    client.cookies.set("mw_session", planted, domain="testserver.local")
    form = {"username": "alice", "password": TEST_PASSWORD, "csrf_token": csrf}
    assert client.post("/login", data=form).status_code == 303
    fresh = session_cookie(client)
    assert fresh != planted
    assert auth.sessions.resolve(planted) is None
    principal = auth.sessions.resolve(fresh)
    assert principal is not None and principal.username == "alice"


def test_sign_out_ends_the_session_on_the_server(
    client: TestClient, services: Services, auth: Auth
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    sign_in(client, "alice")
    token = session_cookie(client)
    response = client.post("/logout", data={"csrf_token": page_csrf(client)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert auth.sessions.resolve(token) is None
    again = client.get("/api/me", headers={"cookie": f"mw_session={token}"})
    assert again.status_code == 401


def test_a_form_post_without_the_session_csrf_token_is_refused(
    client: TestClient, services: Services, auth: Auth
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    sign_in(client, "alice")
    token = session_cookie(client)
    for form in ({}, {"csrf_token": "forged"}):
        response = client.post("/logout", data=form)
        assert response.status_code == 403 and response.json()["error"] == "csrf_failed"
    assert auth.sessions.resolve(token) is not None


def test_json_calls_with_a_session_cookie_need_the_csrf_header(
    client: TestClient, services: Services
) -> None:
    headers = session_headers(services, "alice", Role.VIEWER)
    cookie_only = {"cookie": headers["cookie"]}
    body = {"name": "laptop script"}
    assert client.post("/api/tokens", json=body, headers=cookie_only).status_code == 403
    forged = {**cookie_only, "x-csrf-token": "nope"}
    assert client.post("/api/tokens", json=body, headers=forged).status_code == 403
    assert client.post("/api/tokens", json=body, headers=headers).status_code == 201


def test_a_csrf_token_of_another_session_does_not_count(
    client: TestClient, services: Services
) -> None:
    alice = session_headers(services, "alice", Role.VIEWER)
    other = session_headers(services, "bob", Role.VIEWER)
    mixed = {"cookie": alice["cookie"], "x-csrf-token": other["x-csrf-token"]}
    assert client.post("/api/tokens", json={"name": "x"}, headers=mixed).status_code == 403


def test_the_sign_in_form_itself_needs_its_csrf_cookie(
    client: TestClient, services: Services
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    form = {"username": "alice", "password": TEST_PASSWORD, "csrf_token": "made-up"}
    response = client.post("/login", data=form)
    assert response.status_code == 403
    assert "mw_session" not in client.cookies


def test_wrong_and_unknown_credentials_get_the_same_answer(
    client: TestClient, services: Services
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    wrong = sign_in(client, "alice", "not the password at all")
    unknown = sign_in(client, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert (
        "Wrong username or password." in wrong.text
        and "Wrong username or password." in unknown.text
    )
    assert 'role="alert"' in wrong.text and 'aria-invalid="true"' in wrong.text


def test_repeated_failures_are_throttled_until_the_wait_passes(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    for _ in range(5):
        assert sign_in(client, "alice", "guess guess guess").status_code == 401
    throttled = sign_in(client, "alice")  # even the right password waits
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) == 15
    clock.advance(timedelta(seconds=16))
    assert sign_in(client, "alice").status_code == 303


def test_one_address_guessing_many_accounts_is_throttled(
    client: TestClient, services: Services
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    for n in range(20):
        assert sign_in(client, f"user{n}", "guess guess guess").status_code == 401
    assert sign_in(client, "alice").status_code == 429


def test_a_one_time_password_must_be_changed_before_anything_else(
    client: TestClient, auth: Auth
) -> None:
    _, one_time = auth.users.create("test", "carol", Role.COMMANDER)
    assert one_time is not None
    response = sign_in(client, "carol", one_time, next_path="/api/incidents")
    assert response.headers["location"] == "/account/password"
    first = session_cookie(client)
    assert client.get("/api/me").json()["error"] == "password_change_required"
    assert client.get("/", headers=HTML).headers["location"] == "/account/password"
    page = client.get("/account/password")
    assert "one-time password" in page.text and 'autocomplete="new-password"' in page.text
    csrf = page_csrf(client)
    form = {"csrf_token": csrf, "current_password": one_time}
    mismatch = {**form, "new_password": "a brand new passphrase", "confirm_password": "other"}
    assert client.post("/account/password", data=mismatch).status_code == 400
    good = {
        **form,
        "new_password": "a brand new passphrase",
        "confirm_password": "a brand new passphrase",
    }
    changed = client.post("/account/password", data=good)
    assert changed.status_code == 303 and changed.headers["location"] == "/"
    assert session_cookie(client) != first and auth.sessions.resolve(first) is None
    me = client.get("/api/me").json()
    assert me["username"] == "carol" and me["must_change_password"] is False


def test_an_idle_session_expires_and_an_active_one_ends_at_the_absolute_limit(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    sign_in(client, "alice")
    for _ in range(15):  # active every 50 minutes: fine until the 12-hour limit
        assert client.get("/api/me").status_code == 200
        clock.advance(timedelta(minutes=50))
    assert client.get("/api/me").status_code == 401
    sign_in(client, "alice")
    clock.advance(timedelta(minutes=61))
    assert client.get("/api/me").status_code == 401


def test_disabling_a_user_ends_their_sessions_at_once(
    client: TestClient, services: Services, auth: Auth
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    ensure_user(services, "root", Role.ADMIN)
    sign_in(client, "alice")
    auth.users.set_disabled("root", "alice", True)
    assert client.get("/api/me").status_code == 401
    assert sign_in(client, "alice").status_code == 401


def test_a_role_change_applies_to_existing_sessions(
    client: TestClient, services: Services, auth: Auth
) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    ensure_user(services, "root", Role.ADMIN)
    sign_in(client, "alice")
    assert client.get("/api/users").status_code == 403
    auth.users.set_role("root", "alice", Role.ADMIN)
    assert client.get("/api/users").status_code == 200
