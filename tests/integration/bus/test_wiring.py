"""The composition root picks the bus from MAILWARDEN_BUS_URL and connects to nothing early."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailwarden.app import build, build_bus
from mailwarden.bus.memory import InProcessBus
from mailwarden.bus.redis_streams import RedisStreamsBus
from mailwarden.config import Settings

NOBODY = "redis://:s3cret@127.0.0.1:1/0"  # nothing listens on port 1


@pytest.mark.parametrize("url", ["", "memory://"])
def test_an_empty_or_memory_bus_url_means_the_in_process_bus(url: str) -> None:
    assert isinstance(build_bus(Settings(bus_url=url)), InProcessBus)


def test_a_redis_bus_url_builds_the_streams_bus_with_its_settings_without_connecting() -> None:
    bus = build_bus(
        Settings(bus_url=NOBODY, bus_prefix="mw", bus_partitions=4, bus_max_deliveries=2)
    )
    assert isinstance(bus, RedisStreamsBus)
    assert bus.options.stream("events", 3) == "mw:events:3"
    assert (bus.options.partitions, bus.options.max_deliveries) == (4, 2)


def test_an_unknown_bus_url_is_refused_without_echoing_its_secrets() -> None:
    with pytest.raises(ValueError, match="got 'amqp'") as caught:
        build_bus(Settings(bus_url="amqp://user:s3cret@broker/"))
    assert "s3cret" not in str(caught.value)


def test_the_services_subscribe_detection_and_incidents_before_containment(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", bus_url=NOBODY)
    services = build(settings)
    try:
        assert isinstance(services.bus, RedisStreamsBus)
        groups = [(sub.topic, sub.group) for sub in services.bus.subscriptions]
    finally:
        services.close()
    events = [group for topic, group in groups if topic == "events"]
    assert events == ["mailwarden.detect.engine.DetectionEngine.on_events"]
    findings = [group for topic, group in groups if topic == "findings"]
    assert findings[0] == "mailwarden.incidents.service.IncidentService.on_messages"
    assert any(group.endswith("after_findings") for group in findings[1:])
