"""The canonical event: the one shape every source becomes (see DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

EVENT_TYPES: Final = frozenset(
    {
        "queued",
        "delivered",
        "deferred",
        "bounced",
        "dropped",
        "complained",
        "unsubscribed",
        "opened",
        "clicked",
    }
)
SECURITY_PREFIX: Final = "security."
BOUNCE_CLASSES: Final = frozenset({"hard", "soft", "block", "undetermined"})
MAILBOX_PROVIDERS: Final = frozenset({"gmail", "microsoft", "yahoo", "apple", "other"})
SECURITY_FIELDS: Final = ("actor", "source_ip", "country", "resource", "count")
_CORE_KEYS: Final = frozenset(
    {
        "id",
        "type",
        "occurred_at",
        "provider",
        "message_id",
        "recipient",
        "mailbox_provider",
        "sending_domain",
        "sending_ip",
        "campaign",
        "tags",
        "bounce",
        "complaint",
        "url",
        "user_agent",
        "extra",
        "raw_ref",
        *SECURITY_FIELDS,
    }
)


@dataclass(slots=True)
class Bounce:
    """Why a message was not delivered (or was only delayed)."""

    bounce_class: str = "undetermined"
    reason: str = "undefined"
    smtp_code: int | None = None
    status: str | None = None
    diagnostic: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the canonical JSON object."""
        return {
            "class": self.bounce_class,
            "reason": self.reason,
            "smtp_code": self.smtp_code,
            "status": self.status,
            "diagnostic": self.diagnostic,
        }


@dataclass(slots=True)
class Complaint:
    """A recipient's complaint (ARF feedback type: abuse, fraud, virus, other, not-spam)."""

    feedback_type: str = "abuse"

    def to_dict(self) -> dict[str, Any]:
        """Return the canonical JSON object."""
        return {"feedback_type": self.feedback_type}


@dataclass(slots=True)
class Event:
    """One thing that happened to one message for one recipient, or one security signal."""

    id: str
    type: str
    occurred_at: datetime
    provider: str
    message_id: str | None = None
    recipient: str | None = None
    mailbox_provider: str = "other"
    sending_domain: str | None = None
    sending_ip: str | None = None
    campaign: str | None = None
    tags: list[str] = field(default_factory=list)
    bounce: Bounce | None = None
    complaint: Complaint | None = None
    url: str | None = None
    user_agent: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    raw_ref: int | None = None
    actor: str | None = None
    source_ip: str | None = None
    country: str | None = None
    resource: str | None = None
    count: int | None = None

    @property
    def is_security(self) -> bool:
        """True for events in the security. namespace."""
        return self.type.startswith(SECURITY_PREFIX)

    def to_dict(self) -> dict[str, Any]:
        """Return the canonical JSON object (DESIGN.md), ready for orjson."""
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "occurred_at": format_time(self.occurred_at),
            "provider": self.provider,
            "message_id": self.message_id,
            "recipient": self.recipient,
            "mailbox_provider": self.mailbox_provider,
            "sending_domain": self.sending_domain,
            "sending_ip": self.sending_ip,
            "campaign": self.campaign,
            "tags": list(self.tags),
            "bounce": self.bounce.to_dict() if self.bounce else None,
            "complaint": self.complaint.to_dict() if self.complaint else None,
            "url": self.url,
            "user_agent": self.user_agent,
        }
        if self.is_security:
            for name in SECURITY_FIELDS:
                out[name] = getattr(self, name)
        out["extra"] = dict(self.extra)
        if self.raw_ref is not None:
            out["raw_ref"] = self.raw_ref
        return out


def format_time(when: datetime) -> str:
    """Format an aware datetime as canonical UTC ISO 8601 with a Z suffix."""
    text = when.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (Z or offset; naive means UTC) into an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"time out of range: {text!r}") from None


def from_epoch(seconds: float) -> datetime:
    """Turn Unix seconds (int or float) into an aware UTC datetime; ValueError if out of range."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError):
        raise ValueError(f"epoch seconds out of range: {seconds!r}") from None


def core_keys() -> frozenset[str]:
    """The keys of the canonical object that are not kept in extra."""
    return _CORE_KEYS
