"""Approval of actions: low risk runs by itself, medium and high wait for the commander.

Rules (one place):

- A low-risk action runs automatically unless its playbook step asks for approval.
- A medium- or high-risk action waits for a decision; a playbook step cannot waive that.
- Only the incident's commander (the person holding `incident_commander` on it) or someone
  with the commander role may approve, reject, run medium/high directly, or undo.
- An emergency rule (off unless configured) may run a named containment action without
  waiting; the approval then names the rule that approved it.
- Every request, decision and automatic run goes to the decision log (the incident
  timeline) and to the audit log; every run step goes there through the runner's recorder.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from pydantic import BaseModel

from mailwarden.actions.approval_records import (
    APPROVED,
    PENDING,
    REJECTED,
    Approval,
    ApprovalStore,
    run_dict,
)
from mailwarden.actions.port import ActionRegistry, Risk
from mailwarden.actions.records import FAILED, PLANNED, Run, redact_params
from mailwarden.actions.runner import ActionRunner
from mailwarden.clock import Clock

log = logging.getLogger(__name__)
LOW_RISK_RULE: Final = "low_risk"
SYSTEM: Final = "mailwarden"
Mode = Literal["auto", "commander"]
Audit = Callable[[str, str, str | None, Mapping[str, Any]], object]


class NotAllowedError(PermissionError):
    """This person may not decide on, run or undo this action."""


class ApprovalStateError(ValueError):
    """The approval is not in a state that allows this (already decided, or not approved)."""


class UnknownApprovalError(LookupError):
    """No approval has this id."""


@dataclass(frozen=True, slots=True)
class Authority:
    """Who is acting, and whether they hold the commander role (or above) in Mailwarden."""

    name: str
    commander_role: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """An approval and the state of its run."""

    approval: Approval
    run: Run

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {"approval": self.approval.to_dict(), "run": run_dict(self.run)}


class DecisionLog(Protocol):
    """Where requests and decisions are written (the incident timeline)."""

    def decision(self, approval: Approval, kind: str, actor: str, note: str) -> None:
        """Record one request, decision or automatic run."""
        ...


def needs_approval(risk: Risk | str, mode: Mode | None = None) -> bool:
    """True unless the action is low risk and its step does not ask for approval."""
    return mode == "commander" or Risk(risk) is not Risk.LOW


class ApprovalDesk:
    """Requests, decides, runs and undoes actions by the approval rules."""

    def __init__(
        self,
        runner: ActionRunner,
        store: ApprovalStore,
        clock: Clock,
        *,
        log: DecisionLog | None = None,
        audit: Audit | None = None,
        commander_of: Callable[[str], str | None] | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:12],
    ) -> None:
        self.runner = runner
        self.store = store
        self._clock = clock
        self._log = log
        self._audit = audit
        self._commander_of = commander_of or (lambda _incident: None)
        self._new_id = new_id
        self._listeners: list[Callable[[Approval, Run], None]] = []

    def on_run(self, listener: Callable[[Approval, Run], None]) -> None:
        """Call listener after every execute of an approved action (e.g. to check off a task)."""
        self._listeners.append(listener)

    @property
    def registry(self) -> ActionRegistry:
        """The actions that can run here."""
        return self.runner.registry

    def get(self, approval_id: str) -> Approval:
        """One approval; UnknownApprovalError if none."""
        found = self.store.get(approval_id)
        if found is None:
            raise UnknownApprovalError(f"no approval {approval_id!r}")
        return found

    def outcome(self, approval: Approval) -> Outcome:
        """The approval with its run's current state."""
        run = self.runner.get(approval.key)
        assert run is not None, f"approval {approval.id} has no run"
        return Outcome(approval, run)

    def request(
        self,
        action: str,
        params: Mapping[str, Any] | BaseModel,
        *,
        requested_by: str,
        incident_id: str | None = None,
        step_id: str | None = None,
        key: str | None = None,
        mode: Mode | None = None,
        rule: str | None = None,
        execute: bool = True,
        executed_by: str | None = None,
    ) -> Outcome:
        """Plan the action; run it now if the rules allow, else leave it pending approval."""
        key = key or self._new_id()
        run = self.runner.plan(
            action, params, requested_by=requested_by, key=key, incident_id=incident_id
        )
        approval = self.store.by_key(key)
        if approval is None:
            approval = self._open(run, requested_by, step_id, mode, rule, will_run=execute)
        if execute and approval.state == APPROVED and run.state == PLANNED:
            by = executed_by or f"rule:{approval.rule}"
            return Outcome(approval, self._execute(approval, by))
        return Outcome(approval, run)

    def plan(
        self,
        action: str,
        params: Mapping[str, Any] | BaseModel,
        *,
        requested_by: str,
        incident_id: str | None = None,
        key: str | None = None,
        mode: Mode | None = None,
    ) -> Outcome:
        """Dry-run the action and open its approval (pending unless low risk); run nothing."""
        return self.request(
            action,
            params,
            requested_by=requested_by,
            incident_id=incident_id,
            key=key,
            mode=mode,
            execute=False,
        )

    def approve(self, approval_id: str, who: Authority, reason: str = "") -> Outcome:
        """Approve a pending action (commander only) and run it."""
        approval = self._decide(approval_id, who, APPROVED, reason)
        return Outcome(approval, self._execute(approval, who.name))

    def reject(self, approval_id: str, who: Authority, reason: str) -> Approval:
        """Reject a pending action (commander only); it will not run."""
        if not reason.strip():
            raise ApprovalStateError("rejecting needs a reason")
        return self._decide(approval_id, who, REJECTED, reason)

    def withdraw(self, approval_id: str, reason: str) -> Approval | None:
        """Withdraw a pending request (Mailwarden's decision, e.g. superseded); None if decided."""
        approval = self.get(approval_id)
        if approval.state != PENDING:
            return None
        withdrawn = approval.with_changes(
            state=REJECTED, decided_by=SYSTEM, decided_at=self._clock.now(), reason=reason
        )
        if not self.store.decide(withdrawn):
            return None
        self._record(
            withdrawn, "action_withdrawn", SYSTEM, f"{_what(withdrawn)} withdrawn: {reason}"
        )
        return withdrawn

    def run(self, approval_id: str, who: Authority) -> Outcome:
        """Run (or retry) an approved action."""
        approval = self.get(approval_id)
        if approval.state != APPROVED:
            raise ApprovalStateError(f"approval {approval.id} is {approval.state}, not approved")
        if Risk(approval.risk) is not Risk.LOW:
            self._check(approval, who, "run")
        return Outcome(approval, self._execute(approval, who.name))

    def run_now(
        self,
        action: str,
        params: Mapping[str, Any] | BaseModel,
        who: Authority,
        *,
        incident_id: str | None = None,
        key: str | None = None,
        reason: str = "",
    ) -> Outcome:
        """Run an action directly: anyone for low risk; medium/high only for a commander."""
        low = not needs_approval(self.registry.get(action).risk)
        if not low:
            self._check_incident(incident_id, who, "run")
        outcome = self.request(
            action,
            params,
            requested_by=who.name,
            incident_id=incident_id,
            key=key,
            rule=LOW_RISK_RULE if low else None,
            executed_by=who.name,
        )
        if outcome.approval.state == REJECTED:
            raise ApprovalStateError(f"approval {outcome.approval.id} was rejected")
        if outcome.approval.state == PENDING:
            return self.approve(outcome.approval.id, who, reason or "run directly by a commander")
        return outcome

    def undo(self, key: str, who: Authority) -> Run:
        """Revert a succeeded run (commander only)."""
        run = self.runner.get(key)
        if run is None:
            raise UnknownApprovalError(f"no action run with key {key!r}")
        self._check_incident(run.incident_id, who, "undo")
        return self.runner.undo(key, executed_by=who.name, approved_by=who.name)

    def pending(self, incident_id: str | None = None) -> list[Approval]:
        """Approvals waiting for a decision, newest first."""
        return self.store.listed(state=PENDING, incident_id=incident_id)

    def may_decide(self, incident_id: str | None, who: Authority) -> bool:
        """True for the incident's commander or anyone with the commander role."""
        if who.commander_role:
            return True
        return incident_id is not None and self._commander_of(incident_id) == who.name

    def _open(
        self,
        run: Run,
        requested_by: str,
        step_id: str | None,
        mode: Mode | None,
        rule: str | None,
        *,
        will_run: bool,
    ) -> Approval:
        automatic = rule is not None or not needs_approval(run.risk, mode)
        approval = self.store.add(self._approval(run, requested_by, step_id, rule, automatic))
        if approval.state == PENDING:
            summary = str(approval.plan.get("summary", ""))
            note = f"{_what(approval)} waits for the incident commander's approval: {summary}"
            self._record(approval, "action_approval_requested", requested_by, note)
        else:
            then = "auto-run" if will_run else "approved (not run yet)"
            note = f"{_what(approval)} {then} by rule {approval.rule}"
            self._record(approval, "action_auto_approved", SYSTEM, note)
        return approval

    def _approval(
        self, run: Run, requested_by: str, step_id: str | None, rule: str | None, auto: bool
    ) -> Approval:
        now = self._clock.now()
        action = self.registry.get(run.action)
        params = redact_params(action.params_model.model_validate(dict(run.params)))
        approval = Approval(
            id=self._new_id(),
            key=run.key,
            action=run.action,
            risk=run.risk,
            params=params,
            plan=run.plan,
            requested_by=requested_by,
            requested_at=now,
            incident_id=run.incident_id,
            step_id=step_id,
        )
        if not auto:
            return approval
        return approval.with_changes(
            state=APPROVED, rule=rule or LOW_RISK_RULE, decided_by=SYSTEM, decided_at=now
        )

    def _decide(self, approval_id: str, who: Authority, state: str, reason: str) -> Approval:
        approval = self.get(approval_id)
        if approval.state != PENDING:
            raise ApprovalStateError(
                f"approval {approval.id} was already {approval.state} by {approval.decided_by}"
            )
        self._check(approval, who, "approve" if state == APPROVED else "reject")
        decided = approval.with_changes(
            state=state, decided_by=who.name, decided_at=self._clock.now(), reason=reason.strip()
        )
        if not self.store.decide(decided):
            raise ApprovalStateError(f"approval {approval.id} was decided meanwhile")
        why = f": {reason.strip()}" if reason.strip() else ""
        self._record(decided, f"action_{state}", who.name, f"{_what(decided)} {state}{why}")
        return decided

    def _execute(self, approval: Approval, by: str) -> Run:
        approved_by = approval.decided_by if approval.rule is None else f"rule:{approval.rule}"
        run = self.runner.execute(approval.key, executed_by=by, approved_by=approved_by)
        if run.state not in (FAILED, PLANNED):
            run = self.runner.verify(approval.key, by=by)
        for listener in self._listeners:
            try:
                listener(approval, run)
            except Exception:
                log.exception("listener %r failed after run %s", listener, run.key)
        return run

    def _check(self, approval: Approval, who: Authority, doing: str) -> None:
        self._check_incident(approval.incident_id, who, doing)

    def _check_incident(self, incident_id: str | None, who: Authority, doing: str) -> None:
        if self.may_decide(incident_id, who):
            return
        commander = self._commander_of(incident_id) if incident_id else None
        holder = f" ({commander})" if commander else ""
        where = f" of {incident_id}{holder}" if incident_id else ""
        raise NotAllowedError(
            f"{who.name} may not {doing} this: only the incident commander{where} "
            "or someone with the commander role may"
        )

    def _record(self, approval: Approval, kind: str, actor: str, note: str) -> None:
        if self._log is not None:
            self._log.decision(approval, kind, actor, note)
        detail: dict[str, Any] = {
            "approval": approval.id,
            "key": approval.key,
            "params": dict(approval.params),
            "incident": approval.incident_id,
            "rule": approval.rule,
            "reason": approval.reason,
        }
        if self._audit is not None:
            self._audit(actor, kind.replace("_", ".", 1), f"action:{approval.action}", detail)


def _what(approval: Approval) -> str:
    return f"{approval.action} ({approval.risk} risk)"
