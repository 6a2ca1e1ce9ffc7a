"""The gate's rules, approvals, delistings and reminders in SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from mailwarden.actions.approval_records import APPROVED, PENDING, Approval
from mailwarden.actions.delisting import Delisting
from mailwarden.actions.gate import GateQuery, decide
from mailwarden.actions.gate_records import ALL, Pause, Quarantine, WarmupPlan
from mailwarden.actions.records import Suppression
from mailwarden.actions.reminders import Reminder
from mailwarden.store.actions_repo import SqlSuppressionStore
from mailwarden.store.approvals_repo import SqlApprovalStore, SqlDelistingStore, SqlReminderLog
from mailwarden.store.gate_repo import (
    SqlGateSource,
    SqlPauseStore,
    SqlQuarantineStore,
    SqlSendCounts,
    SqlSuppressionList,
    SqlWarmupStore,
)
from mailwarden.store.rollups_repo import RollupStore

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_pauses_are_stored_once_per_run_and_resumed_once(engine: Engine) -> None:
    store = SqlPauseStore(engine)
    pause = Pause("run-1", "campaign", "black-friday", "spike", "mailwarden", T0, "INC-3")

    assert store.add(pause) and not store.add(pause)
    assert store.listed(active_at=T0) == [pause]
    assert store.resume("run-1", T0 + timedelta(hours=1), "carol")
    assert not store.resume("run-1", T0 + timedelta(hours=2), "carol")
    resumed = store.get("run-1")
    assert resumed is not None and resumed.resumed_by == "carol"
    assert store.listed(active_at=T0 + timedelta(hours=2)) == []


def test_expired_rules_are_not_listed_as_active(engine: Engine) -> None:
    store = SqlQuarantineStore(engine)
    row = Quarantine("q", "batch", "import-7", "traps", "x", T0, expires_at=T0 + timedelta(days=1))
    store.add(row)

    assert store.listed(active_at=T0) == [row]
    assert store.listed(active_at=T0 + timedelta(days=1)) == []
    assert store.release("q", T0, "carol") and store.listed()[0].released_by == "carol"


def test_warm_up_plans_keep_their_ramps_and_rates(engine: Engine) -> None:
    store = SqlWarmupStore(engine)
    plan = WarmupPlan(
        "wu-1",
        "campaign",
        "black-friday",
        T0,
        {ALL: 1000.0, "gmail": 600.0},
        {ALL: (0.1, 0.25, 0.5, 1.0), "microsoft": (0.05, 0.5, 1.0)},
        "rollups",
        "mailwarden.pause_sending",
        "INC-3",
        "run-1",
    )

    assert store.add(plan) and store.get("wu-1") == plan
    assert store.listed(active_at=T0 + timedelta(days=5)) == []
    assert store.cancel("wu-1", T0, "carol") and not store.cancel("wu-1", T0, "carol")


def test_the_gate_source_loads_everything_and_its_fingerprint_moves_on_change(
    engine: Engine,
) -> None:
    source = SqlGateSource(engine)
    before = source.fingerprint()
    SqlPauseStore(engine).add(Pause("p", "all", ALL, "x", "m", T0))
    after_pause = source.fingerprint()
    SqlSuppressionStore(engine).put(Suppression("a@example.com", "complained", "m", T0), T0)
    after_suppress = source.fingerprint()
    SqlSuppressionStore(engine).remove("a@example.com", "")  # not this run's: nothing changes

    assert len({before, after_pause, after_suppress}) == 3
    assert source.fingerprint() == after_suppress
    rules = source.load(T0)
    assert rules.counts() == {"pauses": 1, "quarantines": 0, "suppressed": 1, "warmups": 0}
    assert decide(rules, GateQuery(recipient="a@example.com"), T0, 5).decision == "deny"


def test_the_suppression_list_reads_in_bulk_and_finds_what_expires(engine: Engine) -> None:
    store = SqlSuppressionStore(engine)
    for n, days in enumerate((1, 10, 40)):
        expires = T0 + timedelta(days=days)
        store.put(Suppression(f"r{n}@example.com", "x", "m", T0, expires_at=expires), T0)
    store.put(Suppression("forever@example.com", "x", "m", T0), T0)
    listed = SqlSuppressionList(engine)

    assert [s.address for s in listed.entries()][:1] == ["forever@example.com"]
    assert len(list(listed.entries(active_at=T0 + timedelta(days=20)))) == 2
    soon = listed.expiring(T0 + timedelta(days=5), T0 + timedelta(days=15))
    assert [s.address for s in soon] == ["r1@example.com"]


def test_approvals_are_one_per_run_and_decided_once(engine: Engine) -> None:
    store = SqlApprovalStore(engine)
    approval = Approval(
        "a1", "k1", "ses.pause", "high", {"x": 1}, {"summary": "s"}, "dave", T0, incident_id="INC-1"
    )

    assert store.add(approval) == approval
    assert store.add(Approval("a2", "k1", "other", "low", {}, {}, "x", T0)) == approval
    decided = approval.with_changes(state=APPROVED, decided_by="carol", decided_at=T0, reason="go")
    assert store.decide(decided) and not store.decide(decided)
    assert store.get("a1") == decided and store.by_key("k1") == decided
    assert store.listed(state=PENDING) == [] and store.listed(incident_id="INC-1") == [decided]


def test_delisting_requests_update_only_from_the_expected_status(engine: Engine) -> None:
    store = SqlDelistingStore(engine)
    made = store.add(Delisting("Spamhaus SBL", "203.0.113.5", T0, "dave", incident_id="INC-4"))

    assert made.id is not None and store.get(made.id) == made
    done = made.with_changes(status="delisted", delisted_at=T0 + timedelta(hours=5))
    assert store.update(done, "requested") and not store.update(done, "requested")
    assert store.listed(status="delisted") == [done]


def test_the_reminder_log_lets_each_reminder_out_once(engine: Engine) -> None:
    log = SqlReminderLog(engine)
    reminder = Reminder("pause:p1", "forgotten:1", "on for 24 h", T0, "INC-3")

    assert log.first(reminder) and not log.first(reminder)
    log.forget(reminder)
    assert log.first(reminder)
    assert log.recent() == [reminder]


def test_send_counts_come_from_the_rollups(engine: Engine) -> None:
    minute = int(T0.timestamp()) // 60
    RollupStore(engine).add(
        {
            (minute, "campaign", "black-friday", "queued"): 120,
            (minute + 1, "campaign", "black-friday", "queued"): 80,
            (minute, "mailbox_provider", "gmail", "queued"): 90,
        }
    )

    counts = SqlSendCounts(engine).by_key("campaign", "queued", minute, minute + 10)

    assert sorted(counts["black-friday"]) == [80, 120]
