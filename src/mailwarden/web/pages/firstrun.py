"""First run: how to connect each provider, and a button that loads a simulated week.

The provider table says which setting holds each secret and whether it is set; it never
shows a secret. The demo loads in a background thread (admin only, CSRF-protected) and the
page follows its progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from mailwarden.config import Settings
from mailwarden.demo import DAYS, DemoJob
from mailwarden.web.pages.forms import read_form
from mailwarden.web.pages.render import Console


@dataclass(frozen=True, slots=True)
class ProviderSetup:
    """What to paste into a provider, and which settings to set here."""

    name: str
    label: str
    url: str
    settings: tuple[str, ...]
    configured: bool
    hint: str


# provider -> (label, settings that hold its secrets, where to find them)
PROVIDERS: Final = {
    "sendgrid": (
        "SendGrid",
        ("sendgrid_webhook_public_key",),
        "Mail Settings > Event Webhook: enable Signed Event Webhook and copy the verification key.",
    ),
    "mailgun": (
        "Mailgun",
        ("mailgun_webhook_signing_key",),
        "Sending > Webhooks: add the URL for each event; the signing key is on the same page.",
    ),
    "postmark": (
        "Postmark",
        ("postmark_webhook_username", "postmark_webhook_password"),
        "Server > Webhooks: add the URL with basic auth (username and password of your choice).",
    ),
    "ses": (
        "Amazon SES",
        ("ses_topic_arns",),
        "Configuration set > Event destination: SNS topic; subscribe this URL (HTTPS) to it.",
    ),
}


def provider_setup(settings: Settings) -> list[ProviderSetup]:
    """Each provider's webhook URL and settings, with whether they are set (never the values)."""
    base = settings.base_url().rstrip("/")
    found = []
    for name, (label, names, hint) in PROVIDERS.items():
        configured = all(bool(getattr(settings, setting)) for setting in names)
        env = tuple(f"MAILWARDEN_{setting.upper()}" for setting in names)
        found.append(ProviderSetup(name, label, f"{base}/webhooks/{name}", env, configured, hint))
    return found


def first_run_context(console: Console, request: Request) -> dict[str, Any]:
    """What the first-run page shows."""
    return {
        "providers": provider_setup(console.services.settings),
        "demo": console.demo.status(),
        "demo_days": DAYS,
    }


def firstrun_router(console: Console) -> APIRouter:
    """POST /demo starts the simulated week; GET /demo/status reports its progress."""
    router = APIRouter(include_in_schema=False)

    @router.post("/demo")
    async def start_demo(request: Request) -> Response:
        """Start loading the simulated week (the button says confirm=load)."""
        form = await read_form(request)
        if form.get("confirm") != "load":  # only the page's button says so
            return JSONResponse({"error": "bad_request", "detail": "confirm=load"}, 400)
        console.demo.start(console.services.settings, on_finish=console.board.hourly.clear)
        return RedirectResponse("/?done=demo", status_code=303)

    @router.get("/demo/status")
    def demo_status() -> JSONResponse:
        """The demo load's progress."""
        return JSONResponse(console.demo.status())

    return router


def new_demo_job() -> DemoJob:
    """A fresh, idle demo job for an app."""
    return DemoJob()
