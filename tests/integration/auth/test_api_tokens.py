"""API tokens: shown once, stored hashed, scoped to a role, revocable, expiring, last-used kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.integration.auth.helpers import bearer_headers, ensure_user, session_headers

from mailwarden.app import Services
from mailwarden.auth.errors import PermissionDeniedError
from mailwarden.auth.roles import Role
from mailwarden.auth.service import Auth
from mailwarden.clock import FakeClock
from mailwarden.store.auth_tables import api_tokens


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def test_a_token_is_shown_once_and_only_its_digest_is_stored(
    client: TestClient, services: Services
) -> None:
    headers = session_headers(services, "alice", Role.RESPONDER)
    made = client.post("/api/tokens", json={"name": "nightly export"}, headers=headers)
    assert made.status_code == 201
    secret = made.json()["token"]
    assert secret.startswith("mw_") and made.json()["role"] == "responder"
    listed = client.get("/api/tokens", headers=headers).json()
    assert secret not in str(listed) and listed[0]["prefix"] == secret[:9]
    with services.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert stored != secret and len(stored) == 64


def test_a_token_acts_with_its_role(client: TestClient, services: Services) -> None:
    viewer = bearer_headers(services, "vic", Role.VIEWER)
    admin = bearer_headers(services, "ada", Role.ADMIN)
    assert client.get("/api/users", headers=viewer).status_code == 403
    assert client.get("/api/users", headers=admin).status_code == 200
    assert client.get("/api/me", headers=viewer).json()["via"] == "token"


def test_a_token_cannot_outrank_its_owner(
    client: TestClient, services: Services, auth: Auth
) -> None:
    viewer = ensure_user(services, "vic", Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        auth.tokens.create("vic", viewer, "escalate", Role.ADMIN)
    headers = session_headers(services, "vic", Role.VIEWER)
    response = client.post("/api/tokens", json={"name": "x", "role": "admin"}, headers=headers)
    assert response.status_code == 403


def test_a_demoted_owner_drags_their_tokens_down(
    client: TestClient, services: Services, auth: Auth
) -> None:
    headers = bearer_headers(services, "ada", Role.ADMIN)
    ensure_user(services, "root", Role.ADMIN)
    auth.users.set_role("root", "ada", Role.VIEWER)
    assert client.get("/api/users", headers=headers).status_code == 403
    auth.users.set_disabled("root", "ada", True)
    assert client.get("/api/me", headers=headers).status_code == 401


def test_a_revoked_token_is_refused_at_once(client: TestClient, services: Services) -> None:
    headers = session_headers(services, "alice", Role.VIEWER)
    made = client.post("/api/tokens", json={"name": "ci"}, headers=headers).json()
    assert client.get("/api/me", headers=bearer(made["token"])).status_code == 200
    revoked = client.delete(f"/api/tokens/{made['id']}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = client.get("/api/me", headers=bearer(made["token"]))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"


def test_only_the_owner_or_an_admin_can_revoke_a_token(
    client: TestClient, services: Services, auth: Auth
) -> None:
    owner = ensure_user(services, "alice", Role.VIEWER)
    made = auth.tokens.create("alice", owner, "ci", Role.VIEWER)
    other = session_headers(services, "bob", Role.COMMANDER)
    assert client.delete(f"/api/tokens/{made.record.id}", headers=other).status_code == 404
    admin = bearer_headers(services, "root", Role.ADMIN)
    assert client.delete(f"/api/tokens/{made.record.id}", headers=admin).status_code == 200


def test_an_expired_token_is_refused(
    client: TestClient, services: Services, auth: Auth, clock: FakeClock
) -> None:
    owner = ensure_user(services, "alice", Role.VIEWER)
    made = auth.tokens.create("alice", owner, "ci", Role.VIEWER, timedelta(days=1))
    assert client.get("/api/me", headers=bearer(made.secret)).status_code == 200
    clock.advance(timedelta(days=1))
    assert client.get("/api/me", headers=bearer(made.secret)).status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(
    client: TestClient, services: Services, auth: Auth, clock: FakeClock
) -> None:
    owner = ensure_user(services, "alice", Role.VIEWER)
    made = auth.tokens.create("alice", owner, "ci", Role.VIEWER)
    assert auth.tokens.list_tokens(owner.id)[0].last_used_at is None
    first_use = clock.now()
    client.get("/api/me", headers=bearer(made.secret))
    clock.advance(timedelta(seconds=30))
    client.get("/api/me", headers=bearer(made.secret))
    assert auth.tokens.list_tokens(owner.id)[0].last_used_at == first_use
    clock.advance(timedelta(seconds=31))
    client.get("/api/me", headers=bearer(made.secret))
    assert auth.tokens.list_tokens(owner.id)[0].last_used_at == clock.now()


def test_tokens_cannot_mint_tokens_and_need_no_csrf_for_other_writes(
    client: TestClient, services: Services
) -> None:
    admin = bearer_headers(services, "ada", Role.ADMIN)
    minted = client.post("/api/tokens", json={"name": "more"}, headers=admin)
    assert minted.status_code == 403 and minted.json()["error"] == "session_required"
    added = client.post("/api/users", json={"username": "newbie"}, headers=admin)
    assert added.status_code == 201 and added.json()["password"]


def test_unknown_and_malformed_bearer_tokens_are_refused(client: TestClient) -> None:
    for value in ("Bearer mw_nope", "Bearer ", "Bearer not-even-ours"):
        response = client.get("/api/me", headers={"authorization": value})
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"
