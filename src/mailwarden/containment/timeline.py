"""The incident timeline and the audit log as the actions' recorder, decision log and notes.

Every run step (plan, execute, verify, undo, and failures), every approval request and
decision, every delisting change and every reminder lands on the incident's timeline (source
"actions") with who did it, the parameters (secrets masked), the result and the provider's
response id; and, through the audit callable, in the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from mailwarden.actions.approval_records import Approval
from mailwarden.actions.approvals import Audit
from mailwarden.actions.records import StepRecord
from mailwarden.actions.reminders import Reminder
from mailwarden.incidents.desk import UnknownIncidentError
from mailwarden.incidents.model import PERSON, SYSTEM, Actor
from mailwarden.incidents.records import OutboxMessage
from mailwarden.incidents.service import IncidentService

log = logging.getLogger(__name__)
SOURCE: Final = "actions"
COMMANDER: Final = "incident_commander"
_SYSTEM_NAMES: Final = ("mailwarden", "system")


def actor_of(name: str) -> Actor:
    """A person, or the system for Mailwarden itself and its rules."""
    is_system = name in _SYSTEM_NAMES or name.startswith(("rule:", "playbook:", "mailwarden."))
    return Actor(name, SYSTEM if is_system else PERSON)


class ActionTimeline:
    """Recorder, DecisionLog, Notes and reminder sink over the incident service and audit log."""

    def __init__(self, incidents: IncidentService, audit: Audit | None = None) -> None:
        self._incidents = incidents
        self.audit = audit

    def record(self, entry: StepRecord) -> None:
        """One run step: on the incident's timeline (if it has one) and in the audit log."""
        failed = entry.outcome == "failed"
        kind = f"action_{entry.step}" + ("_failed" if failed else "")
        data = entry.to_dict()
        self._audit_entry(entry.actor, f"action.{entry.step}", f"action:{entry.action}", data)
        if entry.incident_id:
            self._note(entry.incident_id, kind, step_text(entry), entry.actor, data)

    def decision(self, approval: Approval, kind: str, actor: str, note: str) -> None:
        """One approval request, decision or automatic run, on the incident's timeline."""
        if approval.incident_id:
            self._note(approval.incident_id, kind, note, actor, approval.to_dict())

    def note(
        self, incident_id: str, kind: str, text: str, actor: str, data: Mapping[str, Any]
    ) -> None:
        """Any other line from the actions side (delistings, recovery); audited too."""
        self._audit_entry(actor, kind.replace("_", ".", 1), incident_id, dict(data))
        self._note(incident_id, kind, text, actor, dict(data))

    def remind(self, reminder: Reminder) -> None:
        """A reminder: on the incident's timeline with a message to its commander."""
        if not reminder.incident_id:
            log.warning("reminder without an incident: %s", reminder.text)
            return
        outbox = () if reminder.kind.startswith("day:") else (self._message(reminder),)
        data = {"subject": reminder.subject, "reminder": reminder.kind, **reminder.data}
        self._note(reminder.incident_id, "reminder", reminder.text, "mailwarden", data, outbox)

    def _message(self, reminder: Reminder) -> OutboxMessage:
        incident_id = reminder.incident_id or ""
        try:
            held = self._incidents.get(incident_id).roles.get(COMMANDER)
        except UnknownIncidentError:
            held = None
        return OutboxMessage(
            channel="email",
            recipient=held.person if held is not None else COMMANDER,
            subject=f"[{incident_id}] reminder: {reminder.text[:120]}",
            body=reminder.text + "\n",
            created_at=reminder.at,
            topic=f"reminder:{reminder.subject}:{reminder.kind}",
        )

    def _note(
        self,
        incident_id: str,
        kind: str,
        text: str,
        actor: str,
        data: dict[str, Any],
        outbox: tuple[OutboxMessage, ...] = (),
    ) -> None:
        try:
            self._incidents.record(
                incident_id, kind, text, actor_of(actor), data=data, source=SOURCE, outbox=outbox
            )
        except UnknownIncidentError:
            log.warning("no incident %s for the %s entry: %s", incident_id, kind, text)

    def _audit_entry(self, actor: str, name: str, target: str, detail: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit(actor, name, target, detail)


def step_text(entry: StepRecord) -> str:
    """A run step in a sentence for the timeline."""
    who = f"by {entry.actor}" + (f", approved by {entry.approved_by}" if entry.approved_by else "")
    result = dict(entry.result or {})
    if entry.outcome == "failed" and entry.error is not None:
        error = f"{entry.error.kind}: {entry.error.message}"
        return f"{entry.step} of {entry.action} failed ({who}): {error}"
    if entry.step == "plan":
        return f"planned {entry.action}: {result.get('summary', '')}"
    if entry.step == "verify":
        state = "confirmed" if entry.outcome == "succeeded" else f"NOT confirmed ({entry.outcome})"
        return f"{entry.action} {state}: {result.get('detail', '')}"
    verb = "ran" if entry.step == "execute" else "undid"
    applied = ", ".join(str(t) for t in result.get("applied", [])[:5]) or "nothing new"
    more = len(result.get("applied", [])) - 5
    changed = applied + (f" and {more} more" if more > 0 else "")
    response = (
        f"; provider response {entry.provider_response_id}" if entry.provider_response_id else ""
    )
    return f"{verb} {entry.action} ({who}): {changed}{response}"
