"""Findings carried by Redis reach the real incident service as Finding objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from tests.contract.redis_support import REDIS_URL

from mailwarden.app import build
from mailwarden.bus.redis_streams import RedisStreamsBus
from mailwarden.config import Settings
from mailwarden.detect.model import Finding, Scope
from mailwarden.store.findings_repo import FindingStore


def test_a_finding_published_on_redis_opens_an_incident_when_a_worker_pumps(
    tmp_path: Path, redis_client: redis.Redis, redis_prefix: str
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'flow.db'}", bus_url=REDIS_URL, bus_prefix=redis_prefix
    )
    services = build(settings)
    try:
        assert isinstance(services.bus, RedisStreamsBus) and services.incidents is not None
        now = datetime.now(UTC).replace(microsecond=0)
        finding = Finding(
            kind="complaint_rate",
            scope=Scope("sending_domain", "news.example.org"),
            severity="critical",
            observed=0.005,
            expected=0.001,
            evidence={"complained": 50, "delivered": 10_000},
            window_start=now - timedelta(hours=1),
            window_end=now,
            first_seen=now,
        )
        FindingStore(services.engine).save([finding])
        services.bus.publish_messages("findings", [finding])
        assert services.incidents.list_incidents() == []  # nothing until a worker pumps
        assert services.bus.pump().handled == 2  # incidents, then containment
        (incident,) = services.incidents.list_incidents()
        assert incident.type == "spam_complaints"
    finally:
        services.close()
