"""Group commit: concurrent payloads share a transaction, and each still gets its own answer."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from mailwarden.events.model import Event
from mailwarden.store.events_repo import EventStore, RawPayload, Recording, StoreResult
from mailwarden.store.group_commit import GroupCommitter

WHEN = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _raw(body: bytes) -> RawPayload:
    return RawPayload("fake", "webhook", WHEN, {}, body, verified=True)


def _events(*ids: str) -> list[Event]:
    return [Event(id=i, type="delivered", occurred_at=WHEN, provider="fake") for i in ids]


class HeldStore(EventStore):
    """A real store whose first write waits until the test lets it go."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.groups: list[int] = []

    def record_many(self, recordings: Sequence[Recording]) -> list[StoreResult]:
        self.groups.append(len(recordings))
        if len(self.groups) == 1:
            self.entered.set()
            assert self.release.wait(10)
        return super().record_many(recordings)


class PoisonedStore(HeldStore):
    """A held store that refuses any transaction holding the payload b"poison"."""

    def record_many(self, recordings: Sequence[Recording]) -> list[StoreResult]:
        if any(item.raw.body == b"poison" for item in recordings):
            self.groups.append(len(recordings))
            raise OSError("disk refused the poison payload")
        return super().record_many(recordings)


def _queue_behind_a_held_write(
    committer: GroupCommitter, store: HeldStore, payloads: list[tuple[bytes, list[Event]]]
) -> list[StoreResult | BaseException]:
    """Start a first write, queue the payloads behind it, then let everything through."""
    with ThreadPoolExecutor(max_workers=len(payloads) + 1) as pool:
        first = pool.submit(committer.record, _raw(b"first"), _events("e0"), "accepted")
        assert store.entered.wait(10)
        later = [
            pool.submit(committer.record, _raw(body), events, "accepted")
            for body, events in payloads
        ]
        while committer.waiting < len(payloads):  # all queued behind the held write
            threading.Event().wait(0.01)
        store.release.set()
        first.result()
        return [f.exception() or f.result() for f in later]


def test_payloads_that_arrive_during_a_write_share_the_next_transaction(engine: Engine) -> None:
    store = HeldStore(engine)
    committer = GroupCommitter(store)
    payloads = [(f"p{n}".encode(), _events(f"e{n}")) for n in range(1, 6)]
    results = _queue_behind_a_held_write(committer, store, payloads)
    assert store.groups == [1, 5]
    assert committer.stats.transactions == 2
    assert committer.stats.mean_group == 3.0
    assert all(isinstance(r, StoreResult) and len(r.new_events) == 1 for r in results)
    assert store.count_events() == 6


def test_an_event_repeated_within_one_group_is_stored_once(engine: Engine) -> None:
    store = HeldStore(engine)
    committer = GroupCommitter(store)
    payloads = [(b"a", _events("same", "a1")), (b"b", _events("same", "b1"))]
    first, second = _queue_behind_a_held_write(committer, store, payloads)
    assert isinstance(first, StoreResult) and isinstance(second, StoreResult)
    assert [e.id for e in first.new_events] == ["same", "a1"]
    assert [e.id for e in second.new_events] == ["b1"]
    assert second.duplicates == 1
    assert store.count_events() == 4


def test_a_failing_payload_does_not_fail_the_payloads_grouped_with_it(engine: Engine) -> None:
    store = PoisonedStore(engine)
    committer = GroupCommitter(store)
    payloads = [(body, _events(f"id-{body.decode()}")) for body in (b"ok-1", b"poison", b"ok-2")]
    outcomes = _queue_behind_a_held_write(committer, store, payloads)
    assert store.groups[:2] == [1, 3]  # the held write, then the group that failed
    assert isinstance(outcomes[1], OSError)
    assert isinstance(outcomes[0], StoreResult) and isinstance(outcomes[2], StoreResult)
    assert store.count_events() == 3


def test_a_lone_payload_is_committed_at_once_in_its_own_transaction(engine: Engine) -> None:
    store = EventStore(engine)
    committer = GroupCommitter(store)
    result = committer.record(_raw(b"alone"), _events("x"), "accepted")
    assert [e.id for e in result.new_events] == ["x"]
    assert (committer.stats.transactions, committer.stats.payloads) == (1, 1)


@pytest.mark.parametrize("max_group", [1, 2])
def test_a_group_never_exceeds_its_limit(engine: Engine, max_group: int) -> None:
    store = HeldStore(engine)
    committer = GroupCommitter(store, max_group=max_group)
    payloads = [(f"p{n}".encode(), _events(f"e{n}")) for n in range(1, 5)]
    _queue_behind_a_held_write(committer, store, payloads)
    assert max(store.groups) <= max_group
    assert sum(store.groups) == 5
