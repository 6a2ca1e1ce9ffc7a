"""What every provider adapter offers, and the request it is handed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mailwarden.events.model import Event


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One inbound delivery: lower-cased headers, the raw body bytes, and when it arrived."""

    headers: Mapping[str, str]
    body: bytes
    received_at: datetime
    remote_addr: str | None = None

    def header(self, name: str) -> str | None:
        """Return a header by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass(slots=True)
class ParseResult:
    """Events parsed from one payload, plus a URL to confirm an SNS subscription if asked."""

    events: list[Event] = field(default_factory=list)
    confirm_url: str | None = None
    notes: list[str] = field(default_factory=list)


class Provider(Protocol):
    """An ESP or source adapter: verify authenticity, then parse the raw body."""

    name: str

    def verify(self, request: WebhookRequest) -> None:
        """Raise SignatureError (or NotConfiguredError) unless the request is authentic."""
        ...

    def parse(self, body: bytes) -> ParseResult:
        """Turn the raw body into canonical events; raise PayloadError if malformed."""
        ...


class ReplayGuard(Protocol):
    """Remembers one-time tokens (e.g. Mailgun's) so a captured token cannot sign another body.

    A token is bound to the fingerprint of the body it first came with: the same body again
    is the provider retrying (its events dedupe in the store), any other body is a forgery.
    """

    def first_use(self, provider: str, token: str, seen_at: datetime, fingerprint: str) -> bool:
        """Record the token; False if it was already used with a different body."""
        ...


class HttpFetcher(Protocol):
    """Fetches an https URL (SNS signing certificates, subscription confirmations)."""

    def get(self, url: str) -> bytes:
        """Return the response body; raise OSError on failure."""
        ...


class MemoryReplayGuard:
    """A ReplayGuard held in memory; the store offers a durable one."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], str] = {}

    def first_use(self, provider: str, token: str, seen_at: datetime, fingerprint: str) -> bool:
        """Record the token; False if it was already used with a different body."""
        return self._seen.setdefault((provider, token), fingerprint) == fingerprint
