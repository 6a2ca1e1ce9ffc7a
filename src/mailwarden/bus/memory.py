"""The in-process bus: handlers run synchronously in the publisher's thread, in order."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from mailwarden.bus.port import Handler, Message, MessageHandler
from mailwarden.events.model import Event

log = logging.getLogger(__name__)


class InProcessBus:
    """Delivers each batch to every handler; a failing handler does not stop the others."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._message_handlers: dict[str, list[MessageHandler]] = defaultdict(list)
        self.failures = 0

    def publish(self, topic: str, events: Sequence[Event]) -> None:
        """Call every handler of the topic with the batch."""
        if not events:
            return
        for handler in self._handlers.get(topic, ()):
            try:
                handler(events)
            except Exception:
                self.failures += 1
                log.exception("bus handler %r failed on %d events", handler, len(events))

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Register a handler for the topic."""
        self._handlers[topic].append(handler)

    def publish_messages(self, topic: str, messages: Sequence[Message]) -> None:
        """Call every message handler of the topic with the batch."""
        if not messages:
            return
        for handler in self._message_handlers.get(topic, ()):
            try:
                handler(messages)
            except Exception:
                self.failures += 1
                log.exception("bus handler %r failed on %d messages", handler, len(messages))

    def subscribe_messages(self, topic: str, handler: MessageHandler) -> None:
        """Register a message handler for the topic."""
        self._message_handlers[topic].append(handler)
