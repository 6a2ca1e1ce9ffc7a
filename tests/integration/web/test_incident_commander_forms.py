"""The incident page's commander forms: set the severity by hand, leave a role empty."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.integration.web.test_console_pages import PAT, as_role, incidents_of, reported

from mailwarden.app import Services
from mailwarden.auth.roles import Role


def test_a_commander_sees_the_severity_selector_with_a_required_reason(
    client: TestClient, services: Services
) -> None:
    incident = reported(services)
    page = client.get(f"/incidents/{incident.id}", headers=as_role(services, Role.COMMANDER))
    assert page.status_code == 200
    html = page.text
    assert f'action="/incidents/{incident.id}/severity"' in html
    assert '<label for="severity-level">' in html and '<select id="severity-level"' in html
    for level in ("SEV1", "SEV2", "SEV3", "SEV4"):
        assert f'<option value="{level}"' in html
    assert f'<option value="{incident.severity}" selected>' in html
    assert '<label for="severity-reason">' in html
    assert 'id="severity-reason" name="reason" required' in html
    assert ">Change severity</button>" in html
    responder = client.get(f"/incidents/{incident.id}", headers=as_role(services, Role.RESPONDER))
    assert f'action="/incidents/{incident.id}/severity"' not in responder.text


def test_a_commander_sees_a_remove_button_next_to_each_held_role_only(
    client: TestClient, services: Services
) -> None:
    incident = reported(services)
    incidents_of(services).assign(incident.id, "scribe", "pat", PAT)
    page = client.get(f"/incidents/{incident.id}", headers=as_role(services, Role.COMMANDER))
    html = page.text
    assert f'action="/incidents/{incident.id}/roles/scribe/unassign"' in html
    assert 'aria-label="Remove pat as scribe">Remove</button>' in html
    assert f'action="/incidents/{incident.id}/roles/security_lead/unassign"' not in html
    assert '<dd id="role-security_lead"><span class="muted">unassigned</span></dd>' in html
    responder = client.get(f"/incidents/{incident.id}", headers=as_role(services, Role.RESPONDER))
    assert "/roles/scribe/unassign" not in responder.text
    assert 'id="role-scribe">pat' in responder.text


def test_the_severity_form_changes_it_and_says_why_it_refuses(
    client: TestClient, services: Services
) -> None:
    incident = reported(services)
    target = "SEV1" if incident.severity != "SEV1" else "SEV2"
    url, commander = f"/incidents/{incident.id}/severity", as_role(services, Role.COMMANDER)
    refused = client.post(
        url, data={"severity": target, "reason": "x"}, headers=as_role(services, Role.RESPONDER)
    )
    assert refused.status_code == 403
    no_reason = client.post(url, data={"severity": target, "reason": " "}, headers=commander)
    assert no_reason.status_code == 400 and 'role="alert"' in no_reason.text
    assert "needs a reason" in no_reason.text
    moved = client.post(
        url, data={"severity": target, "reason": "customer data exposed"}, headers=commander
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/incidents/{incident.id}?done=graded#severity"
    assert incidents_of(services).get(incident.id).severity == target
    timeline = client.get(f"/incidents/{incident.id}/timeline", headers=commander).text
    assert "severity changed" in timeline and "customer data exposed" in timeline
    again = client.post(url, data={"severity": target, "reason": "again"}, headers=commander)
    assert again.status_code == 400
    assert f"{incident.id} is {target} already" in again.text


def test_the_remove_button_empties_the_role_and_keeps_the_holder_on_the_timeline(
    client: TestClient, services: Services
) -> None:
    incident = reported(services)
    incidents_of(services).assign(incident.id, "scribe", "pat", PAT)
    url, commander = (
        f"/incidents/{incident.id}/roles/scribe/unassign",
        as_role(services, Role.COMMANDER),
    )
    assert client.post(url, headers=as_role(services, Role.RESPONDER)).status_code == 403
    removed = client.post(url, headers=commander)
    assert removed.status_code == 303
    assert removed.headers["location"] == f"/incidents/{incident.id}?done=unassigned#roles"
    assert "scribe" not in incidents_of(services).get(incident.id).roles
    page = client.get(f"/incidents/{incident.id}?done=unassigned", headers=commander).text
    assert '<dd id="role-scribe"><span class="muted">unassigned</span></dd>' in page
    assert "role unassigned" in page and "pat is no longer scribe" in page
    again = client.post(url, headers=commander)
    assert again.status_code == 400 and f"Nobody holds scribe on {incident.id}." in again.text
