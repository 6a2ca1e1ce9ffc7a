"""What the runner keeps: one Run per idempotency key, one StepRecord per step; the ports.

A run moves planned → running → succeeded | failed; a failed (or stale running) run may be
retried under the same key; a succeeded run may be undone: undoing → undone | undo_failed.
The ledger (`RunLedger`) is the runner's own memory for idempotency; a `Recorder` (the
incident timeline, or the default below) receives one entry per step, after the ledger.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Protocol

from pydantic import BaseModel

PLANNED: Final = "planned"
RUNNING: Final = "running"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
UNDOING: Final = "undoing"
UNDONE: Final = "undone"
UNDO_FAILED: Final = "undo_failed"
RUN_STATES: Final = (PLANNED, RUNNING, SUCCEEDED, FAILED, UNDOING, UNDONE, UNDO_FAILED)
STEPS: Final = ("plan", "execute", "verify", "undo")
REDACTED: Final = "**********"
_SECRET_NAME = re.compile(r"secret|password|passwd|token|credential|private_key|api_key$", re.I)


@dataclass(frozen=True, slots=True)
class RunError:
    """Why a step failed: a stable kind and a message without secrets."""

    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON object."""
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True)
class Run:
    """One action run under one idempotency key: its parameters, state and outcome."""

    id: str
    key: str
    action: str
    provider: str
    risk: str
    params: Mapping[str, Any]
    state: str
    plan: Mapping[str, Any]
    requested_by: str
    created_at: datetime
    updated_at: datetime
    incident_id: str | None = None
    approved_by: str | None = None
    executed_by: str | None = None
    attempts: int = 0
    result: Mapping[str, Any] | None = None
    provider_response_id: str | None = None
    error: RunError | None = None
    verified: bool | None = None
    undo_result: Mapping[str, Any] | None = None

    def with_changes(self, **changes: Any) -> Run:
        """Return a copy with the given fields changed."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step of a run as the timeline sees it: who, what, with which parameters, outcome."""

    run_id: str
    key: str
    action: str
    provider: str
    step: str
    outcome: str
    actor: str
    at: datetime
    params: Mapping[str, Any]
    incident_id: str | None = None
    approved_by: str | None = None
    result: Mapping[str, Any] | None = None
    provider_response_id: str | None = None
    error: RunError | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object (times as ISO 8601)."""
        return {
            "run_id": self.run_id,
            "key": self.key,
            "action": self.action,
            "provider": self.provider,
            "step": self.step,
            "outcome": self.outcome,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "params": dict(self.params),
            "incident_id": self.incident_id,
            "approved_by": self.approved_by,
            "result": dict(self.result) if self.result is not None else None,
            "provider_response_id": self.provider_response_id,
            "error": self.error.to_dict() if self.error else None,
        }


class Recorder(Protocol):
    """Receives one entry per step (the incidents timeline implements this)."""

    def record(self, entry: StepRecord) -> None:
        """Keep the entry; entries are never edited or removed."""
        ...


class RunLedger(Protocol):
    """The runner's durable memory: runs by idempotency key, and their steps."""

    def create(self, run: Run) -> Run:
        """Insert the run unless its key exists; return the stored run either way."""
        ...

    def get(self, key: str) -> Run | None:
        """Return the run with this idempotency key."""
        ...

    def claim(self, key: str, expect: frozenset[str], run: Run) -> bool:
        """Compare-and-set: store run if the stored state is in expect and the stored attempts
        are run.attempts - 1 (every claim counts one attempt); False if another worker won."""
        ...

    def complete(self, run: Run, step: StepRecord) -> None:
        """Store the run's new state and append its step record, atomically."""
        ...

    def steps(self, key: str) -> list[StepRecord]:
        """The run's step records, oldest first."""
        ...


@dataclass
class MemoryRecorder:
    """Keeps entries in a list; for tests and for processes without a timeline."""

    entries: list[StepRecord] = field(default_factory=list)

    def record(self, entry: StepRecord) -> None:
        """Append the entry."""
        self.entries.append(entry)


@dataclass
class TeeRecorder:
    """Hands each entry to several recorders in order (e.g. ledger view + incident timeline)."""

    recorders: tuple[Recorder, ...]

    def record(self, entry: StepRecord) -> None:
        """Record the entry with every recorder."""
        for recorder in self.recorders:
            recorder.record(entry)


class MemoryLedger:
    """A thread-safe in-process RunLedger (tests, and embedded use without a database)."""

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._steps: dict[str, list[StepRecord]] = {}
        self._lock = threading.Lock()

    def create(self, run: Run) -> Run:
        """Insert the run unless its key exists; return the stored run either way."""
        with self._lock:
            return self._runs.setdefault(run.key, run)

    def get(self, key: str) -> Run | None:
        """Return the run with this idempotency key."""
        with self._lock:
            return self._runs.get(key)

    def claim(self, key: str, expect: frozenset[str], run: Run) -> bool:
        """Store run if the stored state is in expect and its attempts are one fewer."""
        with self._lock:
            current = self._runs.get(key)
            if current is None or current.state not in expect:
                return False
            if current.attempts != run.attempts - 1:
                return False
            self._runs[key] = run
            return True

    def complete(self, run: Run, step: StepRecord) -> None:
        """Store the run and append the step."""
        with self._lock:
            self._runs[run.key] = run
            self._steps.setdefault(run.key, []).append(step)

    def steps(self, key: str) -> list[StepRecord]:
        """The run's step records, oldest first."""
        with self._lock:
            return list(self._steps.get(key, []))


def redact_params(params: BaseModel) -> dict[str, Any]:
    """The parameters as JSON, with any secret-looking field masked."""
    redacted: dict[str, Any] = _redact(params.model_dump(mode="json"))
    return redacted


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _SECRET_NAME.search(str(key)) else _redact(inner)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [_redact(inner) for inner in value]
    return value


@dataclass(frozen=True, slots=True)
class Suppression:
    """An address on Mailwarden's own suppression list, why, for whom, and until when."""

    address: str
    reason: str
    created_by: str
    created_at: datetime
    source_incident: str | None = None
    run_key: str | None = None
    expires_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """True unless the suppression has expired."""
        return self.expires_at is None or self.expires_at > now


class SuppressionStore(Protocol):
    """Mailwarden's suppression list (the sending gate reads it)."""

    def get(self, address: str) -> Suppression | None:
        """Return the entry for the (lower-cased) address, expired or not."""
        ...

    def get_many(self, addresses: Sequence[str]) -> dict[str, Suppression]:
        """The entries of those (lower-cased) addresses that have one, expired or not."""
        ...

    def put(self, suppression: Suppression, now: datetime) -> bool:
        """Add the entry unless an active one exists (an expired one is replaced)."""
        ...

    def put_many(self, entries: Sequence[Suppression], now: datetime) -> list[bool]:
        """put() for each entry, in one transaction; True for each entry added."""
        ...

    def remove(self, address: str, run_key: str) -> bool:
        """Delete the entry if the run with run_key added it; True if deleted."""
        ...
