"""The ActionRunner: plan → (approve) → execute → verify → undo, each step recorded once.

Idempotency: a run is keyed by its idempotency key. Executing a succeeded run again returns
it without touching the provider; a failed run (or a `running` one left by a crash, after
`stale_after`) is retried under the same key and the adapter's check-before-write keeps the
change from being applied twice. Undo reverts what the run owns: what this run's attempts
applied, including targets a lost-response attempt changed (they were in the first plan),
but never what was already so before the run began.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from mailwarden.actions.errors import ActionError, InvalidParamsError, NotReversibleError, scrub
from mailwarden.actions.port import Action, ActionRegistry, Plan, Result, Risk, parse_params
from mailwarden.actions.records import (
    FAILED,
    PLANNED,
    RUNNING,
    SUCCEEDED,
    UNDO_FAILED,
    UNDOING,
    UNDONE,
    Recorder,
    Run,
    RunError,
    RunLedger,
    StepRecord,
    redact_params,
)
from mailwarden.clock import Clock

log = logging.getLogger(__name__)


class RunConflictError(Exception):
    """The run is not in a state that allows this step (or another worker holds it)."""


class ApprovalRequiredError(Exception):
    """A medium- or high-risk action needs a person's approval before it runs."""


class ActionRunner:
    """Runs registered actions and records every step through the ledger and the recorder.

    The ledger keeps the run and its steps atomically; the recorder (e.g. the incident
    timeline) then receives the same step. A recorder that raises leaves the ledger correct
    and the error propagates to the caller.
    """

    def __init__(
        self,
        registry: ActionRegistry,
        ledger: RunLedger,
        clock: Clock,
        recorder: Recorder | None = None,
        *,
        secrets: Sequence[str] = (),
        stale_after: timedelta = timedelta(minutes=5),
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._registry = registry
        self._ledger = ledger
        self._recorder = recorder
        self._clock = clock
        self._secrets = tuple(secrets)
        self._stale_after = stale_after
        self._new_id = new_id

    @property
    def registry(self) -> ActionRegistry:
        """The actions this runner can run."""
        return self._registry

    def get(self, key: str) -> Run | None:
        """Return the run with this idempotency key."""
        return self._ledger.get(key)

    def plan(
        self,
        name: str,
        params: Mapping[str, Any] | BaseModel,
        *,
        requested_by: str,
        key: str | None = None,
        incident_id: str | None = None,
    ) -> Run:
        """Dry-run the action and open a run in `planned`; an existing key returns its run."""
        action = self._registry.get(name)
        parsed = parse_params(action, params)
        key = key or self._new_id()
        existing = self._ledger.get(key)
        if existing is not None:
            return self._same_request(existing, action, parsed)
        try:
            plan = action.plan(parsed)
        except ActionError as exc:
            raise self._scrubbed(exc) from None
        now = self._clock.now()
        run = Run(
            id=self._new_id(),
            key=key,
            action=action.name,
            provider=action.provider,
            risk=str(action.risk),
            params=parsed.model_dump(mode="json"),
            state=PLANNED,
            plan=plan.to_dict(),
            requested_by=requested_by,
            created_at=now,
            updated_at=now,
            incident_id=incident_id,
        )
        stored = self._ledger.create(run)
        if stored.id == run.id:
            self._finish(stored, self._step(stored, "plan", "succeeded", requested_by))
        return stored

    def execute(self, key: str, *, executed_by: str, approved_by: str | None = None) -> Run:
        """Apply a planned (or failed) run; a succeeded run is returned as it is."""
        run = self._require(key)
        if run.state in (SUCCEEDED, UNDOING, UNDONE, UNDO_FAILED):
            return run
        action = self._registry.get(run.action)
        self._check_approval(action, approved_by or run.approved_by)
        params = parse_params(action, run.params)
        run = self._claim(run, {PLANNED, FAILED}, RUNNING, executed_by, approved_by)
        try:
            result = action.execute(params, run.key)
        except Exception as exc:
            return self._fail(run, "execute", exc, FAILED, executed_by)
        owned = _owned(result, Plan.from_dict(run.plan), retried=run.attempts > 1)
        done = run.with_changes(
            state=SUCCEEDED,
            result=owned.to_dict(),
            provider_response_id=owned.provider_response_id,
            error=None,
            updated_at=self._clock.now(),
        )
        self._finish(done, self._step(done, "execute", "succeeded", executed_by, owned))
        return done

    def run(
        self,
        name: str,
        params: Mapping[str, Any] | BaseModel,
        *,
        key: str,
        executed_by: str,
        approved_by: str | None = None,
        incident_id: str | None = None,
    ) -> Run:
        """Plan and execute in one call (automatic low-risk steps, or already-approved ones)."""
        self.plan(name, params, requested_by=executed_by, key=key, incident_id=incident_id)
        return self.execute(key, executed_by=executed_by, approved_by=approved_by)

    def verify(self, key: str, *, by: str) -> Run:
        """Read the provider's state back and record whether the change took."""
        run = self._require(key)
        action = self._registry.get(run.action)
        try:
            verification = action.verify(parse_params(action, run.params))
        except Exception as exc:
            error = self._error(exc)
            self._finish(run, self._step(run, "verify", "failed", by, error=error))
            return run
        checked = run.with_changes(verified=verification.ok, updated_at=self._clock.now())
        outcome = "succeeded" if verification.ok else "mismatch"
        step = self._step(checked, "verify", outcome, by, extra=verification.to_dict())
        self._finish(checked, step)
        return checked

    def undo(self, key: str, *, executed_by: str, approved_by: str | None = None) -> Run:
        """Revert what a succeeded run applied; retry-safe; undone runs are returned as they are."""
        run = self._require(key)
        if run.state == UNDONE:
            return run
        action = self._registry.get(run.action)
        if not action.reversible:
            raise NotReversibleError(f"{action.name} cannot be undone", provider=action.provider)
        self._check_approval(action, approved_by)
        params = parse_params(action, run.params)
        run = self._claim(run, {SUCCEEDED, UNDO_FAILED}, UNDOING, executed_by, approved_by)
        try:
            result = action.undo(params, Result.from_dict(run.result or {}))
        except Exception as exc:
            return self._fail(run, "undo", exc, UNDO_FAILED, executed_by)
        done = run.with_changes(
            state=UNDONE, undo_result=result.to_dict(), error=None, updated_at=self._clock.now()
        )
        self._finish(done, self._step(done, "undo", "succeeded", executed_by, result))
        return done

    def steps(self, key: str) -> list[StepRecord]:
        """The run's recorded steps, oldest first."""
        return self._ledger.steps(key)

    def _require(self, key: str) -> Run:
        run = self._ledger.get(key)
        if run is None:
            raise KeyError(f"no action run with idempotency key {key!r}")
        return run

    def _same_request(self, existing: Run, action: Action[Any], params: BaseModel) -> Run:
        if existing.action != action.name or existing.params != params.model_dump(mode="json"):
            raise InvalidParamsError(
                f"idempotency key {existing.key!r} was already used for a different request",
                provider=action.provider,
            )
        return existing

    def _check_approval(self, action: Action[Any], approved_by: str | None) -> None:
        if action.risk is not Risk.LOW and not approved_by:
            raise ApprovalRequiredError(f"{action.name} is {action.risk} risk: needs approval")

    def _claim(
        self, run: Run, expect: set[str], state: str, by: str, approved_by: str | None
    ) -> Run:
        allowed = set(expect)
        now = self._clock.now()
        if run.state in (RUNNING, UNDOING) and now - run.updated_at >= self._stale_after:
            allowed.add(run.state)
        if run.state not in allowed:
            raise RunConflictError(f"run {run.key!r} is {run.state}; cannot start {state}")
        claimed = run.with_changes(
            state=state,
            executed_by=by,
            approved_by=approved_by or run.approved_by,
            attempts=run.attempts + 1,
            updated_at=now,
        )
        if not self._ledger.claim(run.key, frozenset(allowed), claimed):
            raise RunConflictError(f"run {run.key!r} was taken by another worker")
        return claimed

    def _fail(self, run: Run, step: str, exc: Exception, state: str, actor: str) -> Run:
        error = self._error(exc)
        failed = run.with_changes(state=state, error=error, updated_at=self._clock.now())
        self._finish(failed, self._step(failed, step, "failed", actor, error=error))
        return failed

    def _error(self, exc: Exception) -> RunError:
        if isinstance(exc, ActionError):
            return RunError(exc.kind, scrub(exc.message, self._secrets))
        message = scrub(f"{type(exc).__name__}: {exc}", self._secrets)[:500]
        log.error("action raised an unexpected error: %s", message)
        return RunError("internal", message)

    def _scrubbed(self, exc: ActionError) -> ActionError:
        exc.args = (scrub(exc.message, self._secrets),)
        return exc

    def _step(
        self,
        run: Run,
        step: str,
        outcome: str,
        actor: str,
        result: Result | None = None,
        *,
        error: RunError | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> StepRecord:
        action = self._registry.get(run.action)
        payload = result.to_dict() if result is not None else extra
        if step == "plan":
            payload = run.plan
        return StepRecord(
            run_id=run.id,
            key=run.key,
            action=run.action,
            provider=run.provider,
            step=step,
            outcome=outcome,
            actor=actor,
            at=self._clock.now(),
            params=redact_params(parse_params(action, run.params)),
            incident_id=run.incident_id,
            approved_by=run.approved_by,
            result=payload,
            provider_response_id=result.provider_response_id if result else None,
            error=error,
        )

    def _finish(self, run: Run, step: StepRecord) -> None:
        self._ledger.complete(run, step)
        if self._recorder is not None:
            self._recorder.record(step)


def _owned(result: Result, first_plan: Plan, *, retried: bool) -> Result:
    """What this run owns: what it applied now, plus, on a retry, planned targets already so.

    A retried run finding a planned target already changed means an earlier attempt of this
    run changed it and the answer was lost; the first plan's `before` is the state to restore.
    """
    before_run = {change.target: change.before for change in first_plan.changes}
    inherited = tuple(
        t for t in result.unchanged if retried and t in before_run and t not in result.applied
    )
    if not inherited:
        return result
    details = dict(result.details)
    before = dict(details.get("before", {}))
    before.update({target: before_run[target] for target in inherited})
    details["before"] = before
    return Result(
        provider_response_id=result.provider_response_id,
        applied=result.applied + inherited,
        unchanged=tuple(t for t in result.unchanged if t not in inherited),
        details=details,
    )
