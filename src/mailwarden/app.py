"""The composition root: settings -> adapters -> services. The only place that wires things."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine

from mailwarden.actions import local as local_actions
from mailwarden.actions import memory_stores as gate_memory
from mailwarden.actions.port import Action, ActionRegistry
from mailwarden.actions.providers import mailgun as mailgun_actions
from mailwarden.actions.providers import postmark as postmark_actions
from mailwarden.actions.providers import sendgrid as sendgrid_actions
from mailwarden.actions.providers import ses as ses_actions
from mailwarden.actions.records import Recorder
from mailwarden.actions.runner import ActionRunner
from mailwarden.actions.sending import PauseSendingAction, QuarantineSegmentAction
from mailwarden.auth.service import Auth, AuthPolicy, build_auth
from mailwarden.auth.sessions import SessionPolicy
from mailwarden.bus.memory import InProcessBus
from mailwarden.bus.port import Bus
from mailwarden.bus.redis_streams import RedisStreamsBus, StreamOptions
from mailwarden.clock import Clock, SystemClock
from mailwarden.config import Settings
from mailwarden.containment import wiring as containment_wiring
from mailwarden.containment.timeline import ActionTimeline
from mailwarden.detect.engine import DetectionEngine
from mailwarden.detect.model import FINDINGS_TOPIC, Finding
from mailwarden.detect.policy import load_policy
from mailwarden.events.ingest import IngestService
from mailwarden.events.providers.base import HttpFetcher, Provider, ReplayGuard
from mailwarden.events.providers.fetch import HttpsFetcher
from mailwarden.events.providers.mailgun import MailgunProvider
from mailwarden.events.providers.ndjson import NdjsonProvider
from mailwarden.events.providers.postmark import PostmarkProvider
from mailwarden.events.providers.rawmail import RawMailProvider
from mailwarden.events.providers.sendgrid import SendGridProvider
from mailwarden.events.providers.ses import SesProvider
from mailwarden.incidents.model import INCIDENT_TYPES, SEVERITY_LEVELS
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.severity import load_severity_rules
from mailwarden.playbooks.library import PlaybookLibrary
from mailwarden.playbooks.ports import ActionCatalog
from mailwarden.playbooks.runner import TaskRunner
from mailwarden.sla.monitor import ResponseMonitor
from mailwarden.sla.policy import load_sla_policy
from mailwarden.store import migrate
from mailwarden.store.actions_repo import SqlRunLedger, SqlSuppressionStore
from mailwarden.store.engine import make_engine
from mailwarden.store.events_repo import EventStore
from mailwarden.store.findings_repo import FindingStore
from mailwarden.store.incidents_repo import EventSamples, SqlIncidentRepository
from mailwarden.store.rollups_repo import RollupStore
from mailwarden.store.tasks_repo import SqlTaskRepository
from mailwarden.store.team_repo import SqlTeamRepository
from mailwarden.store.tokens import DatabaseReplayGuard
from mailwarden.team.service import TeamService


@dataclass(slots=True)
class Services:
    """Everything the doors (web, CLI, worker) need, built once."""

    settings: Settings
    engine: Engine
    clock: Clock
    bus: Bus
    store: EventStore
    ingest: IngestService
    auth: Auth | None = None
    incidents: IncidentService | None = None
    actions: ActionRunner | None = None
    detection: DetectionEngine | None = None
    team: TeamService | None = None
    tasks: TaskRunner | None = None
    monitor: ResponseMonitor | None = None
    containment: containment_wiring.Containment | None = None

    def close(self) -> None:
        """Write the rollup counts still pending, then release connections."""
        try:
            if self.detection is not None:
                self.detection.flush()
        finally:
            self.engine.dispose()
            if isinstance(self.bus, RedisStreamsBus):
                self.bus.close()


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    fetcher: HttpFetcher | None = None,
    upgrade_schema: bool = True,
) -> Services:
    """Build the services from settings; migrate the schema unless told not to."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    fetcher = fetcher or HttpsFetcher()
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    if upgrade_schema:
        migrate.upgrade(engine)
    store = EventStore(engine)
    bus = build_bus(settings)
    providers = build_providers(settings, clock, fetcher, DatabaseReplayGuard(engine))
    ingest = IngestService(store, providers, bus, clock, fetcher)
    auth = build_auth(engine, clock, auth_policy(settings))
    incidents = build_incidents(engine, clock, bus)
    timeline = ActionTimeline(incidents, auth.audit.record)  # run steps: timeline + audit log
    gate = containment_wiring.gate_parts(settings, engine, clock)
    recorder = containment_wiring.run_recorder(timeline, gate)
    actions = build_actions(settings, engine, clock, recorder=recorder)
    containment_wiring.register_gate_actions(actions.registry, gate, clock)
    detection = (
        build_detection(settings, engine, clock, bus) if settings.detection_enabled else None
    )
    team, tasks, monitor = build_response(settings, engine, clock, incidents, actions.registry)
    containment = containment_wiring.build_containment(
        settings,
        engine,
        clock,
        bus,
        runner=actions,
        incidents=incidents,
        tasks=tasks,
        events=store,
        parts=gate,
        timeline=timeline,
    )
    return Services(
        settings,
        engine,
        clock,
        bus,
        store,
        ingest,
        auth=auth,
        incidents=incidents,
        actions=actions,
        detection=detection,
        team=team,
        tasks=tasks,
        monitor=monitor,
        containment=containment,
    )


def build_bus(settings: Settings) -> Bus:
    """The in-process bus, or Redis Streams when MAILWARDEN_BUS_URL names a Redis server."""
    url = settings.bus_url.strip()
    if url in ("", "memory://"):
        return InProcessBus()
    scheme = url.split("://", 1)[0] if "://" in url else url[:20]
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(
            f"MAILWARDEN_BUS_URL: expected redis://, rediss:// or unix://, got {scheme!r}"
        )
    options = StreamOptions(
        prefix=settings.bus_prefix,
        partitions=settings.bus_partitions,
        maxlen=settings.bus_maxlen,
        claim_idle_ms=settings.bus_claim_idle_ms,
        max_deliveries=settings.bus_max_deliveries,
    )
    return RedisStreamsBus.from_url(
        url, options=options, decoders={FINDINGS_TOPIC: Finding.from_dict}
    )


def build_providers(
    settings: Settings, clock: Clock, fetcher: HttpFetcher, guard: ReplayGuard
) -> dict[str, Provider]:
    """Create one adapter per provider, each with only its own secrets."""
    max_age = timedelta(seconds=settings.webhook_max_age_seconds)
    providers: list[Provider] = [
        SendGridProvider(_secret(settings.sendgrid_webhook_public_key), clock, max_age=max_age),
        MailgunProvider(
            _secret(settings.mailgun_webhook_signing_key), clock, guard, max_age=max_age
        ),
        PostmarkProvider(
            _secret(settings.postmark_webhook_username),
            _secret(settings.postmark_webhook_password),
        ),
        SesProvider(settings.topic_arns(), fetcher, clock),
        RawMailProvider(),
        NdjsonProvider(),
    ]
    return {provider.name: provider for provider in providers}


def build_detection(settings: Settings, engine: Engine, clock: Clock, bus: Bus) -> DetectionEngine:
    """The detection engine, fed by the "events" topic, publishing on "findings"."""
    detection = DetectionEngine(
        clock,
        rollups=RollupStore(engine),
        findings=FindingStore(engine),
        bus=bus,
        policy=load_policy(settings.detection_policy_file),
    )
    detection.subscribe(bus)
    return detection


def build_incidents(engine: Engine, clock: Clock, bus: Bus) -> IncidentService:
    """The incident service over the database, fed by the "findings" topic."""
    repo = SqlIncidentRepository(engine)
    service = IncidentService(repo, clock, load_severity_rules(), samples=EventSamples(engine))
    bus.subscribe_messages("findings", service.on_messages)
    return service


def build_response(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    incidents: IncidentService,
    catalog: ActionCatalog,
) -> tuple[TeamService, TaskRunner, ResponseMonitor]:
    """The team directory, the playbook runner and the SLA/escalation monitor, hooked into
    the incident service (observer, close guard, tick)."""
    team = TeamService(
        SqlTeamRepository(engine, clock), incident_types=INCIDENT_TYPES, severities=SEVERITY_LEVELS
    )
    team_dir = Path(settings.playbooks_dir) if settings.playbooks_dir else None
    task_repo = SqlTaskRepository(engine)
    tasks = TaskRunner(incidents, task_repo, PlaybookLibrary(team_dir, catalog), clock)
    tasks.install()
    sla = load_sla_policy(settings.sla_file, settings.team_timezone)
    monitor = ResponseMonitor(incidents, team, sla, clock, tasks=task_repo)
    monitor.install()
    return team, tasks, monitor


def action_catalog(settings: Settings) -> ActionRegistry:
    """The actions these settings would register, without a database (to check playbooks)."""
    clock = SystemClock()
    local = local_actions.SuppressAction(local_actions.MemorySuppressionStore(), clock)
    registry = ActionRegistry([local])
    registry.register(PauseSendingAction(gate_memory.MemoryPauseStore(), clock))
    registry.register(QuarantineSegmentAction(gate_memory.MemoryQuarantineStore(), clock))
    for action in provider_actions(settings, clock):
        registry.register(action)
    return registry


def build_actions(
    settings: Settings, engine: Engine, clock: Clock, recorder: Recorder | None = None
) -> ActionRunner:
    """Mailwarden's own actions plus those of each configured provider, and their runner."""
    registry = ActionRegistry([local_actions.SuppressAction(SqlSuppressionStore(engine), clock)])
    for action in provider_actions(settings, clock):
        registry.register(action)
    # The incident timeline plugs in as the runner's recorder; the ledger keeps every step.
    return ActionRunner(
        registry, SqlRunLedger(engine), clock, recorder, secrets=_secret_values(settings)
    )


def provider_actions(settings: Settings, clock: Clock) -> list[Action[Any]]:
    """Actions of every provider with credentials; clients connect on first use."""
    http: dict[str, Any] = {"timeout": settings.action_timeout_seconds, "clock": clock}
    found: list[Action[Any]] = []
    if key := _secret(settings.sendgrid_api_key):
        client = sendgrid_actions.make_client(key, settings.sendgrid_api_base, **http)
        found += sendgrid_actions.actions(client)
    if key := _secret(settings.mailgun_api_key):
        client = mailgun_actions.make_client(key, settings.mailgun_api_base, **http)
        found += mailgun_actions.actions(client, settings.mailgun_domain)
    if key := _secret(settings.postmark_server_token):
        client = postmark_actions.make_client(key, settings.postmark_api_base, **http)
        found += postmark_actions.actions(client)
    if settings.aws_region or settings.aws_endpoint_url:
        timeout = settings.action_timeout_seconds
        aws = ses_actions.AwsClients(
            settings.aws_region, settings.aws_endpoint_url, read_timeout=timeout
        )
        found += ses_actions.actions(aws)
    return found


def _secret_values(settings: Settings) -> list[str]:
    values = (getattr(settings, name) for name in type(settings).model_fields)
    return [value.get_secret_value() for value in values if isinstance(value, SecretStr)]


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


def auth_policy(settings: Settings) -> AuthPolicy:
    """Session lifetimes and password-hashing cost from settings."""
    sessions = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )
    return AuthPolicy(
        sessions=sessions,
        argon2_time_cost=settings.argon2_time_cost,
        argon2_memory_kib=settings.argon2_memory_kib,
    )
