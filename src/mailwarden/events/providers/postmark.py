"""Postmark webhooks: one JSON record per request, authenticated with HTTP basic auth.

Mapping decisions (see DESIGN.md for the canonical shape):

- ids: Bounce and SpamComplaint records share Postmark's bounce ID space, so both become
  "pm:bounce:<ID>" (a complaint seen through both hooks counts once). Delivery, Open,
  Click and SubscriptionChange carry no id: "pm:<recordtype>:<hash>" of MessageID,
  Recipient, the event time (and OriginalLink for clicks), stable across re-deliveries.
- Bounce Type -> event: HardBounce/BadEmailAddress -> bounced, hard unless the classifier
  finds a block; SoftBounce/DnsError/Unknown -> bounced via the classifier (soft where it is
  undecided); Transient -> deferred; Blocked/DMARCPolicy/SpamNotification/VirusNotification
  -> bounced, class block; SMTPApiError/TemplateRenderingFailed -> dropped (never sent);
  SpamComplaint -> complained; Unsubscribe -> unsubscribed. Subscribe, AutoResponder,
  AddressChange, OpenRelayTest, ChallengeVerification, ManuallyDeactivated, Unconfirmed
  and InboundError are no delivery outcome and are skipped with a note.
- SubscriptionChange: only a recipient's own suppression (SuppressSending true, reason
  ManualSuppression, Origin Recipient) becomes unsubscribed. Suppressions caused by a
  HardBounce or SpamComplaint are skipped (the Bounce/SpamComplaint record already
  counted them), as are customer/admin suppressions and reactivations.
- campaign: Metadata.campaign, else Tag; tags: [Tag]. sending_domain: Metadata.sending_domain,
  else the From address's domain (bounces only).
- Unmapped fields stay in extra, except a bounce's full message dump (Content).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any, Final

from mailwarden.events.errors import NotConfiguredError, PayloadError, SignatureError
from mailwarden.events.mailboxes import mailbox_provider, recipient_domain
from mailwarden.events.model import Bounce, Complaint, Event, format_time
from mailwarden.events.providers.base import ParseResult, WebhookRequest
from mailwarden.events.providers.common import (
    STRONG,
    Hint,
    iso_time,
    load_json,
    make_bounce,
    opt_dict,
    opt_str,
    require_object,
    require_str,
    type_name,
)

USERNAME_ENV: Final = "MAILWARDEN_POSTMARK_WEBHOOK_USERNAME"
PASSWORD_ENV: Final = "MAILWARDEN_POSTMARK_WEBHOOK_PASSWORD"  # noqa: S105 (a variable name)

_KEEP_HARD: Final = frozenset({"undetermined", "soft"})
# Bounce Type -> (canonical type, hint); None as the hint means "the classifier decides".
_BOUNCES: Final[dict[str, tuple[str, Hint | None]]] = {
    "HardBounce": ("bounced", Hint("hard", "userunknown", _KEEP_HARD)),
    "BadEmailAddress": ("bounced", Hint("hard", "userunknown", _KEEP_HARD)),
    "SoftBounce": ("bounced", Hint("soft", "undefined")),
    "DnsError": ("bounced", Hint("soft", "networkerror")),
    "Unknown": ("bounced", None),
    "Transient": ("deferred", Hint("soft", "undefined")),
    "Blocked": ("bounced", Hint("block", "blocked", STRONG)),
    "DMARCPolicy": ("bounced", Hint("block", "authfailure", STRONG)),
    "SpamNotification": ("bounced", Hint("block", "spamdetected", STRONG)),
    "VirusNotification": ("bounced", Hint("block", "virusdetected", STRONG)),
    "SMTPApiError": ("dropped", Hint("soft", "mailererror")),
    "TemplateRenderingFailed": ("dropped", Hint("undetermined", "undefined")),
}
_NOT_BOUNCES: Final[dict[str, str]] = {"SpamComplaint": "complained", "Unsubscribe": "unsubscribed"}
_TYPE_CODES: Final[dict[int, str]] = {
    1: "HardBounce",
    2: "Transient",
    16: "Unsubscribe",
    32: "Subscribe",
    64: "AutoResponder",
    128: "AddressChange",
    256: "DnsError",
    512: "SpamNotification",
    1024: "OpenRelayTest",
    2048: "Unknown",
    4096: "SoftBounce",
    8192: "VirusNotification",
    16384: "ChallengeVerification",
    100000: "BadEmailAddress",
    100001: "SpamComplaint",
    100002: "ManuallyDeactivated",
    100003: "Unconfirmed",
    100006: "Blocked",
    100007: "SMTPApiError",
    100008: "InboundError",
    100009: "DMARCPolicy",
    100010: "TemplateRenderingFailed",
}
_TYPE_NAMES: Final = frozenset(_TYPE_CODES.values())
_CONSUMED: Final = frozenset(
    {"RecordType", "ID", "Email", "Recipient", "MessageID", "Tag", "UserAgent", "OriginalLink"}
    | {"BouncedAt", "DeliveredAt", "ReceivedAt", "ChangedAt", "Content"}
)


class PostmarkProvider:
    """Checks Postmark's basic-auth credentials and parses its webhook records."""

    name = "postmark"

    def __init__(self, username: str | None, password: str | None) -> None:
        configured = bool(username) and bool(password)
        self._username = username.encode() if configured and username else None
        self._password = password.encode() if configured and password else None

    def verify(self, request: WebhookRequest) -> None:
        """Raise unless the request carries the configured basic-auth username and password."""
        if self._username is None or self._password is None:
            raise NotConfiguredError(
                f"set {USERNAME_ENV} and {PASSWORD_ENV} to accept Postmark webhooks"
            )
        user, password = _basic_credentials(request.header("authorization"))
        user_ok = hmac.compare_digest(user, self._username)
        password_ok = hmac.compare_digest(password, self._password)
        if not (user_ok and password_ok):
            raise SignatureError("Postmark basic-auth credentials do not match")

    def parse(self, body: bytes) -> ParseResult:
        """Turn one Postmark webhook record into (at most) one canonical event."""
        record = require_object(load_json(body, "Postmark"), "Postmark: body")
        result = ParseResult()
        try:
            event = _event(record, result.notes)
        except PayloadError as exc:
            raise PayloadError(f"Postmark record: {exc}") from None
        if event is not None:
            result.events.append(event)
        return result


def _basic_credentials(header: str | None) -> tuple[bytes, bytes]:
    """Decode an HTTP basic Authorization header into (username, password), or SignatureError."""
    if not header:
        raise SignatureError("missing Authorization header (Postmark webhooks use basic auth)")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise SignatureError("Authorization header is not HTTP basic auth")
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("Authorization header is not valid base64") from None
    user, colon, password = decoded.partition(b":")
    if not colon:
        raise SignatureError("basic-auth credentials lack the ':' separator")
    return user, password


def _event(record: dict[str, Any], notes: list[str]) -> Event | None:
    """Map one Postmark record, or return None (with a note) when it is no tracked event."""
    kind = require_str(record, "RecordType")
    if kind == "Bounce":
        return _bounce_record(record, notes)
    if kind == "SpamComplaint":
        return _base(record, "complained", _bounce_id(record), "Email", "BouncedAt")
    if kind == "Delivery":
        return _derived(record, "delivered", "DeliveredAt")
    if kind == "Open":
        return _derived(record, "opened", "ReceivedAt")
    if kind == "Click":
        return _derived(record, "clicked", "ReceivedAt", opt_str(record.get("OriginalLink")))
    if kind == "SubscriptionChange":
        return _subscription_change(record, notes)
    notes.append(f"skipped Postmark record type {kind[:40]!r}")
    return None


def _bounce_record(record: dict[str, Any], notes: list[str]) -> Event | None:
    """Map a Bounce record by its Type (or TypeCode), classifying real delivery failures."""
    bounce_type = _bounce_type(record)
    event_id = _bounce_id(record)
    if bounce_type in _NOT_BOUNCES:
        return _base(record, _NOT_BOUNCES[bounce_type], event_id, "Email", "BouncedAt")
    mapped = _BOUNCES.get(bounce_type)
    if mapped is None:
        notes.append(f"skipped Postmark bounce of type {bounce_type[:40]!r}: no delivery outcome")
        return None
    etype, hint = mapped
    event = _base(record, etype, event_id, "Email", "BouncedAt")
    event.bounce = _failure(record, hint)
    return event


def _bounce_type(record: dict[str, Any]) -> str:
    """The bounce Type name, falling back to TypeCode, else Unknown."""
    name = record.get("Type")
    if isinstance(name, str) and name in _TYPE_NAMES:
        return name
    code = record.get("TypeCode")
    if isinstance(code, int) and not isinstance(code, bool) and code in _TYPE_CODES:
        return _TYPE_CODES[code]
    return name if isinstance(name, str) and name else "Unknown"


def _bounce_id(record: dict[str, Any]) -> str:
    """The stable id of a Bounce or SpamComplaint record (Postmark's bounce ID)."""
    value = record.get("ID")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"pm:bounce:{value}"
    if isinstance(value, str) and value:
        return f"pm:bounce:{value}"
    if value is None:
        raise PayloadError("missing required field 'ID'")
    raise PayloadError(f"field 'ID' must be a number or string, got {type_name(value)}")


def _failure(record: dict[str, Any], hint: Hint | None) -> Bounce:
    """Describe the failure from Details (the receiver's reply), guided by the bounce Type."""
    return make_bounce(None, None, opt_str(record.get("Details")), hint)


def _derived(record: dict[str, Any], etype: str, time_key: str, detail: str | None = None) -> Event:
    """Map a record without its own id (Delivery, Open, Click): derive a stable one."""
    event = _base(record, etype, "", "Recipient", time_key)
    event.id = _derived_id(record, event, detail)
    event.url = detail
    return event


def _derived_id(record: dict[str, Any], event: Event, detail: str | None) -> str:
    """Hash RecordType, MessageID, recipient, time (and link) into a stable id."""
    kind = str(record["RecordType"])
    parts = (kind, event.message_id or "", event.recipient or "", format_time(event.occurred_at))
    text = "\x1f".join((*parts, detail or ""))
    digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return f"pm:{kind.lower()}:{digest}"


def _subscription_change(record: dict[str, Any], notes: list[str]) -> Event | None:
    """A recipient's own suppression is an unsubscribe; other changes are skipped."""
    suppress = record.get("SuppressSending")
    reason = opt_str(record.get("SuppressionReason"))
    origin = opt_str(record.get("Origin"))
    if suppress is not True or reason != "ManualSuppression" or origin != "Recipient":
        what = "reactivation" if suppress is False else f"suppression ({reason}, origin {origin})"
        notes.append(f"skipped Postmark subscription change: {what[:80]}")
        return None
    return _derived(record, "unsubscribed", "ChangedAt")


def _base(
    record: dict[str, Any], etype: str, event_id: str, address_key: str, time_key: str
) -> Event:
    """The fields every Postmark record shares: recipient, time, message, tag and metadata."""
    recipient = require_str(record, address_key)
    metadata = opt_dict(record.get("Metadata"))
    tag = opt_str(record.get("Tag"))
    return Event(
        id=event_id,
        type=etype,
        occurred_at=iso_time(record.get(time_key), time_key),
        provider="postmark",
        message_id=opt_str(record.get("MessageID")),
        recipient=recipient,
        mailbox_provider=mailbox_provider(recipient),
        sending_domain=_sending_domain(record, metadata),
        campaign=opt_str(metadata.get("campaign")) or tag,
        tags=[tag] if tag else [],
        complaint=Complaint("abuse") if etype == "complained" else None,
        user_agent=opt_str(record.get("UserAgent")),
        extra={key: value for key, value in record.items() if key not in _CONSUMED},
    )


def _sending_domain(record: dict[str, Any], metadata: dict[str, Any]) -> str | None:
    """Sending domain from Metadata.sending_domain, else the From address (bounces carry it)."""
    explicit = opt_str(metadata.get("sending_domain"))
    if explicit and explicit.strip():
        return explicit.strip().lower()
    return recipient_domain(opt_str(record.get("From")))
