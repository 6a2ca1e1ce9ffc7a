"""mailwarden.suppress: Mailwarden's own list, with reason, incident, expiry and owned undo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailwarden.actions.local import MemorySuppressionStore, SuppressAction, SuppressParams
from mailwarden.actions.records import Suppression
from mailwarden.clock import FakeClock

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
ALEX, JO = "alex@example.com", "jo@example.com"


def _action() -> tuple[SuppressAction, MemorySuppressionStore, FakeClock]:
    store, clock = MemorySuppressionStore(), FakeClock(T0)
    return SuppressAction(store, clock), store, clock


def _params(*addresses: str, expires: datetime | None = None) -> SuppressParams:
    return SuppressParams(
        addresses=list(addresses), reason="complained", source_incident="inc-1", expires_at=expires
    )


def test_plan_names_only_addresses_not_yet_suppressed() -> None:
    action, store, _ = _action()
    store.put(Suppression(JO, "old", "x", T0), T0)
    plan = action.plan(_params(ALEX, JO, "ALEX@example.com"))
    assert [(c.target, c.before) for c in plan.changes] == [(ALEX, "absent")]


def test_execute_keeps_reason_incident_and_expiry() -> None:
    action, store, _ = _action()
    expires = T0 + timedelta(days=30)
    result = action.execute(_params(ALEX, expires=expires), "run-1")
    entry = store.get(ALEX)
    assert result.applied == (ALEX,) and entry is not None
    assert (entry.reason, entry.source_incident, entry.run_key, entry.expires_at) == (
        "complained",
        "inc-1",
        "run-1",
        expires,
    )
    assert action.verify(_params(ALEX)).ok


def test_an_expired_suppression_is_replaced_and_counts_as_a_change() -> None:
    action, store, clock = _action()
    store.put(Suppression(ALEX, "old", "x", T0, expires_at=T0 + timedelta(days=1)), T0)
    clock.advance(timedelta(days=2))
    assert not action.verify(_params(ALEX)).ok
    assert action.plan(_params(ALEX)).changes[0].before == "expired"
    assert action.execute(_params(ALEX), "run-2").applied == (ALEX,)


def test_undo_removes_only_entries_this_run_added() -> None:
    action, store, _ = _action()
    store.put(Suppression(JO, "old", "x", T0, run_key="earlier"), T0)
    result = action.execute(_params(ALEX, JO), "run-1")
    undone = action.undo(_params(ALEX, JO), result)
    assert undone.applied == (ALEX,) and store.get(ALEX) is None and store.get(JO) is not None
