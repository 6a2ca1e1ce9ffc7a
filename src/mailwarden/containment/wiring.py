"""Build containment and recovery from settings (called by the composition root, app.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from mailwarden.actions.approvals import ApprovalDesk
from mailwarden.actions.delisting import DelistingDesk
from mailwarden.actions.gate import SendingGate
from mailwarden.actions.port import ActionRegistry
from mailwarden.actions.records import Recorder, StepRecord, TeeRecorder
from mailwarden.actions.reminders import Reminder, ReminderPolicy, Reminders
from mailwarden.actions.runner import ActionRunner
from mailwarden.actions.sending import PauseSendingAction, QuarantineSegmentAction
from mailwarden.actions.warmup import WarmupPlanner, WarmupPolicy, parse_schedule
from mailwarden.bus.port import Bus
from mailwarden.clock import Clock
from mailwarden.config import Settings
from mailwarden.containment.params import ParamResolver
from mailwarden.containment.playbook import EmergencyRule, PlaybookContainment
from mailwarden.containment.recovery import RecoveryWatch
from mailwarden.containment.timeline import COMMANDER, ActionTimeline
from mailwarden.containment.volume import RollupVolume
from mailwarden.incidents.desk import UnknownIncidentError
from mailwarden.incidents.service import IncidentService
from mailwarden.playbooks.runner import TaskRunner
from mailwarden.store.approvals_repo import SqlApprovalStore, SqlDelistingStore, SqlReminderLog
from mailwarden.store.events_repo import EventStore
from mailwarden.store.gate_repo import (
    SqlGateSource,
    SqlPauseStore,
    SqlQuarantineStore,
    SqlSendCounts,
    SqlSuppressionList,
    SqlWarmupStore,
)


@dataclass(slots=True)
class GateParts:
    """The gate's rule stores, the warm-up planner and the gate itself."""

    pauses: SqlPauseStore
    quarantines: SqlQuarantineStore
    warmups: SqlWarmupStore
    suppressions: SqlSuppressionList
    planner: WarmupPlanner
    gate: SendingGate


@dataclass(slots=True)
class Containment:
    """Approvals, the sending gate, warm-up, delistings and reminders, wired together."""

    desk: ApprovalDesk
    parts: GateParts
    delistings: DelistingDesk
    reminders: Reminders
    reminder_log: SqlReminderLog
    timeline: ActionTimeline
    playbook: PlaybookContainment
    recovery: RecoveryWatch

    @property
    def gate(self) -> SendingGate:
        """The sending gate."""
        return self.parts.gate

    def tick(self, now: datetime) -> list[Reminder]:
        """Send the reminders due at now."""
        return self.reminders.tick(now)


def gate_parts(settings: Settings, engine: Engine, clock: Clock) -> GateParts:
    """The gate over the database, and the planner its pause undo uses."""
    warmups = SqlWarmupStore(engine)
    policy = WarmupPolicy(
        schedule=parse_schedule(settings.warmup_schedule),
        default_per_minute=settings.warmup_default_per_minute,
    )
    planner = WarmupPlanner(warmups, clock, RollupVolume(SqlSendCounts(engine)), policy)
    gate = SendingGate(
        SqlGateSource(engine),
        clock,
        refresh_seconds=settings.gate_refresh_seconds,
        ttl_seconds=settings.gate_ttl_seconds,
    )
    return GateParts(
        SqlPauseStore(engine),
        SqlQuarantineStore(engine),
        warmups,
        SqlSuppressionList(engine),
        planner,
        gate,
    )


def register_gate_actions(registry: ActionRegistry, parts: GateParts, clock: Clock) -> None:
    """Add mailwarden.pause_sending and mailwarden.quarantine_segment to the registry."""
    registry.register(PauseSendingAction(parts.pauses, clock, parts.planner))
    registry.register(QuarantineSegmentAction(parts.quarantines, clock))


@dataclass(frozen=True, slots=True)
class GateRefresh:
    """A recorder that reloads the gate after one of Mailwarden's own actions changed a rule."""

    gate: SendingGate

    def record(self, entry: StepRecord) -> None:
        """Reload on a succeeded execute or undo of a mailwarden.* action."""
        own = entry.provider == "mailwarden" and entry.step in ("execute", "undo")
        if own and entry.outcome == "succeeded":
            self.gate.invalidate()


def run_recorder(timeline: ActionTimeline, parts: GateParts) -> Recorder:
    """What every run step goes to: the timeline and audit log, then the gate."""
    return TeeRecorder((timeline, GateRefresh(parts.gate)))


def emergency_rules(settings: Settings) -> list[EmergencyRule]:
    """The emergency rule from settings; none unless switched on."""
    if not settings.emergency_containment_enabled:
        return []
    return [
        EmergencyRule(
            name=settings.emergency_rule_name,
            action=settings.emergency_action,
            severities=frozenset(_csv(settings.emergency_severities)),
            finding_kinds=frozenset(_csv(settings.emergency_finding_kinds)),
        )
    ]


def build_containment(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    bus: Bus,
    *,
    runner: ActionRunner,
    incidents: IncidentService,
    tasks: TaskRunner | None,
    events: EventStore,
    parts: GateParts,
    timeline: ActionTimeline,
) -> Containment:
    """Approvals, playbook actions, recovery warm-up, delistings and reminders, installed."""

    def commander_of(ref: str) -> str | None:
        try:
            held = incidents.get(ref).roles.get(COMMANDER)
        except UnknownIncidentError:
            return None
        return held.person if held is not None else None

    desk = ApprovalDesk(
        runner,
        SqlApprovalStore(engine),
        clock,
        log=timeline,
        audit=timeline.audit,
        commander_of=commander_of,
    )
    resolver = ParamResolver(lambda kind, since: events.events(type_=kind, since=since))
    playbook = PlaybookContainment(
        desk, incidents, tasks, resolver, clock, emergency=emergency_rules(settings)
    )
    playbook.install(bus)
    recovery = RecoveryWatch(desk, incidents, parts.planner, timeline)
    if settings.recovery_auto_warmup:
        recovery.install()
    delistings = DelistingDesk(SqlDelistingStore(engine), clock, timeline)
    reminder_log = SqlReminderLog(engine)
    reminders = Reminders(
        reminder_log,
        timeline.remind,
        pauses=parts.pauses,
        quarantines=parts.quarantines,
        suppressions=parts.suppressions,
        delistings=delistings.store,
        warmups=parts.warmups,
        policy=ReminderPolicy(
            forgotten_after=timedelta(hours=settings.reminder_forgotten_hours),
            expiry_notice=timedelta(hours=settings.reminder_expiry_notice_hours),
            delisting_after=timedelta(hours=settings.reminder_delisting_hours),
        ),
    )
    incidents.on_tick(reminders.tick)
    return Containment(
        desk, parts, delistings, reminders, reminder_log, timeline, playbook, recovery
    )


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
