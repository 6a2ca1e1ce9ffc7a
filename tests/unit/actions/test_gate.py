"""The sending gate: deny paused, quarantined and suppressed; throttle warm-ups; else allow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.actions.gate_fakes import T0, GateWorld

from mailwarden.actions.gate import GateQuery, GateRules, decide
from mailwarden.actions.gate_records import Pause

BATCH = {"campaign": "black-friday", "sending_domain": "news.example.org"}


@pytest.fixture
def world() -> GateWorld:
    return GateWorld()


def test_a_batch_nothing_applies_to_is_allowed(world: GateWorld) -> None:
    assert world.ask(**BATCH, mailbox_provider="gmail", recipient="a@example.com") == (
        "allow",
        None,
        [],
    )


@pytest.mark.parametrize(
    ("scope", "key", "query"),
    [
        ("campaign", "black-friday", {"campaign": "black-friday"}),
        ("sending_domain", "News.Example.org", {"sending_domain": "news.EXAMPLE.org"}),
        ("mailbox_provider", "gmail", {"mailbox_provider": "Gmail"}),
        ("sending_ip", "203.0.113.5", {"sending_ip": "203.0.113.5"}),
        ("all", None, {"campaign": "anything"}),
    ],
)
def test_a_paused_scope_is_denied_with_the_reason_and_incident(
    world: GateWorld, scope: str, key: str | None, query: dict[str, str]
) -> None:
    world.run(
        "mailwarden.pause_sending",
        "p1",
        scope=scope,
        key=key,
        reason="complaint spike",
        source_incident="INC-3",
    )

    decision, rate, reasons = world.ask(**query)

    assert decision == "deny" and rate is None
    assert reasons[0].startswith("paused: ") and "(complaint spike, INC-3)" in reasons[0]


def test_a_pause_elsewhere_does_not_stop_this_batch(world: GateWorld) -> None:
    world.run("mailwarden.pause_sending", "p1", scope="campaign", key="other", reason="x")

    assert world.ask(**BATCH)[0] == "allow"


@pytest.mark.parametrize("field", ["segment", "batch"])
def test_a_quarantined_segment_or_batch_is_denied(world: GateWorld, field: str) -> None:
    world.run(
        "mailwarden.quarantine_segment", "q1", **{field: "import-2026-11"}, reason="trap hits"
    )

    decision, _rate, reasons = world.ask(**BATCH, **{field: "import-2026-11"})
    assert decision == "deny" and reasons == [f"quarantined: {field}=import-2026-11 (trap hits)"]
    assert world.ask(**BATCH, **{field: "import-2026-10"})[0] == "allow"


def test_a_suppressed_recipient_is_denied_until_the_suppression_expires(world: GateWorld) -> None:
    expires = T0 + timedelta(days=30)
    world.run(
        "mailwarden.suppress",
        "s1",
        addresses=["Alex@Example.com"],
        reason="complained",
        expires_at=expires.isoformat(),
    )

    assert world.ask(recipient="alex@example.COM")[0] == "deny"
    assert world.ask(recipient="sam@example.com")[0] == "allow"
    world.clock.set(expires)
    assert world.ask(recipient="alex@example.com")[0] == "allow"


def test_an_expired_pause_is_no_longer_enforced(world: GateWorld) -> None:
    ends = T0 + timedelta(hours=2)
    world.run(
        "mailwarden.pause_sending",
        "p1",
        scope="all",
        reason="x",
        expires_at=ends.isoformat(),
    )
    assert world.ask(campaign="c")[0] == "deny"

    world.clock.set(ends)

    assert world.ask(campaign="c")[0] == "allow"


def test_every_deny_reason_is_given(world: GateWorld) -> None:
    world.run("mailwarden.pause_sending", "p1", scope="campaign", key="black-friday", reason="a")
    world.run("mailwarden.pause_sending", "p2", scope="mailbox_provider", key="gmail", reason="b")

    _decision, _rate, reasons = world.ask(**BATCH, mailbox_provider="gmail")

    assert len(reasons) == 2


def test_a_warm_up_throttles_per_mailbox_provider(world: GateWorld) -> None:
    world.run("mailwarden.pause_sending", "p1", scope="campaign", key="black-friday", reason="x")
    world.runner.undo("p1", executed_by="carol", approved_by="carol")

    decision, rate, reasons = world.ask(**BATCH, mailbox_provider="gmail")

    assert (decision, rate) == ("throttle", 60)  # 10% of gmail's 600/min on day 1
    assert "day 1 of 4 at gmail: 10% of normal, 60/min" in reasons[0]
    assert world.ask(**BATCH, mailbox_provider="yahoo")[1] == 10
    assert world.ask(**BATCH)[1] == 100  # no provider given: the scope's whole volume


def test_the_ttl_is_cut_short_by_a_pause_that_expires_soon(world: GateWorld) -> None:
    ends = T0 + timedelta(seconds=2)
    world.run("mailwarden.pause_sending", "p1", scope="all", reason="x", expires_at=str(ends))

    assert world.gate.check(GateQuery(campaign="c")).ttl_seconds == 2
    assert world.gate.check(GateQuery(campaign="c")).to_dict()["ttl_seconds"] == 2


def test_a_change_through_an_action_reaches_the_gate_at_once(world: GateWorld) -> None:
    assert world.ask(**BATCH)[0] == "allow"

    world.run("mailwarden.pause_sending", "p1", scope="campaign", key="black-friday", reason="x")
    assert world.ask(**BATCH)[0] == "deny"

    world.runner.undo("p1", executed_by="carol", approved_by="carol")
    assert world.ask(**BATCH)[0] == "throttle"


def test_a_change_made_elsewhere_is_picked_up_when_the_fingerprint_moves(world: GateWorld) -> None:
    assert world.ask(**BATCH)[0] == "allow"
    loads = world.source.loads
    pause = Pause("elsewhere", "campaign", "black-friday", "x", "cli", T0)
    world.pauses.add(pause)  # another process: no invalidate here

    assert world.ask(**BATCH)[0] == "allow"  # not due for a check yet
    world.now += world.gate.refresh_seconds
    assert world.ask(**BATCH)[0] == "allow"  # due, but the fingerprint did not move
    assert world.source.loads == loads

    world.source.version += 1
    world.now += world.gate.refresh_seconds
    assert world.ask(**BATCH)[0] == "deny"
    assert world.source.loads == loads + 1


def test_requests_between_checks_do_not_touch_the_source(world: GateWorld) -> None:
    world.ask(**BATCH)
    loads = world.source.loads

    for _ in range(1000):
        world.ask(**BATCH)

    assert world.source.loads == loads


def test_when_the_source_fails_the_gate_answers_from_the_last_snapshot(world: GateWorld) -> None:
    world.run("mailwarden.pause_sending", "p1", scope="all", reason="x")
    world.source.broken = True
    world.now += world.gate.refresh_seconds

    assert world.ask(campaign="c")[0] == "deny"


def test_decide_is_pure_and_allows_on_an_empty_snapshot() -> None:
    decision = decide(GateRules.build(T0), GateQuery(recipient="a@example.com"), T0, 5)

    assert decision.to_dict() == {
        "decision": "allow",
        "rate_per_minute": None,
        "reasons": [],
        "ttl_seconds": 5,
    }


def test_an_unparseable_ip_in_a_request_matches_no_ip_pause(world: GateWorld) -> None:
    world.run("mailwarden.pause_sending", "p1", scope="sending_ip", key="203.0.113.5", reason="x")

    assert world.ask(sending_ip="not-an-ip")[0] == "allow"
