"""POST /webhooks/{provider}: 2xx only once the raw payload is durable."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mailwarden.app import Services
from mailwarden.events.errors import NotConfiguredError, SignatureError
from mailwarden.events.ingest import ConfirmationError, IngestOutcome, PayloadRejectedError
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.web.errors import error_response

WEBHOOK_PROVIDERS = ("sendgrid", "mailgun", "postmark", "ses")


class BodyTooLargeError(ValueError):
    """The request body exceeds the configured limit."""


def webhooks_router(services: Services) -> APIRouter:
    """Routes that providers call; authenticated by their signatures, not by sessions."""
    router = APIRouter(tags=["webhooks"])
    limit = services.settings.webhook_max_body_bytes

    @router.post("/webhooks/{provider}", summary="Receive a provider's event webhook")
    async def receive(provider: str, request: Request) -> JSONResponse:
        if provider not in WEBHOOK_PROVIDERS:
            known = ", ".join(WEBHOOK_PROVIDERS)
            return error_response(404, "unknown_provider", f"no webhook {provider!r}; use {known}")
        try:
            body = await _read_body(request, limit)
        except BodyTooLargeError as exc:
            return error_response(413, "too_large", str(exc))
        inbound = WebhookRequest(
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            received_at=services.clock.now(),
            remote_addr=request.client.host if request.client else None,
        )
        return await run_in_threadpool(_ingest, services, provider, inbound)

    return router


def _ingest(services: Services, provider: str, inbound: WebhookRequest) -> JSONResponse:
    try:
        outcome = services.ingest.receive(provider, inbound)
    except NotConfiguredError as exc:
        return error_response(401, "not_configured", str(exc))
    except SignatureError as exc:
        return error_response(401, "bad_signature", str(exc))
    except PayloadRejectedError as exc:
        return error_response(400, "bad_payload", str(exc), raw_id=exc.raw_id)
    except ConfirmationError as exc:
        return error_response(502, "confirmation_failed", str(exc), raw_id=exc.raw_id)
    return JSONResponse(_summary(outcome))


def _summary(outcome: IngestOutcome) -> dict[str, object]:
    return {
        "raw_id": outcome.raw_id,
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "notes": outcome.notes,
    }


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"body of {declared} bytes exceeds the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"body exceeds the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)
