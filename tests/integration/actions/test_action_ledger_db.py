"""The SQL ledger and suppression list, on SQLite and PostgreSQL, under the real runner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, event, inspect

from mailwarden.actions.errors import ProviderError
from mailwarden.actions.local import SuppressAction, SuppressParams
from mailwarden.actions.port import ActionRegistry, BaseAction, Plan, Result, Risk, Verification
from mailwarden.actions.records import FAILED, PLANNED, RUNNING, Suppression
from mailwarden.actions.runner import ActionRunner
from mailwarden.clock import FakeClock
from mailwarden.store import migrate
from mailwarden.store.actions_repo import SqlRunLedger, SqlSuppressionStore

ALEX, JO = "alex@example.com", "jo@example.com"
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class Nothing(BaseModel):
    """No parameters."""


@dataclass
class BrokenAction(BaseAction[Any]):
    """Fails at the provider every time."""

    name: str = "test.broken"
    provider: str = "test"
    risk: Risk = Risk.LOW
    params_model: type[BaseModel] = Nothing

    def plan(self, params: Nothing) -> Plan:
        return Plan(self.name, "would break", ())

    def execute(self, params: Nothing, idempotency_key: str) -> Result:
        raise ProviderError("test: POST /x → HTTP 502: bad gateway", provider="test", status=502)

    def verify(self, params: Nothing) -> Verification:
        return Verification(False, "broken")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def runner(engine: Engine, clock: FakeClock) -> ActionRunner:
    registry = ActionRegistry([SuppressAction(SqlSuppressionStore(engine), clock), BrokenAction()])
    return ActionRunner(registry, SqlRunLedger(engine), clock)


def test_the_migration_creates_and_drops_the_action_tables(engine: Engine) -> None:
    tables = {"action_runs", "action_steps", "suppressions"}
    assert tables <= set(inspect(engine).get_table_names())
    migrate.downgrade(engine, "0004")
    assert not tables & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert tables <= set(inspect(engine).get_table_names())


def test_a_run_and_every_step_survive_in_the_database(runner: ActionRunner, engine: Engine) -> None:
    params = {"addresses": [ALEX, JO], "reason": "complained", "source_incident": "inc-7"}
    runner.plan(
        "mailwarden.suppress", params, requested_by="detector", key="k", incident_id="inc-7"
    )
    runner.execute("k", executed_by="system:auto")
    runner.verify("k", by="system:verifier")
    runner.undo("k", executed_by="user:bob")
    ledger = SqlRunLedger(engine)
    run = ledger.get("k")
    assert run is not None and run.state == "undone" and run.verified is True
    assert run.params["addresses"] == [ALEX, JO] and run.incident_id == "inc-7"
    assert (run.result or {})["applied"] == [ALEX, JO]
    steps = ledger.steps("k")
    assert [(s.step, s.outcome, s.actor) for s in steps] == [
        ("plan", "succeeded", "detector"),
        ("execute", "succeeded", "system:auto"),
        ("verify", "succeeded", "system:verifier"),
        ("undo", "succeeded", "user:bob"),
    ]
    assert [r.key for r in ledger.for_incident("inc-7")] == ["k"]


def test_a_provider_failure_is_stored_whole_with_its_error(
    runner: ActionRunner, engine: Engine
) -> None:
    runner.plan("test.broken", {}, requested_by="u", key="k")
    failed = runner.execute("k", executed_by="system:auto")
    stored = SqlRunLedger(engine).get("k")
    assert stored == failed and stored.state == FAILED
    assert stored.error is not None and stored.error.kind == "provider"
    assert "HTTP 502" in stored.error.message
    last = SqlRunLedger(engine).steps("k")[-1]
    assert (last.step, last.outcome, last.error) == ("execute", "failed", stored.error)


def test_creating_a_known_key_returns_the_stored_run(runner: ActionRunner, engine: Engine) -> None:
    first = runner.plan("test.broken", {}, requested_by="u", key="k")
    ledger = SqlRunLedger(engine)
    assert ledger.create(first.with_changes(id="other", requested_by="x")) == first


def test_claiming_is_compare_and_set(runner: ActionRunner, engine: Engine) -> None:
    run = runner.plan("test.broken", {}, requested_by="u", key="k")
    ledger = SqlRunLedger(engine)
    running = run.with_changes(state=RUNNING, attempts=1)
    assert ledger.claim("k", frozenset({PLANNED}), running) is True
    assert ledger.claim("k", frozenset({PLANNED}), running) is False
    # two workers taking over the same stale run: only the first one's attempt counts
    again = running.with_changes(attempts=2)
    assert ledger.claim("k", frozenset({RUNNING}), again) is True
    assert ledger.claim("k", frozenset({RUNNING}), again) is False


def test_the_suppression_list_keeps_one_entry_per_address(engine: Engine) -> None:
    store = SqlSuppressionStore(engine)
    entry = Suppression(
        ALEX,
        "complained",
        "mailwarden.suppress",
        T0,
        "inc-1",
        "run-1",
        expires_at=T0 + timedelta(days=30),
    )
    assert store.put(entry, T0) is True
    assert store.put(entry.__class__(ALEX, "again", "x", T0, run_key="run-2"), T0) is False
    later = T0 + timedelta(days=31)
    assert store.put(Suppression(ALEX.upper(), "again", "x", later, run_key="run-2"), later)
    assert store.remove(ALEX, "run-1") is False
    got = store.get(ALEX)
    assert got is not None and got.run_key == "run-2" and got.expires_at is None
    assert store.remove(ALEX, "run-2") is True and store.get(ALEX) is None


def test_suppressing_thousands_of_addresses_is_one_transaction(engine: Engine) -> None:
    store = SqlSuppressionStore(engine)
    store.put(Suppression("held@example.com", "old", "x", T0), T0)
    store.put(Suppression("lapsed@example.com", "old", "x", T0, expires_at=T0), T0)
    fresh = [f"user{n}@example.com" for n in range(1200)]
    addresses = [*fresh, "held@example.com", "LAPSED@example.com", fresh[0]]
    commits: list[int] = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    later = T0 + timedelta(hours=1)
    added = store.put_many([Suppression(a, "bounced", "m", later) for a in addresses], later)
    assert len(commits) == 1
    assert added == [True] * 1200 + [False, True, False]  # held stays; a repeat counts once
    found = store.get_many([*addresses, "nobody@example.com"])
    assert len(found) == 1202 and "nobody@example.com" not in found
    assert found["lapsed@example.com"].reason == "bounced"


def test_the_suppress_action_plans_and_runs_a_large_list_in_a_few_queries(
    engine: Engine,
) -> None:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    action = SuppressAction(SqlSuppressionStore(engine), FakeClock(T0))
    params = SuppressParams(addresses=[f"u{n}@example.com" for n in range(1000)], reason="bounced")
    plan = action.plan(params)
    result = action.execute(params, "run-big")
    assert len(plan.changes) == 1000 and len(result.applied) == 1000
    assert action.verify(params).ok
    assert len(statements) < 20
