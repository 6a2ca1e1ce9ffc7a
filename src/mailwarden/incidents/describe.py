"""Derived descriptions of an incident: its title and what its findings let us count."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from mailwarden.detect.model import Scope
from mailwarden.incidents import evidence
from mailwarden.incidents.model import Affected, FindingLink

TYPE_LABELS: Final = {
    "delivery_failure": "Delivery failure",
    "spam_complaints": "Spam complaints",
    "phishing": "Phishing / spoofing",
    "unauthorized_access": "Unauthorised access",
    "data_breach": "Data breach",
    "blocklisting": "Blocklisting",
    "dns_auth": "Email authentication failing",
    "pipeline_outage": "Event pipeline outage",
    "other": "Incident",
}
# Evidence names, in order of preference, for counts a finding may carry.
MESSAGE_COUNTS: Final = (
    "affected_messages",
    "messages_affected",
    "affected",
    "numerator",
    "bad",
    "failed",
    "count",
)
RECIPIENT_COUNTS: Final = ("affected_recipients", "recipients", "distinct_recipients")
CAMPAIGN_NAMES: Final = ("campaigns", "by_campaign", "campaign")


def title_for(incident_type: str, scope: Scope) -> str:
    """A title such as "Blocklisting on sending_ip 203.0.113.5"."""
    label = TYPE_LABELS.get(incident_type, TYPE_LABELS["other"])
    if scope.dimension == "overall":
        return f"{label} across all mail"
    return f"{label} on {scope.dimension} {scope.key}"


def affected(links: Iterable[FindingLink]) -> Affected:
    """Counts from the findings, honest about their limits (a lower bound; None if unknown)."""
    counted = list(links)
    message_counts = [(evidence.count(link.evidence, *MESSAGE_COUNTS), link) for link in counted]
    known = [(value, link) for value, link in message_counts if value is not None]
    recipients = [evidence.count(link.evidence, *RECIPIENT_COUNTS) for link in counted]
    known_recipients = [value for value in recipients if value is not None]
    campaigns = _campaigns(counted)
    notes: list[str] = []
    messages: int | None = None
    if known:
        messages, top = max(known, key=lambda item: item[0])
        notes.append(
            f"messages: at least {messages} (the largest single finding, {top.kind} on "
            f"{top.scope}; findings overlap, so they are not added)"
        )
    else:
        notes.append("messages: unknown (no counts in the evidence)")
    if known_recipients:
        notes.append(f"recipients: at least {max(known_recipients)}")
    else:
        notes.append("recipients: unknown")
    notes.append(f"campaigns: {len(campaigns)} named in the findings" if campaigns else "")
    return Affected(
        messages=messages,
        recipients=max(known_recipients) if known_recipients else None,
        campaigns=len(campaigns) if campaigns else None,
        basis="; ".join(note for note in notes if note),
    )


def _campaigns(links: list[FindingLink]) -> set[str]:
    names: set[str] = set()
    for link in links:
        if link.scope.dimension == "campaign":
            names.add(link.scope.key)
        names.update(evidence.names_in(link.evidence, *CAMPAIGN_NAMES))
    return names
