"""Same-root rules as data: the scope hierarchy, dedup keys and where a group is rooted.

The hierarchy: overall ⊃ everything; a sending IP ⊃ the campaigns (and domains) whose mail
went out through it; a mailbox provider ⊃ its sending_domain:mailbox_provider pairs and the
campaigns whose trouble is concentrated there; a sending domain ⊃ its domain:provider pairs.
Where a finding's trouble concentrates (its evidence's dominant IP, provider, domain or
campaign, from the detector's sample breakdown or our own look at its sample events) counts
as a root too: block findings at three providers all dominated by one IP share that IP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from mailwarden.detect.model import Finding, Scope
from mailwarden.incidents import evidence

OVERALL: Final = Scope("overall", "*")

# When findings share several roots, the incident is about the first in this order; the
# order depends on what kind of trouble it is (a blocklisting is about an IP, an auth
# failure about a domain, throttling about a provider).
ROOT_PREFERENCE: Final = (
    "sending_ip",
    "mailbox_provider",
    "sending_domain",
    "sending_domain:mailbox_provider",
    "campaign",
)
ROOT_PREFERENCE_BY_TYPE: Final[dict[str, tuple[str, ...]]] = {
    "blocklisting": (
        "sending_ip",
        "sending_domain",
        "mailbox_provider",
        "sending_domain:mailbox_provider",
        "campaign",
    ),
    "dns_auth": (
        "sending_domain",
        "sending_domain:mailbox_provider",
        "mailbox_provider",
        "sending_ip",
        "campaign",
    ),
    "delivery_failure": (
        "mailbox_provider",
        "sending_ip",
        "campaign",
        "sending_domain",
        "sending_domain:mailbox_provider",
    ),
    "spam_complaints": (
        "campaign",
        "sending_domain",
        "mailbox_provider",
        "sending_ip",
        "sending_domain:mailbox_provider",
    ),
    "unauthorized_access": ("campaign", "sending_ip", "sending_domain", "mailbox_provider"),
}

Derive = Callable[[Scope, dict[str, Any], str], str | None]


def _key_before_colon(scope: Scope, _evidence: dict[str, Any], _field: str) -> str | None:
    return scope.key.rsplit(":", 1)[0] if ":" in scope.key else None


def _key_after_colon(scope: Scope, _evidence: dict[str, Any], _field: str) -> str | None:
    return scope.key.rsplit(":", 1)[1] if ":" in scope.key else None


def _dominant_in_evidence(_scope: Scope, found: dict[str, Any], field: str) -> str | None:
    return evidence.dominant(found, field)


DERIVATIONS: Final[dict[str, Derive]] = {
    "the key's domain part": _key_before_colon,
    "the key's provider part": _key_after_colon,
    "the evidence's dominant value": _dominant_in_evidence,
}


@dataclass(frozen=True, slots=True)
class ParentRule:
    """A scope of dimension `child` lies inside the `parent` scope named by `derive`."""

    child: str
    parent: str
    derive: str


_CONCENTRATED: Final = "the evidence's dominant value"
# Dimensions a finding's trouble can concentrate on (its evidence names the dominant one).
CONCENTRATIONS: Final = ("sending_ip", "mailbox_provider", "sending_domain", "campaign")
PARENT_RULES: Final = (
    ParentRule("sending_domain:mailbox_provider", "mailbox_provider", "the key's provider part"),
    ParentRule("sending_domain:mailbox_provider", "sending_domain", "the key's domain part"),
    *(
        ParentRule(child, parent, _CONCENTRATED)
        for child in ("overall", *CONCENTRATIONS, "sending_domain:mailbox_provider")
        for parent in CONCENTRATIONS
        if parent != child
    ),
)


def roots(scope: Scope, found: dict[str, Any]) -> frozenset[Scope]:
    """The scope itself and every scope that contains it or where its trouble concentrates."""
    result = {scope}
    for rule in PARENT_RULES:
        if rule.child == scope.dimension:
            key = DERIVATIONS[rule.derive](scope, found, rule.parent)
            if key:
                result.add(Scope(rule.parent, key))
    return frozenset(result)


def finding_roots(finding: Finding) -> frozenset[Scope]:
    """The roots of a finding's scope, read from its evidence."""
    return roots(finding.scope, finding.evidence)


def dedup_key(incident_type: str, scope: Scope) -> str:
    """The fingerprint two signals share when they are the same problem: type + scope."""
    return f"{incident_type}|{scope.dimension}={scope.key}"


def rank(scope: Scope, incident_type: str = "") -> int:
    """Position of a scope's dimension in the type's root preference (lower is better)."""
    order = ROOT_PREFERENCE_BY_TYPE.get(incident_type, ROOT_PREFERENCE)
    return order.index(scope.dimension) if scope.dimension in order else len(order)


def best_root(candidates: Iterable[Scope], incident_type: str = "") -> Scope | None:
    """The preferred root among candidates for this type of incident, if any."""
    ordered = sorted(candidates, key=lambda scope: (rank(scope, incident_type), scope))
    return ordered[0] if ordered else None


@dataclass(frozen=True, slots=True)
class GroupFit:
    """How a signal fits under an incident: the root they share and the lineage left."""

    root: Scope
    lineage: frozenset[Scope]
    reason: str


def group_fit(
    incident_scope: Scope,
    incident_lineage: frozenset[Scope],
    signal_roots: frozenset[Scope],
    incident_type: str = "",
) -> GroupFit | None:
    """Where a signal with these roots would sit in an incident's group, or None if unrelated.

    Overall contains everything: an overall finding concentrated somewhere (its evidence names
    the IP, provider or domain) is matched there; one that is not widens the group to overall.
    """
    if incident_scope == OVERALL:
        return GroupFit(OVERALL, incident_lineage, "overall ⊃ all")
    if signal_roots == {OVERALL}:
        return GroupFit(OVERALL, frozenset({OVERALL}), "overall ⊃ all: the trouble is everywhere")
    common = frozenset(incident_lineage & (signal_roots - {OVERALL}))
    root = best_root(common, incident_type)
    if root is None:
        return None
    if root == incident_scope:
        return GroupFit(incident_scope, incident_lineage, f"inside {incident_scope}")
    return GroupFit(root, common, f"shares {root}")
