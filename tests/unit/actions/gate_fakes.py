"""An in-memory gate world: rule stores, a suppression list, a planner and a gate over them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mailwarden.actions.gate import GateQuery, GateRules, SendingGate, Suppressed
from mailwarden.actions.gate_records import ALL
from mailwarden.actions.local import MemorySuppressionStore, SuppressAction
from mailwarden.actions.memory_stores import (
    MemoryPauseStore,
    MemoryQuarantineStore,
    MemoryWarmupStore,
)
from mailwarden.actions.port import ActionRegistry
from mailwarden.actions.records import MemoryLedger, MemoryRecorder, StepRecord, Suppression
from mailwarden.actions.runner import ActionRunner
from mailwarden.actions.sending import PauseSendingAction, QuarantineSegmentAction
from mailwarden.actions.warmup import WarmupPlanner, WarmupPolicy
from mailwarden.clock import FakeClock

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@dataclass
class FixedVolume:
    """Normal volume as configured by a test (None: no history)."""

    rates: Mapping[str, float] | None = None
    asked: list[tuple[str, str]] = field(default_factory=list)

    def per_minute(self, scope: str, key: str, before: datetime) -> Mapping[str, float] | None:
        self.asked.append((scope, key))
        return self.rates


class ListSuppressions(MemorySuppressionStore):
    """The memory suppression store, listable."""

    def all(self) -> list[Suppression]:
        return list(self._entries.values())


class MemoryGateSource:
    """Loads the snapshot from the memory stores; the fingerprint counts loads asked for."""

    def __init__(self, world: GateWorld) -> None:
        self.world = world
        self.version = 0
        self.loads = 0
        self.broken = False

    def fingerprint(self) -> str:
        if self.broken:
            raise RuntimeError("database is down")
        return str(self.version)

    def load(self, now: datetime) -> GateRules:
        self.loads += 1
        suppressed = {
            s.address: Suppressed(s.reason, s.expires_at) for s in self.world.suppressions.all()
        }
        return GateRules.build(
            now,
            self.world.pauses.listed(active_at=now),
            self.world.quarantines.listed(active_at=now),
            suppressed,
            self.world.warmups.listed(active_at=now),
        )


class GateWorld:
    """Stores, actions, a runner and a gate that reloads on every step (like the app)."""

    def __init__(self, volume: FixedVolume | None = None, schedule: tuple[float, ...] = ()):
        self.clock = FakeClock(T0)
        self.now = 0.0
        self.pauses = MemoryPauseStore()
        self.quarantines = MemoryQuarantineStore()
        self.warmups = MemoryWarmupStore()
        self.suppressions = ListSuppressions()
        self.volume = volume or FixedVolume({ALL: 1000.0, "gmail": 600.0, "yahoo": 100.0})
        policy = WarmupPolicy(schedule=schedule) if schedule else WarmupPolicy()
        self.planner = WarmupPlanner(self.warmups, self.clock, self.volume, policy)
        self.source = MemoryGateSource(self)
        self.gate = SendingGate(
            self.source, self.clock, monotonic=lambda: self.now, background=False
        )
        self.recorder = MemoryRecorder()
        registry = ActionRegistry(
            [
                PauseSendingAction(self.pauses, self.clock, self.planner),
                QuarantineSegmentAction(self.quarantines, self.clock),
                SuppressAction(self.suppressions, self.clock),
            ]
        )
        self.runner = ActionRunner(registry, MemoryLedger(), self.clock, _Refresh(self))

    def ask(self, **fields: str) -> tuple[str, int | None, list[str]]:
        decision = self.gate.check(GateQuery(**fields))
        return decision.decision, decision.rate_per_minute, list(decision.reasons)

    def run(self, action: str, run_key: str, /, **params: object) -> None:
        run = self.runner.run(action, params, key=run_key, executed_by="carol", approved_by="carol")
        assert run.state == "succeeded", run.error


@dataclass
class _Refresh:
    world: GateWorld

    def record(self, entry: StepRecord) -> None:
        self.world.source.version += 1
        if entry.step in ("execute", "undo"):
            self.world.gate.invalidate()
