"""Detection's cost on the webhook hot path: SendGrid batches of 500 through the ingest
service built by the app, with detection's subscriber on the bus and without it.

The replay cost (detect.py) feeds a simulated week minute by minute, ticks included; this
one is the per-event cost a busy webhook pays: rolling a batch up into the rollups, the
in-memory windows, the engagement cohorts and the finding samples. Both runs share one
process and one CPU, alternate, and report the median of their CPU time per event.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from mailwarden.app import build
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.events.providers.base import WebhookRequest
from sendgrid_data import START, Signer, batches

BATCH = 500


def _cpu_per_event(bodies: list[bytes], signer: Signer, db: Path, *, detection: bool) -> float:
    """CPU microseconds per event of receiving every body, detection on or off."""
    clock = FakeClock(datetime.fromtimestamp(START + 60, UTC))
    settings = Settings(
        database_url=f"sqlite:///{db}",
        detection_enabled=detection,
        sendgrid_webhook_public_key=signer.public_key_b64(),
    )
    services = build(settings, clock=clock)
    stamp = int(clock.now().timestamp())
    requests = [WebhookRequest(signer.headers(b, stamp), b, clock.now()) for b in bodies]
    began = time.process_time()
    for request in requests:
        services.ingest.receive("sendgrid", request)
    if services.detection is not None:
        services.detection.flush()  # its rollup writes count too
    cpu = time.process_time() - began
    services.close()
    return cpu / (len(bodies) * BATCH) * 1e6


def measure_hot_path(events: int = 200_000, rounds: int = 2) -> dict[str, float]:
    """Median CPU per event of ingest alone and with detection, and the overhead."""
    signer = Signer.new()
    bodies = list(batches(events // BATCH, BATCH))
    alone: list[float] = []
    detected: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            alone.append(_cpu_per_event(bodies, signer, Path(tmp) / f"a{n}.db", detection=False))
            detected.append(_cpu_per_event(bodies, signer, Path(tmp) / f"d{n}.db", detection=True))
    ingest_only, with_detection = statistics.median(alone), statistics.median(detected)
    return {
        "events": events,
        "ingest_only_cpu_us_per_event": round(ingest_only, 3),
        "with_detection_cpu_us_per_event": round(with_detection, 3),
        "overhead": round(with_detection / ingest_only - 1, 3),
    }
