"""The ingest service: verify, keep the raw payload durable, parse, dedupe, store, publish."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from mailwarden.bus.port import Bus
from mailwarden.clock import Clock
from mailwarden.events.errors import PayloadError
from mailwarden.events.model import Event
from mailwarden.events.outbox import PublishOutbox
from mailwarden.events.providers.base import HttpFetcher, ParseResult, Provider, WebhookRequest
from mailwarden.store.events_repo import EventStore, RawPayload, StoreResult
from mailwarden.store.group_commit import GroupCommitter, GroupStats

log = logging.getLogger(__name__)

# Headers that carry credentials are never written to the raw payload table.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


class UnknownProviderError(LookupError):
    """No adapter is registered under that name."""


class PayloadRejectedError(PayloadError):
    """The payload could not be parsed; it is kept in the dead-letter queue under raw_id."""

    def __init__(self, reason: str, raw_id: int) -> None:
        super().__init__(reason)
        self.raw_id = raw_id


class ConfirmationError(RuntimeError):
    """An SNS subscription confirmation could not be fetched; the payload is dead-lettered."""

    def __init__(self, reason: str, raw_id: int) -> None:
        super().__init__(reason)
        self.raw_id = raw_id


@dataclass(slots=True)
class IngestOutcome:
    """What one payload became: its raw id, how many events were new, how many repeats."""

    raw_id: int
    accepted: int
    duplicates: int
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class IngestService:
    """The one path every payload takes, from a webhook, a file, a mailbox or a replay."""

    def __init__(
        self,
        store: EventStore,
        providers: Mapping[str, Provider],
        bus: Bus,
        clock: Clock,
        fetcher: HttpFetcher | None = None,
    ) -> None:
        self._store = store
        # Concurrent requests share a transaction; a lone one commits at once.
        self._writer = GroupCommitter(store)
        self._providers = dict(providers)
        self._bus = bus
        self._clock = clock
        self._fetcher = fetcher
        self._outbox = PublishOutbox(store, bus, clock, self._reparse)

    @property
    def group_stats(self) -> GroupStats:
        """Transactions written so far and the payloads they carried."""
        return self._writer.stats

    @property
    def provider_names(self) -> list[str]:
        """The names of the registered adapters."""
        return sorted(self._providers)

    def provider(self, name: str) -> Provider:
        """Return the adapter registered under name."""
        try:
            return self._providers[name]
        except KeyError:
            known = ", ".join(self.provider_names)
            raise UnknownProviderError(f"unknown provider {name!r}; known: {known}") from None

    def receive(
        self,
        provider_name: str,
        request: WebhookRequest,
        *,
        source: str = "webhook",
        verify: bool = True,
    ) -> IngestOutcome:
        """Take one payload through the whole path; raise on a bad signature or a bad payload."""
        provider = self.provider(provider_name)
        if verify:
            provider.verify(request)
        raw = RawPayload(
            provider=provider_name,
            source=source,
            received_at=request.received_at,
            headers=_safe_headers(request.headers),
            body=request.body,
            verified=verify,
        )
        parsed = self._parse_or_reject(provider, raw)
        stored = self._writer.record(raw, parsed.events, "accepted")
        if parsed.confirm_url:
            self._confirm(parsed.confirm_url, stored.raw_id)
        return self._publish(stored, parsed.notes)

    def publish_waiting(self) -> bool:
        """Publish payloads a bus outage held back, if a retry is due; True when none wait."""
        return self._outbox.flush()

    def replay(self, raw_id: int) -> IngestOutcome:
        """Parse a kept payload again (after a fix) and store what it holds; repeats count once."""
        payload = self._store.payload(raw_id)
        if payload is None:
            raise LookupError(f"no raw payload with id {raw_id}")
        provider = self.provider(payload.provider)
        try:
            parsed = provider.parse(payload.body)
        except Exception as exc:
            reason = _reason(exc)
            self._store.mark(raw_id, "deadletter", reason, self._clock.now())
            raise PayloadRejectedError(reason, raw_id) from None
        if parsed.confirm_url:
            self._confirm(parsed.confirm_url, raw_id)
        stored = self._store.resolve(raw_id, parsed.events, "replayed", self._clock.now())
        return self._publish(stored, parsed.notes)

    def _publish(self, stored: StoreResult, notes: list[str]) -> IngestOutcome:
        """Publish the new events (or keep them for later) and say what became of the payload."""
        if not self._outbox.publish(stored.raw_id, stored.new_events):
            notes = [*notes, "stored; its events will be published when the bus is back"]
        new = stored.new_events
        return IngestOutcome(stored.raw_id, len(new), stored.duplicates, new, notes)

    def _reparse(self, provider_name: str, body: bytes) -> list[Event]:
        return self.provider(provider_name).parse(body).events

    def _parse_or_reject(self, provider: Provider, raw: RawPayload) -> ParseResult:
        try:
            return provider.parse(raw.body)
        except Exception as exc:
            if not isinstance(exc, PayloadError):
                log.exception("%s parser failed on a payload from %s", raw.provider, raw.source)
            reason = _reason(exc)
            stored = self._writer.record(raw, [], "deadletter", reason)
            raise PayloadRejectedError(reason, stored.raw_id) from None

    def _confirm(self, url: str, raw_id: int) -> None:
        if self._fetcher is None:
            reason = "subscription confirmation needed but no HTTP fetcher is configured"
        else:
            try:
                self._fetcher.get(url)
                return
            except OSError as exc:
                reason = f"subscription confirmation failed: {exc}"
        self._store.mark(raw_id, "deadletter", reason, self._clock.now())
        raise ConfirmationError(reason, raw_id)


def _reason(exc: Exception) -> str:
    if isinstance(exc, PayloadError):
        return str(exc) or "malformed payload"
    return f"parser error ({type(exc).__name__}): {exc}"


def _safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}
