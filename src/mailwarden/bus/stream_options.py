"""Settings and reports of the Redis Streams bus (plain data, no Redis)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """Key names, partitions, trimming and redelivery of the Redis Streams bus."""

    prefix: str = "mailwarden"
    partitions: int = 1
    maxlen: int = 100_000
    claim_idle_ms: int = 60_000
    max_deliveries: int = 5

    def stream(self, topic: str, partition: int = 0) -> str:
        """The stream key of a topic's partition."""
        return f"{self.prefix}:{topic}:{partition}"

    @property
    def deadletter(self) -> str:
        """The stream that keeps poison entries with their reason."""
        return f"{self.prefix}:deadletter"


@dataclass(slots=True)
class PumpReport:
    """What one pump did: entries handled, failed (left pending), reclaimed, dead-lettered."""

    handled: int = 0
    failed: int = 0
    reclaimed: int = 0
    dead_lettered: int = 0
    trimmed: int = 0

    @property
    def idle(self) -> bool:
        """True when there was nothing to do."""
        return not (self.handled or self.failed or self.reclaimed or self.dead_lettered)

    def add(self, other: PumpReport) -> None:
        """Add another report's counts to this one."""
        self.handled += other.handled
        self.failed += other.failed
        self.reclaimed += other.reclaimed
        self.dead_lettered += other.dead_lettered
        self.trimmed += other.trimmed
