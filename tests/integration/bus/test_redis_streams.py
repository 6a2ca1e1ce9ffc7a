"""The Redis Streams bus against a real Redis: reclaiming, dead letters, trimming, sharing."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import redis

from mailwarden.bus.codec import decode_events
from mailwarden.bus.redis_streams import RedisStreamsBus, StreamOptions
from mailwarden.events.model import Event

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
GROUP = "detection"


class Crash(BaseException):
    """Stands for a process dying in the middle of a handler (nothing after it runs)."""


def _event(event_id: str, domain: str = "news.example.org") -> Event:
    return Event(event_id, "delivered", T0, "sendgrid", sending_domain=domain)


def _bus(client: redis.Redis, prefix: str, consumer: str, **options: Any) -> RedisStreamsBus:
    return RedisStreamsBus(
        client, options=StreamOptions(prefix=prefix, **options), consumer=consumer
    )


def _pending(client: redis.Redis, stream: str, group: str = GROUP) -> int:
    return int(client.xpending(stream, group)["pending"])


def test_a_dead_consumers_batch_is_reclaimed_by_another(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    dying = _bus(redis_client, redis_prefix, "dying", claim_idle_ms=20)
    survivor = _bus(redis_client, redis_prefix, "survivor", claim_idle_ms=20)

    def crash(_batch: Sequence[Event]) -> None:
        raise Crash

    seen: list[str] = []
    dying.subscribe("events", crash, group=GROUP)
    survivor.subscribe("events", lambda batch: seen.extend(e.id for e in batch), group=GROUP)
    dying.publish("events", [_event("a")])
    with pytest.raises(Crash):
        dying.pump()
    assert survivor.pump().idle  # read by the dying consumer, not idle long enough yet
    assert seen == []
    time.sleep(0.05)
    report = survivor.pump()
    assert (report.reclaimed, report.handled, seen) == (1, 1, ["a"])
    assert _pending(redis_client, f"{redis_prefix}:events:0") == 0
    assert survivor.pump().idle and seen == ["a"]


def test_a_failed_batch_is_retried_after_the_idle_time_and_handled_once(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "one", claim_idle_ms=20)
    calls: list[str] = []

    def flaky(batch: Sequence[Event]) -> None:
        calls.append(batch[0].id)
        if len(calls) == 1:
            raise ConnectionError("database restarting")

    bus.subscribe("events", flaky, group=GROUP)
    bus.publish("events", [_event("a")])
    assert bus.pump().failed == 1
    assert bus.pump().idle  # not retried before claim_idle_ms
    time.sleep(0.05)
    assert bus.pump().handled == 1
    assert calls == ["a", "a"]
    assert _pending(redis_client, f"{redis_prefix}:events:0") == 0


def test_a_poison_batch_lands_in_the_dead_letter_stream_after_n_tries(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "one", claim_idle_ms=2, max_deliveries=3)
    calls: list[int] = []
    others: list[str] = []

    def poisoned(batch: Sequence[Event]) -> None:
        calls.append(len(batch))
        raise ValueError("cannot handle this batch")

    bus.subscribe("events", poisoned, group=GROUP)
    bus.subscribe("events", lambda batch: others.extend(e.id for e in batch), group="other")
    bus.publish("events", [_event("a"), _event("b")])
    for _ in range(6):
        bus.pump()
        time.sleep(0.01)
    assert calls == [2, 2, 2]
    (_, fields), *rest = redis_client.xrange(f"{redis_prefix}:deadletter")
    assert rest == []
    assert fields[b"group"] == GROUP.encode() and fields[b"deliveries"] == b"3"
    assert b"last error: ValueError: cannot handle this batch" in fields[b"reason"]
    assert [e.id for e in decode_events(fields[b"data"])] == ["a", "b"]
    assert _pending(redis_client, f"{redis_prefix}:events:0") == 0
    assert others == ["a", "b"]  # the other group handled it once, untouched


def test_an_undecodable_entry_is_dead_lettered_at_once(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "one")
    seen: list[Event] = []
    bus.subscribe("events", seen.extend, group=GROUP)
    stream = f"{redis_prefix}:events:0"
    redis_client.xadd(stream, {"d": orjson.dumps([{"id": "x", "type": 3}])})
    bus.publish("events", [_event("good")])
    report = bus.pump()
    assert (report.dead_lettered, report.handled) == (1, 1)
    assert [e.id for e in seen] == ["good"]
    ((_, fields),) = redis_client.xrange(f"{redis_prefix}:deadletter")
    assert fields[b"reason"].startswith(b"undecodable: not a canonical event")
    assert _pending(redis_client, stream) == 0


def test_maxlen_keeps_a_stream_bounded(redis_client: redis.Redis, redis_prefix: str) -> None:
    bus = _bus(redis_client, redis_prefix, "one", maxlen=100)
    for n in range(1500):
        bus.publish("events", [_event(f"e{n}")])
    node = int(redis_client.config_get("stream-node-max-entries")["stream-node-max-entries"])
    length = redis_client.xlen(f"{redis_prefix}:events:0")
    assert 100 <= length <= 100 + node


def test_consumers_of_one_group_share_the_batches_without_duplicates(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    got: dict[str, list[str]] = {"a": [], "b": []}
    buses = {name: _bus(redis_client, redis_prefix, name) for name in got}
    for name, bus in buses.items():
        bus.subscribe(
            "events", lambda batch, n=name: got[n].extend(e.id for e in batch), group=GROUP
        )
    for n in range(10):
        buses["a"].publish("events", [_event(f"e{n}")])
    for _ in range(20):
        reports = [bus.pump(max_batches=3) for bus in buses.values()]
        if all(report.idle for report in reports):
            break
    assert got["a"] and got["b"]
    assert sorted(got["a"] + got["b"], key=lambda i: int(i[1:])) == [f"e{n}" for n in range(10)]


def test_partitions_keep_a_domain_on_one_stream(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "one", partitions=4)
    domains = [f"d{n}.example.org" for n in range(12)]
    for round_ in range(3):
        bus.publish("events", [_event(f"{d}-{round_}", d) for d in domains])
    by_stream: dict[str, set[str]] = {}
    for p in range(4):
        for _, fields in redis_client.xrange(f"{redis_prefix}:events:{p}"):
            by_stream.setdefault(str(p), set()).update(
                e.sending_domain or "" for e in decode_events(fields[b"d"])
            )
    assert len(by_stream) > 1
    assert sum(len(names) for names in by_stream.values()) == len(domains)


def test_pump_waits_for_a_batch_and_handles_it_when_it_comes(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "one")
    seen: list[Event] = []
    bus.subscribe("events", seen.extend, group=GROUP)
    assert bus.pump(block_ms=30).idle
    timer = threading.Timer(0.03, lambda: bus.publish("events", [_event("later")]))
    started = time.monotonic()
    timer.start()
    report = bus.pump(block_ms=5000)
    timer.join()
    assert report.handled == 1 and [e.id for e in seen] == ["later"]
    assert time.monotonic() - started < 2


def test_a_message_topic_without_a_decoder_is_refused_at_subscribe(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "one")
    with pytest.raises(ValueError, match="no decoder for topic 'findings'"):
        bus.subscribe_messages("findings", lambda batch: None)


def test_pending_entries_trimmed_by_maxlen_are_reported_not_retried(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "one", maxlen=1, claim_idle_ms=1)
    calls: list[str] = []

    def fails_on_first(batch: Sequence[Event]) -> None:
        calls.append(batch[0].id)
        if batch[0].id == "first":
            raise ValueError("not yet")

    bus.subscribe("events", fails_on_first, group=GROUP)
    bus.publish("events", [_event("first")])
    assert bus.pump().failed == 1
    for n in range(250):
        bus.publish("events", [_event(f"e{n}")])
    time.sleep(0.01)
    report = bus.pump(max_batches=500)
    assert report.trimmed == 1
    assert calls.count("first") == 1


def test_a_worker_that_stops_cleanly_leaves_its_groups(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "leaving")
    bus.subscribe("events", lambda batch: None, group=GROUP)
    bus.publish("events", [_event("a")])
    assert bus.pump().handled == 1
    stream = f"{redis_prefix}:events:0"
    assert [c["name"] for c in redis_client.xinfo_consumers(stream, GROUP)] == [b"leaving"]
    bus.close()
    assert redis_client.xinfo_consumers(stream, GROUP) == []


def test_a_group_deleted_under_a_running_worker_is_created_again(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    bus = _bus(redis_client, redis_prefix, "one")
    seen: list[str] = []
    bus.subscribe("events", lambda batch: seen.extend(e.id for e in batch), group=GROUP)
    bus.publish("events", [_event("a")])
    assert bus.pump().handled == 1
    redis_client.delete(f"{redis_prefix}:events:0")  # as after a Redis restart without data
    assert bus.pump().idle
    bus.publish("events", [_event("b")])
    bus.pump()
    assert seen == ["a", "b"]
