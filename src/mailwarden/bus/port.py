"""What every event bus offers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from mailwarden.events.model import Event

Handler = Callable[[Sequence[Event]], None]
# Topics other than "events" carry domain messages (e.g. Findings on "findings"); a message
# turns itself into a JSON object so an out-of-process adapter can carry it.
MessageHandler = Callable[[Sequence[Any]], None]


class Message(Protocol):
    """Anything published on a message topic: it can render itself as a JSON object."""

    def to_dict(self) -> dict[str, Any]:
        """Return the message as a JSON object."""
        ...


class Bus(Protocol):
    """Carries batches of newly stored events to whoever consumes them."""

    def publish(self, topic: str, events: Sequence[Event]) -> None:
        """Hand a batch of events to the topic's subscribers."""
        ...

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Register a handler for the topic's batches."""
        ...

    def publish_messages(self, topic: str, messages: Sequence[Message]) -> None:
        """Hand a batch of domain messages (e.g. findings) to the topic's subscribers."""
        ...

    def subscribe_messages(self, topic: str, handler: MessageHandler) -> None:
        """Register a handler for the topic's message batches."""
        ...
