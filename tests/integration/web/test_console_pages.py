"""The console's pages: what each role sees, what the forms do, and what is never shown."""

from __future__ import annotations

import re
import time

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.integration.auth.helpers import session_headers
from tests.integration.web.conftest import SECRETS

from mailwarden.app import Services
from mailwarden.auth.roles import Role
from mailwarden.demo import DemoResult
from mailwarden.detect.policy import default_policy
from mailwarden.events.errors import PayloadError
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.incidents.model import Actor, Incident
from mailwarden.incidents.service import IncidentService
from mailwarden.web.pages.render import Assets

PAGES = [
    "/",
    "/incidents",
    "/findings",
    "/silences",
    "/playbooks",
    "/team",
    "/events",
    "/deadletters",
]
PAT = Actor("pat")


def incidents_of(services: Services) -> IncidentService:
    assert services.incidents is not None
    return services.incidents


def reported(
    services: Services, title: str = "Spoofed invoice forwarded by a customer"
) -> Incident:
    return incidents_of(services).open_manual(incident_type="phishing", title=title, actor=PAT)


def as_role(services: Services, role: Role) -> dict[str, str]:
    return {**session_headers(services, f"user-{role.label}", role), "accept": "text/html"}


@pytest.mark.parametrize("path", PAGES)
def test_every_console_page_has_landmarks_a_skip_link_and_a_strict_csp(
    client: TestClient, services: Services, path: str
) -> None:
    reported(services)
    page = client.get(path, headers=as_role(services, Role.VIEWER))
    assert page.status_code == 200
    html = page.text
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html and '<nav class="site-nav" aria-label="Main">' in html
    assert '<html lang="en">' in html
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_the_settings_page_is_for_admins_and_never_shows_a_secret(
    client: TestClient, services: Services
) -> None:
    assert client.get("/settings", headers=as_role(services, Role.COMMANDER)).status_code == 403
    page = client.get("/settings", headers=as_role(services, Role.ADMIN))
    assert page.status_code == 200
    for secret in SECRETS.values():
        assert secret not in page.text
    assert "MAILWARDEN_MAILGUN_WEBHOOK_SIGNING_KEY" in page.text
    assert re.search(
        r"MAILWARDEN_SENDGRID_API_KEY</code></th>\s*<td><span class=\"badge\">set", page.text
    )
    assert all(rule.name in page.text for rule in default_policy().active())  # thresholds


def test_an_empty_install_explains_each_webhook_and_offers_the_demo_to_admins(
    client: TestClient, services: Services
) -> None:
    page = client.get("/", headers=as_role(services, Role.ADMIN))
    assert page.status_code == 200
    assert "Welcome to Mailwarden" in page.text
    for provider in ("sendgrid", "mailgun", "postmark", "ses"):
        assert f"http://127.0.0.1:8025/webhooks/{provider}" in page.text
    assert "MAILWARDEN_MAILGUN_WEBHOOK_SIGNING_KEY" in page.text
    for secret in SECRETS.values():
        assert secret not in page.text
    assert 'action="/demo"' in page.text
    viewer = client.get("/", headers=as_role(services, Role.VIEWER))
    assert 'action="/demo"' not in viewer.text


def test_the_demo_loads_in_the_background_for_an_admin_and_shows_progress(
    client: TestClient, app: FastAPI, services: Services
) -> None:
    calls = []

    def fake_loader(settings: object, *, progress: object) -> DemoResult:
        calls.append(settings)
        assert callable(progress)
        progress(5, 10)
        now = services.clock.now()
        return DemoResult(events=10, incidents=1, findings=2, seconds=0.1, start=now, end=now)

    app.state.console.demo.loader = fake_loader
    admin = as_role(services, Role.ADMIN)
    assert (
        client.post(
            "/demo", data={"confirm": "load"}, headers=as_role(services, Role.VIEWER)
        ).status_code
        == 403
    )
    assert client.post("/demo", data={}, headers=admin).status_code == 400
    started = client.post("/demo", data={"confirm": "load"}, headers=admin)
    assert started.status_code == 303
    for _ in range(100):
        status = client.get("/demo/status", headers=admin).json()
        if status["state"] == "finished":
            break
        time.sleep(0.02)
    assert status["state"] == "finished" and "1 incident(s)" in status["message"]
    assert len(calls) == 1


def test_the_incident_page_offers_the_moves_the_transitions_table_allows(
    client: TestClient, services: Services
) -> None:
    incident = reported(services)
    page = client.get(f"/incidents/{incident.id}", headers=as_role(services, Role.RESPONDER))
    buttons = re.findall(r'<button type="submit" name="to" value="([a-z_]+)"', page.text)
    assert buttons == ["acknowledged", "contained", "recovered", "false_positive"]
    assert 'id="timeline"' in page.text and "data-poll-url" in page.text


def test_a_viewer_sees_the_incident_but_no_button_that_changes_it(
    client: TestClient, services: Services
) -> None:
    incident = reported(services)
    page = client.get(f"/incidents/{incident.id}", headers=as_role(services, Role.VIEWER))
    assert page.status_code == 200
    assert 'name="to"' not in page.text
    assert f'action="/incidents/{incident.id}/notes"' not in page.text
    assert "Responders can move this incident" in page.text


def test_acknowledging_from_the_page_moves_the_incident_and_returns_to_it(
    client: TestClient, services: Services
) -> None:
    incident = reported(services)
    headers = as_role(services, Role.RESPONDER)
    moved = client.post(
        f"/incidents/{incident.id}/transition",
        data={"to": "acknowledged", "note": "on it"},
        headers=headers,
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/incidents/{incident.id}?done=moved#state"
    assert incidents_of(services).get(incident.id).state == "acknowledged"
    timeline = client.get(f"/incidents/{incident.id}/timeline", headers=headers).text
    assert "detected → acknowledged" in timeline and "on it" in timeline


def test_a_move_the_table_refuses_is_shown_with_the_reason(
    client: TestClient, services: Services
) -> None:
    incident = reported(services)
    refused = client.post(
        f"/incidents/{incident.id}/transition",
        data={"to": "closed"},
        headers=as_role(services, Role.RESPONDER),
    )
    assert refused.status_code == 409
    assert "cannot move from detected to closed" in refused.text.lower()
    assert 'role="alert"' in refused.text


def test_notes_and_evidence_go_on_the_timeline(client: TestClient, services: Services) -> None:
    incident = reported(services)
    headers = as_role(services, Role.RESPONDER)
    client.post(
        f"/incidents/{incident.id}/notes",
        data={"note": "Header shows a lookalike domain"},
        headers=headers,
    )
    attached = client.post(
        f"/incidents/{incident.id}/evidence",
        files={
            "file": ("invoice.eml", b"From: billing@examp1e.com\r\n\r\nPay now", "message/rfc822")
        },
        headers=headers,
    )
    assert attached.status_code == 303
    page = client.get(f"/incidents/{incident.id}", headers=headers).text
    assert "Header shows a lookalike domain" in page
    assert "invoice.eml" in page


def test_a_task_is_checked_off_from_the_page(client: TestClient, services: Services) -> None:
    incident = reported(services)
    assert services.tasks is not None
    task = services.tasks.tasks(incident.id)[0]
    done = client.post(
        f"/incidents/{incident.id}/tasks/{task.step_id}",
        data={"outcome": "done"},
        headers=as_role(services, Role.RESPONDER),
    )
    assert done.status_code == 303
    assert services.tasks.tasks(incident.id)[0].state == "done"
    again = client.post(
        f"/incidents/{incident.id}/tasks/{task.step_id}",
        data={"outcome": "done"},
        headers=as_role(services, Role.RESPONDER),
    )
    assert again.status_code == 409


def test_an_unknown_incident_is_a_404_page(client: TestClient, services: Services) -> None:
    page = client.get("/incidents/INC-404", headers=as_role(services, Role.VIEWER))
    assert page.status_code == 404 and "no incident INC-404" in page.text


def test_silences_are_added_and_ended_from_the_page(client: TestClient, services: Services) -> None:
    headers = as_role(services, Role.RESPONDER)
    form = {
        "reason": "IP warm-up on 203.0.113.9",
        "kind": "block_rate",
        "dimension": "sending_ip",
        "key": "203.0.113.9",
        "type": "*",
        "duration_minutes": "90",
        "remind_before_minutes": "15",
    }
    assert client.post("/silences", data=form, headers=headers).status_code == 303
    silence = incidents_of(services).silences.list_silences()[0]
    page = client.get("/silences", headers=headers).text
    assert "IP warm-up on 203.0.113.9" in page and "sending_ip=203.0.113.9" in page
    assert client.post(f"/silences/{silence.id}/expire", headers=headers).status_code == 303
    assert not incidents_of(services).silences.list_silences()
    bad = client.post("/silences", data={**form, "duration_minutes": "0"}, headers=headers)
    assert bad.status_code == 400


def test_a_pasted_playbook_is_validated_with_line_numbers(
    client: TestClient, services: Services
) -> None:
    headers = as_role(services, Role.VIEWER)
    broken = client.post(
        "/playbooks/validate",
        data={"playbook": "format: 1\ntype: phishing\nsteps: [\n"},
        headers=headers,
    )
    assert broken.status_code == 400 and "line" in broken.text
    good = """format: 1
type: phishing
version: 2
title: Spoofing response
steps:
  - id: check_dmarc
    title: Read the DMARC aggregate reports
    phase: identification
    role: security_lead
    due: 30m after detected
"""
    checked = client.post("/playbooks/validate", data={"playbook": good}, headers=headers)
    assert checked.status_code == 200 and "Valid: Spoofing response" in checked.text


def ingest_ndjson(services: Services, body: bytes) -> None:
    request = WebhookRequest(headers={}, body=body, received_at=services.clock.now())
    services.ingest.receive("ndjson", request, verify=False, source="test")


def test_the_event_explorer_filters_by_type_provider_campaign_and_recipient_domain(
    client: TestClient, services: Services
) -> None:
    at = services.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        {
            "id": "e1",
            "type": "bounced",
            "recipient": "ann@corp.example",
            "campaign": "promo",
            "bounce": {"class": "hard", "reason": "userunknown"},
        },
        {"id": "e2", "type": "delivered", "recipient": "bob@corp.example", "campaign": "promo"},
        {
            "id": "e3",
            "type": "bounced",
            "recipient": "cy@other.example",
            "campaign": "news",
            "bounce": {"class": "block", "reason": "blocked"},
        },
    ]
    body = b"\n".join(
        orjson.dumps({"occurred_at": at, "provider": "sendgrid", **line}) for line in lines
    )
    ingest_ndjson(services, body)
    headers = as_role(services, Role.VIEWER)

    def shown(query: str) -> list[str]:
        page = client.get(f"/events?{query}", headers=headers)
        assert page.status_code == 200
        return re.findall(r"<code>(e\d)</code>", page.text)

    assert sorted(shown("")) == ["e1", "e2", "e3"]
    assert shown("type=bounced&recipient_domain=corp.example") == ["e1"]
    assert sorted(shown("campaign=promo")) == ["e1", "e2"]
    assert shown("ids=e3,e9") == ["e3"]
    assert client.get("/events?since=yesterday", headers=headers).status_code == 400


def test_a_dead_letter_is_listed_and_its_replay_says_why_it_still_fails(
    client: TestClient, services: Services
) -> None:
    with pytest.raises(PayloadError, match="exploded"):  # refused, and kept
        ingest_ndjson(services, b'{"id": "x1", "type": "exploded"}')
    payload = services.store.payloads("deadletter")[0]
    headers = as_role(services, Role.RESPONDER)
    page = client.get("/deadletters", headers=headers).text
    assert f"#{payload.id}" in page and "exploded" in page
    replayed = client.post(f"/deadletters/{payload.id}/replay", headers=headers)
    assert replayed.status_code == 200 and "still failing" in replayed.text
    viewer = client.get("/deadletters", headers=as_role(services, Role.VIEWER)).text
    assert f'action="/deadletters/{payload.id}/replay"' not in viewer


def test_pages_work_without_the_charting_library_and_say_where_the_numbers_are(
    client: TestClient, app: FastAPI, services: Services
) -> None:
    app.state.console.assets = Assets(uplot_js=False, uplot_css=False)
    incident = reported(services)
    page = client.get(f"/incidents/{incident.id}", headers=as_role(services, Role.VIEWER))
    assert page.status_code == 200
    assert "uPlot" not in page.text and "/static/console.js" in page.text
    assert client.get("/static/console.css").status_code == 200
