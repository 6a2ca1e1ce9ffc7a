"""Provider-independent actions on Mailwarden's own state; `mailwarden.suppress` for now."""

from __future__ import annotations

import threading
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from mailwarden.actions.params import Addresses
from mailwarden.actions.port import BaseAction, Change, Plan, Result, Risk, Verification
from mailwarden.actions.records import Suppression, SuppressionStore
from mailwarden.clock import Clock


class SuppressParams(BaseModel):
    """Addresses to put on Mailwarden's own list, why, from which incident, until when."""

    addresses: Addresses
    reason: str = Field(min_length=1, max_length=200)
    source_incident: str | None = None
    expires_at: AwareDatetime | None = None


class MemorySuppressionStore:
    """An in-process SuppressionStore (tests, and processes without a database)."""

    def __init__(self) -> None:
        self._entries: dict[str, Suppression] = {}
        self._lock = threading.Lock()

    def get(self, address: str) -> Suppression | None:
        """Return the entry for the address, expired or not."""
        with self._lock:
            return self._entries.get(address.lower())

    def put(self, suppression: Suppression, now: datetime) -> bool:
        """Add the entry unless an active one exists."""
        with self._lock:
            current = self._entries.get(suppression.address)
            if current is not None and current.active(now):
                return False
            self._entries[suppression.address] = suppression
            return True

    def remove(self, address: str, run_key: str) -> bool:
        """Delete the entry if the run with run_key added it."""
        with self._lock:
            current = self._entries.get(address.lower())
            if current is None or current.run_key != run_key:
                return False
            del self._entries[address.lower()]
            return True


class SuppressAction(BaseAction[SuppressParams]):
    """Put addresses on Mailwarden's own suppression list (the sending gate honours it)."""

    name = "mailwarden.suppress"
    provider = "mailwarden"
    risk = Risk.LOW
    reversible = True
    description = "Add addresses to Mailwarden's own suppression list (reason, incident, expiry)."
    params_model = SuppressParams

    def __init__(self, store: SuppressionStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def plan(self, params: SuppressParams) -> Plan:
        """Say which addresses would be added; already-suppressed ones stay as they are."""
        now = self._clock.now()
        changes = tuple(
            Change(address, self._state(address, now), "suppressed")
            for address in params.addresses
            if self._state(address, now) != "suppressed"
        )
        summary = f"suppress {len(changes)} of {len(params.addresses)} address(es)"
        return Plan(self.name, summary, changes, reversible=True)

    def execute(self, params: SuppressParams, idempotency_key: str) -> Result:
        """Add each address unless an active suppression exists."""
        now = self._clock.now()
        applied: list[str] = []
        unchanged: list[str] = []
        for address in params.addresses:
            entry = Suppression(
                address=address,
                reason=params.reason,
                created_by=self.name,
                created_at=now,
                source_incident=params.source_incident,
                run_key=idempotency_key,
                expires_at=params.expires_at,
            )
            (applied if self._store.put(entry, now) else unchanged).append(address)
        details = {"run_key": idempotency_key, "before": dict.fromkeys(applied, "absent")}
        return Result(None, tuple(applied), tuple(unchanged), details)

    def verify(self, params: SuppressParams) -> Verification:
        """Every address is actively suppressed."""
        now = self._clock.now()
        missing = [a for a in params.addresses if self._state(a, now) != "suppressed"]
        detail = "all suppressed" if not missing else f"not suppressed: {', '.join(missing)}"
        return Verification(not missing, detail, {"missing": missing})

    def undo(self, params: SuppressParams, result: Result) -> Result:
        """Remove the entries this run added (others' entries are left alone)."""
        run_key = str(result.details.get("run_key", ""))
        removed = [a for a in result.applied if self._store.remove(a, run_key)]
        kept = tuple(a for a in result.applied if a not in removed)
        return Result(None, tuple(removed), kept, {})

    def _state(self, address: str, now: datetime) -> str:
        entry = self._store.get(address)
        if entry is None:
            return "absent"
        return "suppressed" if entry.active(now) else "expired"
