"""Which incident type a finding points at: an ordered rule table, first match wins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from mailwarden.detect.model import Finding
from mailwarden.incidents import evidence

Condition = Callable[[Finding], bool]

AUTH_REASONS: Final = frozenset({"authfailure", "securityerror"})


def _always(_finding: Finding) -> bool:
    return True


def _signal(finding: Finding) -> str | None:
    """What the refusals mostly cite, when the detector read it (blocklist, rate limit, ...)."""
    value = finding.evidence.get("dominant_signal")
    return value.lower() if isinstance(value, str) else None


def _cites_blocklist(finding: Finding) -> bool:
    signal = _signal(finding)
    if signal is not None:
        return signal == "blocklist"
    return evidence.cites_blocklist(finding.evidence)


def _auth_failure_dominates(finding: Finding) -> bool:
    signal = _signal(finding)
    if signal is not None and "authentication" in signal:
        return True
    reason = evidence.dominant(finding.evidence, "reason")
    return reason is not None and reason.lower() in AUTH_REASONS


def _on_sending_ip(finding: Finding) -> bool:
    return finding.scope.dimension == "sending_ip"


def _possible_compromise(finding: Finding) -> bool:
    return bool(finding.evidence.get("possible_compromise"))


def _about_complaints(finding: Finding) -> bool:
    return any("complain" in text for text in evidence.strings(finding.evidence))


CONDITIONS: Final[dict[str, Condition]] = {
    "always": _always,
    "evidence cites a blocklist": _cites_blocklist,
    "dominant reason is an auth failure": _auth_failure_dominates,
    "scope is a sending IP": _on_sending_ip,
    "metric is complaints": _about_complaints,
    "a night burst from unknown campaigns": _possible_compromise,
}


@dataclass(frozen=True, slots=True)
class TypeRule:
    """A finding of this kind, when the named condition holds, is an incident of this type."""

    kind: str
    type: str
    when: str = "always"


TYPE_RULES: Final = (
    TypeRule("block_rate", "dns_auth", "dominant reason is an auth failure"),
    TypeRule("block_rate", "blocklisting", "evidence cites a blocklist"),
    TypeRule("block_rate", "blocklisting", "scope is a sending IP"),
    TypeRule("block_rate", "delivery_failure"),
    TypeRule("hard_bounce_rate", "delivery_failure"),
    TypeRule("deferral_rate", "delivery_failure"),
    TypeRule("delivery_drop", "delivery_failure"),
    TypeRule("engagement_drop", "delivery_failure"),
    TypeRule("complaint_rate", "spam_complaints"),
    TypeRule("unsubscribe_rate", "spam_complaints"),
    TypeRule("policy_threshold", "spam_complaints", "metric is complaints"),
    TypeRule("policy_threshold", "delivery_failure"),
    TypeRule("volume_surge", "unauthorized_access", "a night burst from unknown campaigns"),
    TypeRule("volume_surge", "other"),
    TypeRule("volume_drop", "pipeline_outage"),
    TypeRule("event_silence", "pipeline_outage"),
)

# Incident types that are the same problem seen at different depths; a group takes the
# most specific type (earlier is more specific).
FAMILIES: Final = (
    ("blocklisting", "dns_auth", "delivery_failure"),
    ("spam_complaints",),
    ("pipeline_outage",),
    ("unauthorized_access",),
    ("data_breach",),
    ("phishing",),
    ("other",),
)


def incident_type(finding: Finding) -> tuple[str, str]:
    """Return the incident type for a finding and the rule that decided it, in words."""
    for rule in TYPE_RULES:
        if rule.kind == finding.kind and CONDITIONS[rule.when](finding):
            because = "" if rule.when == "always" else f" ({rule.when})"
            return rule.type, f"{rule.kind} → {rule.type}{because}"
    return "other", f"{finding.kind} → other (no rule for this kind)"


def family(incident_type: str) -> tuple[str, ...]:
    """The family an incident type belongs to (types that may group together)."""
    for members in FAMILIES:
        if incident_type in members:
            return members
    return (incident_type,)


def more_specific(first: str, second: str) -> str:
    """Of two types in one family, the one that says more about the root cause."""
    members = family(first)
    if second not in members:
        return first
    return first if members.index(first) <= members.index(second) else second
