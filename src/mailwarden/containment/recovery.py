"""When an incident recovers, its paused scopes resume through a warm-up plan.

Mailwarden's own gate pauses of the incident are undone by the rule "recovery_warmup"
(their undo starts the ramp). If only provider-side pauses contained it, a warm-up plan is
started for the incident's scope at the gate, and the timeline says which provider pauses
still stand (a commander undoes those). Off with settings.recovery_auto_warmup = false.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from mailwarden.actions.approvals import ApprovalDesk
from mailwarden.actions.records import SUCCEEDED, Run
from mailwarden.actions.warmup import WarmupPlanner, describe_ramp
from mailwarden.containment.timeline import ActionTimeline
from mailwarden.incidents.ports import IncidentEvent
from mailwarden.incidents.service import IncidentService

log = logging.getLogger(__name__)
RULE: Final = "rule:recovery_warmup"
GATE_PAUSE: Final = "mailwarden.pause_sending"
PROVIDER_PAUSES: Final = frozenset(
    {
        "ses.disable_configuration_set_sending",
        "ses.pause_account_sending",
        "mailgun.disable_subaccount",
        "postmark.archive_stream",
        "sendgrid.stop_scheduled_send",
    }
)
_PAUSE_SCOPES: Final = {
    "overall": "all",
    "campaign": "campaign",
    "sending_domain": "sending_domain",
    "mailbox_provider": "mailbox_provider",
    "sending_ip": "sending_ip",
}


class RecoveryWatch:
    """Starts warm-up when an incident moves to recovered."""

    def __init__(
        self,
        desk: ApprovalDesk,
        incidents: IncidentService,
        planner: WarmupPlanner,
        timeline: ActionTimeline,
    ) -> None:
        self._desk = desk
        self._incidents = incidents
        self._planner = planner
        self._timeline = timeline
        self._queue: dict[str, None] = {}
        self._lock = threading.Lock()

    def install(self) -> None:
        """Observe incident moves; do the work on tick."""
        self._incidents.observe(self.on_event)
        self._incidents.on_tick(lambda _now: self.drain())

    def on_event(self, event: IncidentEvent) -> None:
        """Queue incidents that moved to recovered."""
        if event.name == "incident.transitioned" and event.data.get("to") == "recovered":
            with self._lock:
                self._queue[event.incident_id] = None

    def drain(self) -> None:
        """Resume the queued incidents' pauses through warm-up."""
        with self._lock:
            queued, self._queue = list(self._queue), {}
        for ref in queued:
            try:
                self.recover(ref)
            except Exception:
                log.exception("warm-up after recovery of %s failed", ref)

    def recover(self, ref: str) -> list[str]:
        """Undo the incident's gate pauses with warm-up (or start one); return the plan ids."""
        runs = self._paused_runs(ref)
        gate = [run for run in runs if run.action == GATE_PAUSE]
        providers = [run for run in runs if run.action in PROVIDER_PAUSES]
        plans = [plan for run in gate if (plan := self._resume(run)) is not None]
        if providers and not gate:
            plans += self._start_for_scope(ref)
        if providers:
            standing = ", ".join(f"{run.action} ({run.key})" for run in providers)
            text = (
                f"provider pauses still stand: {standing}; the warm-up applies at the gate, "
                "undo these (commander) when ready to send"
            )
            self._timeline.note(ref, "recovery_pending_undo", text, "mailwarden", {})
        return plans

    def _paused_runs(self, ref: str) -> list[Run]:
        runs = []
        for approval in self._desk.store.listed(incident_id=ref):
            run = self._desk.runner.get(approval.key)
            if run is not None and run.state == SUCCEEDED:
                runs.append(run)
        return runs

    def _resume(self, run: Run) -> str | None:
        undone = self._desk.runner.undo(run.key, executed_by=RULE, approved_by=RULE)
        plan_id = (undone.undo_result or {}).get("details", {}).get("warmup_plan")
        plan = self._planner.store.get(str(plan_id)) if plan_id else None
        if plan is None:
            return None
        text = f"warm-up of {plan.target} started: {describe_ramp(plan)} ({plan.basis})"
        self._timeline.note(run.incident_id or "", "warmup_started", text, RULE, plan.to_dict())
        return plan.id

    def _start_for_scope(self, ref: str) -> list[str]:
        incident = self._incidents.get(ref)
        scope = _PAUSE_SCOPES.get(incident.scope.dimension)
        if scope is None:
            return []
        key = "*" if scope == "all" else incident.scope.key
        plan = self._planner.start(
            scope, key, created_by=RULE, incident_id=incident.id, plan_id=f"wu-{incident.id}"
        )
        text = f"warm-up of {plan.target} started: {describe_ramp(plan)} ({plan.basis})"
        self._timeline.note(incident.id, "warmup_started", text, RULE, plan.to_dict())
        return [plan.id]
