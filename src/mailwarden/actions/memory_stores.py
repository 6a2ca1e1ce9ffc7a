"""In-process stores for the gate's rules (tests, and processes without a database)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from mailwarden.actions.gate_records import Pause, Quarantine, WarmupPlan


class MemoryPauseStore:
    """A PauseStore in a dict."""

    def __init__(self) -> None:
        self._rows: dict[str, Pause] = {}
        self._lock = threading.Lock()

    def add(self, pause: Pause) -> bool:
        """Insert unless a pause with this run key exists."""
        with self._lock:
            if pause.run_key in self._rows:
                return False
            self._rows[pause.run_key] = pause
            return True

    def resume(self, run_key: str, at: datetime, by: str) -> bool:
        """Mark the run's pause resumed."""
        with self._lock:
            pause = self._rows.get(run_key)
            if pause is None or pause.resumed_at is not None:
                return False
            self._rows[run_key] = replace(pause, resumed_at=at, resumed_by=by)
            return True

    def get(self, run_key: str) -> Pause | None:
        """The pause made by this run."""
        with self._lock:
            return self._rows.get(run_key)

    def listed(self, *, active_at: datetime | None = None) -> list[Pause]:
        """Every pause (or the active ones), oldest first."""
        with self._lock:
            rows = sorted(self._rows.values(), key=lambda p: (p.created_at, p.run_key))
        return [p for p in rows if active_at is None or p.active(active_at)]


class MemoryQuarantineStore:
    """A QuarantineStore in a dict."""

    def __init__(self) -> None:
        self._rows: dict[str, Quarantine] = {}
        self._lock = threading.Lock()

    def add(self, quarantine: Quarantine) -> bool:
        """Insert unless a quarantine with this run key exists."""
        with self._lock:
            if quarantine.run_key in self._rows:
                return False
            self._rows[quarantine.run_key] = quarantine
            return True

    def release(self, run_key: str, at: datetime, by: str) -> bool:
        """Mark the run's quarantine released."""
        with self._lock:
            row = self._rows.get(run_key)
            if row is None or row.released_at is not None:
                return False
            self._rows[run_key] = replace(row, released_at=at, released_by=by)
            return True

    def listed(self, *, active_at: datetime | None = None) -> list[Quarantine]:
        """Every quarantine (or the active ones), oldest first."""
        with self._lock:
            rows = sorted(self._rows.values(), key=lambda q: (q.created_at, q.run_key))
        return [q for q in rows if active_at is None or q.active(active_at)]


class MemoryWarmupStore:
    """A WarmupStore in a dict."""

    def __init__(self) -> None:
        self._rows: dict[str, WarmupPlan] = {}
        self._lock = threading.Lock()

    def add(self, plan: WarmupPlan) -> bool:
        """Insert unless a plan with this id exists."""
        with self._lock:
            if plan.id in self._rows:
                return False
            self._rows[plan.id] = plan
            return True

    def get(self, plan_id: str) -> WarmupPlan | None:
        """One plan."""
        with self._lock:
            return self._rows.get(plan_id)

    def cancel(self, plan_id: str, at: datetime, by: str) -> bool:
        """Stop a plan early."""
        with self._lock:
            plan = self._rows.get(plan_id)
            if plan is None or plan.cancelled_at is not None:
                return False
            self._rows[plan_id] = plan.with_changes(cancelled_at=at, cancelled_by=by)
            return True

    def listed(self, *, active_at: datetime | None = None) -> list[WarmupPlan]:
        """Every plan (or the active ones), oldest first."""
        with self._lock:
            rows = sorted(self._rows.values(), key=lambda p: (p.started_at, p.id))
        return [p for p in rows if active_at is None or p.active(active_at)]
