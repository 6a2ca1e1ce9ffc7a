"""Group commit: payloads that arrive together share one transaction and one disk flush.

Each webhook request waits until its raw payload is durable before it answers 2xx. With one
transaction per request, the flush at each commit caps throughput however fast the parsing
is. Here the first waiting request becomes the writer and commits everything queued behind
it in one transaction; the others wake with their own results. Nobody waits for a timer: a
lone request commits at once, so latency at low load is unchanged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from mailwarden.events.model import Event
from mailwarden.store.events_repo import EventStore, RawPayload, Recording, StoreResult

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Waiting:
    """One request's payload, and what became of it once written."""

    recording: Recording
    result: StoreResult | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass(slots=True)
class GroupStats:
    """How many transactions were written and how many payloads they carried."""

    transactions: int = 0
    payloads: int = 0

    @property
    def mean_group(self) -> float:
        """Payloads per transaction, on average."""
        return self.payloads / self.transactions if self.transactions else 0.0


class GroupCommitter:
    """Writes concurrent payloads through EventStore.record_many, several per transaction."""

    def __init__(self, store: EventStore, max_group: int = 32) -> None:
        self._store = store
        self._max_group = max_group
        self._queue: list[_Waiting] = []
        self._queue_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.stats = GroupStats()

    @property
    def waiting(self) -> int:
        """Payloads queued for the next transaction."""
        with self._queue_lock:
            return len(self._queue)

    def record(
        self, raw: RawPayload, parsed: Sequence[Event], status: str, reason: str | None = None
    ) -> StoreResult:
        """Keep the payload and store its new events; return once they are committed."""
        mine = _Waiting(Recording(raw, parsed, status, reason))
        with self._queue_lock:
            self._queue.append(mine)
        with self._write_lock:
            while not mine.done:
                self._write_next_group()
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return mine.result

    def _write_next_group(self) -> None:
        with self._queue_lock:
            group = self._queue[: self._max_group]
            del self._queue[: self._max_group]
        try:
            results = self._store.record_many([waiting.recording for waiting in group])
        except Exception:  # one bad payload must not fail its neighbours
            log.warning("group of %d payloads failed; writing them one by one", len(group))
            self._write_one_by_one(group)
            return
        for waiting, result in zip(group, results, strict=True):
            waiting.result = result
            waiting.done = True
        self.stats.transactions += 1
        self.stats.payloads += len(group)

    def _write_one_by_one(self, group: list[_Waiting]) -> None:
        for waiting in group:
            try:
                waiting.result = self._store.record_many([waiting.recording])[0]
            except Exception as exc:  # handed back to the request that owns it
                waiting.error = exc
            waiting.done = True
            self.stats.transactions += 1
            self.stats.payloads += 1
