"""From findings to incidents: update, dedup, inhibit, group, silence — or open one.

Each finding goes through, in order:
1. a finding (kind on scope) already attached is updated; if its incident recovered less than
   `reopen_window` ago it reopens it, if it was in its hold the hold ends (timeline:
   `transitioned` with rule reopen, or `hysteresis` phase refired);
2. silences: a muted finding opens nothing (the silence counts it); if it belongs to an open
   incident it is kept there as evidence (timeline: `silenced`) until an update of it comes
   when no silence covers it any more (timeline: `unsilenced`);
3. dedup: same incident type and scope as an active incident (timeline: `dedup`);
4. inhibition: an active incident mutes it (timeline: `inhibited`, with the rule's name);
5. grouping: same type family, a shared root, within the grouping window (timeline: `grouped`,
   saying when the group's scope widened or its type sharpened);
6. otherwise a new incident (timeline: `opened`, with the type and severity rules).
An incident opened or reshaped absorbs the active incidents it now covers (timeline: the
merged one's `transitioned` to merged, the root's `absorbed`); a worse finding raises the
severity (timeline: `severity_changed`). Work happens on a Book: the open incidents loaded
for one batch of findings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from mailwarden.detect.model import Finding
from mailwarden.incidents import classify, grouping, noise
from mailwarden.incidents.book import Book, Signal
from mailwarden.incidents.describe import affected, title_for
from mailwarden.incidents.model import SYSTEM_ACTOR, FindingLink, Incident
from mailwarden.incidents.records import Silence
from mailwarden.incidents.severity import SeverityRules, worst


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new finding goes and which rule put it there."""

    incident: Incident
    rule: str
    note: str
    fit: grouping.GroupFit | None = None


class Triage:
    """Applies the noise rules to one finding at a time."""

    def __init__(self, rules: SeverityRules, policy: noise.NoisePolicy) -> None:
        self._rules = rules
        self._policy = policy

    def signal(self, finding: Finding) -> Signal:
        """Classify a finding: its incident type, severity and roots."""
        type_, type_rule = classify.incident_type(finding)
        severity, severity_rule = self._rules.assess(finding, type_)
        roots = grouping.finding_roots(finding)
        return Signal(
            finding, type_, type_rule, severity, severity_rule, roots, noise.is_cleared(finding)
        )

    def apply(self, finding: Finding, book: Book, now: datetime) -> str:
        """Route one finding; return what happened (updated, dedup, grouped, ..., opened)."""
        signal = self.signal(finding)
        holder = book.holding(finding.kind, finding.scope)
        if holder is not None:
            self._update(holder, signal, book, now)
            book.mark(holder)
            return "updated"
        if signal.cleared:
            return "ignored"
        silence = noise.matching_silence(
            book.silences, finding.kind, finding.scope, signal.type, now
        )
        placement = self._place(signal, book)
        if silence is not None:
            book.hit(silence, now)
            if placement is not None:
                self._attach_silenced(placement.incident, signal, silence, now)
                book.mark(placement.incident)
            return "silenced"
        if placement is None:
            self._open(signal, book, now)
            return "opened"
        self._attach(placement, signal, book, now)
        return placement.rule

    def _place(self, signal: Signal, book: Book) -> Placement | None:
        finding = signal.finding
        same = book.dedup(signal.type, finding.scope)
        if same is not None:
            key = grouping.dedup_key(signal.type, finding.scope)
            return Placement(same, "dedup", f"{signal.describe()} has this incident's key {key}")
        muted = noise.inhibitor(book.active(), finding.kind, finding.scope, signal.roots)
        if muted is not None:
            incident, rule = muted
            return Placement(incident, "inhibited", f"muted {signal.describe()}: {rule.name}")
        return self._group(signal, book)

    def _group(self, signal: Signal, book: Book) -> Placement | None:
        window = self._policy.grouping_window
        fits: list[tuple[int, int, Placement]] = []
        for order, incident in enumerate(book.active()):
            if signal.type not in classify.family(incident.type) or _vague(incident):
                continue
            last = incident.last_signal_at or incident.detected_at
            if signal.finding.window_start > last + window:
                continue
            kind = classify.more_specific(incident.type, signal.type)
            fit = grouping.group_fit(incident.scope, incident.lineage, signal.roots, kind)
            if fit is None or not _agrees(incident, signal, kind, fit):
                continue
            minutes = int(window.total_seconds() // 60)
            note = f"{signal.describe()} grouped here: {fit.reason} (within {minutes} min)"
            widened = 0 if fit.root == incident.scope else 1
            fits.append((widened, order, Placement(incident, "grouped", note, fit)))
        return min(fits, key=lambda item: item[:2])[2] if fits else None

    def _attach(self, placement: Placement, signal: Signal, book: Book, now: datetime) -> None:
        incident = placement.incident
        data = {"rule": placement.rule, **signal.data()}
        incident.attach(self._link(signal, placement.rule, now))
        reshaped = False
        note = placement.note
        if placement.fit is not None:
            reshaped = self._reshape(incident, signal, placement.fit, data)
            note += _reshape_note(data)
        incident.record(placement.rule, SYSTEM_ACTOR, now, note, data)
        reopened = self._refire(incident, signal, now)
        self._refresh(incident, signal, now)
        book.mark(incident)
        if reshaped or reopened:
            self._sweep(incident, book, now)

    def _reshape(
        self, incident: Incident, signal: Signal, fit: grouping.GroupFit, data: dict[str, object]
    ) -> bool:
        new_type = classify.more_specific(incident.type, signal.type)
        if fit.root == incident.scope and new_type == incident.type:
            return False
        if fit.root != incident.scope:
            data.update(scope_from=incident.scope.to_dict(), scope_to=fit.root.to_dict())
        if new_type != incident.type:
            data.update(type_from=incident.type, type_to=new_type)
        incident.scope, incident.lineage, incident.type = fit.root, fit.lineage, new_type
        if incident.origin == "detection":
            incident.title = title_for(incident.type, incident.scope)
        return True

    def _attach_silenced(
        self, incident: Incident, signal: Signal, silence: Silence, now: datetime
    ) -> None:
        incident.attach(self._link(signal, "silenced", now))
        note = (
            f"{silence.id} ({silence.owner}: {silence.reason}) muted {signal.describe()}; "
            "kept as evidence only"
        )
        incident.record(
            "silenced",
            SYSTEM_ACTOR,
            now,
            note,
            {"rule": "silence", "silence": silence.id, **signal.data()},
        )

    def _open(self, signal: Signal, book: Book, now: datetime) -> Incident:
        finding = signal.finding
        incident = Incident(
            type=signal.type,
            severity=signal.severity,
            title=title_for(signal.type, finding.scope),
            scope=finding.scope,
            started_at=finding.window_start,
            detected_at=now,
            lineage=signal.roots,
            last_signal_at=signal.last_seen,
        )
        incident.attach(self._link(signal, "trigger", now))
        incident.affected = affected(incident.links.values())
        note = (
            f"opened from {signal.describe()}: type by {signal.type_rule}; "
            f"{signal.severity} by rule '{signal.severity_rule}'"
        )
        data = {"type_rule": signal.type_rule, "severity_rule": signal.severity_rule}
        incident.record("opened", SYSTEM_ACTOR, now, note, {**data, **signal.data()})
        book.incidents.append(incident)
        if book.persist is not None:
            book.persist(incident)
        else:
            book.mark(incident)
        self._sweep(incident, book, now)
        return incident

    def _update(self, incident: Incident, signal: Signal, book: Book, now: datetime) -> None:
        link = incident.links[(signal.finding.kind, signal.finding.scope)]
        fresh = signal.last_seen > link.last_seen or (
            link.cleared_at is not None and not signal.cleared
        )
        updated = self._updated_link(link, signal, now)
        silence = noise.matching_silence(book.silences, link.kind, link.scope, signal.type, now)
        unmuted = link.relation in noise.MUTED_RELATIONS and not signal.cleared and silence is None
        if unmuted:  # its silence ended: the finding counts again
            updated = replace(updated, relation="unsilenced")
            note = f"no silence covers {signal.describe()} any more; it counts again"
            data = {"rule": "silence", "phase": "expired", **signal.data()}
            incident.record("unsilenced", SYSTEM_ACTOR, now, note, data)
        incident.attach(updated)
        incident.affected = affected(incident.links.values())
        if signal.cleared or not (fresh or unmuted) or updated.relation in noise.MUTED_RELATIONS:
            return
        reopened = self._refire(incident, signal, now)
        self._refresh(incident, signal, now, before=None if unmuted else link.severity)
        if reopened:
            self._sweep(incident, book, now)

    def _refire(self, incident: Incident, signal: Signal, now: datetime) -> bool:
        """A finding fires for an incident: reopen it if recovered, or end its hold (flapping)."""
        if incident.state == "recovered":
            note = f"reopened: {signal.describe()} fired again soon after recovery"
            incident.transition("detected", SYSTEM_ACTOR, now, note, rule="reopen")
            return True
        if incident.hold_since is not None:
            held = int((now - incident.hold_since).total_seconds() // 60)
            hold = int(self._policy.hold.total_seconds() // 60)
            note = (
                f"{signal.describe()} fired again {held} min into the {hold} min hold; "
                "recovery postponed"
            )
            data = {"rule": "hysteresis", "phase": "refired", **signal.data()}
            incident.record("hysteresis", SYSTEM_ACTOR, now, note, data)
            incident.hold_since = None
        return False

    def _refresh(
        self, incident: Incident, signal: Signal, now: datetime, before: str | None = None
    ) -> None:
        """Widen the incident's times and counts; raise its severity if the finding got worse.

        before is the link's severity before this finding (None: a new link). A finding that
        is no worse than it was leaves the severity alone, so a level set by hand stays.
        """
        finding = signal.finding
        incident.started_at = min(incident.started_at, finding.window_start)
        incident.affected = affected(incident.links.values())
        link = incident.links[(finding.kind, finding.scope)]
        if link.relation in noise.UNRANKED_RELATIONS:
            return
        incident.last_signal_at = max(incident.last_signal_at or now, signal.last_seen)
        if link.severity == before:
            return
        escalated = worst(incident.severity, link.severity)
        if escalated != incident.severity:
            note = f"severity {incident.severity} → {escalated}: {signal.describe()}"
            data = {"from": incident.severity, "to": escalated, "rule": signal.severity_rule}
            incident.record("severity_changed", SYSTEM_ACTOR, now, note, data)
            incident.severity = escalated

    def _sweep(self, root: Incident, book: Book, now: datetime) -> None:
        """Merge active incidents that the (new or reshaped) root now covers."""
        for other in book.active():
            if other is root or not root.is_active:
                continue
            reason = self._covers(root, other)
            if reason is None:
                continue
            note = f"merged into {root.id} by noise control: {reason}"
            other.merge_into(root, SYSTEM_ACTOR, now, note)
            self._escalate_from_links(root, other, now)
            book.mark(root, other)

    def _covers(self, root: Incident, other: Incident) -> str | None:
        ranked = [link for link in other.links.values() if link.relation != "silenced"]
        for rule in noise.INHIBITIONS:
            if ranked and all(
                rule.applies(root, link.kind, link.scope, link.roots) for link in ranked
            ):
                return f"inhibition: {rule.name}"
        same_family = other.type in classify.family(root.type)
        window = self._policy.grouping_window
        near = (other.last_signal_at or other.detected_at) + window >= (
            root.last_signal_at or root.detected_at
        )
        inside = root.scope == grouping.OVERALL or root.scope in other.lineage
        if same_family and near and inside and not _vague(root):
            return f"grouping: {other.scope} lies inside {root.scope}"
        return None

    def _escalate_from_links(self, incident: Incident, merged: Incident, now: datetime) -> None:
        """Raise the severity to the worst of the findings a merged incident brought."""
        ranked = [
            link.severity
            for link in merged.links.values()
            if link.relation not in noise.UNRANKED_RELATIONS
        ]
        level = incident.severity
        for severity in ranked:
            level = worst(level, severity)
        if level != incident.severity:
            note = f"severity {incident.severity} → {level}: merged findings"
            incident.record(
                "severity_changed",
                SYSTEM_ACTOR,
                now,
                note,
                {"from": incident.severity, "to": level, "rule": "merge"},
            )
            incident.severity = level
        incident.affected = affected(incident.links.values())

    def _link(self, signal: Signal, relation: str, now: datetime) -> FindingLink:
        finding = signal.finding
        return FindingLink(
            kind=finding.kind,
            scope=finding.scope,
            relation=relation,
            finding_severity=finding.severity,
            observed=finding.observed,
            expected=finding.expected,
            window_start=finding.window_start,
            first_seen=finding.first_seen,
            last_seen=signal.last_seen,
            attached_at=now,
            evidence=dict(finding.evidence),
            roots=signal.roots,
            finding_id=finding.id,
            severity=signal.severity,
            cleared_at=noise.cleared_time(finding, now) if signal.cleared else None,
        )

    def _updated_link(self, link: FindingLink, signal: Signal, now: datetime) -> FindingLink:
        finding = signal.finding
        new_id = finding.id is not None and finding.id != link.finding_id
        cleared_at = link.cleared_at
        if signal.cleared:
            cleared_at = cleared_at or noise.cleared_time(finding, now)
        elif signal.last_seen > link.last_seen or cleared_at is not None:
            cleared_at = None
        return replace(
            link,
            finding_severity=finding.severity,
            observed=finding.observed,
            expected=finding.expected,
            window_start=min(link.window_start, finding.window_start),
            last_seen=max(link.last_seen, signal.last_seen),
            evidence={**link.evidence, **finding.evidence},
            finding_id=finding.id if finding.id is not None else link.finding_id,
            finding_count=link.finding_count + (1 if new_id else 0),
            severity=worst(link.severity, signal.severity),
            cleared_at=cleared_at,
        )


def _reshape_note(data: dict[str, object]) -> str:
    parts = []
    if "scope_to" in data:
        before, after = data["scope_from"], data["scope_to"]
        assert isinstance(before, dict) and isinstance(after, dict)
        parts.append(
            f"scope widened {before['dimension']}={before['key']} → "
            f"{after['dimension']}={after['key']}"
        )
    if "type_to" in data:
        parts.append(f"type {data['type_from']} → {data['type_to']}")
    return "; " + "; ".join(parts) if parts else ""


def _vague(incident: Incident) -> bool:
    """A person's report about all mail names no root: findings join it only by dedup."""
    return incident.origin == "manual" and incident.scope == grouping.OVERALL


def _agrees(incident: Incident, signal: Signal, kind: str, fit: grouping.GroupFit) -> bool:
    """A finding that would change the group's type must point at the group's own root.

    Bounces and a blocklisting sharing only a busy sending domain are two incidents; bounces
    on an IP and that IP's listing are one.
    """
    if kind == incident.type:
        return True
    wanted = grouping.best_root(signal.roots - {grouping.OVERALL}, kind)
    return wanted is not None and wanted in incident.lineage | {fit.root, incident.scope}
