"""Fakes shared by tests: a scriptable provider, a recording fetcher, a recording bus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mailwarden.bus.port import Handler
from mailwarden.events.errors import PayloadError, SignatureError
from mailwarden.events.model import Event
from mailwarden.events.providers.base import ParseResult, WebhookRequest
from mailwarden.events.providers.ndjson import NdjsonProvider


@dataclass
class FakeProvider:
    """Parses canonical NDJSON; refuses requests without `x-ok: yes`; can be told to fail."""

    name: str = "fake"
    broken: bool = False
    confirm_url: str | None = None
    _inner: NdjsonProvider = field(default_factory=NdjsonProvider)

    def verify(self, request: WebhookRequest) -> None:
        if request.header("x-ok") != "yes":
            raise SignatureError("missing x-ok header")

    def parse(self, body: bytes) -> ParseResult:
        if self.broken:
            raise PayloadError("fake parser is broken today")
        result = self._inner.parse(body)
        result.confirm_url = self.confirm_url
        return result


@dataclass
class RecordingFetcher:
    """Serves URLs from a dict and records every request."""

    pages: dict[str, bytes] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    def get(self, url: str) -> bytes:
        self.requested.append(url)
        if url not in self.pages:
            raise OSError(f"404 for {url}")
        return self.pages[url]


@dataclass
class RecordingBus:
    """Keeps every published batch."""

    published: list[tuple[str, list[Event]]] = field(default_factory=list)
    handlers: dict[str, list[Handler]] = field(default_factory=dict)

    def publish(self, topic: str, events: Sequence[Event]) -> None:
        if events:
            self.published.append((topic, list(events)))

    def subscribe(self, topic: str, handler: Handler) -> None:
        self.handlers.setdefault(topic, []).append(handler)

    def ids(self) -> list[str]:
        return [event.id for _, batch in self.published for event in batch]


@dataclass
class FlakyBus(RecordingBus):
    """A recording bus that refuses to publish while it is down (a Redis outage)."""

    down: bool = False
    refused: int = 0

    def publish(self, topic: str, events: Sequence[Event]) -> None:
        if self.down:
            self.refused += 1
            raise ConnectionError("bus is down")
        super().publish(topic, events)
