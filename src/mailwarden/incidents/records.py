"""Plain records next to incidents: silences, evidence attachments and outbox notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Final

from mailwarden.detect.model import Scope

MATCH_ALL: Final = "*"


@dataclass(frozen=True, slots=True)
class Matcher:
    """Glob patterns a finding must all match: kind, scope dimension, scope key, incident type."""

    kind: str = MATCH_ALL
    dimension: str = MATCH_ALL
    key: str = MATCH_ALL
    type: str = MATCH_ALL

    def matches(self, kind: str, scope: Scope, incident_type: str) -> bool:
        """True when every pattern matches."""
        return (
            fnmatchcase(kind, self.kind)
            and fnmatchcase(scope.dimension, self.dimension)
            and fnmatchcase(scope.key, self.key)
            and fnmatchcase(incident_type, self.type)
        )

    def describe(self) -> str:
        """A short human description, e.g. kind=block_rate scope=sending_ip=203.0.113.*."""
        return (
            f"kind={self.kind} scope={self.dimension}={self.key} type={self.type}"
            if self != Matcher()
            else "everything"
        )


@dataclass(slots=True)
class Silence:
    """A time-boxed mute: matching findings open no incident while it is active."""

    owner: str
    reason: str
    matcher: Matcher
    starts_at: datetime
    expires_at: datetime
    created_by: str
    remind_before: timedelta = timedelta(hours=1)
    channel: str = "email"
    pk: int | None = None
    reminded_at: datetime | None = None
    expiry_notified_at: datetime | None = None
    expired_by: str | None = None
    matched_count: int = 0
    last_matched_at: datetime | None = None

    @property
    def id(self) -> str:
        """The human-friendly id, e.g. SIL-3."""
        return f"SIL-{self.pk}" if self.pk is not None else ""

    def is_active(self, now: datetime) -> bool:
        """True between its start and its expiry."""
        return self.starts_at <= now < self.expires_at

    def reminder_due(self, now: datetime) -> bool:
        """True when the before-expiry reminder should go out now."""
        return (
            self.reminded_at is None
            and self.expiry_notified_at is None
            and self.expires_at - self.remind_before <= now < self.expires_at
        )

    def expiry_due(self, now: datetime) -> bool:
        """True when the silence has expired and nobody was told yet."""
        return self.expiry_notified_at is None and now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Attachment:
    """Evidence kept with an incident (the bytes are stored apart from this description)."""

    filename: str
    content_type: str
    sha256: str
    size: int
    uploaded_at: datetime
    uploaded_by: str
    pk: int | None = None
    incident_pk: int | None = None


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """An attachment with its content, on its way to the store."""

    meta: Attachment
    content: bytes


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A notification waiting to be sent by a later delivery worker (sent_at stays None)."""

    channel: str
    recipient: str
    subject: str
    body: str
    created_at: datetime
    topic: str = ""
    sent_at: datetime | None = None
    pk: int | None = None
