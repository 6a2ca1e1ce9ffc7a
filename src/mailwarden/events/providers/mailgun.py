"""Mailgun webhooks (the current JSON kind): one HMAC-signed event per request.

Mapping decisions (see DESIGN.md for the canonical shape):

- id is "mg:" + event-data.id; a retried delivery carries the same id and dedupes.
- accepted -> queued; failed -> bounced (severity permanent) or deferred (temporary);
  failed with reason suppress-bounce / suppress-complaint / suppress-unsubscribe -> dropped
  with reason "suppressed" (Mailgun never tried, so it is no bounce); rejected -> dropped.
- Hints that override the classifier: reason espblock -> block, reason old -> soft/expired.
- sending_domain: user-variables.sending_domain, else the envelope sender's domain, else
  domain.name, else the From header's domain.
- campaign: user-variables.campaign, else a tag "campaign:<name>", else the first legacy
  campaigns[] name; plain tags are only tags.
- Everything not mapped (delivery-status, envelope, flags, message, user-variables, ...)
  is kept in extra; the signature block never is.
- Legacy form-encoded webhooks are refused with a clear 400.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any, Final

import orjson

from mailwarden.clock import Clock
from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.mailboxes import mailbox_provider, recipient_domain
from mailwarden.events.model import Bounce, Complaint, Event
from mailwarden.events.providers.base import ParseResult, ReplayGuard, WebhookRequest
from mailwarden.events.providers.common import (
    STRONG,
    Hint,
    check_window,
    epoch_time,
    load_json,
    make_bounce,
    opt_dict,
    opt_str,
    require_object,
    require_str,
    signed_seconds,
    smtp_code,
    str_list,
)

KEY_ENV: Final = "MAILWARDEN_MAILGUN_WEBHOOK_SIGNING_KEY"
_FORM_MESSAGE: Final = (
    "body looks form-encoded: legacy Mailgun webhooks are not supported, "
    "configure a current (JSON) webhook instead"
)
_TYPES: Final[dict[str, str]] = {
    "accepted": "queued",
    "delivered": "delivered",
    "failed": "bounced",
    "rejected": "dropped",
    "complained": "complained",
    "unsubscribed": "unsubscribed",
    "opened": "opened",
    "clicked": "clicked",
}
_SUPPRESSED: Final[dict[str, Hint]] = {
    "suppress-bounce": Hint("hard", "suppressed", final=True),
    "suppress-complaint": Hint("hard", "suppressed", final=True),
    "suppress-unsubscribe": Hint("hard", "suppressed", final=True),
}
_REASONS: Final[dict[str, Hint]] = {
    "espblock": Hint("block", "blocked", STRONG),
    "old": Hint("soft", "expired", STRONG),
    "greylisted": Hint("soft", "undefined"),
}
_TEMPORARY: Final = Hint("soft", "undefined")
_CONSUMED: Final = frozenset({"event", "id", "timestamp", "recipient", "tags", "url"})


class MailgunProvider:
    """Verifies Mailgun's HMAC webhook signature (with replay protection) and parses events."""

    name = "mailgun"

    def __init__(
        self,
        signing_key: str | None,
        clock: Clock,
        replay_guard: ReplayGuard,
        max_age: timedelta = timedelta(minutes=10),
        max_skew: timedelta = timedelta(minutes=5),
    ) -> None:
        self._key = signing_key.encode() if signing_key else None
        self._clock = clock
        self._guard = replay_guard
        self._max_age = max_age
        self._max_skew = max_skew

    def verify(self, request: WebhookRequest) -> None:
        """Raise unless the body's signature block is valid, fresh and not seen before."""
        if self._key is None:
            raise NotConfiguredError(f"set {KEY_ENV} to accept Mailgun webhooks")
        signed_at, timestamp, token, signature = _signature_block(request.body)
        expected = hmac.new(self._key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise SignatureError("Mailgun signature does not match (check the signing key)")
        now = self._clock.now()
        check_window(signed_at, now, self._max_age, self._max_skew, "Mailgun")
        # The signature covers timestamp + token, not the body: bind the token to this body.
        fingerprint = hashlib.sha256(request.body).hexdigest()
        if not self._guard.first_use(self.name, token, now, fingerprint):
            raise SignatureError("Mailgun token was already used with another body (forgery)")

    def parse(self, body: bytes) -> ParseResult:
        """Turn one Mailgun webhook body into (at most) one canonical event."""
        if _looks_form_encoded(body):
            raise PayloadError(f"Mailgun: {_FORM_MESSAGE}")
        data = require_object(load_json(body, "Mailgun"), "Mailgun: body")
        if data.get("event-data") is None:
            raise PayloadError("Mailgun: missing required object 'event-data'")
        result = ParseResult()
        try:
            event = _event(require_object(data["event-data"], "'event-data'"), result.notes)
        except PayloadError as exc:
            raise PayloadError(f"Mailgun event-data: {exc}") from None
        if event is not None:
            result.events.append(event)
        return result


def _looks_form_encoded(body: bytes) -> bool:
    """True for an application/x-www-form-urlencoded body (key=value&...), as legacy hooks sent."""
    head = body[:256].lstrip()
    return bool(head) and head[:1] not in b'{["' and b"=" in head


def _signature_block(body: bytes) -> tuple[int, str, str, str]:
    """Pull (signed_at, timestamp, token, signature) out of the JSON body, or SignatureError."""
    if _looks_form_encoded(body):
        raise SignatureError(f"Mailgun signature not found: {_FORM_MESSAGE}")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise SignatureError("Mailgun signature not found: body is not JSON") from None
    block = data.get("signature") if isinstance(data, dict) else None
    if not isinstance(block, dict):
        raise SignatureError("Mailgun signature not found: no 'signature' object in the body")
    signed_at = signed_seconds(block.get("timestamp"))
    token = block.get("token")
    signature = block.get("signature")
    if signed_at is None:
        raise SignatureError("Mailgun signature.timestamp is not Unix seconds")
    if not isinstance(token, str) or not token or len(token) > 512:
        raise SignatureError("Mailgun signature.token is missing or malformed")
    if not isinstance(signature, str) or not signature:
        raise SignatureError("Mailgun signature.signature is missing")
    return signed_at, str(block["timestamp"]), token, signature


def _event(data: dict[str, Any], notes: list[str]) -> Event | None:
    """Map Mailgun event-data, or return None (with a note) for event types we do not track."""
    kind = require_str(data, "event")
    etype = _TYPES.get(kind)
    if etype is None:
        notes.append(f"skipped Mailgun event type {kind[:40]!r}")
        return None
    event_id = require_str(data, "id")
    occurred_at = epoch_time(data.get("timestamp"), "timestamp")
    recipient = opt_str(data.get("recipient"))
    envelope = opt_dict(data.get("envelope"))
    headers = opt_dict(opt_dict(data.get("message")).get("headers"))
    variables = opt_dict(data.get("user-variables"))
    status = opt_dict(data.get("delivery-status"))
    tags = str_list(data.get("tags"))
    bounce: Bounce | None = None
    if kind == "failed":
        etype, bounce = _failure(data, status)
    elif kind == "rejected":
        bounce = _rejection(data)
    return Event(
        id="mg:" + event_id,
        type=etype,
        occurred_at=occurred_at,
        provider="mailgun",
        message_id=opt_str(headers.get("message-id")),
        recipient=recipient,
        mailbox_provider=mailbox_provider(recipient, opt_str(status.get("mx-host"))),
        sending_domain=_sending_domain(data, envelope, variables, headers),
        sending_ip=opt_str(envelope.get("sending-ip")),
        campaign=_campaign(variables, tags, data.get("campaigns")),
        tags=tags,
        bounce=bounce,
        complaint=Complaint("abuse") if etype == "complained" else None,
        url=opt_str(data.get("url")),
        user_agent=opt_str(opt_dict(data.get("client-info")).get("user-agent")),
        extra={key: value for key, value in data.items() if key not in _CONSUMED},
    )


def _failure(data: dict[str, Any], status: dict[str, Any]) -> tuple[str, Bounce]:
    """Decide bounced / deferred / dropped for a failed event and describe the failure."""
    reason = opt_str(data.get("reason")) or ""
    code = smtp_code(status.get("code"))
    enhanced = opt_str(status.get("enhanced-code"))
    diagnostic = opt_str(status.get("message")) or opt_str(status.get("description"))
    suppressed = _SUPPRESSED.get(reason)
    if suppressed is not None:
        return "dropped", make_bounce(code, enhanced, diagnostic, suppressed)
    temporary = data.get("severity") == "temporary"
    hint = _REASONS.get(reason) or (_TEMPORARY if temporary else None)
    return ("deferred" if temporary else "bounced"), make_bounce(code, enhanced, diagnostic, hint)


def _rejection(data: dict[str, Any]) -> Bounce:
    """Describe why Mailgun refused to send a message at all."""
    reject = opt_dict(data.get("reject"))
    text = opt_str(reject.get("description")) or opt_str(reject.get("reason"))
    return make_bounce(None, None, text)


def _sending_domain(
    data: dict[str, Any],
    envelope: dict[str, Any],
    variables: dict[str, Any],
    headers: dict[str, Any],
) -> str | None:
    """Sending domain from a user variable, the envelope sender, the domain, or From."""
    explicit = opt_str(variables.get("sending_domain"))
    if explicit and explicit.strip():
        return explicit.strip().lower()
    sender = recipient_domain(opt_str(envelope.get("sender")))
    if sender:
        return sender
    named = opt_str(opt_dict(data.get("domain")).get("name"))
    if named and named.strip():
        return named.strip().lower()
    return recipient_domain(opt_str(headers.get("from")))


def _campaign(variables: dict[str, Any], tags: list[str], campaigns: Any) -> str | None:
    """Campaign from user-variables.campaign, a "campaign:" tag, or legacy campaigns[0]."""
    explicit = opt_str(variables.get("campaign"))
    if explicit:
        return explicit
    for tag in tags:
        if tag.startswith("campaign:") and len(tag) > len("campaign:"):
            return tag[len("campaign:") :]
    if isinstance(campaigns, list) and campaigns:
        first = opt_dict(campaigns[0])
        return opt_str(first.get("name")) or opt_str(first.get("id"))
    return None
