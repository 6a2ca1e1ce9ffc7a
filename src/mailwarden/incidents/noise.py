"""Noise control as data: timings, inhibition rules, silences, and the hysteresis hold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from mailwarden.detect.model import Finding, Scope
from mailwarden.incidents.model import FindingLink, Incident
from mailwarden.incidents.records import Silence

# Findings a detector sends with one of these statuses say "this has cleared".
CLEARED_STATUSES: Final = frozenset({"cleared", "closed", "resolved", "recovered", "ok"})
DELIVERABILITY_KINDS: Final = (
    "block_rate",
    "hard_bounce_rate",
    "deferral_rate",
    "delivery_drop",
    "engagement_drop",
)
# Links that do not keep an incident open or raise its severity.
MUTED_RELATIONS: Final = frozenset({"silenced"})
UNRANKED_RELATIONS: Final = frozenset({"silenced", "inhibited"})


@dataclass(frozen=True, slots=True)
class NoisePolicy:
    """The timings of noise control."""

    grouping_window: timedelta = timedelta(minutes=30)
    # Detection publishes a "closed" finding once its metric has been normal for its own hold,
    # and re-publishes open findings at least every 30 min; silence longer than this means
    # the signal was lost, and the finding counts as clear from its last update.
    quiet_after: timedelta = timedelta(hours=2)
    hold: timedelta = timedelta(minutes=15)
    # A finding that fires again this soon after its incident recovered reopens it; later
    # it opens a new incident (the old one waits for a person to close it).
    reopen_window: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Inhibition:
    """While an active incident like `source` is open, matching findings under it are muted."""

    name: str
    target_kinds: tuple[str, ...]
    source_dimension: str = ""
    source_types: tuple[str, ...] = ()
    source_kinds: tuple[str, ...] = ()
    target_dimensions: tuple[str, ...] = ()
    overall_covers_all: bool = False
    anchor_dimensions: tuple[str, ...] = ()  # only source-kind findings on these dimensions

    def applies(
        self, source: Incident, kind: str, scope: Scope, signal_roots: frozenset[Scope]
    ) -> bool:
        """True when source mutes a finding of kind on scope (with these roots)."""
        return (
            source.is_active
            and (not self.source_dimension or source.scope.dimension == self.source_dimension)
            and (not self.source_types or source.type in self.source_types)
            and (not self.source_kinds or _has_kind(source, self.source_kinds))
            and kind in self.target_kinds
            and (not self.target_dimensions or scope.dimension in self.target_dimensions)
            and self._under(source, signal_roots)
        )

    def _under(self, source: Incident, signal_roots: frozenset[Scope]) -> bool:
        """The finding lies under the source's scope or under a scope its source kinds fired on."""
        anchors = set() if self.anchor_dimensions else {source.scope}
        for link in source.links.values():
            if link.kind in self.source_kinds and link.relation not in UNRANKED_RELATIONS:
                anchors.add(link.scope)
                anchors.update(_named_campaigns(link.evidence))
        if self.anchor_dimensions:
            anchors = {a for a in anchors if a.dimension in self.anchor_dimensions}
        if self.overall_covers_all and any(a.dimension == "overall" for a in anchors):
            return True
        # A campaign whose earlier finding lay under an anchor sends through it: later findings
        # on that campaign are under it too, even when their own evidence is less clear-cut.
        anchors.update(
            link.scope
            for link in source.links.values()
            if link.scope.dimension == "campaign" and link.roots & anchors
        )
        return bool(anchors & signal_roots)


def _named_campaigns(found: dict[str, object]) -> set[Scope]:
    """Campaigns a finding's evidence names as new (a surge from campaigns never seen)."""
    named = found.get("new_campaigns")
    if isinstance(named, dict | list):
        return {Scope("campaign", str(name)) for name in named}
    return set()


INHIBITIONS: Final = (
    Inhibition(
        "a blocklisted IP mutes block and bounce findings on it and on mail sent through it",
        source_dimension="sending_ip",
        source_types=("blocklisting",),
        target_kinds=DELIVERABILITY_KINDS,
    ),
    Inhibition(
        "a provider-wide block mutes per-campaign findings at that provider",
        source_dimension="mailbox_provider",
        source_kinds=("block_rate",),
        target_kinds=DELIVERABILITY_KINDS,
        target_dimensions=("campaign", "sending_domain:mailbox_provider"),
    ),
    Inhibition(
        "while events are missing, drops in deliveries, opens and volume are artefacts",
        source_types=("pipeline_outage",),
        source_kinds=("event_silence",),
        target_kinds=("delivery_drop", "engagement_drop", "volume_drop"),
        overall_covers_all=True,
    ),
    Inhibition(
        "a suspected unauthorised send mutes the bounces, blocks and complaints it causes",
        source_types=("unauthorized_access",),
        source_kinds=("volume_surge",),
        anchor_dimensions=("campaign",),
        target_kinds=(*DELIVERABILITY_KINDS, "complaint_rate", "unsubscribe_rate"),
    ),
)


def _has_kind(incident: Incident, kinds: tuple[str, ...]) -> bool:
    return any(link.kind in kinds for link in incident.links.values())


def inhibitor(
    incidents: Iterable[Incident], kind: str, scope: Scope, signal_roots: frozenset[Scope]
) -> tuple[Incident, Inhibition] | None:
    """The first open incident (and rule) that mutes this finding, if any."""
    for incident in incidents:
        for rule in INHIBITIONS:
            if rule.applies(incident, kind, scope, signal_roots):
                return incident, rule
    return None


def matching_silence(
    silences: Sequence[Silence], kind: str, scope: Scope, incident_type: str, now: datetime
) -> Silence | None:
    """The first active silence whose matcher covers this finding."""
    for silence in silences:
        if silence.is_active(now) and silence.matcher.matches(kind, scope, incident_type):
            return silence
    return None


def is_cleared(finding: Finding) -> bool:
    """True when the detector says the finding has cleared (its status or its evidence)."""
    return finding.status.lower() in CLEARED_STATUSES


def cleared_time(finding: Finding, now: datetime) -> datetime:
    """When the detector closed a cleared finding (its closed_at, else now)."""
    return finding.closed_at or now


def clear_since(
    links: Iterable[FindingLink], now: datetime, policy: NoisePolicy
) -> datetime | None:
    """Since when every finding of an incident is back below its threshold, or None.

    A finding the detector closed has been normal since its last anomalous minute (last_seen);
    without that signal it counts as clear from its last update once none came for
    `quiet_after`. Silenced findings do not count.
    """
    times: list[datetime] = []
    for link in links:
        if link.relation in MUTED_RELATIONS:
            continue
        if link.cleared_at is None and now - link.last_seen < policy.quiet_after:
            return None
        times.append(link.last_seen)
    return max(times) if times else None


def hold_elapsed(incident: Incident, now: datetime, policy: NoisePolicy) -> bool:
    """True when the incident's findings have been clear for the whole hold time."""
    return incident.hold_since is not None and now - incident.hold_since >= policy.hold
