"""Detection tables on SQLite and PostgreSQL: rollups add up, findings update in place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect
from tests.unit.detect.factory import T0

from mailwarden.detect.model import Finding, Scope
from mailwarden.store import migrate
from mailwarden.store.findings_repo import FindingStore
from mailwarden.store.rollups_repo import RollupStore


def test_rollups_upsert_by_adding_to_what_is_there(engine: Engine) -> None:
    store = RollupStore(engine)
    key = (29000000, "overall", "*", "delivered")
    store.add({key: 3, (29000000, "campaign", "c", "queued"): 5})
    store.add({key: 4})
    assert store.total("overall", "*", "delivered") == 7
    rows = sorted(store.rows(29000000))
    assert (29000000, "overall", "*", "delivered", 7) in rows
    assert list(store.rows(29000001)) == []


def test_count_vectors_add_up_per_metric_and_leave_zeros_unwritten(engine: Engine) -> None:
    store = RollupStore(engine)
    metrics = ("queued", "delivered", "bounced.hard")
    reason = (29000000, "campaign", "c", "reason:mailbox_full", 1)
    store.add_vectors(metrics, [(29000000, "campaign", "c", 5, 0, 2)], [reason])
    store.add_vectors(metrics, [(29000000, "campaign", "c", 1, 3, 0)])
    assert sorted(store.rows(29000000)) == [
        (29000000, "campaign", "c", "bounced.hard", 2),
        (29000000, "campaign", "c", "delivered", 3),
        (29000000, "campaign", "c", "queued", 6),
        reason,
    ]


def test_a_vector_of_anything_but_core_counters_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="not a rollup counter"):
        RollupStore(engine).add_vectors(("queued = 1; --",), [(1, "overall", "*", 1)])


def _finding() -> Finding:
    return Finding(
        kind="block_rate",
        scope=Scope("mailbox_provider", "gmail"),
        severity="warning",
        observed=0.4,
        expected=0.002,
        evidence={"score": 12.5, "by_reason": {"authfailure": 9}},
        window_start=T0,
        window_end=T0 + timedelta(minutes=15),
        first_seen=T0 + timedelta(minutes=16),
        sample_event_ids=["a", "b"],
    )


def test_a_finding_is_one_row_updated_in_place_until_it_closes(engine: Engine) -> None:
    store = FindingStore(engine)
    finding = _finding()
    store.save([finding])
    assert finding.id is not None
    finding.severity = "critical"
    finding.status = "closed"
    finding.closed_at = T0 + timedelta(hours=2)
    finding.last_seen = T0 + timedelta(hours=1)
    store.save([finding])
    (stored,) = store.find()
    assert stored.to_dict() == finding.to_dict()
    assert store.find(kind="hard_bounce_rate") == []
    assert store.find(status="open") == []
    assert store.get(finding.id) is not None


def test_detection_tables_come_and_go_with_the_migration(engine: Engine) -> None:
    assert {"rollup_counts", "rollups", "findings"} <= set(inspect(engine).get_table_names())
    migrate.downgrade(engine, "0001")
    assert not {"rollup_counts", "rollups"} & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert "findings" in inspect(engine).get_table_names()


def test_hourly_sums_come_back_by_the_hour(engine: Engine) -> None:
    store = RollupStore(engine)
    base = 29_000_080  # minute 40 of an hour (29_000_040 is a whole hour)
    store.add({(base, "overall", "*", "queued"): 2, (base + 30, "overall", "*", "queued"): 5})
    assert sorted(store.hours(base, base + 60)) == [
        (base // 60, "overall", "*", "queued", 2),
        (base // 60 + 1, "overall", "*", "queued", 5),
    ]


def test_a_restarted_engine_warms_up_from_the_store(engine: Engine) -> None:
    from tests.unit.detect.factory import minute_of_traffic, minutes

    from mailwarden.clock import FakeClock
    from mailwarden.detect.engine import DetectionEngine

    clock = FakeClock(T0)
    first = DetectionEngine(clock, rollups=RollupStore(engine), findings=FindingStore(engine))
    for at in minutes(
        T0,
        3 * 24 * 60,
    ):
        if at.minute == 0:
            first.on_events(minute_of_traffic(at, 10))
    first.flush()
    clock.set(T0 + timedelta(days=3))
    second = DetectionEngine(clock, rollups=RollupStore(engine), findings=FindingStore(engine))
    second.warm_up()
    series = second.state.book.get(("overall", "*"))
    assert series is not None and series.total[0] == 72 * 10
    assert second.state.exposure.get(("overall", "*")) is not None
