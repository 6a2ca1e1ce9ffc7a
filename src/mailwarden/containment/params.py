"""Fill in what a playbook step's action parameters cannot know in advance.

A suppress step names no addresses: they are the incident's complainers (spam complaints)
or hard-bounced recipients (delivery failures) in the incident's scope, read from the stored
events. A pause step may say `scope: "{scope_dimension}"`: an incident on everything
("overall") pauses "all".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from mailwarden.events.model import Event
from mailwarden.incidents.model import Incident

ADDRESS_ACTIONS: Final = frozenset(
    {
        "mailwarden.suppress",
        "ses.suppress_recipients",
        "sendgrid.suppress_global",
        "postmark.suppress",
        "mailgun.add_complaints",
    }
)
MAX_ADDRESSES: Final = 1000
_OVERALL_TO_ALL: Final = {"overall": "all"}

EventReader = Callable[[str, datetime], Iterable[Event]]
"""Stored events of one type that occurred since a time."""


@dataclass(frozen=True, slots=True)
class RecipientRule:
    """Which events name the recipients to act on for an incident type."""

    event_type: str
    bounce_class: str | None = None

    def matches(self, event: Event) -> bool:
        """True for an event of this rule's kind."""
        if self.bounce_class is None:
            return True
        return event.bounce is not None and event.bounce.bounce_class == self.bounce_class


RECIPIENT_RULES: Final = {
    "spam_complaints": RecipientRule("complained"),
    "delivery_failure": RecipientRule("bounced", "hard"),
}


class ParamResolver:
    """Completes action parameters from the incident and its events."""

    def __init__(
        self,
        events: EventReader,
        *,
        lookback: timedelta = timedelta(days=1),
        rules: Mapping[str, RecipientRule] = RECIPIENT_RULES,
    ) -> None:
        self._events = events
        self._lookback = lookback
        self._rules = rules

    def resolve(
        self,
        action: str,
        params: Mapping[str, Any],
        incident: Incident,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The parameter sets to run (one per chunk of addresses); empty when nothing to do.

        Recipients come from events since `since` (default: the incident's start minus the
        lookback); callers that top up pass the time of their last look, less a margin."""
        filled = dict(params)
        if filled.get("scope") in _OVERALL_TO_ALL:
            filled["scope"] = _OVERALL_TO_ALL[filled["scope"]]
            filled.pop("key", None)
        if action not in ADDRESS_ACTIONS or filled.get("addresses"):
            return [filled]
        addresses = self.recipients(incident, since)
        return [
            {**filled, "addresses": addresses[start : start + MAX_ADDRESSES]}
            for start in range(0, len(addresses), MAX_ADDRESSES)
        ]

    def recipients(self, incident: Incident, since: datetime | None = None) -> list[str]:
        """The incident's affected recipients (complainers, hard bounces) in its scope."""
        rule = self._rules.get(incident.type)
        if rule is None:
            return []
        earliest = incident.started_at - self._lookback
        since = max(since, earliest) if since is not None else earliest
        found: dict[str, None] = {}
        for event in self._events(rule.event_type, since):
            if event.recipient and rule.matches(event) and in_scope(event, incident):
                found[event.recipient.strip().lower()] = None
        return sorted(found)


def in_scope(event: Event, incident: Incident) -> bool:
    """True when the event belongs to the incident's scope."""
    dimension, key = incident.scope.dimension, incident.scope.key
    if dimension == "overall":
        return True
    if dimension == "sending_domain:mailbox_provider":
        domain, _, provider = key.partition(":")
        return event.sending_domain == domain and event.mailbox_provider == provider
    value = getattr(event, dimension, None)
    return value is not None and str(value) == key
