"""Publishing stored events even when the bus is down for a while.

A payload is committed before its events are published. If the bus then fails (a Redis
outage at scale), answering 5xx would make the provider retry, the retry would dedupe in
the store, and detection would never see those events. Instead the payload is marked
``unpublished`` and the request is answered: the data is safe. Payloads so marked are
parsed again from their kept body and published, oldest first, once the bus answers again.

A process publishing a payload first claims it (``publishing``, stamped with the time), so
one node of many publishes it. A claim holds for a lease: if its holder dies before it is
done, the claim outlives the lease and the next flush, on any node, takes it over. The
lease must outlast the slowest bus publish, or a live holder's events go out twice; and a
holder that lost its claim leaves the payload's status to the one that took it over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from mailwarden.bus.port import Bus
from mailwarden.clock import Clock
from mailwarden.events.model import Event
from mailwarden.store.events_repo import EventStore

log = logging.getLogger(__name__)

EVENTS_TOPIC = "events"
UNPUBLISHED = "unpublished"
PUBLISHING = "publishing"
CLAIM_LEASE = timedelta(minutes=5)
"""How long a claim holds; one older than this was left by a process that died."""
Reparse = Callable[[str, bytes], Sequence[Event]]
"""Parse a kept body again with the named provider's adapter."""


class PublishOutbox:
    """Publishes each payload's new events; keeps what the bus refused and retries it."""

    def __init__(
        self,
        store: EventStore,
        bus: Bus,
        clock: Clock,
        reparse: Reparse,
        retry_every: timedelta = timedelta(seconds=5),
        lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._reparse = reparse
        self._retry_every = retry_every
        self._lease = lease
        self._backlog = True  # unknown at start: look once
        self._next_try: datetime | None = None
        self._next_look: datetime | None = None  # when a claim seen held may have lapsed
        self._flushing = threading.Lock()  # one republisher at a time: nothing published twice

    def publish(self, raw_id: int, events: Sequence[Event]) -> bool:
        """Publish after older refused payloads; on failure keep it for later and say False."""
        if not events:
            return True
        if (self._backlog or self._look_due()) and not self.flush():
            self._keep(raw_id, "bus unavailable; an older payload is waiting to be published")
            return False
        try:
            self._bus.publish(EVENTS_TOPIC, events)
        except Exception as exc:  # any bus adapter's failure; the data is already safe
            self._keep(raw_id, f"bus unavailable: {type(exc).__name__}: {exc}")
            return False
        return True

    def flush(self, limit: int = 100) -> bool:
        """Publish waiting payloads and lapsed claims, oldest first; True when none is left."""
        now = self._clock.now()
        if self._next_try is not None and now < self._next_try:
            return False
        lapsed_before = now - self._lease
        with self._flushing:
            for raw_id in self._store.claimable_ids(UNPUBLISHED, PUBLISHING, lapsed_before, limit):
                if not self._republish(raw_id, now, lapsed_before):
                    self._next_try = now + self._retry_every
                    self._backlog = True
                    return False
            left = self._store.claimable_ids(UNPUBLISHED, PUBLISHING, lapsed_before, 1)
            self._backlog = bool(left)
            self._next_look = self._next_lapse(now)
        return not self._backlog

    def _republish(self, raw_id: int, now: datetime, lapsed_before: datetime) -> bool:
        # The claim makes one process, of however many web nodes, publish each payload; a
        # claim stamped before lapsed_before was left by a process that died: take it over.
        if not self._store.claim(raw_id, UNPUBLISHED, PUBLISHING, now, lapsed_before=lapsed_before):
            return True
        payload = self._store.payload(raw_id)
        if payload is None:
            return True
        try:
            parsed = self._reparse(payload.provider, payload.body)
        except Exception as exc:  # it parsed when it came; keep it where people look
            self._release(raw_id, now, "deadletter", f"could not parse again: {exc}")
            return True
        try:
            self._bus.publish(EVENTS_TOPIC, self._store.stored_by(raw_id, parsed))
        except Exception:
            log.warning("bus still unavailable; payload %d waits to be published", raw_id)
            self._release(raw_id, now, UNPUBLISHED, payload.reason)
            return False
        self._release(raw_id, now, "accepted", None)
        log.info("published the events of payload %d after a bus outage", raw_id)
        return True

    def _release(self, raw_id: int, claimed_at: datetime, status: str, reason: str | None) -> None:
        at = self._clock.now()
        if not self._store.release(raw_id, PUBLISHING, claimed_at, status, reason, at):
            log.warning(
                "payload %d: our claim lapsed and was taken over; left to its holder", raw_id
            )

    def _look_due(self) -> bool:
        return self._next_look is not None and self._clock.now() >= self._next_look

    def _next_lapse(self, now: datetime) -> datetime:
        # Look again when the oldest claim still held may have lapsed (a holder may die), or
        # after a lease when none is: another node's claim may be left behind.
        oldest = self._store.oldest_claim(PUBLISHING)
        lapse = now + self._lease if oldest is None else oldest + self._lease
        return max(lapse + timedelta(milliseconds=1), now + self._retry_every)

    def _keep(self, raw_id: int, reason: str) -> None:
        log.warning("payload %d stored but not published: %s", raw_id, reason)
        self._store.mark(raw_id, UNPUBLISHED, reason, self._clock.now())
        self._backlog = True
        if self._next_try is None or self._next_try <= self._clock.now():
            self._next_try = self._clock.now() + self._retry_every
