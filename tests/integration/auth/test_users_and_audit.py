"""Users and the audit trail: first admin, last-admin guard, every auditable action recorded."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from tests.integration.auth.helpers import (
    TEST_PASSWORD,
    bearer_headers,
    ensure_user,
    page_csrf,
    sign_in,
)

from mailwarden.app import Services
from mailwarden.auth.errors import ConflictError
from mailwarden.auth.model import Client
from mailwarden.auth.roles import Role
from mailwarden.auth.service import Auth
from mailwarden.cli.users import announce_first_admin


def test_the_first_run_creates_admin_with_a_one_time_password_printed_once(
    services: Services, auth: Auth, capsys: pytest.CaptureFixture[str]
) -> None:
    announce_first_admin(services)
    printed = capsys.readouterr().out
    admin = auth.users.get("admin")
    password = next(
        line.split(":", 1)[1].strip() for line in printed.splitlines() if "password:" in line
    )
    assert admin.role == "admin" and admin.must_change_password
    assert auth.users.verify("admin", password) is not None
    announce_first_admin(services)
    assert capsys.readouterr().out == ""
    assert auth.users.ensure_first_admin() is None
    created = auth.audit.entries(action="user.created")
    assert created[0].actor == "system" and password not in str(created[0].detail)


def test_no_admin_is_created_when_users_exist(services: Services, auth: Auth) -> None:
    ensure_user(services, "alice", Role.ADMIN)
    assert auth.users.ensure_first_admin() is None
    assert [user.username for user in auth.users.list_users()] == ["alice"]


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(
    services: Services, auth: Auth
) -> None:
    ensure_user(services, "root", Role.ADMIN)
    with pytest.raises(ConflictError, match="last enabled admin"):
        auth.users.set_role("root", "root", Role.VIEWER)
    with pytest.raises(ConflictError):
        auth.users.set_disabled("root", "root", True)
    ensure_user(services, "second", Role.ADMIN)
    assert auth.users.set_role("root", "root", Role.VIEWER).role == "viewer"


def test_usernames_are_unique_case_insensitively(services: Services, auth: Auth) -> None:
    ensure_user(services, "alice", Role.VIEWER)
    with pytest.raises(ConflictError):
        auth.users.create("test", "ALICE", Role.VIEWER, TEST_PASSWORD)


def test_every_auditable_action_leaves_an_entry_without_secrets(
    client: TestClient, services: Services, auth: Auth
) -> None:
    root = ensure_user(services, "root", Role.ADMIN)
    _, one_time = auth.users.create("root", "dana", Role.VIEWER)
    assert one_time is not None
    auth.users.set_role("root", "dana", Role.RESPONDER)
    auth.users.set_disabled("root", "dana", True)
    auth.users.set_disabled("root", "dana", False)
    reset = auth.users.reset_password("root", "dana")
    user = auth.users.get("dana")
    auth.users.change_password(user.id, reset, "dana's own long passphrase")
    made = auth.tokens.create("root", root, "ci", Role.VIEWER)
    auth.tokens.revoke("root", made.record.id)
    sign_in(client, "root", "not the password")
    sign_in(client, "root")
    client.post("/logout", data={"csrf_token": page_csrf(client)})
    actions = {entry.action for entry in auth.audit.entries(limit=1000)}
    assert actions >= {
        "user.created",
        "user.role_changed",
        "user.disabled",
        "user.enabled",
        "user.password_reset",
        "user.password_changed",
        "token.created",
        "token.revoked",
        "auth.login_failed",
        "auth.login",
        "auth.logout",
    }
    everything = str([(e.actor, e.target, e.detail) for e in auth.audit.entries(limit=1000)])
    for secret in (one_time, reset, "dana's own long passphrase", made.secret, TEST_PASSWORD):
        assert secret not in everything
    role_change = auth.audit.entries(action="user.role_changed")[0]
    assert role_change.detail == {"from": "viewer", "to": "responder"}
    login = auth.audit.entries(action="auth.login")[0]
    assert login.actor == "root" and login.source_ip == "testclient"


def test_other_modules_record_actions_through_the_same_log(auth: Auth) -> None:
    entry_id = auth.audit.record(
        "alice", "action.pause_campaign", "campaign:black-friday", {"reason": "complaints"}
    )
    (entry,) = auth.audit.entries(action="action.pause_campaign")
    assert entry.id == entry_id and entry.target == "campaign:black-friday"
    assert entry.detail == {"reason": "complaints"}


def test_the_audit_log_refuses_updates_and_deletes(engine: Engine, auth: Auth) -> None:
    auth.audit.record("alice", "action.test")
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert auth.audit.entries()[0].actor == "alice"


def test_admins_read_the_audit_log_page_by_page_and_others_cannot(
    client: TestClient, services: Services, auth: Auth
) -> None:
    for n in range(5):
        auth.audit.record("alice", "action.test", f"thing:{n}")
    admin = bearer_headers(services, "root", Role.ADMIN)
    first = client.get("/api/audit", params={"limit": 3, "action": "action.test"}, headers=admin)
    page = first.json()
    assert [e["target"] for e in page["entries"]] == ["thing:4", "thing:3", "thing:2"]
    rest = client.get(
        "/api/audit",
        params={"limit": 3, "action": "action.test", "before": page["next_before"]},
        headers=admin,
    ).json()
    assert [e["target"] for e in rest["entries"]] == ["thing:1", "thing:0"]
    assert rest["next_before"] is None
    commander = bearer_headers(services, "cmd", Role.COMMANDER)
    assert client.get("/api/audit", headers=commander).status_code == 403


def test_admins_manage_users_over_the_api(client: TestClient, services: Services) -> None:
    admin = bearer_headers(services, "root", Role.ADMIN)
    added = client.post("/api/users", json={"username": "Erin", "role": "commander"}, headers=admin)
    assert added.status_code == 201
    body = added.json()
    assert body["user"]["username"] == "erin" and body["user"]["must_change_password"]
    assert "password_hash" not in str(body)
    patched = client.patch("/api/users/erin", json={"role": "viewer"}, headers=admin)
    assert patched.json()["role"] == "viewer"
    bad = client.patch("/api/users/erin", json={"role": "overlord"}, headers=admin)
    assert bad.status_code == 400
    reset = client.post("/api/users/erin/reset-password", headers=admin)
    assert reset.status_code == 200 and len(reset.json()["password"]) == 23
    missing = client.post("/api/users/nobody/reset-password", headers=admin)
    assert missing.status_code == 404
    weak = client.post("/api/users", json={"username": "x", "password": "short"}, headers=admin)
    assert weak.status_code == 400


def test_a_password_reset_ends_the_users_sessions(services: Services, auth: Auth) -> None:
    user = ensure_user(services, "alice", Role.VIEWER)
    session = auth.sessions.start(user, Client())
    auth.users.reset_password("root", "alice")
    assert auth.sessions.resolve(session.token) is None
