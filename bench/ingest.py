"""Ingest benchmark: SendGrid batches through verify -> parse -> dedupe -> store, and over HTTP.

Prints what it measured in words, then one JSON line per figure. The one-sender figure and
its floor run pinned to one CPU (the target is per core). The floor is measured in
the same run: orjson.loads of the same bodies + sqlite3 executemany of the same rows into a
table with the same schema, indexes and pragmas, one transaction per batch.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import Engine

from mailwarden.bus.memory import InProcessBus
from mailwarden.clock import FakeClock
from mailwarden.events.ingest import IngestService
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.events.providers.sendgrid import SendGridProvider
from mailwarden.runtime import tune_gc
from mailwarden.store import migrate
from mailwarden.store.engine import make_engine
from mailwarden.store.events_repo import EventStore
from mailwarden.store.rows import EVENT_COLUMNS, event_rows
from sendgrid_data import START, Signer, batches

BATCH = 500


def _emit(record: dict[str, object]) -> None:
    print(orjson.dumps(record).decode(), flush=True)


def _service(
    bodies: list[bytes], signer: Signer, db: Path
) -> tuple[Engine, SendGridProvider, IngestService, list[WebhookRequest]]:
    """A fresh SQLite database, the ingest service over it, and the signed requests."""
    clock = FakeClock(datetime.fromtimestamp(START + 60, UTC))
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    provider = SendGridProvider(signer.public_key_b64(), clock)
    service = IngestService(EventStore(engine), {"sendgrid": provider}, InProcessBus(), clock)
    stamp = int(clock.now().timestamp())
    requests = [WebhookRequest(signer.headers(body, stamp), body, clock.now()) for body in bodies]
    return engine, provider, service, requests


def measure_service(
    bodies: list[bytes], signer: Signer, db: Path
) -> tuple[float, list[list[tuple[Any, ...]]]]:
    """Events/s of the ingest service on SQLite; also returns the rows it stored per batch."""
    engine, provider, service, requests = _service(bodies, signer, db)
    rows: list[list[tuple[Any, ...]]] = []
    total = 0
    started = time.perf_counter()
    for request in requests:
        total += service.receive("sendgrid", request).accepted
    elapsed = time.perf_counter() - started
    for request in requests:
        rows.append(event_rows(provider.parse(request.body).events, 1))
    engine.dispose()
    return total / elapsed, rows


def measure_concurrent(
    bodies: list[bytes], signer: Signer, db: Path, senders: int
) -> tuple[float, float]:
    """Events/s of the ingest service with several senders at once; also the mean group size."""
    engine, _provider, service, requests = _service(bodies, signer, db)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        total = sum(
            o.accepted for o in pool.map(lambda r: service.receive("sendgrid", r), requests)
        )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return total / elapsed, service.group_stats.mean_group


def measure_floor(
    bodies: list[bytes], rows: list[list[tuple[Any, ...]]], db: Path, group: int = 1
) -> float:
    """Events/s of orjson.loads + sqlite3 executemany of the same rows, same schema and pragmas,
    `group` payloads per transaction."""
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "cache_size=-65536",
        "temp_store=MEMORY",
    ):
        conn.execute(f"PRAGMA {pragma}")
    sql = (
        f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
    )
    total = 0
    started = time.perf_counter()
    for first in range(0, len(bodies), group):
        conn.execute("BEGIN")
        for body, batch_rows in zip(
            bodies[first : first + group], rows[first : first + group], strict=True
        ):
            total += len(orjson.loads(body))
            conn.executemany(sql, batch_rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return total / elapsed


@contextmanager
def one_core() -> Iterator[int | None]:
    """Pin this process to one CPU (the last it may use) for the block; None where the OS
    cannot pin. The target is stated per core, and a pinned run is less noisy."""
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    allowed = os.sched_getaffinity(0)
    core = max(allowed)
    os.sched_setaffinity(0, {core})
    try:
        yield core
    finally:
        os.sched_setaffinity(0, allowed)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_http(bodies: list[bytes], signer: Signer, db: Path, clients: int) -> dict[str, float]:
    """Events/s and per-request latency of POST /webhooks/sendgrid against `mailwarden serve`."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        MAILWARDEN_SENDGRID_WEBHOOK_PUBLIC_KEY=signer.public_key_b64(),
        MAILWARDEN_WEBHOOK_MAX_AGE_SECONDS=str(10**10),
    )
    exe = Path(sys.executable).with_name("mailwarden")
    server = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), "--db", f"sqlite:///{db}"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url)
        shares = [bodies[n::clients] for n in range(clients)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            timings = list(pool.map(lambda share: _post_all(url, share, signer), shares))
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies = sorted(t for share in timings for t in share)
    return {
        "events_per_s": round(len(bodies) * BATCH / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


def _post_all(url: str, bodies: list[bytes], signer: Signer) -> list[float]:
    """POST each body in turn on one connection; return each request's latency."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for body in bodies:
            headers = signer.headers(body, int(time.time()))
            sent = time.perf_counter()
            response = client.post("/webhooks/sendgrid", content=body, headers=headers)
            latencies.append(time.perf_counter() - sent)
            response.raise_for_status()
    return latencies


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("mailwarden serve did not come up within 30 s")


def main() -> None:
    """Run the ingest benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--http-events", type=int, default=100_000)
    parser.add_argument("--senders", type=int, default=8, help="concurrent senders")
    args = parser.parse_args()
    signer = Signer.new()
    bodies = list(batches(args.events // BATCH, BATCH))
    tune_gc()  # as `mailwarden serve` and `worker` run; the floor's process gets it too
    with tempfile.TemporaryDirectory() as tmp:
        with one_core() as core:
            ours, rows = measure_service(bodies, signer, Path(tmp) / "service.db")
            floor = measure_floor(bodies, rows, Path(tmp) / "floor.db")
        if core is not None:
            print(f"one sender and its floor ran pinned to CPU {core}")
        together, group = measure_concurrent(bodies, signer, Path(tmp) / "c.db", args.senders)
        grouped_floor = measure_floor(bodies, rows, Path(tmp) / "gf.db", max(round(group), 1))
        http = (
            measure_http(
                bodies[: args.http_events // BATCH], signer, Path(tmp) / "http.db", args.senders
            )
            if args.http_events
            else None
        )
    _report(args, ours, floor, together, group, grouped_floor, http)


def _report(
    args: argparse.Namespace,
    ours: float,
    floor: float,
    together: float,
    group: float,
    grouped_floor: float,
    http: dict[str, float] | None,
) -> None:
    ratio = ours / floor
    grouped_ratio = together / grouped_floor
    print(
        f"ingest: {args.events:,} SendGrid events in batches of {BATCH}, one sender: "
        f"{ours:,.0f} events/s through verify+parse+dedupe+store on SQLite; "
        f"floor (orjson.loads + sqlite3 executemany, same rows, a transaction per batch) "
        f"{floor:,.0f} events/s; ratio {ratio:.2f}"
    )
    print(
        f"ingest, {args.senders} senders at once: {together:,.0f} events/s, group commit "
        f"{group:.1f} payloads per transaction; floor with the same grouping "
        f"{grouped_floor:,.0f} events/s; ratio {grouped_ratio:.2f}"
    )
    if http is not None:
        print(
            f"ingest over HTTP: {args.http_events:,} events, POST of {BATCH} per request, "
            f"{args.senders} clients: {http['events_per_s']:,} events/s, "
            f"p50 {http['p50_ms']} ms, p99 {http['p99_ms']} ms"
        )
    _emit(
        {
            "bench": "ingest",
            "events_per_s": round(ours),
            "floor_events_per_s": round(floor),
            "ratio": round(ratio, 3),
        }
    )
    _emit(
        {
            "bench": "ingest_concurrent",
            "senders": args.senders,
            "events_per_s": round(together),
            "payloads_per_transaction": round(group, 2),
            "floor_events_per_s": round(grouped_floor),
            "ratio": round(grouped_ratio, 3),
        }
    )
    if http is not None:
        _emit({"bench": "ingest_http", "clients": args.senders, **http})


if __name__ == "__main__":
    main()
