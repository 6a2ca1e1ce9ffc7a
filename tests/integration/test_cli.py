"""The CLI door: ingest summaries, canonical NDJSON out, dead letters listed and replayed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from tests.fakes import FlakyBus
from typer.testing import CliRunner

from mailwarden.cli.main import app
from mailwarden.clock import FakeClock
from mailwarden.events.ingest import IngestService
from mailwarden.events.outbox import CLAIM_LEASE, PUBLISHING, UNPUBLISHED
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.events.providers.ndjson import NdjsonProvider
from mailwarden.store import migrate
from mailwarden.store.engine import make_engine
from mailwarden.store.events_repo import EventStore

runner = CliRunner()


def _line(event_id: str, event_type: str = "delivered") -> str:
    return orjson.dumps(
        {
            "id": event_id,
            "type": event_type,
            "occurred_at": "2026-11-27T08:00:00Z",
            "provider": "sendgrid",
            "recipient": "alex@gmail.com",
            "campaign": "black-friday",
        }
    ).decode()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_ingest_reports_accepted_duplicates_and_rejects_by_file_and_line(
    tmp_path: Path, db: str
) -> None:
    source = tmp_path / "events.ndjson"
    source.write_text(f"{_line('a')}\n{_line('b', 'bounced')}\n{{broken\n")
    code, out = _run("ingest", "--provider", "ndjson", "--db", db, str(source))
    assert code == 1
    assert "accepted: 2  duplicates: 0  rejected: 1" in out
    assert f"{source}:3" in out and "not JSON" in out
    code, out = _run("ingest", "--provider", "ndjson", "--db", db, str(source))
    assert "accepted: 0  duplicates: 2" in out


def test_events_json_prints_the_canonical_shape(tmp_path: Path, db: str) -> None:
    source = tmp_path / "events.ndjson"
    source.write_text(f"{_line('a')}\n{_line('b', 'bounced')}\n")
    assert _run("ingest", "-p", "ndjson", "--db", db, str(source))[0] == 0
    code, out = _run("events", "--json", "--type", "bounced", "--db", db)
    assert code == 0
    (event,) = [orjson.loads(line) for line in out.splitlines()]
    assert event["id"] == "b" and event["occurred_at"] == "2026-11-27T08:00:00Z"
    assert event["mailbox_provider"] == "gmail" and event["campaign"] == "black-friday"


def test_header_signed_provider_files_need_no_verify_and_it_is_said(
    tmp_path: Path, db: str
) -> None:
    source = tmp_path / "sendgrid.json"
    event = {
        "email": "alex@gmail.com",
        "timestamp": 1795766400,
        "event": "delivered",
        "sg_event_id": "ZXZlbnQtMQ==",
        "sg_message_id": "m1",
    }
    source.write_bytes(orjson.dumps([event]))
    code, out = _run("ingest", "-p", "sendgrid", "--db", db, str(source))
    assert code == 1 and "--no-verify" in out
    code, out = _run("ingest", "-p", "sendgrid", "--no-verify", "--db", db, str(source))
    assert code == 0 and "signatures not checked" in out and "accepted: 1" in out


def test_directories_are_read_recursively_and_missing_files_reported(
    tmp_path: Path, db: str
) -> None:
    nested = tmp_path / "exports" / "day1"
    nested.mkdir(parents=True)
    (nested / "a.ndjson").write_text(_line("a") + "\n")
    (tmp_path / "exports" / "b.ndjson").write_text(_line("b") + "\n")
    missing = tmp_path / "nope.ndjson"
    code, out = _run("ingest", "-p", "ndjson", "--db", db, str(tmp_path / "exports"), str(missing))
    assert code == 1 and "accepted: 2" in out and "cannot read" in out


def test_dead_letters_are_listed_shown_and_replayed(tmp_path: Path, db: str) -> None:
    source = tmp_path / "bad.ndjson"
    source.write_text('{"type": "delivered"}\n')
    _run("ingest", "-p", "ndjson", "--db", db, str(source))
    code, out = _run("deadletter", "list", "--json", "--db", db)
    (row,) = [orjson.loads(line) for line in out.splitlines()]
    assert row["source"] == f"{source}:1" and "occurred_at" in row["reason"]
    code, out = _run("deadletter", "show", str(row["id"]), "--db", db)
    assert code == 0 and '{"type": "delivered"}' in out
    code, out = _run("deadletter", "replay", str(row["id"]), "--db", db)
    assert code == 1 and "still failing" in out
    assert _run("deadletter", "replay", "--db", db)[0] == 2


def test_payloads_held_back_by_a_bus_outage_are_listed_and_published(db: str) -> None:
    engine = make_engine(db)
    migrate.upgrade(engine)
    clock = FakeClock(datetime(2026, 11, 27, 8, 5, tzinfo=UTC))
    down = FlakyBus(down=True)
    service = IngestService(EventStore(engine), {"ndjson": NdjsonProvider()}, down, clock)
    request = WebhookRequest({}, _line("a").encode(), clock.now())
    assert service.receive("ndjson", request, verify=False).accepted == 1
    engine.dispose()
    code, out = _run("deadletter", "list", "--status", "unpublished", "--json", "--db", db)
    assert code == 0 and len(out.splitlines()) == 1 and "bus unavailable" in out
    code, out = _run("deadletter", "publish", "--db", db)
    assert code == 0 and "published 1 payloads; 0 still waiting" in out
    assert _run("deadletter", "list", "--status", "unpublished", "--db", db)[1].count("ndjson") == 0


def test_payloads_claimed_by_a_process_that_died_are_listed_and_published(db: str) -> None:
    engine = make_engine(db)
    migrate.upgrade(engine)
    clock = FakeClock(datetime(2026, 11, 27, 8, 5, tzinfo=UTC))
    store = EventStore(engine)
    service = IngestService(store, {"ndjson": NdjsonProvider()}, FlakyBus(down=True), clock)
    now = datetime.now(UTC)  # the CLI runs on the wall clock
    for event_id, claimed_at in (("a", now - CLAIM_LEASE * 2), ("b", now)):
        request = WebhookRequest({}, _line(event_id).encode(), clock.now())
        raw_id = service.receive("ndjson", request, verify=False).raw_id
        assert store.claim(raw_id, UNPUBLISHED, PUBLISHING, claimed_at)
    engine.dispose()
    code, out = _run("deadletter", "list", "--status", "publishing", "--json", "--db", db)
    assert code == 0 and len(out.splitlines()) == 2
    code, out = _run("deadletter", "publish", "--db", db)
    assert code == 0 and "published 1 payloads; 0 still waiting" in out
    assert "1 claimed by another process" in out  # the fresh claim is left to its holder
    code, out = _run("deadletter", "list", "--status", "publishing", "--json", "--db", db)
    assert code == 0 and len(out.splitlines()) == 1


def test_every_command_has_help() -> None:
    for command in (
        [],
        ["ingest"],
        ["events"],
        ["bounce"],
        ["serve"],
        ["deadletter"],
        ["deadletter", "replay"],
        ["deadletter", "publish"],
        ["db"],
    ):
        code, out = _run(*command, "--help")
        assert code == 0 and "Usage" in out
