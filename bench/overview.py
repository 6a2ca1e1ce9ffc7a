"""Overview benchmark: render the console's overview with 10 million events in the store.

Builds (once; reused while its parameters match) a SQLite database in the store's schema
with 10M events over a week from three sending domains, five mailbox providers and a few
campaigns a day, generated directly as rows (executemany), and their per-minute rollups made
by detection's own rollup code (aggregate -> PendingCounts -> RollupStore.add_vectors). A handful
of incidents and findings are added so every part of the page has work to do.

Then it signs in and times renders of GET / through the ASGI app (Starlette's TestClient):
the first (cold: the hour cache fills from the rollups) and N warm ones, printing p50/p95.
The floor, measured in the same run: one plain sqlite3 read of the last hour of rollups.
The overview reads rollups and small tables only; it never scans events.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient

from mailwarden.app import Services, build
from mailwarden.auth.model import Client
from mailwarden.auth.roles import Role
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.detect.model import Finding, Scope
from mailwarden.events.model import Bounce, Event
from mailwarden.incidents.model import Actor
from mailwarden.metrics.counters import SLOTS
from mailwarden.metrics.rollup import PendingCounts, aggregate, by_key
from mailwarden.store import migrate
from mailwarden.store.engine import make_engine
from mailwarden.store.findings_repo import FindingStore
from mailwarden.store.rollup_metrics import counter_column
from mailwarden.store.rollups_repo import RollupStore
from mailwarden.store.rows import EVENT_COLUMNS
from mailwarden.web.app import create_app

END = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
DAYS = 7
TARGET_MS = 300.0
PASSWORD = "overview bench sign-in 2026"
LAYOUT = 2  # of the rollups (2: a column per counter, migration 0012); a change rebuilds
_SUMS = ", ".join(f"sum({counter_column(metric)})" for metric in SLOTS)
PROVIDERS = ("gmail", "microsoft", "yahoo", "apple", "other")
PROVIDER_WEIGHTS = (45, 20, 12, 13, 10)
DOMAINS = {  # domain -> (share of mail, its IPs, campaign prefix or None for steady mail)
    "news.example.org": (0.6, ("203.0.113.5", "203.0.113.6", "203.0.113.7"), "promo"),
    "mail.example.org": (0.3, ("203.0.113.10",), None),
    "alerts.example.org": (0.1, ("203.0.113.20", "203.0.113.21"), None),
}
# event type (bounce class, reason) -> share of events
KINDS: list[tuple[tuple[str, str | None, str | None], float]] = [
    (("queued", None, None), 0.330),
    (("delivered", None, None), 0.318),
    (("opened", None, None), 0.250),
    (("clicked", None, None), 0.060),
    (("deferred", "soft", "toomanyconn"), 0.012),
    (("bounced", "hard", "userunknown"), 0.0040),
    (("bounced", "block", "blocked"), 0.0015),
    (("bounced", "soft", "mailboxfull"), 0.0008),
    (("dropped", None, None), 0.0020),
    (("unsubscribed", None, None), 0.0016),
    (("complained", None, None), 0.0004),
]
_INSERT = (
    f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)


def _emit(record: dict[str, object]) -> None:
    print(orjson.dumps(record).decode(), flush=True)


def _bounce_of(kind: tuple[str, str | None, str | None]) -> Bounce | None:
    """The bounce an event of this kind carries, if any."""
    _type, bounce_class, reason = kind
    return Bounce(bounce_class, reason or "undefined") if bounce_class else None


def _campaign(domain: str, prefix: str | None, minute: int) -> str | None:
    """Marketing mail goes out in four three-hour campaigns a day; other mail has none."""
    if prefix is None:
        return None
    hour = (minute // 60) % 24
    slot = hour // 6
    return f"{prefix}-{minute // 1440}-{slot}" if hour % 6 < 3 else None


def build_db(path: Path, events: int, seed: int) -> dict[str, Any]:
    """Write the events and their rollups; return what was built."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}", sqlite_synchronous="OFF")
    migrate.upgrade(engine)
    rollups = RollupStore(engine)
    rng = random.Random(seed)
    kinds = [kind for kind, _ in KINDS]
    weights = [share for _, share in KINDS]
    bounces = {kind: _bounce_of(kind) for kind in kinds}
    domains = list(DOMAINS)
    domain_weights = [DOMAINS[d][0] for d in domains]
    start_minute = int(END.timestamp()) // 60 - DAYS * 1440
    minutes = DAYS * 1440
    per_minute, extra = divmod(events, minutes)
    written, rollup_rows, began = 0, 0, time.perf_counter()
    rows: list[tuple[Any, ...]] = []
    hour: list[Event] = []  # rolled up by detection's own code (aggregate -> PendingCounts)
    for offset in range(minutes):
        minute = start_minute + offset
        count = per_minute + (1 if offset < extra else 0)
        picked = rng.choices(kinds, weights, k=count)
        providers = rng.choices(PROVIDERS, PROVIDER_WEIGHTS, k=count)
        chosen_domains = rng.choices(domains, domain_weights, k=count)
        seconds = sorted(rng.randrange(60_000) for _ in range(count))
        at = datetime.fromtimestamp(minute * 60, UTC)
        for index in range(count):
            kind, provider, domain = picked[index], providers[index], chosen_domains[index]
            _share, ips, prefix = DOMAINS[domain]
            ip = ips[index % len(ips)]
            campaign = _campaign(domain, prefix, minute)
            number = written + index
            rows.append(
                (
                    f"bench:{number}",
                    kind[0],
                    minute * 60_000 + seconds[index],
                    "sendgrid",
                    f"u{number % 400_000}@{provider}.example",
                    provider,
                    domain,
                    ip,
                    campaign,
                    kind[1],
                    kind[2],
                    None,
                    "{}",
                )
            )
            hour.append(
                Event(
                    f"bench:{number}",
                    kind[0],
                    at,
                    "sendgrid",
                    mailbox_provider=provider,
                    sending_domain=domain,
                    sending_ip=ip,
                    campaign=campaign,
                    bounce=bounces[kind],
                )
            )
        written += count
        if (offset + 1) % 60 == 0 or offset == minutes - 1:
            with engine.begin() as conn:
                conn.exec_driver_sql(_INSERT, rows)
            batch, pending = aggregate(hour), PendingCounts()
            pending.add(batch, by_key(batch))
            vectors, reasons = pending.vectors(), pending.reason_rows()
            rollups.add_vectors(SLOTS, vectors, reasons)
            rollup_rows += len(vectors) + len(reasons)
            rows.clear()
            hour.clear()
            if (offset + 1) % (24 * 60) == 0:
                rate = written / (time.perf_counter() - began)
                print(f"  built day {(offset + 1) // 1440}: {written:,} events ({rate:,.0f}/s)")
    engine.dispose()
    return {
        "events": written,
        "rollup_rows": rollup_rows,
        "seed": seed,
        "end": END.isoformat(),
        "layout": LAYOUT,
    }


def add_incidents(services: Services) -> None:
    """A few open incidents and findings, as a live install would have."""
    assert services.incidents is not None
    titles = (
        "Blocklisting on 203.0.113.6",
        "Spam complaints on promo-6-1",
        "Deferrals at microsoft",
    )
    for index, title in enumerate(titles * 2):
        services.incidents.open_manual(
            incident_type="delivery_failure",
            title=title,
            actor=Actor("bench"),
            severity=("SEV1", "SEV2", "SEV3")[index % 3],
        )
    findings = [
        Finding(
            kind="block_rate",
            scope=Scope("sending_ip", "203.0.113.6"),
            severity="critical",
            observed=0.08,
            expected=0.002,
            evidence={},
            window_start=END - timedelta(hours=i + 1),
            window_end=END - timedelta(hours=i),
            first_seen=END - timedelta(hours=i),
        )
        for i in range(20)
    ]
    FindingStore(services.engine).save(findings)


def floor_ms(path: Path, repeats: int) -> float:
    """The plainest read of the last hour of rollups with sqlite3, median of repeats."""
    db = sqlite3.connect(path)
    last = int(END.timestamp()) // 60
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        db.execute(
            f"SELECT dimension, key, {_SUMS} FROM rollup_counts WHERE minute >= ? "
            "GROUP BY dimension, key",
            (last - 60,),
        ).fetchall()
        times.append((time.perf_counter() - began) * 1000)
    db.close()
    return statistics.median(times)


def measure(path: Path, renders: int) -> tuple[float, list[float]]:
    """Cold and warm render times of GET / in milliseconds."""
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{path}",
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            "detection_enabled": False,
        }
    )
    # Now is inside the data, and moves a minute per render, as on a live server where each
    # render re-reads the newest minutes of rollups (a render within the same minute reads none).
    clock = FakeClock(END - timedelta(minutes=renders + 10, seconds=-30))
    services = build(settings, clock=clock)
    assert services.auth is not None
    if services.incidents is not None and not services.incidents.list_incidents(limit=1):
        add_incidents(services)
    users = {user.username: user for user in services.auth.users.list_users()}
    user = users.get("bench")
    if user is None:
        user, _ = services.auth.users.create("bench", "bench", Role.VIEWER, PASSWORD)
    session = services.auth.sessions.start(user, Client("127.0.0.1", "bench"))
    headers = {"cookie": f"mw_session={session.token}", "accept": "text/html"}
    times = []
    with TestClient(create_app(services)) as client:
        for _ in range(renders + 1):
            clock.advance(timedelta(minutes=1))
            began = time.perf_counter()
            page = client.get("/", headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            assert page.status_code == 200 and "Sending health" in page.text, page.status_code
    services.close()
    return times[0], times[1:]


def main() -> None:
    """Build or reuse the database, then time the overview."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--db", type=Path, default=Path("var/bench/overview.db"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    meta_path = args.db.with_suffix(".json")
    wanted = {"events": args.events, "seed": args.seed, "end": END.isoformat(), "layout": LAYOUT}
    meta = json.loads(meta_path.read_text()) if meta_path.exists() and args.db.exists() else {}
    if {key: meta.get(key) for key in wanted} != wanted:
        print(f"Building {args.db} with {args.events:,} events over {DAYS} days (once)...")
        began = time.perf_counter()
        meta = build_db(args.db, args.events, args.seed)
        meta["build_seconds"] = round(time.perf_counter() - began, 1)
        meta_path.write_text(json.dumps(meta))
    else:
        print(f"Reusing {args.db} ({meta['events']:,} events, {meta['rollup_rows']:,} rollup rows)")
    size_mb = sum(p.stat().st_size for p in args.db.parent.glob(args.db.name + "*")) / 1e6
    cold, warm = measure(args.db, args.renders)
    floor = floor_ms(args.db, 5)
    p50 = statistics.median(warm)
    p95 = statistics.quantiles(warm, n=20)[-1] if len(warm) >= 2 else warm[0]
    verdict = "under" if p95 < TARGET_MS else "OVER"
    print(
        f"Overview with {meta['events']:,} events ({meta['rollup_rows']:,} rollup rows,"
        f" {size_mb:,.0f} MB): first render {cold:.0f} ms (the hour cache fills), then"
        f" p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(warm)} renders, {verdict} the"
        f" {TARGET_MS:.0f} ms target. Floor (sqlite3 read of the last hour of rollups):"
        f" {floor:.1f} ms."
    )
    _emit(
        {
            "bench": "overview",
            "events": meta["events"],
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "cold_ms": round(cold, 1),
            "floor_ms": round(floor, 1),
        }
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
