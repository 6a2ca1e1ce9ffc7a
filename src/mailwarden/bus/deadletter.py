"""The bus's dead-letter stream: read what handlers gave up on, and put it back.

`RedisStreamsBus` moves an entry to ``{prefix}:deadletter`` with its original stream, its
consumer group, how often it was delivered and why it failed. Replaying adds the batch to
its original stream again, marked for that one group (the stream's other groups already
handled it and skip it), then deletes it from the dead-letter stream, both in one script:
add first, so an error can leave it in both places but never in neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from mailwarden.bus.redis_streams import DATA_FIELD, FOR_GROUP_FIELD
from mailwarden.bus.stream_options import StreamOptions

__all__ = ["DeadLetter", "DeadLetters"]

PAGE = 500  # entries read at a time when walking the whole stream
_ENTRY_ID = re.compile(r"\d+-\d+")
_REPLAY = """
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return false
end
local added = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
                         ARGV[3], ARGV[4], ARGV[5], ARGV[6])
redis.call('XDEL', KEYS[1], ARGV[1])
return added
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-lettered entry: where it came from, for which group, why, and its batch."""

    id: str
    topic: str
    stream: str
    group: str
    entry_id: str
    deliveries: int
    reason: str
    data: bytes

    @property
    def dead_lettered_ms(self) -> int:
        """When it was dead-lettered (ms since the epoch, from its id)."""
        return int(self.id.partition("-")[0])


class DeadLetters:
    """The dead-letter stream of one bus prefix."""

    def __init__(self, client: redis.Redis, options: StreamOptions) -> None:
        self.client = client
        self.options = options
        self._replay = client.register_script(_REPLAY)

    @property
    def key(self) -> str:
        """The dead-letter stream's key."""
        return self.options.deadletter

    def count(self) -> int:
        """How many entries the stream holds."""
        return int(self.client.xlen(self.key))

    def newest(self, limit: int) -> list[DeadLetter]:
        """Up to limit entries, newest first."""
        rows: Any = self.client.xrevrange(self.key, count=limit)
        return [_letter(entry_id, fields) for entry_id, fields in rows]

    def all(self) -> Iterator[DeadLetter]:
        """Every entry, oldest first, read a page at a time."""
        start = "-"
        while True:
            rows: Any = self.client.xrange(self.key, min=start, count=PAGE)
            for entry_id, fields in rows:
                yield _letter(entry_id, fields)
            if len(rows) < PAGE:
                return
            start = "(" + _text(rows[-1][0])

    def get(self, entry_id: str) -> DeadLetter | None:
        """The entry with that id, or None (also for an id that is not a stream id)."""
        if not _ENTRY_ID.fullmatch(entry_id):
            return None
        rows: Any = self.client.xrange(self.key, min=entry_id, max=entry_id)
        return _letter(*rows[0]) if rows else None

    def replay(self, letter: DeadLetter) -> str | None:
        """Put the batch back on its stream for its group; the new entry id, None if gone."""
        if not letter.stream or not letter.group:
            raise ValueError(f"dead-lettered entry {letter.id} names no stream or group")
        added = self._replay(
            keys=[self.key, letter.stream],
            args=[
                letter.id,
                self.options.maxlen,
                DATA_FIELD,
                letter.data,
                FOR_GROUP_FIELD,
                letter.group,
            ],
        )
        return None if added is None else _text(added)


def _letter(entry_id: bytes | str, fields: Mapping[bytes, bytes]) -> DeadLetter:
    def text(name: bytes) -> str:
        return fields.get(name, b"").decode("utf-8", errors="replace")

    deliveries = text(b"deliveries")
    return DeadLetter(
        id=_text(entry_id),
        topic=text(b"topic"),
        stream=text(b"stream"),
        group=text(b"group"),
        entry_id=text(b"entry_id"),
        deliveries=int(deliveries) if deliveries.isdigit() else 0,
        reason=text(b"reason"),
        data=fields.get(b"data", b""),
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
