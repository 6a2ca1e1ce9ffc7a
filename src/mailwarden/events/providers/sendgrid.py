"""SendGrid Event Webhook: ECDSA-signed JSON arrays of delivery and engagement events.

Mapping decisions (see DESIGN.md for the canonical shape):

- id is "sg:" + sg_event_id, so a re-delivered batch dedupes in the store.
- message_id is sg_message_id; smtp-id (the Message-ID header) stays in extra.
- sending_ip comes from ``ip`` only on delivery events; on open/click/unsubscribe ``ip``
  is the recipient's address and stays in extra.
- campaign: custom arg ``campaign``, else marketing_campaign_name, else singlesend_name.
- sending_domain: custom arg ``sending_domain``, else the domain of a from/from_email field.
- tags: ``category`` (a string or a list).
- group_resubscribe and unknown event types are skipped with a note: the canonical model
  has no "resubscribed" type and a resubscribe is no incident signal; the raw payload keeps it.
- bounces, deferrals and drops go through bounces.classify; ``type: blocked`` forces class
  block, ``bounce_classification`` fills in where the classifier is undecided.
- Everything else (custom args, sg_machine_open, tls, cert_err, asm_group_id, pool, ...)
  is kept in extra.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mailwarden.clock import Clock
from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.mailboxes import mailbox_provider, recipient_domain
from mailwarden.events.model import Bounce, Complaint, Event
from mailwarden.events.providers.base import ParseResult, WebhookRequest
from mailwarden.events.providers.common import (
    STRONG,
    Hint,
    as_int,
    check_window,
    epoch_time,
    load_json,
    make_bounce,
    opt_str,
    require_str,
    signed_seconds,
    str_list,
    type_name,
)

SIGNATURE_HEADER: Final = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER: Final = "X-Twilio-Email-Event-Webhook-Timestamp"
KEY_ENV: Final = "MAILWARDEN_SENDGRID_WEBHOOK_PUBLIC_KEY"

_TYPES: Final[dict[str, str]] = {
    "processed": "queued",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounce": "bounced",
    "dropped": "dropped",
    "spamreport": "complained",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
    "open": "opened",
    "click": "clicked",
}
_FAILURES: Final = frozenset({"bounce", "deferred", "dropped"})
_DELIVERY: Final = frozenset({"processed", "delivered", "deferred", "bounce", "dropped"})
_FROM_KEYS: Final = ("from", "from_email", "from_address")
_CLASSIFICATIONS: Final[dict[str, Hint]] = {
    "invalid address": Hint("hard", "userunknown"),
    "technical": Hint("soft", "systemerror"),
    "content": Hint("block", "spamdetected"),
    "reputation": Hint("block", "badreputation"),
    "frequency or volume": Hint("block", "speeding"),
    "mailbox unavailable": Hint("soft", "suspend"),
}
_DROP_REASONS: Final[dict[str, Hint]] = {
    "bounced address": Hint("hard", "suppressed", final=True),
    "invalid": Hint("hard", "userunknown", final=True),
    "unsubscribed address": Hint("hard", "suppressed", final=True),
    "spam reporting address": Hint("hard", "suppressed", final=True),
    "spam content": Hint("block", "spamdetected", final=True),
}
_DEFERRED: Final = Hint("soft", "undefined")


class SendGridProvider:
    """Verifies SendGrid's signed Event Webhook and parses its event batches."""

    name = "sendgrid"

    def __init__(
        self,
        public_key: str | None,
        clock: Clock,
        max_age: timedelta = timedelta(minutes=10),
        max_skew: timedelta = timedelta(minutes=5),
    ) -> None:
        self._key = load_public_key(public_key) if public_key else None
        self._clock = clock
        self._max_age = max_age
        self._max_skew = max_skew

    def verify(self, request: WebhookRequest) -> None:
        """Raise unless the request carries a fresh, valid SendGrid ECDSA signature."""
        if self._key is None:
            raise NotConfiguredError(f"set {KEY_ENV} to accept SendGrid webhooks")
        signature = request.header(SIGNATURE_HEADER)
        timestamp = request.header(TIMESTAMP_HEADER)
        if not signature:
            raise SignatureError(f"missing header {SIGNATURE_HEADER}")
        if not timestamp:
            raise SignatureError(f"missing header {TIMESTAMP_HEADER}")
        signed_at = signed_seconds(timestamp)
        if signed_at is None:
            raise SignatureError(f"{TIMESTAMP_HEADER} is not Unix seconds")
        check_window(signed_at, self._clock.now(), self._max_age, self._max_skew, "SendGrid")
        try:
            der = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from None
        try:
            self._key.verify(der, timestamp.encode() + request.body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            raise SignatureError("SendGrid signature does not match timestamp and body") from None

    def parse(self, body: bytes) -> ParseResult:
        """Turn a SendGrid event batch (a JSON array) into canonical events."""
        data = load_json(body, "SendGrid")
        if not isinstance(data, list):
            raise PayloadError(
                f"SendGrid: body must be a JSON array of events, got {type_name(data)}"
            )
        result = ParseResult()
        append = result.events.append
        seen = _BatchMemo({}, {})
        for index, raw in enumerate(data):
            try:
                event = _event(raw, result.notes, index, seen)
            except PayloadError as exc:
                raise PayloadError(f"SendGrid event[{index}]: {exc}") from None
            if event is not None:
                append(event)
        return result


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """Load SendGrid's key: base64 DER SubjectPublicKeyInfo, or PEM (literal "\\n" allowed)."""
    stripped = text.strip().replace("\\n", "\n")
    try:
        if stripped.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(stripped.encode())
        else:
            der = base64.b64decode("".join(stripped.split()), validate=True)
            key = serialization.load_der_public_key(der)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise ValueError(f"{KEY_ENV} is not a base64 DER or PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{KEY_ENV} is not an EC P-256 public key")
    return key


class _BatchMemo(NamedTuple):
    """What one batch has already worked out: provider per domain, datetime per second."""

    providers: dict[str, str]
    times: dict[int, datetime]


def _event(raw: Any, notes: list[str], index: int, seen: _BatchMemo) -> Event | None:
    """Map one SendGrid event object, or return None (with a note) for skipped types.

    Mapped fields are popped from the decoded object, which then becomes extra as it is:
    one dict per event, no copy. This runs once per event on the ingest hot path, so the
    well-formed shape takes the short branches and anything odd falls back to the careful
    helpers, which also name what was wrong.
    """
    if type(raw) is not dict:
        raise PayloadError(f"must be a JSON object, got {type_name(raw)}")
    pop = raw.pop
    kind = pop("event", None)
    if type(kind) is not str or not kind:
        kind = require_str({"event": kind}, "event")
    etype = _TYPES.get(kind)
    if etype is None:
        raw["event"] = kind  # the raw payload keeps it; this object is discarded anyway
        notes.append(f"event[{index}]: skipped SendGrid event type {kind[:40]!r}")
        return None
    email = pop("email", None)
    if type(email) is not str or not email:
        email = require_str({"email": email}, "email")
    sg_event_id = pop("sg_event_id", None)
    if type(sg_event_id) is not str or not sg_event_id:
        sg_event_id = require_str({"sg_event_id": sg_event_id}, "sg_event_id")
    occurred_at = _occurred_at(pop("timestamp", None), seen.times)
    message_id = pop("sg_message_id", None)
    if type(message_id) is not str:
        message_id = opt_str(message_id)
    category = pop("category", None)
    tags = category if type(category) is list and _all_text(category) else str_list(category)
    campaign = pop("campaign", None)
    if type(campaign) is not str or not campaign:
        campaign = opt_str(campaign) or _marketing_campaign(raw)
    sending_domain = _sending_domain(pop("sending_domain", None), raw)
    sending_ip = url = user_agent = None
    bounce = None
    if kind in _DELIVERY:
        sending_ip = opt_str(pop("ip", None))
        if kind in _FAILURES:
            bounce = _bounce(raw, kind)
    else:
        url = opt_str(pop("url", None))
        user_agent = opt_str(pop("useragent", None))
    return Event(
        "sg:" + sg_event_id,
        etype,
        occurred_at,
        "sendgrid",
        message_id,
        email,
        _mailbox_provider(email, seen.providers),
        sending_domain,
        sending_ip,
        campaign,
        tags,
        bounce,
        Complaint("abuse") if etype == "complained" else None,
        url,
        user_agent,
        raw,
    )


def _occurred_at(stamp: Any, times: dict[int, datetime]) -> datetime:
    """The event's time; whole seconds in range (the norm) are remembered per batch."""
    if type(stamp) is int and 0 <= stamp < 10**11:
        found = times.get(stamp)
        if found is None:
            found = times[stamp] = datetime.fromtimestamp(stamp, UTC)
        return found
    return epoch_time(stamp, "timestamp")


def _all_text(items: list[Any]) -> bool:
    """True when every item is a non-empty string (the usual category list)."""
    for item in items:  # noqa: SIM110 - a plain loop: all() over a generator costs twice this
        if type(item) is not str or not item:
            return False
    return True


def _mailbox_provider(email: str, cache: dict[str, str]) -> str:
    """mailbox_provider(email), remembered per domain part within one batch."""
    domain = email[email.rfind("@") + 1 :]
    found = cache.get(domain)
    if found is None:
        found = cache[domain] = mailbox_provider(email)
    return found


def _marketing_campaign(raw: dict[str, Any]) -> str | None:
    """Campaign when no custom arg names one: marketing campaign, else single-send name."""
    if "marketing_campaign_name" in raw or "singlesend_name" in raw:
        return opt_str(raw.get("marketing_campaign_name")) or opt_str(raw.get("singlesend_name"))
    return None


def _sending_domain(explicit: Any, raw: dict[str, Any]) -> str | None:
    """Sending domain: custom arg sending_domain, else the domain of a from-ish field."""
    if isinstance(explicit, str) and explicit.strip():
        return explicit.strip().lower()
    for key in _FROM_KEYS:
        if key in raw:
            domain = recipient_domain(opt_str(raw[key]))
            if domain:
                return domain
    return None


def _bounce(raw: dict[str, Any], kind: str) -> Bounce:
    """Describe a bounce, deferral or drop, with SendGrid's own hints where they are reliable."""
    status = opt_str(raw.pop("status", None))
    reason = opt_str(raw.pop("reason", None))
    response = opt_str(raw.pop("response", None))
    attempt = as_int(raw.get("attempt"))
    if attempt is not None:
        raw["attempt"] = attempt
    if kind == "deferred":
        return make_bounce(None, status, response or reason, _classification(raw) or _DEFERRED)
    if kind == "dropped":
        hint = _DROP_REASONS.get(reason.split(" (")[0].strip().lower()) if reason else None
        return make_bounce(None, status, reason, hint)
    hint = _classification(raw)
    if raw.get("type") == "blocked":
        block = hint.reason if hint is not None and hint.bounce_class == "block" else "blocked"
        hint = Hint("block", block, STRONG)
    return make_bounce(None, status, reason or response, hint)


def _classification(raw: dict[str, Any]) -> Hint | None:
    """SendGrid's bounce_classification as a (weak) hint."""
    value = raw.get("bounce_classification")
    return _CLASSIFICATIONS.get(value.strip().lower()) if isinstance(value, str) else None
