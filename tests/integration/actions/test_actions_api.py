"""The actions and gate API: approvals by role, the gate with a token, CSV export, delistings."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.integration.actions.containment_helpers import (
    CAMPAIGN,
    assign_commander,
    complaint_finding,
    make_services,
    open_incident,
    parts,
)
from tests.integration.auth.helpers import bearer_headers

from mailwarden.app import Services
from mailwarden.auth.roles import Role
from mailwarden.clock import FakeClock
from mailwarden.web.app import create_app

PAUSE = {
    "action": "mailwarden.pause_sending",
    "params": {"scope": "campaign", "key": CAMPAIGN, "reason": "complaint spike"},
}


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    built = make_services(sqlite_url, clock)
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


def headers(services: Services, name: str, role: Role) -> dict[str, str]:
    return bearer_headers(services, name, role)


def gate(client: TestClient, token: dict[str, str], **query: str) -> dict[str, object]:
    response = client.get("/api/gate", params=query, headers=token)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_the_gate_answers_a_sender_with_a_viewer_token(
    services: Services, client: TestClient
) -> None:
    token = headers(services, "sender", Role.VIEWER)

    assert gate(client, token, campaign=CAMPAIGN, recipient="a@example.com") == {
        "decision": "allow",
        "rate_per_minute": None,
        "reasons": [],
        "ttl_seconds": 5,
    }
    assert client.get("/api/gate", params={"campaign": CAMPAIGN}).status_code == 401
    bad = {"authorization": "Bearer mw_not-a-token"}
    assert client.get("/api/gate", headers=bad).status_code == 401


def test_a_responder_plans_a_pause_and_only_a_commander_approves_it(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    incident = open_incident(services, complaint_finding(clock))
    body = {**PAUSE, "incident_id": incident.id, "key": "pause-1"}
    responder = headers(services, "dave", Role.RESPONDER)

    planned = client.post("/api/actions/plan", json=body, headers=responder)
    assert planned.status_code == 201, planned.text
    approval = planned.json()["approval"]
    assert approval["state"] == "pending" and planned.json()["run"]["state"] == "planned"
    assert approval["plan"]["summary"] == f"pause campaign={CAMPAIGN}"

    refused = client.post(
        f"/api/actions/approvals/{approval['id']}/approve", json={}, headers=responder
    )
    assert refused.status_code == 403 and refused.json()["error"] == "not_allowed"
    direct = client.post("/api/actions/run", json={**body, "key": "pause-2"}, headers=responder)
    assert direct.status_code == 403

    commander = headers(services, "erin", Role.COMMANDER)
    approved = client.post(
        f"/api/actions/approvals/{approval['id']}/approve",
        json={"reason": "complaints at 0.6%"},
        headers=commander,
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["run"]["state"] == "succeeded"
    assert approved.json()["run"]["approved_by"] == "erin"
    viewer = headers(services, "sender", Role.VIEWER)
    denied = gate(client, viewer, campaign=CAMPAIGN)
    assert denied["decision"] == "deny"

    again = client.post(
        f"/api/actions/approvals/{approval['id']}/reject", json={"reason": "x"}, headers=commander
    )
    assert again.status_code == 409


def test_the_incidents_own_commander_may_approve_with_a_responder_account(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    incident = open_incident(services, complaint_finding(clock))
    assign_commander(services, incident.id, "carol")
    carol = headers(services, "carol", Role.RESPONDER)
    planned = client.post(
        "/api/actions/plan", json={**PAUSE, "incident_id": incident.id}, headers=carol
    ).json()

    rejected = client.post(
        f"/api/actions/approvals/{planned['approval']['id']}/reject",
        json={"reason": "the campaign already ended"},
        headers=carol,
    )

    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    listed = client.get(
        "/api/actions/approvals",
        params={"incident": incident.id, "state": "rejected"},
        headers=carol,
    ).json()
    assert [a["approval"]["reason"] for a in listed["approvals"]] == ["the campaign already ended"]


def test_low_risk_runs_for_a_responder_and_undo_needs_a_commander(
    services: Services, client: TestClient
) -> None:
    responder = headers(services, "dave", Role.RESPONDER)
    body = {
        "action": "mailwarden.suppress",
        "params": {"addresses": ["alex@example.com"], "reason": "asked to stop"},
        "key": "sup-1",
    }

    ran = client.post("/api/actions/run", json=body, headers=responder)
    assert ran.status_code == 200, ran.text
    assert ran.json()["run"]["state"] == "succeeded"
    viewer = headers(services, "sender", Role.VIEWER)
    assert gate(client, viewer, recipient="alex@example.com")["decision"] == "deny"

    assert client.post("/api/actions/runs/sup-1/undo", headers=responder).status_code == 403
    commander = headers(services, "erin", Role.COMMANDER)
    undone = client.post("/api/actions/runs/sup-1/undo", headers=commander)
    assert undone.status_code == 200 and undone.json()["run"]["state"] == "undone"
    assert gate(client, viewer, recipient="alex@example.com")["decision"] == "allow"

    steps = client.get("/api/actions/runs/sup-1", headers=viewer).json()["steps"]
    assert [s["step"] for s in steps] == ["plan", "execute", "verify", "undo"]


def test_bad_requests_get_clear_errors(services: Services, client: TestClient) -> None:
    commander = headers(services, "erin", Role.COMMANDER)

    unknown = client.post("/api/actions/plan", json={"action": "nope.x"}, headers=commander)
    assert unknown.status_code == 404 and "unknown action" in unknown.json()["detail"]
    bad = client.post(
        "/api/actions/plan",
        json={"action": "mailwarden.pause_sending", "params": {"scope": "campaign", "reason": "x"}},
        headers=commander,
    )
    assert bad.status_code == 400 and "needs a key" in bad.json()["detail"]
    missing = client.post(
        "/api/actions/plan", json={**PAUSE, "incident_id": "INC-99"}, headers=commander
    )
    assert missing.status_code == 404
    assert client.get("/api/actions/approvals/nope", headers=commander).status_code == 404
    catalog = client.get("/api/actions", headers=commander).json()["actions"]
    risks = {a["name"]: a["risk"] for a in catalog}
    assert risks["mailwarden.pause_sending"] == "medium"
    assert risks["mailwarden.quarantine_segment"] == "low"


def test_the_suppression_export_is_spreadsheet_safe_and_audited(
    services: Services, client: TestClient
) -> None:
    responder = headers(services, "dave", Role.RESPONDER)
    client.post(
        "/api/actions/run",
        json={
            "action": "mailwarden.suppress",
            "params": {"addresses": ["alex@example.com"], "reason": '=HYPERLINK("x"), evil'},
        },
        headers=responder,
    )

    assert (
        client.get("/api/suppressions.csv", headers=headers(services, "v", Role.VIEWER)).status_code
        == 403
    )
    response = client.get("/api/suppressions.csv", headers=responder)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "suppressions.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert rows[1][:2] == ["alex@example.com", '\'=HYPERLINK("x"), evil']
    audit = services.auth.audit.entries(action="suppressions.exported")  # type: ignore[union-attr]
    assert audit and audit[0].actor == "dave"


def test_delisting_requests_are_tracked_through_the_api(
    services: Services, client: TestClient, clock: FakeClock
) -> None:
    incident = open_incident(services, complaint_finding(clock))
    responder = headers(services, "dave", Role.RESPONDER)
    made = client.post(
        "/api/delistings",
        json={
            "blocklist": "Spamhaus SBL",
            "listed_item": "203.0.113.5",
            "incident_id": incident.id,
        },
        headers=responder,
    )
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    clock.advance(timedelta(hours=50))

    pending = client.get("/api/delistings", params={"status": "requested"}, headers=responder)
    assert pending.json()["delistings"][0]["hours_pending"] == 50.0
    done = client.post(
        f"/api/delistings/{request_id}/status", json={"status": "delisted"}, headers=responder
    )
    assert done.status_code == 200 and done.json()["delisted_at"] is not None
    wrong = client.post(
        f"/api/delistings/{request_id}/status", json={"status": "denied"}, headers=responder
    )
    assert wrong.status_code == 400 and "cannot move" in wrong.json()["detail"]
    assert (
        client.post(
            "/api/delistings/99/status", json={"status": "delisted"}, headers=responder
        ).status_code
        == 404
    )
    kinds = [e.kind for e in parts(services)[0].timeline(incident.id)]
    assert "delisting_requested" in kinds and "delisting_delisted" in kinds


def test_gate_rules_and_warm_ups_are_readable(services: Services, client: TestClient) -> None:
    commander = headers(services, "erin", Role.COMMANDER)
    client.post("/api/actions/run", json={**PAUSE, "key": "p1"}, headers=commander)
    client.post("/api/actions/runs/p1/undo", headers=commander)

    rules = client.get("/api/gate/rules", headers=commander).json()
    warmups = client.get("/api/warmups", params={"active": True}, headers=commander).json()

    assert rules["pauses"] == [] and len(rules["warmups"]) == 1
    plan = warmups["warmups"][0]
    assert plan["target"] == f"campaign={CAMPAIGN}" and plan["rate_per_minute"] == {"*": 10}
    cancelled = client.post(f"/api/warmups/{plan['id']}/cancel", headers=commander)
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_at"]
    viewer = headers(services, "sender", Role.VIEWER)
    assert gate(client, viewer, campaign=CAMPAIGN)["decision"] == "allow"
