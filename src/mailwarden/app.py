"""The composition root: settings -> adapters -> services. The only place that wires things."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from mailwarden.bus.memory import InProcessBus
from mailwarden.bus.port import Bus
from mailwarden.clock import Clock, SystemClock
from mailwarden.config import Settings
from mailwarden.events.ingest import IngestService
from mailwarden.events.providers.base import HttpFetcher, Provider, ReplayGuard
from mailwarden.events.providers.fetch import HttpsFetcher
from mailwarden.events.providers.mailgun import MailgunProvider
from mailwarden.events.providers.ndjson import NdjsonProvider
from mailwarden.events.providers.postmark import PostmarkProvider
from mailwarden.events.providers.rawmail import RawMailProvider
from mailwarden.events.providers.sendgrid import SendGridProvider
from mailwarden.events.providers.ses import SesProvider
from mailwarden.store import migrate
from mailwarden.store.engine import make_engine
from mailwarden.store.events_repo import EventStore
from mailwarden.store.tokens import DatabaseReplayGuard


@dataclass(slots=True)
class Services:
    """Everything the doors (web, CLI, worker) need, built once."""

    settings: Settings
    engine: Engine
    clock: Clock
    bus: Bus
    store: EventStore
    ingest: IngestService

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()


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
    bus = InProcessBus()
    providers = build_providers(settings, clock, fetcher, DatabaseReplayGuard(engine))
    ingest = IngestService(store, providers, bus, clock, fetcher)
    return Services(settings, engine, clock, bus, store, ingest)


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


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None
