"""The Redis Streams bus: one stream per topic and partition, one consumer group per handler.

Publishing XADDs one entry per batch (per partition it touches) to
``{prefix}:{topic}:{partition}``, trimmed with ``MAXLEN ~`` so Redis memory stays bounded.
Events are partitioned by sending domain (else recipient domain), so a key's batches keep
their order; message topics (findings) use one stream. Nothing is delivered until a worker
calls `pump`: each subscribed handler has its own consumer group, reads with XREADGROUP and
acknowledges (XACK) after it returns. A handler that raises leaves the entry pending; once
the entry has been idle for `claim_idle_ms`, XAUTOCLAIM hands it to whichever consumer of
the group pumps next (a crashed consumer's work too). An entry delivered more than
`max_deliveries` times, or one that cannot be decoded, moves to ``{prefix}:deadletter``
with the reason and is acknowledged: nothing is lost, and on the happy path nothing is
handled twice (a consumer that dies between its handler and its XACK is the exception: at
least once, like every broker). An entry replayed from there (bus/deadletter.py) names its
group; the other groups of the stream acknowledge it unhandled.

A group is created, whenever that is, at the start of the stream (id 0): batches published
before the first worker subscribed are delivered as long as MAXLEN has not trimmed them. A
group keeps its name across restarts (the handler's module and qualified name unless given),
so a restarted worker resumes where its group stopped, and N workers share the work.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from mailwarden.bus import codec
from mailwarden.bus.port import Handler, Message, MessageHandler
from mailwarden.bus.stream_options import PumpReport, StreamOptions
from mailwarden.events.model import Event

__all__ = ["PumpReport", "RedisStreamsBus", "StreamOptions", "Subscription"]
log = logging.getLogger(__name__)

EVENT_TOPIC_KIND = "events"
MESSAGE_TOPIC_KIND = "messages"
_DATA = b"d"
DATA_FIELD = _DATA  # the batch, as the codec wrote it
FOR_GROUP_FIELD = b"g"  # on an entry replayed from the dead-letter stream: the one group it is for
MAX_REMEMBERED_ERRORS = 10_000  # last errors kept for dead-letter reasons


@dataclass(slots=True)
class Subscription:
    """One handler under its consumer group, reading every partition stream of a topic."""

    topic: str
    group: str
    streams: tuple[str, ...]
    handler: Callable[[Sequence[Any]], None]
    decode: Callable[[bytes], list[Any]]
    ready: bool = False
    cursors: dict[str, str] = field(default_factory=dict)


class RedisStreamsBus:
    """The Bus port over Redis Streams consumer groups; `pump` delivers, a worker calls it."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        options: StreamOptions | None = None,
        decoders: Mapping[str, codec.MessageDecoder] | None = None,
        consumer: str | None = None,
    ) -> None:
        self.client = client
        self.options = options or StreamOptions()
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._decoders = dict(decoders or {})
        self._subscriptions: list[Subscription] = []
        self._errors: dict[tuple[str, str, str], str] = {}

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        options: StreamOptions | None = None,
        decoders: Mapping[str, codec.MessageDecoder] | None = None,
    ) -> RedisStreamsBus:
        """A bus on the Redis at url (redis://, rediss://, unix://); it connects on first use."""
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)
        return cls(client, options=options, decoders=decoders)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every handler registered on this bus, in order."""
        return tuple(self._subscriptions)

    def close(self) -> None:
        """Leave the groups this consumer read in (if it holds nothing) and disconnect."""
        try:
            for sub in self._subscriptions:
                for stream in sub.streams if sub.ready else ():
                    if not self.client.xpending_range(
                        stream, sub.group, "-", "+", 1, self.consumer
                    ):
                        self.client.xgroup_delconsumer(stream, sub.group, self.consumer)
        except redis.RedisError as exc:
            log.warning("could not leave the consumer groups cleanly: %s", exc)
        finally:
            self.client.close()

    # publishing -------------------------------------------------------------------------

    def publish(self, topic: str, events: Sequence[Event]) -> None:
        """XADD the batch, one entry per partition it touches, in order within each."""
        if not events:
            return
        parts: dict[int, list[Event]] = {}
        for event in events:
            parts.setdefault(self._partition(event), []).append(event)
        entries = [
            (self.options.stream(topic, p), codec.encode_events(b)) for p, b in parts.items()
        ]
        self._append(entries)

    def publish_messages(self, topic: str, messages: Sequence[Message]) -> None:
        """XADD the batch of messages (rendered with to_dict) as one entry."""
        if messages:
            self._append([(self.options.stream(topic), codec.encode_messages(messages))])

    def _append(self, entries: list[tuple[str, bytes]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for stream, payload in entries:
            pipe.xadd(stream, {_DATA: payload}, maxlen=self.options.maxlen, approximate=True)
        pipe.execute()

    def _partition(self, event: Event) -> int:
        return codec.partition_of(codec.event_key(event), self.options.partitions)

    # subscribing ------------------------------------------------------------------------

    def subscribe(self, topic: str, handler: Handler, *, group: str | None = None) -> None:
        """Register a handler of event batches under its consumer group."""
        streams = tuple(self.options.stream(topic, p) for p in range(self.options.partitions))
        self._add(topic, handler, group, streams, codec.decode_events)

    def subscribe_messages(
        self, topic: str, handler: MessageHandler, *, group: str | None = None
    ) -> None:
        """Register a handler of message batches; the topic needs a decoder."""
        decoder = self._decoders.get(topic)
        if decoder is None:
            raise ValueError(f"no decoder for topic {topic!r}: pass decoders={{{topic!r}: ...}}")

        def decode(payload: bytes) -> list[Any]:
            return codec.decode_messages(payload, decoder)

        self._add(topic, handler, group, (self.options.stream(topic),), decode)

    def _add(
        self,
        topic: str,
        handler: Callable[[Sequence[Any]], None],
        group: str | None,
        streams: tuple[str, ...],
        decode: Callable[[bytes], list[Any]],
    ) -> None:
        taken = {sub.group for sub in self._subscriptions if sub.topic == topic}
        if group is None:
            base = _handler_name(handler)
            group, n = base, 1
            while group in taken:
                n += 1
                group = f"{base}#{n}"
        elif group in taken:
            raise ValueError(f"consumer group {group!r} already has a handler on {topic!r}")
        self._subscriptions.append(Subscription(topic, group, streams, handler, decode))

    def ensure_groups(self) -> None:
        """Create the groups not created yet, at the stream's start (no-op if they exist)."""
        for sub in self._subscriptions:
            if sub.ready:
                continue
            for stream in sub.streams:
                try:
                    self.client.xgroup_create(stream, sub.group, id="0", mkstream=True)
                except redis.ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise
            sub.ready = True

    # delivering -------------------------------------------------------------------------

    def pump(self, max_batches: int = 100, block_ms: int = 0) -> PumpReport:
        """Reclaim stuck entries, then read and handle new ones, for every group once.

        With block_ms > 0 and nothing to do, wait up to block_ms for a new entry and go
        round once more. max_batches caps the entries each group reads per stream."""
        self.ensure_groups()
        report = PumpReport()
        try:
            report.add(self._round(max_batches))
            if report.idle and block_ms > 0 and self._wait(block_ms):
                report.add(self._round(max_batches))
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream or its group went away (Redis restarted empty, a key was deleted):
            # create them again on the next pump, from the start of what the stream holds.
            log.warning("consumer group missing (%s); creating it again", exc)
            for sub in self._subscriptions:
                sub.ready = False
        return report

    def _round(self, count: int) -> PumpReport:
        report = PumpReport()
        for sub in self._subscriptions:
            self._reclaim(sub, count, report)
            read: Any = self.client.xreadgroup(
                sub.group, self.consumer, dict.fromkeys(sub.streams, ">"), count=count
            )
            for stream, entries in read or ():
                for entry_id, fields in entries:
                    self._deliver(sub, _text(stream), _text(entry_id), fields, report)
        return report

    def _deliver(
        self,
        sub: Subscription,
        stream: str,
        entry_id: str,
        fields: Mapping[bytes, bytes],
        report: PumpReport,
        deliveries: int = 1,
    ) -> None:
        if fields.get(FOR_GROUP_FIELD, sub.group.encode()) != sub.group.encode():
            self.client.xack(stream, sub.group, entry_id)  # replayed for another group
            return
        try:
            batch = sub.decode(fields[_DATA])
        except (KeyError, codec.CodecError) as exc:
            self._dead_letter(sub, stream, entry_id, fields, f"undecodable: {exc}", deliveries)
            report.dead_lettered += 1
            return
        try:
            sub.handler(batch)
        except Exception as exc:
            report.failed += 1
            if len(self._errors) >= MAX_REMEMBERED_ERRORS:  # others may have reclaimed them
                self._errors.clear()
            self._errors[(sub.group, stream, entry_id)] = f"{type(exc).__name__}: {exc}"
            log.exception("bus handler %s failed on %s %s", sub.group, stream, entry_id)
            return
        self.client.xack(stream, sub.group, entry_id)
        self._errors.pop((sub.group, stream, entry_id), None)
        report.handled += 1

    def _reclaim(self, sub: Subscription, count: int, report: PumpReport) -> None:
        """XAUTOCLAIM entries idle past claim_idle_ms; dead-letter those tried too often."""
        for stream in sub.streams:
            cursor, claimed, deleted = self.client.xautoclaim(
                stream,
                sub.group,
                self.consumer,
                min_idle_time=self.options.claim_idle_ms,
                start_id=sub.cursors.get(stream, "0-0"),
                count=count,
            )
            sub.cursors[stream] = _text(cursor)
            if deleted:
                report.trimmed += len(deleted)
                log.error(
                    "%d pending entries of %s (group %s) were trimmed by MAXLEN before they "
                    "were handled; raise MAILWARDEN_BUS_MAXLEN",
                    len(deleted),
                    stream,
                    sub.group,
                )
            if not claimed:
                continue
            counts = self._delivery_counts(stream, sub.group, [_text(i) for i, _ in claimed])
            for raw_id, fields in claimed:
                entry_id = _text(raw_id)
                tries = counts.get(entry_id, 1)
                if tries > self.options.max_deliveries:
                    last = self._errors.pop((sub.group, stream, entry_id), None)
                    reason = f"not acknowledged after {tries - 1} deliveries"
                    reason += f"; last error: {last}" if last else " (consumer died?)"
                    self._dead_letter(sub, stream, entry_id, fields, reason, tries - 1)
                    report.dead_lettered += 1
                else:
                    report.reclaimed += 1
                    self._deliver(sub, stream, entry_id, fields, report, tries)

    def _delivery_counts(self, stream: str, group: str, ids: list[str]) -> dict[str, int]:
        pipe = self.client.pipeline(transaction=False)
        for entry_id in ids:
            pipe.xpending_range(stream, group, entry_id, entry_id, 1, self.consumer)
        counts: dict[str, int] = {}
        for rows in pipe.execute():
            for row in rows:
                counts[_text(row["message_id"])] = int(row["times_delivered"])
        return counts

    def _dead_letter(
        self,
        sub: Subscription,
        stream: str,
        entry_id: str,
        fields: Mapping[bytes, bytes],
        reason: str,
        deliveries: int,
    ) -> None:
        """Keep the entry, with why, on the dead-letter stream and acknowledge it (atomically)."""
        log.error("bus entry %s %s moved to the dead-letter stream: %s", stream, entry_id, reason)
        record: dict[Any, Any] = {
            "topic": sub.topic,
            "stream": stream,
            "group": sub.group,
            "entry_id": entry_id,
            "deliveries": str(deliveries),
            "reason": reason,
            "data": fields.get(_DATA, b""),
        }
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.options.deadletter, record)
        pipe.xack(stream, sub.group, entry_id)
        pipe.execute()

    def _wait(self, block_ms: int) -> bool:
        """Block until a subscribed stream has an entry past what one of our groups has read."""
        ours: dict[str, set[str]] = {}
        for sub in self._subscriptions:
            for stream in sub.streams:
                ours.setdefault(stream, set()).add(sub.group)
        if not ours:
            return False
        ids: dict[Any, Any] = {stream: self._oldest_read(stream, g) for stream, g in ours.items()}
        return bool(self.client.xread(ids, count=1, block=block_ms))

    def _oldest_read(self, stream: str, groups: set[str]) -> str:
        try:
            infos = self.client.xinfo_groups(stream)
        except redis.ResponseError:
            return "0-0"
        read = {_text(info["name"]): _text(info["last-delivered-id"]) for info in infos}
        if not groups <= read.keys():
            return "0-0"
        return min((read[group] for group in groups), key=_id_order)


def _id_order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _handler_name(handler: Callable[..., Any]) -> str:
    module = getattr(handler, "__module__", None) or "handler"
    name = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"{module}.{name}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
