"""The REST doors onto the team, playbooks, tasks and clocks: roles enforced, clear 400s."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.integration.auth.conftest import make_services
from tests.integration.auth.helpers import bearer_headers

from mailwarden.app import Services
from mailwarden.auth.roles import Role
from mailwarden.clock import FakeClock
from mailwarden.web.app import create_app


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    built = make_services(sqlite_url, clock)
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


def test_admins_build_the_team_and_anyone_signed_in_sees_who_is_on_call(
    services: Services, client: TestClient
) -> None:
    admin = bearer_headers(services, "root", Role.ADMIN)
    viewer = bearer_headers(services, "val", Role.VIEWER)
    person = {"handle": "alex", "contacts": [{"channel": "email", "address": "alex@example.org"}]}
    assert client.post("/api/team/people", json=person, headers=viewer).status_code == 403
    assert client.post("/api/team/people", json=person, headers=admin).status_code == 201
    rota = {"name": "primary", "rotation": "daily", "starts_on": "2026-11-02", "members": ["alex"]}
    assert client.post("/api/team/rotas", json=rota, headers=admin).status_code == 201
    policy = {"levels": [{"targets": ["rota:primary"], "after_minutes": 10}]}
    put = client.put("/api/team/escalation-policies/default", json=policy, headers=admin)
    assert put.status_code == 200 and put.json()["levels"][0]["targets"] == ["rota:primary"]
    found = client.get("/api/oncall", params={"at": "2026-11-27T12:00:00Z"}, headers=viewer)
    assert found.json()["on_call"][0]["person"] == "alex"
    shifts = client.get("/api/team/rotas/primary", params={"days": 2}, headers=viewer).json()
    assert len(shifts["shifts"]) == 1


@pytest.mark.parametrize(
    ("path", "body", "complaint"),
    [
        ("/api/team/people", {"handle": "Bad Handle"}, "handle 'bad handle'"),
        (
            "/api/team/rotas",
            {"name": "p", "starts_on": "2026-11-02", "members": ["ghost"]},
            "not on the team",
        ),
        ("/api/team/rotas", {"name": "p", "members": ["x"]}, "starts_on"),
    ],
)
def test_bad_team_input_is_a_400_saying_what_was_wrong(
    services: Services, client: TestClient, path: str, body: dict[str, object], complaint: str
) -> None:
    admin = bearer_headers(services, "root", Role.ADMIN)
    response = client.post(path, json=body, headers=admin)
    assert response.status_code == 400
    assert complaint in response.json()["detail"]


def test_responders_check_tasks_off_and_only_commanders_override_a_close(
    services: Services, client: TestClient
) -> None:
    responder = bearer_headers(services, "rita", Role.RESPONDER)
    commander = bearer_headers(services, "cora", Role.COMMANDER)
    opened = client.post(
        "/api/incidents",
        json={"type": "spam_complaints", "title": "Yahoo complaints", "severity": "SEV3"},
        headers=responder,
    ).json()
    ref = opened["id"]
    tasks = client.get(f"/api/incidents/{ref}/tasks", headers=responder).json()["tasks"]
    assert tasks[0]["step"] == "take_command" and tasks[0]["due_at"].endswith("Z")
    done = client.post(
        f"/api/incidents/{ref}/tasks/pause_campaign/done", json={}, headers=responder
    )
    assert done.status_code == 200 and done.json()["done_by"] == "rita"
    again = client.post(
        f"/api/incidents/{ref}/tasks/pause_campaign/done", json={}, headers=responder
    )
    assert again.status_code == 409
    missing = client.post(f"/api/incidents/{ref}/tasks/nope/done", json={}, headers=responder)
    assert missing.status_code == 404
    for state in ("acknowledged", "contained", "recovered"):
        client.post(f"/api/incidents/{ref}/transitions", json={"to": state}, headers=responder)
    refused = client.post(f"/api/incidents/{ref}/close", json={}, headers=responder)
    assert refused.status_code == 409 and "mandatory tasks open" in refused.json()["detail"]
    body = {"reason": "postmortem scheduled for Monday"}
    forbidden = client.post(f"/api/incidents/{ref}/close-override", json=body, headers=responder)
    assert forbidden.status_code == 403
    closed = client.post(f"/api/incidents/{ref}/close-override", json=body, headers=commander)
    assert closed.json() == {"id": ref, "state": "closed"}


def test_clocks_updates_and_gdpr_flags_over_http(services: Services, client: TestClient) -> None:
    responder = bearer_headers(services, "rita", Role.RESPONDER)
    ref = client.post(
        "/api/incidents",
        json={"type": "data_breach", "title": "Leaked export", "severity": "SEV1"},
        headers=responder,
    ).json()["id"]
    url = f"/api/incidents/{ref}"
    assert (
        client.post(
            f"{url}/stakeholder-updates", json={"text": "Investigating"}, headers=responder
        ).status_code
        == 201
    )
    assert client.post(f"{url}/personal-data", json={}, headers=responder).status_code == 201
    again = client.post(f"{url}/personal-data", json={}, headers=responder)
    assert again.status_code == 400 and "confirmed already" in again.json()["detail"]
    clocks = {c["clock"]: c for c in client.get(f"{url}/sla", headers=responder).json()["clocks"]}
    assert clocks["authority_notice"]["state"] == "running"
    assert clocks["acknowledge_by"]["state"] == "running"
    assert client.post(f"{url}/authority-notified", json={}, headers=responder).status_code == 201
    clocks = {c["clock"]: c for c in client.get(f"{url}/sla", headers=responder).json()["clocks"]}
    assert clocks["authority_notice"]["state"] == "met"
    playbooks = client.get("/api/playbooks", headers=responder).json()["playbooks"]
    assert len(playbooks) == 9
    assert client.get("/api/playbooks/nope", headers=responder).status_code == 404
