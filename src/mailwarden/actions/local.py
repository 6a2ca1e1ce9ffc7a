"""Provider-independent actions on Mailwarden's own state; `mailwarden.suppress` for now."""

from __future__ import annotations

import threading
from collections.abc import Sequence
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

    def get_many(self, addresses: Sequence[str]) -> dict[str, Suppression]:
        """The entries of those addresses that have one, expired or not."""
        with self._lock:
            found = ((a.lower(), self._entries.get(a.lower())) for a in addresses)
            return {address: entry for address, entry in found if entry is not None}

    def put(self, suppression: Suppression, now: datetime) -> bool:
        """Add the entry unless an active one exists."""
        return self.put_many([suppression], now)[0]

    def put_many(self, entries: Sequence[Suppression], now: datetime) -> list[bool]:
        """Add each entry unless an active one exists."""
        added = []
        with self._lock:
            for suppression in entries:
                address = suppression.address.lower()
                current = self._entries.get(address)
                fresh = current is None or not current.active(now)
                if fresh:
                    self._entries[address] = suppression
                added.append(fresh)
        return added

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
        states = self._states(params.addresses)
        changes = tuple(
            Change(address, state, "suppressed")
            for address, state in zip(params.addresses, states, strict=True)
            if state != "suppressed"
        )
        summary = f"suppress {len(changes)} of {len(params.addresses)} address(es)"
        return Plan(self.name, summary, changes, reversible=True)

    def execute(self, params: SuppressParams, idempotency_key: str) -> Result:
        """Add each address unless an active suppression exists."""
        now = self._clock.now()
        entries = [
            Suppression(
                address=address,
                reason=params.reason,
                created_by=self.name,
                created_at=now,
                source_incident=params.source_incident,
                run_key=idempotency_key,
                expires_at=params.expires_at,
            )
            for address in params.addresses
        ]
        added = self._store.put_many(entries, now)
        applied = [a for a, new in zip(params.addresses, added, strict=True) if new]
        unchanged = [a for a, new in zip(params.addresses, added, strict=True) if not new]
        details = {"run_key": idempotency_key, "before": dict.fromkeys(applied, "absent")}
        return Result(None, tuple(applied), tuple(unchanged), details)

    def verify(self, params: SuppressParams) -> Verification:
        """Every address is actively suppressed."""
        states = self._states(params.addresses)
        missing = [
            a for a, state in zip(params.addresses, states, strict=True) if state != "suppressed"
        ]
        detail = "all suppressed" if not missing else f"not suppressed: {', '.join(missing)}"
        return Verification(not missing, detail, {"missing": missing})

    def undo(self, params: SuppressParams, result: Result) -> Result:
        """Remove the entries this run added (others' entries are left alone)."""
        run_key = str(result.details.get("run_key", ""))
        removed = [a for a in result.applied if self._store.remove(a, run_key)]
        kept = tuple(a for a in result.applied if a not in removed)
        return Result(None, tuple(removed), kept, {})

    def _states(self, addresses: Sequence[str]) -> list[str]:
        """absent, suppressed or expired, for each address (one look-up for them all)."""
        now = self._clock.now()
        found = self._store.get_many(addresses)
        states = []
        for address in addresses:
            entry = found.get(address.lower())
            if entry is None:
                states.append("absent")
            else:
                states.append("suppressed" if entry.active(now) else "expired")
        return states
