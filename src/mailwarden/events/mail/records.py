"""What mail analysis finds: per-recipient records and the analysis of one message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

BOUNCE: Final = "bounce"
COMPLAINT: Final = "complaint"
DELIVERED: Final = "delivered"
AUTOREPLY: Final = "autoreply"
NOT_A_BOUNCE: Final = "not-a-bounce"
KINDS: Final = frozenset({BOUNCE, COMPLAINT, DELIVERED, AUTOREPLY, NOT_A_BOUNCE})

FAILED: Final = "failed"
DELAYED: Final = "delayed"
SUCCESS_ACTIONS: Final = frozenset({"delivered", "relayed", "expanded"})


@dataclass(slots=True)
class Recipient:
    """One recipient as a report states it, before classification."""

    address: str | None
    action: str = FAILED
    status: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    final_recipient: str | None = None
    last_attempt: datetime | None = None
    will_retry_until: datetime | None = None


@dataclass(slots=True)
class Finding:
    """One recipient's outcome: kind, action, codes and the classified class and reason."""

    recipient: str | None
    kind: str
    action: str | None = None
    status: str | None = None
    reply_code: int | None = None
    bounce_class: str | None = None
    reason: str | None = None
    diagnostic: str | None = None
    feedback_type: str | None = None
    remote_mta: str | None = None
    final_recipient: str | None = None
    occurred_at: datetime | None = None


@dataclass(slots=True)
class Original:
    """What is known of the message that bounced or was complained about."""

    message_id: str | None = None
    sender: str | None = None
    to: str | None = None
    subject: str | None = None
    campaign: str | None = None
    extra_recipient: str | None = None


@dataclass(slots=True)
class Analysis:
    """The analysis of one mail message: its findings, its format, dates and notes."""

    findings: list[Finding]
    format: str
    message_id: str | None = None
    subject: str | None = None
    date: datetime | None = None
    arrival_date: datetime | None = None
    received_date: datetime | None = None
    reporting_mta: str | None = None
    original: Original = field(default_factory=Original)
    source_ip: str | None = None
    feedback_user_agent: str | None = None
    reported_domain: str | None = None
    original_mail_from: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """The kind of the message as a whole: that of its first finding."""
        return self.findings[0].kind if self.findings else NOT_A_BOUNCE
