"""Whom a clock alarm reaches and the outbox messages that would be sent to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mailwarden.incidents.model import Incident
from mailwarden.incidents.records import OutboxMessage
from mailwarden.team.escalation import Recipient, resolve
from mailwarden.team.model import EscalationPolicy, Roster


@dataclass(slots=True)
class Delivery:
    """The messages for a set of recipients, and who could not be reached (no contact)."""

    messages: list[OutboxMessage] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """'alex (on call for primary), sam' style summary with the unreachable named."""
        told = ", ".join(self.notified) or "nobody"
        missing = (
            f"; no contact on file for {', '.join(self.unreachable)}" if self.unreachable else ""
        )
        return f"{told}{missing}"


def role_recipients(
    incident: Incident,
    roles: Sequence[str],
    roster: Roster,
    policy: EscalationPolicy | None,
    at: datetime,
) -> list[Recipient]:
    """Holders of these roles on the incident; the first escalation level when nobody holds one."""
    found: dict[str, Recipient] = {}
    for role in roles:
        held = incident.roles.get(role)
        if held is not None:
            handle = held.person.strip().lower()
            found.setdefault(handle, Recipient(handle, role.replace("_", " ")))
    if not found and policy is not None:
        return resolve(policy.levels[0], roster, at)
    return list(found.values())


def deliver(
    recipients: Sequence[Recipient],
    roster: Roster,
    incident: Incident,
    headline: str,
    body: str,
    *,
    topic: str,
    at: datetime,
) -> Delivery:
    """One outbox message per contact channel of each recipient."""
    delivery = Delivery()
    subject = f"[{incident.severity}] {incident.id} {incident.title}: {headline}"
    text = f"{incident.id} ({incident.type}, {incident.state}): {incident.title}\n\n{body}\n"
    for recipient in recipients:
        person = roster.people.get(recipient.handle)
        if person is None or not person.contacts:
            delivery.unreachable.append(recipient.handle)
            continue
        delivery.notified.append(f"{recipient.handle} ({recipient.via})")
        delivery.messages.extend(
            OutboxMessage(
                channel=contact.channel,
                recipient=contact.address,
                subject=subject,
                body=text,
                created_at=at,
                topic=topic,
            )
            for contact in person.contacts
        )
    return delivery
