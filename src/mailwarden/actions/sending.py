"""Provider-independent sending controls at Mailwarden's own gate: pause and quarantine.

`mailwarden.pause_sending` stops one scope (campaign, sending domain, mailbox provider,
sending IP, or all); its undo resumes through a warm-up plan unless told not to.
`mailwarden.quarantine_segment` stops sending to one list segment or import batch. Both take
effect where a team's sending code asks the gate (GET /api/gate) before each batch.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import datetime
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from mailwarden.actions.gate_records import (
    ALL,
    Pause,
    PauseStore,
    Quarantine,
    QuarantineStore,
)
from mailwarden.actions.port import BaseAction, Change, Plan, Result, Risk, Verification
from mailwarden.actions.warmup import WarmupPlanner, describe_ramp
from mailwarden.clock import Clock

Changed = Callable[[], None]
PauseScope = Literal["campaign", "sending_domain", "mailbox_provider", "sending_ip", "all"]


def normalise_key(scope: str, key: str) -> str:
    """Keys as the gate compares them: domains and providers lower-case, IPs canonical."""
    key = key.strip()
    if scope == "all":
        return ALL
    if scope in ("sending_domain", "mailbox_provider"):
        return key.lower()
    if scope == "sending_ip":
        try:
            return str(ipaddress.ip_address(key))
        except ValueError:
            raise ValueError(f"not an IP address: {key!r}") from None
    return key


class PauseParams(BaseModel):
    """What to pause, why, for which incident, until when, and how to resume."""

    scope: PauseScope
    key: str | None = Field(default=None, max_length=200)
    reason: str = Field(min_length=1, max_length=200)
    source_incident: str | None = None
    expires_at: AwareDatetime | None = None
    warmup: bool = Field(default=True, description="Undo resumes through a warm-up plan")

    @model_validator(mode="after")
    def _key(self) -> Self:
        if self.scope != "all" and not (self.key or "").strip():
            raise ValueError(f"scope {self.scope} needs a key (e.g. the campaign's name)")
        self.key = normalise_key(self.scope, self.key or ALL)
        return self

    @property
    def target(self) -> str:
        """e.g. campaign=black-friday, or all."""
        return "all" if self.scope == "all" else f"{self.scope}={self.key}"


class PauseSendingAction(BaseAction[PauseParams]):
    """Pause sending for a scope at Mailwarden's gate; undo resumes with a warm-up ramp."""

    name = "mailwarden.pause_sending"
    provider = "mailwarden"
    risk = Risk.MEDIUM
    reversible = True
    description = (
        "Pause sending at Mailwarden's gate for a campaign, sending domain, mailbox provider, "
        "sending IP or everything; undo resumes through a warm-up plan."
    )
    params_model = PauseParams

    def __init__(
        self,
        store: PauseStore,
        clock: Clock,
        planner: WarmupPlanner | None = None,
        changed: Changed | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._planner = planner
        self._changed = changed or (lambda: None)

    def plan(self, params: PauseParams) -> Plan:
        """Say whether the scope would stop sending; an existing pause leaves it as it is."""
        holder = self._holder(params, self._clock.now())
        notes = [f"undo resumes at a warm-up ramp ({self._ramp()})"] if params.warmup else []
        if holder is not None:
            note = f"already paused by run {holder.run_key} ({holder.reason})"
            return Plan(self.name, f"{params.target} is already paused", (), True, (note,))
        change = Change(params.target, "sending", "paused")
        return Plan(self.name, f"pause {params.target}", (change,), True, tuple(notes))

    def execute(self, params: PauseParams, idempotency_key: str) -> Result:
        """Add the pause unless the scope is already paused."""
        now = self._clock.now()
        holder = self._holder(params, now)
        if holder is not None:
            return Result(None, (), (params.target,), {"run_key": idempotency_key})
        pause = Pause(
            run_key=idempotency_key,
            scope=params.scope,
            key=params.key or ALL,
            reason=params.reason,
            created_by=self.name,
            created_at=now,
            incident_id=params.source_incident,
            expires_at=params.expires_at,
        )
        self._store.add(pause)
        self._changed()
        details = {"run_key": idempotency_key, "before": {params.target: "sending"}}
        return Result(f"pause:{idempotency_key}", (params.target,), (), details)

    def verify(self, params: PauseParams) -> Verification:
        """The scope is paused now."""
        holder = self._holder(params, self._clock.now())
        ok = holder is not None
        detail = f"{params.target} paused" if ok else f"{params.target} is sending"
        return Verification(ok, detail, {"run_key": holder.run_key if holder else None})

    def undo(self, params: PauseParams, result: Result) -> Result:
        """Resume what this run paused; start the warm-up plan unless told not to."""
        run_key = str(result.details.get("run_key", ""))
        if params.target not in result.applied:
            return Result(None, (), result.applied, {})
        self._store.resume(run_key, self._clock.now(), self.name)
        details: dict[str, object] = {"resumed": params.target}
        if params.warmup and self._planner is not None:
            plan = self._planner.start(
                params.scope,
                params.key or ALL,
                created_by=self.name,
                incident_id=params.source_incident,
                source_run=run_key,
                plan_id=f"wu-{run_key}"[:64],
            )
            details.update(warmup_plan=plan.id, ramp=describe_ramp(plan), basis=plan.basis)
        self._changed()
        return Result(f"resume:{run_key}", (params.target,), (), details)

    def _holder(self, params: PauseParams, now: datetime) -> Pause | None:
        for pause in self._store.listed(active_at=now):
            if pause.scope == params.scope and pause.key == params.key:
                return pause
        return None

    def _ramp(self) -> str:
        if self._planner is None:
            return "none configured"
        steps = self._planner.policy.schedule
        return ", ".join(f"day {day}: {fraction:.0%}" for day, fraction in enumerate(steps, 1))


class QuarantineParams(BaseModel):
    """A list segment or an import batch to stop sending to, why, and until when."""

    segment: str | None = Field(default=None, min_length=1, max_length=200)
    batch: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=200)
    source_incident: str | None = None
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.segment is None) == (self.batch is None):
            raise ValueError("give exactly one of segment or batch")
        return self

    @property
    def kind(self) -> str:
        """segment or batch."""
        return "segment" if self.segment is not None else "batch"

    @property
    def name(self) -> str:
        """The segment's or batch's id."""
        return (self.segment or self.batch or "").strip()

    @property
    def target(self) -> str:
        """e.g. batch=import-2026-11-20."""
        return f"{self.kind}={self.name}"


class QuarantineSegmentAction(BaseAction[QuarantineParams]):
    """Quarantine a list segment or import batch: the gate denies sends to it."""

    name = "mailwarden.quarantine_segment"
    provider = "mailwarden"
    risk = Risk.LOW
    reversible = True
    description = "Stop sending to a list segment or import batch (reason, incident, expiry)."
    params_model = QuarantineParams

    def __init__(self, store: QuarantineStore, clock: Clock, changed: Changed | None = None):
        self._store = store
        self._clock = clock
        self._changed = changed or (lambda: None)

    def plan(self, params: QuarantineParams) -> Plan:
        """Say whether the segment would be quarantined."""
        if self._holder(params, self._clock.now()) is not None:
            return Plan(self.name, f"{params.target} is already quarantined", (), True)
        change = Change(params.target, "sending", "quarantined")
        return Plan(self.name, f"quarantine {params.target}", (change,), True)

    def execute(self, params: QuarantineParams, idempotency_key: str) -> Result:
        """Add the quarantine unless one is active."""
        now = self._clock.now()
        if self._holder(params, now) is not None:
            return Result(None, (), (params.target,), {"run_key": idempotency_key})
        row = Quarantine(
            run_key=idempotency_key,
            kind=params.kind,
            name=params.name,
            reason=params.reason,
            created_by=self.name,
            created_at=now,
            incident_id=params.source_incident,
            expires_at=params.expires_at,
        )
        self._store.add(row)
        self._changed()
        details = {"run_key": idempotency_key, "before": {params.target: "sending"}}
        return Result(f"quarantine:{idempotency_key}", (params.target,), (), details)

    def verify(self, params: QuarantineParams) -> Verification:
        """The segment is quarantined now."""
        ok = self._holder(params, self._clock.now()) is not None
        return Verification(ok, f"{params.target} {'quarantined' if ok else 'is sending'}")

    def undo(self, params: QuarantineParams, result: Result) -> Result:
        """Release what this run quarantined."""
        run_key = str(result.details.get("run_key", ""))
        if params.target not in result.applied:
            return Result(None, (), result.applied, {})
        self._store.release(run_key, self._clock.now(), self.name)
        self._changed()
        return Result(f"release:{run_key}", (params.target,), (), {})

    def _holder(self, params: QuarantineParams, now: datetime) -> Quarantine | None:
        for row in self._store.listed(active_at=now):
            if row.kind == params.kind and row.name == params.name:
                return row
        return None
