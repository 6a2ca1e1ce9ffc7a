"""`mailwarden serve`: the web door and the in-process worker on one port."""

from __future__ import annotations

import logging

import typer
import uvicorn

from mailwarden.app import Services, build
from mailwarden.bus.memory import InProcessBus
from mailwarden.cli.users import announce_first_admin
from mailwarden.config import Settings
from mailwarden.detect.scheduler import Tickable, TickScheduler
from mailwarden.events.ingest import IngestService
from mailwarden.incidents.ticking import TickTogether
from mailwarden.runtime import tune_gc
from mailwarden.web.app import create_app

log = logging.getLogger(__name__)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8025, "--port", help="Port to listen on."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: settings)."),
) -> None:
    """Run Mailwarden: webhooks, API and console."""
    overrides: dict[str, object] = {"host": host, "port": port}
    if db is not None:
        overrides["database_url"] = db
    settings = Settings(**overrides)  # type: ignore[arg-type]
    services = build(settings)
    announce_first_admin(services)  # empty users table: create 'admin', print its password once
    # With the Redis Streams bus this is a web node: `mailwarden worker` consumes and ticks.
    target = tick_target(services) if isinstance(services.bus, InProcessBus) else None
    # One in-process scheduler publishes what a bus outage held back, then drives detection,
    # incident holds, SLA clocks, escalations and reminders, at the same instant.
    scheduler = TickScheduler(
        RepublishThenTick(services.ingest, target), settings.detection_tick_seconds
    )
    scheduler.start()
    typer.echo(f"Mailwarden is running at {settings.base_url()}/  (database: {_where(settings)})")
    app = create_app(services)
    tune_gc()
    if target is None and not isinstance(services.bus, InProcessBus):
        typer.echo("Events go to the Redis Streams bus: run `mailwarden worker` to handle them.")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        scheduler.stop()
        services.close()


def tick_target(services: Services) -> Tickable | None:
    """What the scheduler ticks: detection, then incidents (holds, SLA clocks, reminders)."""
    if services.detection is not None:
        services.detection.warm_up()
        if services.incidents is not None:
            return TickTogether(services.detection, services.incidents)
        return services.detection
    return services.incidents


class RepublishThenTick:
    """Publish payloads a bus outage held back (even with no traffic), then tick the rest."""

    def __init__(self, ingest: IngestService, then: Tickable | None) -> None:
        self._ingest = ingest
        self._then = then

    def tick(self) -> object:
        """One round: republish what waits, then the next target's tick."""
        try:
            self._ingest.publish_waiting()
        except Exception:  # the database may be away: detection and SLAs still tick
            log.exception("publishing held-back payloads failed; trying again next tick")
        return self._then.tick() if self._then is not None else None


def _where(settings: Settings) -> str:
    url = settings.database_url
    return url.split("@")[-1] if "@" in url else url
