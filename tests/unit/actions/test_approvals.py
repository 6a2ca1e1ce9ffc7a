"""The approval desk: low risk runs by itself, medium/high wait for the incident commander."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.unit.actions.fake_action import Switchboard, TurnOff

from mailwarden.actions.approval_records import (
    APPROVED,
    PENDING,
    REJECTED,
    Approval,
    MemoryApprovalStore,
)
from mailwarden.actions.approvals import (
    ApprovalDesk,
    ApprovalStateError,
    Authority,
    NotAllowedError,
)
from mailwarden.actions.errors import ProviderError
from mailwarden.actions.port import ActionRegistry, Risk
from mailwarden.actions.records import (
    FAILED,
    PLANNED,
    SUCCEEDED,
    UNDONE,
    MemoryLedger,
    MemoryRecorder,
)
from mailwarden.actions.runner import ActionRunner
from mailwarden.clock import FakeClock

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
INCIDENT = "INC-7"
CAROL = Authority("carol")  # the incident's commander (assigned on the incident)
DAVE = Authority("dave")  # a responder
ERIN = Authority("erin", commander_role=True)  # holds the commander role


@dataclass
class DecisionLog:
    entries: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    def decision(self, approval: Approval, kind: str, actor: str, note: str) -> None:
        self.entries.append((kind, actor, note, approval.incident_id))


@dataclass
class AuditLog:
    entries: list[tuple[str, str, str | None, dict[str, Any]]] = field(default_factory=list)

    def __call__(
        self, actor: str, action: str, target: str | None, detail: Mapping[str, Any]
    ) -> None:
        self.entries.append((actor, action, target, dict(detail)))


class Env:
    def __init__(self) -> None:
        self.board = Switchboard(on={"a": True, "b": True})
        self.clock = FakeClock(T0)
        self.recorder = MemoryRecorder()
        self.log = DecisionLog()
        self.audit = AuditLog()
        actions = [
            TurnOff(self.board, risk=Risk.LOW, name="fake.low"),
            TurnOff(self.board, risk=Risk.MEDIUM, name="fake.medium"),
            TurnOff(self.board, risk=Risk.HIGH, name="fake.high"),
        ]
        runner = ActionRunner(ActionRegistry(actions), MemoryLedger(), self.clock, self.recorder)
        self.store = MemoryApprovalStore()
        self.desk = ApprovalDesk(
            runner,
            self.store,
            self.clock,
            log=self.log,
            audit=self.audit,
            commander_of=lambda ref: "carol" if ref == INCIDENT else None,
        )

    def request(self, name: str, **more: Any) -> Approval:
        outcome = self.desk.request(
            name, {"names": ["a"]}, requested_by="playbook:spam_complaints", **more
        )
        return outcome.approval

    def steps(self) -> list[tuple[str, str]]:
        return [(e.step, e.outcome) for e in self.recorder.entries]


@pytest.fixture
def env() -> Env:
    return Env()


def test_a_low_risk_action_runs_at_once_by_the_low_risk_rule(env: Env) -> None:
    approval = env.request("fake.low", incident_id=INCIDENT, key="k1")

    assert approval.state == APPROVED and approval.rule == "low_risk"
    assert env.board.on["a"] is False
    assert env.desk.runner.get("k1").state == SUCCEEDED  # type: ignore[union-attr]
    assert env.steps() == [("plan", "succeeded"), ("execute", "succeeded"), ("verify", "succeeded")]
    assert env.log.entries[0][:2] == ("action_auto_approved", "mailwarden")
    assert "auto-run by rule low_risk" in env.log.entries[0][2]


@pytest.mark.parametrize("name", ["fake.medium", "fake.high"])
def test_medium_and_high_risk_actions_wait_for_approval_without_running(
    env: Env, name: str
) -> None:
    approval = env.request(name, incident_id=INCIDENT, key="k1")

    assert approval.state == PENDING
    assert env.board.on["a"] is True
    assert env.desk.runner.get("k1").state == PLANNED  # type: ignore[union-attr]
    assert env.desk.pending(INCIDENT) == [approval]
    assert env.log.entries[-1][0] == "action_approval_requested"


def test_a_playbook_step_may_ask_approval_even_for_a_low_risk_action(env: Env) -> None:
    approval = env.request("fake.low", incident_id=INCIDENT, mode="commander")

    assert approval.state == PENDING and env.board.on["a"] is True


def test_a_playbook_step_cannot_waive_approval_of_a_high_risk_action(env: Env) -> None:
    approval = env.request("fake.high", incident_id=INCIDENT, mode="auto")

    assert approval.state == PENDING and env.board.on["a"] is True


def test_the_incidents_commander_approves_and_the_action_runs_with_their_name(env: Env) -> None:
    pending = env.request("fake.high", incident_id=INCIDENT, key="k1")

    outcome = env.desk.approve(pending.id, CAROL, "complaints at 0.6%")

    assert outcome.approval.state == APPROVED and outcome.approval.decided_by == "carol"
    assert outcome.run.state == SUCCEEDED and outcome.run.approved_by == "carol"
    assert env.board.on["a"] is False
    assert env.log.entries[-1][:2] == ("action_approved", "carol")


def test_someone_with_the_commander_role_may_approve_any_incidents_action(env: Env) -> None:
    pending = env.request("fake.medium", incident_id=INCIDENT)

    assert env.desk.approve(pending.id, ERIN).run.state == SUCCEEDED


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_a_responder_who_is_not_the_commander_may_not_decide(env: Env, decide: str) -> None:
    pending = env.request("fake.medium", incident_id=INCIDENT)

    with pytest.raises(NotAllowedError, match=r"incident commander of INC-7 \(carol\)"):
        getattr(env.desk, decide)(pending.id, DAVE, "because")

    assert env.store.get(pending.id).state == PENDING  # type: ignore[union-attr]
    assert env.board.on["a"] is True


def test_without_an_incident_only_the_commander_role_may_approve(env: Env) -> None:
    pending = env.request("fake.medium")

    with pytest.raises(NotAllowedError):
        env.desk.approve(pending.id, CAROL)
    assert env.desk.approve(pending.id, ERIN).approval.state == APPROVED


def test_a_rejected_action_never_runs_and_rejecting_needs_a_reason(env: Env) -> None:
    pending = env.request("fake.high", incident_id=INCIDENT, key="k1")

    with pytest.raises(ApprovalStateError, match="reason"):
        env.desk.reject(pending.id, CAROL, "  ")
    rejected = env.desk.reject(pending.id, CAROL, "the campaign is already stopped")

    assert rejected.state == REJECTED and rejected.reason == "the campaign is already stopped"
    with pytest.raises(ApprovalStateError):
        env.desk.run(pending.id, CAROL)
    assert env.board.on["a"] is True


def test_an_approval_is_decided_only_once(env: Env) -> None:
    pending = env.request("fake.medium", incident_id=INCIDENT)
    env.desk.approve(pending.id, CAROL)

    with pytest.raises(ApprovalStateError, match="already approved by carol"):
        env.desk.reject(pending.id, ERIN, "too late")


def test_requesting_again_with_the_same_key_changes_nothing(env: Env) -> None:
    first = env.request("fake.medium", incident_id=INCIDENT, key="k1")
    second = env.request("fake.medium", incident_id=INCIDENT, key="k1")

    assert first == second and len(env.store.listed()) == 1


def test_a_commander_may_run_a_medium_action_directly_as_their_own_approval(env: Env) -> None:
    outcome = env.desk.run_now("fake.medium", {"names": ["a"]}, CAROL, incident_id=INCIDENT)

    assert outcome.approval.decided_by == "carol" and outcome.run.state == SUCCEEDED


def test_a_responder_may_run_low_risk_directly_but_not_medium(env: Env) -> None:
    low = env.desk.run_now("fake.low", {"names": ["a"]}, DAVE, incident_id=INCIDENT)

    assert low.run.state == SUCCEEDED and low.run.executed_by == "dave"
    with pytest.raises(NotAllowedError):
        env.desk.run_now("fake.medium", {"names": ["b"]}, DAVE, incident_id=INCIDENT)
    assert env.board.on["b"] is True


def test_planning_opens_the_approval_and_changes_nothing(env: Env) -> None:
    outcome = env.desk.plan("fake.low", {"names": ["a"]}, requested_by="dave", key="k1")

    assert outcome.run.state == PLANNED and env.board.on["a"] is True
    ran = env.desk.run_now("fake.low", {"names": ["a"]}, DAVE, key="k1")
    assert ran.run.state == SUCCEEDED and env.board.on["a"] is False


def test_undo_is_for_the_commander_only(env: Env) -> None:
    env.desk.run_now("fake.low", {"names": ["a"]}, DAVE, incident_id=INCIDENT, key="k1")

    with pytest.raises(NotAllowedError):
        env.desk.undo("k1", DAVE)
    assert env.desk.undo("k1", CAROL).state == UNDONE
    assert env.board.on["a"] is True


def test_a_failed_run_is_recorded_and_retried_by_run(env: Env) -> None:
    env.board.fail_next.append(ProviderError("503 from the provider", provider="fake"))
    pending = env.request("fake.medium", incident_id=INCIDENT, key="k1")

    failed = env.desk.approve(pending.id, CAROL)
    assert failed.run.state == FAILED and ("execute", "failed") in env.steps()

    retried = env.desk.run(pending.id, CAROL)
    assert retried.run.state == SUCCEEDED and env.board.on["a"] is False


def test_every_request_and_decision_is_logged_and_audited(env: Env) -> None:
    pending = env.request("fake.high", incident_id=INCIDENT)
    env.desk.approve(pending.id, CAROL, "go")

    kinds = [entry[0] for entry in env.log.entries]
    assert kinds == ["action_approval_requested", "action_approved"]
    audited = [(actor, action) for actor, action, _target, _detail in env.audit.entries]
    assert audited == [
        ("playbook:spam_complaints", "action.approval_requested"),
        ("carol", "action.approved"),
    ]
    assert env.audit.entries[-1][2] == "action:fake.high"
    assert env.audit.entries[-1][3]["incident"] == INCIDENT


def test_listeners_hear_about_every_run(env: Env) -> None:
    heard: list[str] = []
    env.desk.on_run(lambda approval, run: heard.append(f"{approval.action}:{run.state}"))

    env.request("fake.low", incident_id=INCIDENT)

    assert heard == ["fake.low:succeeded"]


def test_mailwarden_may_withdraw_a_pending_request_but_not_a_decided_one(env: Env) -> None:
    pending = env.request("fake.medium", incident_id=INCIDENT)

    withdrawn = env.desk.withdraw(pending.id, "superseded: INC-7 is now about campaign=x")

    assert withdrawn is not None and withdrawn.state == REJECTED
    assert withdrawn.decided_by == "mailwarden"
    assert env.log.entries[-1][0] == "action_withdrawn"
    assert env.desk.withdraw(pending.id, "again") is None
