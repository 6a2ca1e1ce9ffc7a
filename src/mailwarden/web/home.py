"""The landing page and health check."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from mailwarden.app import Services
from mailwarden.web.webhooks import WEBHOOK_PROVIDERS

_SECRETS = {
    "sendgrid": "MAILWARDEN_SENDGRID_WEBHOOK_PUBLIC_KEY (the verification key SendGrid shows)",
    "mailgun": "MAILWARDEN_MAILGUN_WEBHOOK_SIGNING_KEY",
    "postmark": "MAILWARDEN_POSTMARK_WEBHOOK_USERNAME and MAILWARDEN_POSTMARK_WEBHOOK_PASSWORD",
    "ses": "MAILWARDEN_SES_TOPIC_ARNS (comma-separated SNS topic ARNs)",
}


def home_router(services: Services) -> APIRouter:
    """The index page explains how to connect each provider; /healthz says we are up."""
    router = APIRouter()

    @router.get("/healthz", tags=["health"], summary="Liveness and event count")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "events": services.store.count_events()})

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        base = services.settings.base_url()
        rows = "".join(
            f"<tr><th scope='row'>{name}</th><td><code>{escape(base)}/webhooks/{name}</code></td>"
            f"<td>{escape(_SECRETS[name])}</td></tr>"
            for name in WEBHOOK_PROVIDERS
        )
        count = services.store.count_events()
        return HTMLResponse(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Mailwarden</title></head><body><main>"
            f"<h1>Mailwarden</h1><p>{count} events stored.</p>"
            "<h2>Connect a provider</h2><table><thead><tr><th>Provider</th>"
            "<th>Webhook URL</th><th>Secret to set</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></main></body></html>"
        )

    return router
