"""What the event store is handed and hands back: raw payloads, recordings, write results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mailwarden.events.model import Event


@dataclass(frozen=True, slots=True)
class RawPayload:
    """A payload as it arrived, before or after parsing."""

    provider: str
    source: str
    received_at: datetime
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass(frozen=True, slots=True)
class StoredPayload:
    """A raw payload row as kept, with its processing status."""

    id: int
    provider: str
    source: str
    received_at_ms: int
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: str
    reason: str | None
    event_count: int


@dataclass(frozen=True, slots=True)
class Recording:
    """One payload to keep, with the events parsed from it and its status."""

    raw: RawPayload
    events: Sequence[Event]
    status: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What one write did: the raw payload's id and the events that were new."""

    raw_id: int
    new_events: list[Event]
    duplicates: int
