"""A responder runs an incident from the console in a real browser; a viewer cannot change it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mailwarden.incidents.model import Actor
from mailwarden.web.pages.render import Assets
from tests.e2e.live import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    COMMANDER,
    VIEWER,
    LiveConsole,
)
from tests.integration.auth.helpers import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def sign_in(page: Page, console: LiveConsole, username: str) -> None:
    page.goto(f"{console.base_url}/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


def test_a_commander_runs_an_incident_from_the_overview_to_sign_out(
    page: Page, live_console: LiveConsole
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    incident = live_console.incident_id
    sign_in(page, live_console, COMMANDER)
    expect(
        page.get_by_role("heading", name="Sending health by domain and mailbox provider")
    ).to_be_visible()
    expect(page.locator("table.health tbody tr").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "overview.png"))

    page.locator(f"a[href='/incidents/{incident}']").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(incident)
    state, timeline = page.locator("#incident-state"), page.locator("#timeline")
    expect(state).to_have_text("detected")
    if Assets.found().uplot_js:  # `make assets` put the charting library in place
        expect(page.locator(".chart[data-drawn='true'] canvas")).to_be_visible()
    else:
        expect(page.locator(".chart-fallback")).to_be_visible()

    page.get_by_role("button", name="Acknowledge").click()
    expect(state).to_have_text("acknowledged")
    expect(timeline).to_contain_text("detected → acknowledged")
    expect(timeline).to_contain_text(f"by {COMMANDER}")

    first_task = page.locator("#tasks button", has_text="Done").first
    label = first_task.get_attribute("aria-label") or ""
    first_task.click()
    expect(timeline).to_contain_text("task done")
    expect(
        page.locator("#tasks li.done", has_text=label.removeprefix("Mark done: "))
    ).to_be_visible()

    page.locator("#actions summary", has_text="mailwarden.suppress").click()
    plan = page.locator("#actions form", has=page.locator("input[value='mailwarden.suppress']"))
    plan.get_by_label("Addresses").fill("bad-import-1@example.net\nbad-import-2@example.net")
    plan.get_by_role("button", name="Plan").click()
    mine = page.locator("#actions article", has_text="suppress 2 of 2 address(es)")
    expect(mine).to_contain_text("pending")
    mine.get_by_role("button", name="Approve and run").click()
    expect(mine).to_contain_text("run succeeded")
    expect(timeline).to_contain_text("action approval requested")
    expect(timeline).to_contain_text("action approved")

    services = live_console.services
    assert services.incidents is not None
    services.incidents.add_note(
        incident, "Postmaster desk says the list came from a vendor", Actor("pat")
    )
    expect(timeline).to_contain_text("came from a vendor", timeout=20_000)  # no reload: it polls
    page.set_viewport_size({"width": 1280, "height": 1500})
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "incident.png"))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(f"{live_console.base_url}/incidents/{incident}")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_commander_raises_the_severity_and_empties_a_role_from_the_page(
    page: Page, live_console: LiveConsole
) -> None:
    services = live_console.services
    assert services.incidents is not None
    reported = services.incidents.open_manual(
        incident_type="unauthorized_access",
        title="API key used from a new country",
        severity="SEV3",
        actor=Actor("pat"),
    )
    services.incidents.assign(reported.id, "scribe", "pat", Actor("pat"))
    sign_in(page, live_console, COMMANDER)
    page.goto(f"{live_console.base_url}/incidents/{reported.id}")
    severity, timeline = page.locator("#incident-severity"), page.locator("#timeline")
    expect(severity).to_have_text("SEV3")

    panel = page.locator("#severity")
    panel.get_by_label("Severity").select_option("SEV1")
    panel.get_by_label("Reason").fill("the key can export contacts")
    panel.get_by_role("button", name="Change severity").click()
    expect(severity).to_have_text("SEV1")
    expect(page.locator("p.notice")).to_contain_text("Severity changed")
    expect(timeline).to_contain_text("severity changed")
    expect(timeline).to_contain_text("SEV3 → SEV1: the key can export contacts")

    panel.get_by_label("Reason").fill("no change")
    panel.get_by_role("button", name="Change severity").click()  # SEV1 is still selected
    expect(page.get_by_role("alert")).to_contain_text(f"{reported.id} is SEV1 already")

    scribe = page.locator("#role-scribe")
    expect(scribe).to_have_text(re.compile(r"^\s*pat\b"))
    page.get_by_role("button", name="Remove pat as scribe").click()
    expect(scribe).to_have_text("unassigned")
    expect(page.get_by_role("button", name="Remove pat as scribe")).to_have_count(0)
    expect(timeline).to_contain_text("role unassigned")
    expect(timeline).to_contain_text("pat is no longer scribe")
    assert services.incidents.get(reported.id).severity == "SEV1"
    assert "scribe" not in services.incidents.get(reported.id).roles


def test_a_viewer_is_refused_the_acknowledge_button_and_the_api_call(
    page: Page, live_console: LiveConsole
) -> None:
    services = live_console.services
    assert services.incidents is not None
    reported = services.incidents.open_manual(
        incident_type="phishing", title="Customer forwarded a spoofed invoice", actor=Actor("pat")
    )
    sign_in(page, live_console, VIEWER)
    page.goto(f"{live_console.base_url}/incidents/{reported.id}")
    expect(page.locator("#incident-state")).to_have_text("detected")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.get_by_role("button", name="Add note")).to_have_count(0)

    token = page.locator("form[action='/logout'] input[name=csrf_token]").get_attribute("value")
    assert token
    api = page.request.post(
        f"{live_console.base_url}/api/incidents/{reported.id}/acknowledge",
        data={"note": "sneaky"},
        headers={"x-csrf-token": token},
    )
    assert api.status == 403
    form = page.request.post(
        f"{live_console.base_url}/incidents/{reported.id}/transition",
        form={"to": "acknowledged", "csrf_token": token},
    )
    assert form.status == 403
    assert services.incidents.get(reported.id).state == "detected"


def test_the_console_can_be_used_by_keyboard_and_on_a_phone(
    page: Page, live_console: LiveConsole
) -> None:
    sign_in(page, live_console, VIEWER)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_console.base_url}/incidents/{live_console.incident_id}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the incident page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(ARTIFACTS / "incident-phone.png"), full_page=False)
