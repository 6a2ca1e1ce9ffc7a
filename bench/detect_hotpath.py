"""Detection's cost on the webhook hot path: SendGrid batches of 500 through the ingest
service built by the app, with detection's subscriber on the bus and without it.

The replay cost (detect.py) feeds a simulated week minute by minute, ticks included; this
one is the per-event cost a busy webhook pays: rolling a batch up into the rollups, the
in-memory windows, the engagement cohorts and the finding samples. Both runs share one
process and take turns request by request, so a shared machine's drift in speed hits both
alike (see detect_cost.py).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from mailwarden.app import Services, build
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.events.providers.base import WebhookRequest
from sendgrid_data import START, Signer, batches

BATCH = 500


def _services(db: Path, signer: Signer, clock: FakeClock, *, detection: bool) -> Services:
    settings = Settings(
        database_url=f"sqlite:///{db}",
        detection_enabled=detection,
        sendgrid_webhook_public_key=signer.public_key_b64(),
    )
    return build(settings, clock=clock)


def _paired_cpu(bodies: list[bytes], signer: Signer, folder: Path) -> tuple[float, float]:
    """CPU seconds of receiving every body, ingest alone and with detection, taking turns
    request by request (who goes first alternating); the detection side's pending rollup
    write is charged to it."""
    clock = FakeClock(datetime.fromtimestamp(START + 60, UTC))
    alone = _services(folder / "alone.db", signer, clock, detection=False)
    detected = _services(folder / "detect.db", signer, clock, detection=True)
    stamp = int(clock.now().timestamp())
    requests = [WebhookRequest(signer.headers(b, stamp), b, clock.now()) for b in bodies]
    spent = {id(alone): 0.0, id(detected): 0.0}
    try:
        for turn, request in enumerate(requests):
            for services in (alone, detected) if turn % 2 == 0 else (detected, alone):
                began = time.process_time()
                services.ingest.receive("sendgrid", request)
                spent[id(services)] += time.process_time() - began
        began = time.process_time()
        assert detected.detection is not None
        detected.detection.flush()  # its rollup writes count too
        spent[id(detected)] += time.process_time() - began
    finally:
        alone.close()
        detected.close()
    return spent[id(alone)], spent[id(detected)]


def measure_hot_path(events: int = 200_000, rounds: int = 2) -> dict[str, float]:
    """CPU per event of ingest alone and with detection (paired, summed over the rounds),
    and the overhead."""
    signer = Signer.new()
    bodies = list(batches(events // BATCH, BATCH))
    alone = detected = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            folder = Path(tmp) / str(n)
            folder.mkdir()
            cpu_alone, cpu_detected = _paired_cpu(bodies, signer, folder)
            alone, detected = alone + cpu_alone, detected + cpu_detected
    per_event = 1e6 / (rounds * len(bodies) * BATCH)
    return {
        "events": events,
        "ingest_only_cpu_us_per_event": round(alone * per_event, 3),
        "with_detection_cpu_us_per_event": round(detected * per_event, 3),
        "overhead": round(detected / alone - 1, 3),
    }
