"""What every event bus offers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from mailwarden.events.model import Event

Handler = Callable[[Sequence[Event]], None]


class Bus(Protocol):
    """Carries batches of newly stored events to whoever consumes them."""

    def publish(self, topic: str, events: Sequence[Event]) -> None:
        """Hand a batch of events to the topic's subscribers."""
        ...

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Register a handler for the topic's batches."""
        ...
