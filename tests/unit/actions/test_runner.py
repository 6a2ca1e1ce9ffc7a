"""The ActionRunner: states, approval, idempotency, ownership on retry, recording, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.actions.fake_action import Switchboard, TurnOff

from mailwarden.actions.errors import InvalidParamsError, NotReversibleError, ProviderError
from mailwarden.actions.port import ActionRegistry, Risk
from mailwarden.actions.records import (
    FAILED,
    PLANNED,
    RUNNING,
    SUCCEEDED,
    UNDO_FAILED,
    UNDONE,
    MemoryLedger,
    MemoryRecorder,
    StepRecord,
)
from mailwarden.actions.runner import ActionRunner, ApprovalRequiredError, RunConflictError
from mailwarden.clock import FakeClock

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class Env:
    def __init__(
        self, *, risk: Risk = Risk.MEDIUM, reversible: bool = True, secrets: tuple[str, ...] = ()
    ) -> None:
        self.board = Switchboard(on={"a": True, "b": True})
        self.clock = FakeClock(T0)
        self.ledger = MemoryLedger()
        self.recorder = MemoryRecorder()
        action = TurnOff(self.board, risk=risk, reversible=reversible)
        self.runner = ActionRunner(
            ActionRegistry([action]),
            self.ledger,
            self.clock,
            recorder=self.recorder,
            secrets=secrets,
        )

    def plan(self, names: list[str] | None = None, key: str = "k") -> None:
        self.runner.plan(
            "fake.turn_off",
            {"names": names or ["a", "b"]},
            requested_by="detector",
            key=key,
            incident_id="inc-1",
        )

    def execute(self, key: str = "k"):  # type: ignore[no-untyped-def]
        return self.runner.execute(key, executed_by="user:bob", approved_by="user:alice")

    def steps(self) -> list[tuple[str, str]]:
        return [(e.step, e.outcome) for e in self.recorder.entries]


def test_planning_opens_a_run_and_records_who_asked() -> None:
    env = Env()
    env.plan()
    run = env.runner.get("k")
    assert run is not None and run.state == PLANNED and run.attempts == 0
    assert [c["target"] for c in run.plan["changes"]] == ["a", "b"]
    assert env.steps() == [("plan", "succeeded")]
    assert env.recorder.entries[0].actor == "detector" and env.board.writes == 0


def test_medium_risk_needs_an_approver_and_the_approver_is_recorded() -> None:
    env = Env()
    env.plan()
    with pytest.raises(ApprovalRequiredError):
        env.runner.execute("k", executed_by="system:auto")
    run = env.execute()
    assert run.state == SUCCEEDED and run.approved_by == "user:alice"
    entry = env.recorder.entries[-1]
    assert (entry.actor, entry.approved_by, entry.provider_response_id) == (
        "user:bob",
        "user:alice",
        "resp-2",
    )
    assert entry.params == {"names": ["a", "b"]} and entry.incident_id == "inc-1"


def test_low_risk_runs_without_an_approver() -> None:
    env = Env(risk=Risk.LOW)
    run = env.runner.run("fake.turn_off", {"names": ["a"]}, key="k", executed_by="system:auto")
    assert run.state == SUCCEEDED and run.approved_by is None


def test_a_succeeded_run_is_not_executed_again() -> None:
    env = Env()
    env.plan()
    first = env.execute()
    assert env.execute() == first and env.board.writes == 2


def test_a_key_reused_for_another_request_is_refused() -> None:
    env = Env()
    env.plan(["a"])
    with pytest.raises(InvalidParamsError, match="already used for a different request"):
        env.plan(["b"])


def test_a_retry_after_a_lost_answer_owns_what_the_lost_attempt_did() -> None:
    env = Env()
    env.plan()
    env.board.lose_next_answer = True  # "a" is switched off, the answer never comes back
    failed = env.execute()
    assert failed.state == FAILED and failed.error is not None and failed.error.kind == "connection"
    done = env.execute()
    assert done.state == SUCCEEDED and (done.result or {})["applied"] == ["b", "a"]
    assert (done.result or {})["details"]["before"] == {"a": "on", "b": "on"}
    assert env.board.writes == 2
    env.runner.undo("k", executed_by="user:bob", approved_by="user:alice")
    assert env.board.on == {"a": True, "b": True}


def test_a_first_attempt_does_not_claim_what_someone_else_changed() -> None:
    env = Env()
    env.plan()
    env.board.on["a"] = False  # a colleague turned it off by hand after the plan
    done = env.execute()
    assert (done.result or {})["applied"] == ["b"] and (done.result or {})["unchanged"] == ["a"]
    env.runner.undo("k", executed_by="user:bob", approved_by="user:alice")
    assert env.board.on == {"a": False, "b": True}


def test_a_fresh_running_run_is_left_alone_but_a_stale_one_is_taken_over() -> None:
    env = Env()
    env.plan()
    run = env.runner.get("k")
    assert run is not None
    crashed = run.with_changes(state=RUNNING, attempts=1, updated_at=T0)
    assert env.ledger.claim("k", frozenset({PLANNED}), crashed)
    with pytest.raises(RunConflictError, match="is running"):
        env.execute()
    env.clock.advance(timedelta(minutes=6))
    assert env.execute().state == SUCCEEDED


def test_an_unexpected_exception_fails_the_run_as_internal() -> None:
    env = Env()
    env.plan()
    env.board.fail_next = [RuntimeError("kaboom")]
    run = env.execute()
    assert run.state == FAILED and run.error is not None
    assert (run.error.kind, run.error.message) == ("internal", "RuntimeError: kaboom")
    assert env.steps()[-1] == ("execute", "failed")


def test_known_secrets_are_masked_in_recorded_errors() -> None:
    env = Env(secrets=("hunter2-hunter2",))
    env.plan()
    env.board.fail_next = [ProviderError("fake: HTTP 500: token hunter2-hunter2 rejected")]
    run = env.execute()
    assert run.error is not None and run.error.message == "fake: HTTP 500: token *** rejected"
    assert "hunter2" not in repr(env.recorder.entries) + repr(env.ledger.steps("k"))


def test_verify_records_a_mismatch_without_changing_state() -> None:
    env = Env()
    env.plan()
    env.execute()
    env.board.on["a"] = True  # someone turned it back on
    checked = env.runner.verify("k", by="system")
    assert checked.verified is False and checked.state == SUCCEEDED
    assert env.steps()[-1] == ("verify", "mismatch")


def test_an_irreversible_action_refuses_undo_without_recording_anything() -> None:
    env = Env(reversible=False)
    env.plan()
    env.execute()
    before = list(env.recorder.entries)
    with pytest.raises(NotReversibleError):
        env.runner.undo("k", executed_by="user:bob", approved_by="user:alice")
    assert env.recorder.entries == before and env.runner.get("k").state == SUCCEEDED  # type: ignore[union-attr]


def test_a_failed_undo_can_be_retried() -> None:
    env = Env()
    env.plan()
    env.execute()
    env.board.fail_next = [ProviderError("fake: HTTP 503")]
    assert env.runner.undo("k", executed_by="u", approved_by="a").state == UNDO_FAILED
    assert env.runner.undo("k", executed_by="u", approved_by="a").state == UNDONE
    assert env.steps()[-2:] == [("undo", "failed"), ("undo", "succeeded")]


def test_a_recorder_that_fails_leaves_the_ledger_complete() -> None:
    class Broken:
        def record(self, entry: StepRecord) -> None:
            raise OSError("timeline down")

    env = Env()
    runner = ActionRunner(env.runner.registry, env.ledger, env.clock, recorder=Broken())
    with pytest.raises(OSError, match="timeline down"):
        runner.plan("fake.turn_off", {"names": ["a"]}, requested_by="u", key="k")
    assert env.ledger.get("k") is not None and [s.step for s in env.ledger.steps("k")] == ["plan"]


def test_unknown_runs_and_actions_are_named_in_the_error() -> None:
    env = Env()
    with pytest.raises(KeyError, match="no action run"):
        env.runner.execute("missing", executed_by="u")
    with pytest.raises(KeyError, match=r"known: \['fake.turn_off'\]"):
        env.runner.plan("fake.nope", {}, requested_by="u")
