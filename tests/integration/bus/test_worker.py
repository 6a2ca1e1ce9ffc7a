"""`mailwarden worker`: consumes what the doors published on Redis and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import redis
from tests.contract.redis_support import REDIS_URL
from typer.testing import CliRunner

from mailwarden.cli.main import app
from mailwarden.store.engine import make_engine
from mailwarden.store.rollups_repo import RollupStore

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'worker.db'}"


@pytest.fixture
def env(redis_prefix: str) -> dict[str, str]:
    return {"MAILWARDEN_BUS_URL": REDIS_URL, "MAILWARDEN_BUS_PREFIX": redis_prefix}


def _events_file(tmp_path: Path) -> Path:
    lines = [
        orjson.dumps(
            {
                "id": f"e{n}",
                "type": "delivered",
                "occurred_at": "2026-11-27T08:00:00Z",
                "provider": "sendgrid",
                "recipient": f"r{n}@gmail.com",
                "sending_domain": "news.example.org",
                "campaign": "black-friday",
            }
        ).decode()
        for n in range(3)
    ]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_worker_handles_what_ingest_published_on_the_bus(
    tmp_path: Path, db: str, env: dict[str, str], redis_client: redis.Redis, redis_prefix: str
) -> None:
    source = _events_file(tmp_path)
    result = runner.invoke(app, ["ingest", "-p", "ndjson", "--db", db, str(source)], env=env)
    assert result.exit_code == 0, result.output
    stream = f"{redis_prefix}:events:0"
    batches = redis_client.xlen(stream)
    assert batches >= 1
    rollups = RollupStore(make_engine(db))
    assert list(rollups.rows(0)) == []  # nothing consumed the events yet

    result = runner.invoke(app, ["worker", "--db", db, "--until-idle"], env=env)
    assert result.exit_code == 0, result.output
    assert f"handled {batches}, failed 0" in result.output
    assert list(rollups.rows(0))  # detection, in the worker, rolled the batch up
    groups = redis_client.xinfo_groups(stream)
    assert [g["name"] for g in groups] == [b"mailwarden.detect.engine.DetectionEngine.on_events"]
    assert (groups[0]["pending"], groups[0]["lag"]) == (0, 0)


def test_the_worker_refuses_the_in_process_bus(db: str) -> None:
    result = runner.invoke(app, ["worker", "--db", db], env={"MAILWARDEN_BUS_URL": ""})
    assert result.exit_code == 2
    assert "MAILWARDEN_BUS_URL=redis://" in result.output


def test_the_worker_explains_a_bus_url_it_cannot_use(db: str) -> None:
    result = runner.invoke(app, ["worker", "--db", db, "--bus", "amqp://broker/"])
    assert result.exit_code == 2
    assert "expected redis://" in result.output


@pytest.mark.slow
def test_the_worker_stops_cleanly_on_sigterm(db: str, env: dict[str, str]) -> None:
    code = "from mailwarden.cli.main import main; main()"
    args = [sys.executable, "-c", code, "worker", "--db", db, "--block-ms", "50", "--no-tick"]
    with subprocess.Popen(
        args,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("worker "), first
        proc.send_signal(signal.SIGTERM)
        rest = proc.stdout.read()
        assert proc.wait(timeout=20) == 0
    assert "worker stopped: handled 0" in rest
