"""Sending-gate benchmark: GET /api/gate over HTTP against `mailwarden serve` on 127.0.0.1.

A sender asks the gate before each batch, with an API token, on a keep-alive connection.
The gate holds realistic rules (pauses, a quarantine, a warm-up plan, 20,000 suppressed
recipients) and answers from its in-memory snapshot. The floor is the same client, the same
token and connection, asking GET /healthz in the same run (rounds alternate, so drift on a
noisy machine hits both alike). Prints its figures in words, then one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import orjson
from sqlalchemy import insert

from mailwarden.actions.approvals import Authority
from mailwarden.actions.gate import GateQuery, SendingGate
from mailwarden.app import build
from mailwarden.auth.roles import Role
from mailwarden.config import Settings
from mailwarden.store.actions_tables import suppressions
from mailwarden.store.rows import to_ms

PROVIDERS = ("gmail", "microsoft", "yahoo", "apple", "other")
SUPPRESSED = 20_000
ROUNDS = 5


def _emit(record: dict[str, object]) -> None:
    print(orjson.dumps(record).decode(), flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(url: str, requests: int) -> tuple[str, float]:
    """Seed the gate's rules; return a viewer API token and the in-process µs per answer."""
    settings = Settings(database_url=url, argon2_time_cost=1, argon2_memory_kib=1024)
    services = build(settings)
    try:
        assert services.auth is not None and services.containment is not None
        user, _ = services.auth.users.create(
            "bench", "sender", Role.VIEWER, "correct horse battery staple"
        )
        token = services.auth.tokens.create("bench", user, "sending code", Role.VIEWER).secret
        desk, now = services.containment.desk, services.clock.now()
        boss = Authority("bench", commander_role=True)
        for campaign in ("spring-sale", "reactivation"):
            pause = {"scope": "campaign", "key": campaign, "reason": "bench"}
            desk.run_now("mailwarden.pause_sending", pause, boss)
        batch = {"batch": "import-2026-11", "reason": "spam traps"}
        desk.run_now("mailwarden.quarantine_segment", batch, boss)
        warm = {"scope": "campaign", "key": "black-friday", "reason": "bench"}
        key = desk.run_now("mailwarden.pause_sending", warm, boss).run.key
        desk.undo(key, boss)  # resumes black-friday through a warm-up plan
        later = to_ms(now + timedelta(days=90))
        rows = [
            {
                "address": f"user{n * 7}@example.com",
                "reason": "complained (bench)",
                "created_by": "bench",
                "created_ms": to_ms(now),
                "expires_ms": later,
            }
            for n in range(SUPPRESSED)
        ]
        with services.engine.begin() as conn:
            conn.execute(insert(suppressions), rows)
        return token, in_process_us(services.containment.gate, requests)
    finally:
        services.close()


def in_process_us(gate: SendingGate, count: int) -> float:
    """Microseconds per gate answer without HTTP (the snapshot lookup alone)."""
    gate.refresh()
    queries = [GateQuery(**query) for query in gate_queries(count)]
    started = time.perf_counter()
    for query in queries:
        gate.check(query)
    return round((time.perf_counter() - started) / count * 1e6, 2)


def gate_queries(count: int) -> list[dict[str, str]]:
    """The batches a sender asks about: campaigns, providers and recipients in turn."""
    campaigns = ("black-friday", "newsletter", "spring-sale", "welcome")
    return [
        {
            "campaign": campaigns[n % len(campaigns)],
            "sending_domain": "news.example.org",
            "mailbox_provider": PROVIDERS[n % len(PROVIDERS)],
            "recipient": f"user{n}@example.com",
        }
        for n in range(count)
    ]


def gate_paths(count: int) -> list[str]:
    """The same batches as GET /api/gate paths."""
    return ["/api/gate?" + urlencode(query) for query in gate_queries(count)]


def timed(conn: http.client.HTTPConnection, paths: list[str], token: str) -> list[float]:
    """Latency in seconds of each GET on one keep-alive connection."""
    headers = {"authorization": f"Bearer {token}", "connection": "keep-alive"}
    out = []
    for path in paths:
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        out.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
    return out


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("mailwarden serve did not come up within 60 s")


def measure(requests: int) -> tuple[dict[str, float], float]:
    """Run the server, then alternate rounds of gate and healthz requests."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'gate.db'}"
        token, local_us = prepare(url, requests)
        port = _free_port()
        exe = Path(sys.executable).with_name("mailwarden")
        env = {**os.environ, "MAILWARDEN_DETECTION_ENABLED": "false"}
        server = subprocess.Popen(
            [str(exe), "serve", "--port", str(port), "--db", url],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_until_up(port)
            return _rounds(port, token, requests), local_us
        finally:
            server.terminate()
            server.wait(timeout=10)


def _rounds(port: int, token: str, requests: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    paths = gate_paths(requests)
    per_round = max(1, requests // ROUNDS)
    timed(conn, paths[:200], token)  # warm the connection and the snapshot
    timed(conn, ["/healthz"] * 200, token)
    gate: list[float] = []
    floor: list[float] = []
    for start in range(0, requests, per_round):
        chunk = paths[start : start + per_round]
        gate += timed(conn, chunk, token)
        floor += timed(conn, ["/healthz"] * len(chunk), token)
    conn.close()
    return {**_figures(gate, ""), **_figures(floor, "floor_")}


def _figures(latencies: list[float], prefix: str) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        f"{prefix}p50_ms": round(statistics.median(ordered) * 1000, 3),
        f"{prefix}p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 3),
    }


def main() -> None:
    """Run the gate benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    figures, local_us = measure(args.requests)
    print(
        f"gate: {args.requests:,} GET /api/gate over HTTP (keep-alive, bearer token, "
        f"{SUPPRESSED:,} suppressed recipients, pauses, a quarantine, a warm-up): "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms; "
        f"floor (same client and token, GET /healthz, same run): "
        f"p50 {figures['floor_p50_ms']} ms, p99 {figures['floor_p99_ms']} ms; "
        f"ratio p50 {figures['p50_ms'] / figures['floor_p50_ms']:.2f}; "
        f"the gate's own answer (in process, no HTTP): {local_us} µs"
    )
    _emit(
        {
            "bench": "gate",
            "requests": args.requests,
            "p50_ms": figures["p50_ms"],
            "p99_ms": figures["p99_ms"],
            "floor_p50_ms": figures["floor_p50_ms"],
            "floor_p99_ms": figures["floor_p99_ms"],
            "ratio": round(figures["p50_ms"] / figures["floor_p50_ms"], 3),
            "in_process_us": local_us,
        }
    )


if __name__ == "__main__":
    main()
