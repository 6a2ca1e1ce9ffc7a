"""The REST door: the incidents router over HTTP (without the auth guard, which wraps it later)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.unit.incidents.builders import T0, finding

from mailwarden.app import Services, build
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.web.api_incidents import incidents_router
from mailwarden.web.errors import install_error_handlers

AS_KIM = {"x-mailwarden-actor": "kim"}


@pytest.fixture
def services(sqlite_url: str) -> Iterator[Services]:
    built = build(Settings(database_url=sqlite_url), clock=FakeClock(T0))
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(incidents_router(services))
    return TestClient(app)


def _detected(services: Services) -> None:
    assert services.incidents is not None
    services.incidents.on_findings([finding("complaint_rate", "campaign", "bf")])


def test_incidents_are_listed_and_shown_with_timeline_and_next_moves(
    client: TestClient, services: Services
) -> None:
    _detected(services)
    (incident,) = client.get("/api/incidents").json()["incidents"]
    assert incident["id"] == "INC-1" and incident["type"] == "spam_complaints"
    detail = client.get("/api/incidents/INC-1").json()
    assert detail["allowed_transitions"][:2] == ["acknowledged", "contained"]
    assert detail["findings"][0]["kind"] == "complaint_rate"
    assert client.get("/api/incidents/1/timeline").json()["timeline"][0]["kind"] == "opened"


def test_an_illegal_transition_is_409_with_the_allowed_ones(client: TestClient) -> None:
    client.post("/api/incidents", json={"type": "phishing", "title": "spoof"})
    response = client.post("/api/incidents/INC-1/transitions", json={"to": "closed"})
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "illegal_transition" and "acknowledged" in body["allowed"]


def test_a_responder_acknowledges_assigns_notes_and_merges(client: TestClient) -> None:
    for title in ("spoof one", "spoof two"):
        created = client.post("/api/incidents", json={"type": "phishing", "title": title})
        assert created.status_code == 201
    assert (
        client.post("/api/incidents/INC-1/acknowledge", json={}, headers=AS_KIM).json()[
            "acknowledged_at"
        ]
        == "2026-11-27T08:00:00Z"
    )
    client.post("/api/incidents/INC-1/roles", json={"role": "scribe", "person": "lee"})
    client.post("/api/incidents/INC-1/notes", json={"note": "DMARC to quarantine"})
    merged = client.post("/api/incidents/INC-2/merge", json={"into": "INC-1"})
    assert merged.status_code == 200 and merged.json()["id"] == "INC-1"
    timeline = client.get("/api/incidents/INC-1/timeline").json()["timeline"]
    assert [e["kind"] for e in timeline] == [
        "opened",
        "transitioned",
        "role_assigned",
        "note",
        "absorbed",
    ]
    assert timeline[1]["actor"] == "kim"


def test_a_responder_changes_severity_and_frees_a_role_over_http(client: TestClient) -> None:
    client.post("/api/incidents", json={"type": "phishing", "title": "spoof"})
    client.post("/api/incidents/INC-1/roles", json={"role": "scribe", "person": "lee"})
    freed = client.delete("/api/incidents/INC-1/roles/scribe", headers=AS_KIM)
    assert freed.status_code == 200
    assert client.delete("/api/incidents/INC-1/roles/scribe").status_code == 400
    raised = client.post(
        "/api/incidents/INC-1/severity", json={"severity": "SEV1", "reason": "payments taken"}
    )
    assert raised.status_code == 200 and raised.json()["severity"] == "SEV1"
    refused = client.post("/api/incidents/INC-1/severity", json={"severity": "SEV9", "reason": "x"})
    assert refused.status_code == 400
    shown = client.get("/api/incidents/INC-1").json()
    assert shown["roles"] == {}
    timeline = client.get("/api/incidents/INC-1/timeline").json()["timeline"]
    assert [(e["kind"], e["actor"]) for e in timeline[-2:]] == [
        ("role_unassigned", "kim"),
        ("severity_changed", "api"),
    ]


def test_evidence_is_uploaded_multipart_and_downloaded_intact(client: TestClient) -> None:
    client.post("/api/incidents", json={"type": "phishing", "title": "spoof"})
    upload = client.post(
        "/api/incidents/INC-1/attachments",
        files={"file": ("mail.eml", b"Subject: hi\r\n\r\nbody", "message/rfc822")},
    )
    assert upload.status_code == 201 and upload.json()["bytes"] == 19
    download = client.get(f"/api/incidents/INC-1/attachments/{upload.json()['id']}")
    assert download.content == b"Subject: hi\r\n\r\nbody"
    assert download.headers["content-type"].startswith("message/rfc822")


def test_attachments_over_the_limit_are_413(client: TestClient, services: Services) -> None:
    assert services.incidents is not None
    client.post("/api/incidents", json={"type": "phishing", "title": "spoof"})
    services.incidents.max_attachment_bytes = 4
    big = client.post("/api/incidents/INC-1/attachments", files={"file": ("a", b"12345")})
    assert big.status_code == 413 and big.json()["error"] == "too_large"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("post", "/api/incidents", {"type": "outage", "title": "x"}, 400, "type 'outage'"),
        ("post", "/api/incidents", {"type": "phishing"}, 400, "body.title"),
        ("get", "/api/incidents/INC-404", None, 404, "no incident INC-404"),
        ("get", "/api/incidents/four", None, 400, "not an incident id"),
        ("get", "/api/incidents?state=open", None, 400, "state 'open'"),
        ("post", "/api/incidents/INC-404/notes", {"note": "x"}, 404, "no incident"),
        ("post", "/api/silences", {"reason": "x", "duration_minutes": 0}, 400, "duration"),
        ("post", "/api/silences/SIL-9/expire", None, 404, "no silence"),
    ],
)
def test_bad_requests_say_what_was_wrong(
    client: TestClient, method: str, path: str, body: object, status: int, says: str
) -> None:
    response = client.request(method.upper(), path, json=body)
    assert response.status_code == status
    assert says in response.json()["detail"]


def test_silences_are_added_listed_and_expired_over_http(client: TestClient) -> None:
    created = client.post(
        "/api/silences",
        json={"reason": "warm-up", "duration_minutes": 120, "matcher": {"kind": "block_rate"}},
        headers=AS_KIM,
    )
    assert created.status_code == 201 and created.json()["owner"] == "kim"
    assert [s["id"] for s in client.get("/api/silences").json()["silences"]] == ["SIL-1"]
    assert client.post("/api/silences/SIL-1/expire").status_code == 200
    assert client.get("/api/silences").json()["silences"] == []
    assert len(client.get("/api/silences?all=true").json()["silences"]) == 1


def test_every_route_has_a_summary_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    operations = [op for item in paths.values() for op in item.values()]
    assert len(operations) >= 12
    assert all(op.get("summary") for op in operations)
