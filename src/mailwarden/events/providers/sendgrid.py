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

# SendGrid event -> (canonical type, whether it is a delivery event, whether it failed).
# On delivery events ``ip`` is the sending IP; on the others it is the recipient's.
_KINDS: Final[dict[str, tuple[str, bool, bool]]] = {
    "processed": ("queued", True, False),
    "delivered": ("delivered", True, False),
    "deferred": ("deferred", True, True),
    "bounce": ("bounced", True, True),
    "dropped": ("dropped", True, True),
    "spamreport": ("complained", False, False),
    "unsubscribe": ("unsubscribed", False, False),
    "group_unsubscribe": ("unsubscribed", False, False),
    "open": ("opened", False, False),
    "click": ("clicked", False, False),
}
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
        seen = _BatchMemo({}, {}, {}, {})
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
    """What one batch has already worked out, so each distinct value is worked out once."""

    times: dict[int, datetime]  # whole seconds -> datetime
    domains: dict[str, str]  # sending_domain custom arg -> normalised
    providers: dict[str, str]  # "@domain" part of an address -> mailbox provider
    bounces: dict[tuple[Any, ...], tuple[Any, ...]]  # failure fields -> Bounce fields


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
    mapped = _KINDS.get(kind) if type(kind) is str else None
    if mapped is None:
        _skip(kind, notes, index)
        return None
    etype, delivery, failure = mapped
    times, domains, providers, bounces = seen
    email = pop("email", None)
    if type(email) is not str or not email:
        email = require_str({"email": email}, "email")
    sg_event_id = pop("sg_event_id", None)
    if type(sg_event_id) is not str or not sg_event_id:
        sg_event_id = require_str({"sg_event_id": sg_event_id}, "sg_event_id")
    stamp = pop("timestamp", None)
    occurred_at = times.get(stamp) if type(stamp) is int else None
    if occurred_at is None:
        occurred_at = _occurred_at(stamp, times)
    message_id = pop("sg_message_id", None)
    if type(message_id) is not str:
        message_id = opt_str(message_id)
    category = pop("category", None)
    tags = category if type(category) is list and _all_text(category) else str_list(category)
    campaign = pop("campaign", None)
    if type(campaign) is not str or not campaign:
        campaign = opt_str(campaign) or _marketing_campaign(raw)
    explicit = pop("sending_domain", None)
    sending_domain = domains.get(explicit) if type(explicit) is str else None
    if sending_domain is None:
        sending_domain = _sending_domain(explicit, raw, domains)
    at = email.rfind("@")
    domain = email[at:] if at >= 0 else "!" + email  # an address without "@" is its own key
    provider = providers.get(domain)
    if provider is None:
        provider = providers[domain] = mailbox_provider(email)
    sending_ip = url = user_agent = bounce = None
    if delivery:
        sending_ip = pop("ip", None)
        if sending_ip is not None and (type(sending_ip) is not str or not sending_ip):
            sending_ip = opt_str(sending_ip)
        if failure:
            bounce = _bounce(raw, kind, bounces)
    else:
        url = pop("url", None)
        if url is not None and (type(url) is not str or not url):
            url = opt_str(url)
        user_agent = pop("useragent", None)
        if user_agent is not None and (type(user_agent) is not str or not user_agent):
            user_agent = opt_str(user_agent)
    return Event(
        "sg:" + sg_event_id,
        etype,
        occurred_at,
        "sendgrid",
        message_id,
        email,
        provider,
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


def _skip(kind: Any, notes: list[str], index: int) -> None:
    """Note an event type the canonical model has no place for; raise if there is no type."""
    if type(kind) is not str or not kind:
        require_str({"event": kind}, "event")
    notes.append(f"event[{index}]: skipped SendGrid event type {kind[:40]!r}")


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


def _marketing_campaign(raw: dict[str, Any]) -> str | None:
    """Campaign when no custom arg names one: marketing campaign, else single-send name."""
    if "marketing_campaign_name" in raw or "singlesend_name" in raw:
        return opt_str(raw.get("marketing_campaign_name")) or opt_str(raw.get("singlesend_name"))
    return None


def _sending_domain(explicit: Any, raw: dict[str, Any], known: dict[str, str]) -> str | None:
    """Sending domain: custom arg sending_domain (remembered), else a from-ish field's domain."""
    if isinstance(explicit, str) and explicit.strip():
        found = known[explicit] = explicit.strip().lower()
        return found
    for key in _FROM_KEYS:
        if key in raw:
            domain = recipient_domain(opt_str(raw[key]))
            if domain:
                return domain
    return None


def _bounce(
    raw: dict[str, Any], kind: str, known: dict[tuple[Any, ...], tuple[Any, ...]]
) -> Bounce:
    """Describe a bounce, deferral or drop; identical failures in a batch are classified once."""
    status = opt_str(raw.pop("status", None))
    reason = opt_str(raw.pop("reason", None))
    response = opt_str(raw.pop("response", None))
    attempt = as_int(raw.get("attempt"))
    if attempt is not None:
        raw["attempt"] = attempt
    classification = raw.get("bounce_classification")
    if not isinstance(classification, str):
        classification = None
    key = (kind, status, reason, response, classification, raw.get("type") == "blocked")
    fields = known.get(key)
    if fields is None:
        found = _failure(*key)
        fields = known[key] = (
            found.bounce_class,
            found.reason,
            found.smtp_code,
            found.status,
            found.diagnostic,
        )
    return Bounce(*fields)


def _failure(
    kind: str,
    status: str | None,
    reason: str | None,
    response: str | None,
    classification: str | None,
    blocked: bool,
) -> Bounce:
    """Classify one failure, with SendGrid's own hints where they are reliable."""
    hint = _CLASSIFICATIONS.get(classification.strip().lower()) if classification else None
    if kind == "deferred":
        return make_bounce(None, status, response or reason, hint or _DEFERRED)
    if kind == "dropped":
        drop = _DROP_REASONS.get(reason.split(" (")[0].strip().lower()) if reason else None
        return make_bounce(None, status, reason, drop)
    if blocked:
        block = hint.reason if hint is not None and hint.bounce_class == "block" else "blocked"
        hint = Hint("block", block, STRONG)
    return make_bounce(None, status, reason or response, hint)
