"""The runner: an opened incident gets its playbook's tasks; closing waits for mandatory ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.team.fakes import T0, Stack, make_stack

from mailwarden.clock import FakeClock
from mailwarden.incidents.desk import BadInputError
from mailwarden.incidents.model import Actor, IllegalTransitionError
from mailwarden.playbooks.runner import OpenTasksError, TaskStateError, UnknownTaskError

ALEX, SAM = Actor("alex"), Actor("sam")


@pytest.fixture
def stack() -> Stack:
    return make_stack(FakeClock(T0))


def open_complaints(stack: Stack) -> str:
    return stack.incidents.open_manual(
        incident_type="spam_complaints", title="Complaints at Gmail", actor=ALEX, severity="SEV2"
    ).id


def recover(stack: Stack, ref: str) -> None:
    for state in ("acknowledged", "contained", "eradicated", "recovered"):
        stack.clock.advance(timedelta(minutes=10))
        stack.incidents.transition(ref, state, ALEX)


def test_opening_an_incident_creates_its_playbook_tasks_with_due_times(stack: Stack) -> None:
    ref = open_complaints(stack)
    tasks = {task.step_id: task for task in stack.tasks.tasks(ref)}
    assert list(tasks)[:3] == ["take_command", "measure_complaint_rate", "suppress_complainers"]
    assert tasks["suppress_complainers"].due_at == T0 + timedelta(minutes=15)
    assert tasks["suppress_complainers"].action == "mailwarden.suppress"
    assert tasks["suppress_complainers"].action_params["reason"] == f"complained during {ref}"
    assert tasks["check_segment_source"].due_at is None  # 4h after contained: not contained yet
    assert tasks["postmortem"].mandatory and tasks["postmortem"].phase == "lessons_learned"


def test_due_times_follow_the_phase_they_hang_on(stack: Stack) -> None:
    ref = open_complaints(stack)
    stack.clock.advance(timedelta(minutes=30))
    stack.incidents.transition(ref, "contained", ALEX)
    tasks = {task.step_id: task for task in stack.tasks.tasks(ref)}
    assert tasks["check_segment_source"].due_at == T0 + timedelta(minutes=30, hours=4)


def test_checking_off_a_task_records_who_and_when_on_the_timeline(stack: Stack) -> None:
    ref = open_complaints(stack)
    stack.clock.advance(timedelta(minutes=7))
    task = stack.tasks.finish(ref, "pause_campaign", SAM, note="paused in the ESP")
    assert (task.state, task.done_by, task.done_at) == ("done", "sam", T0 + timedelta(minutes=7))
    (entry,) = stack.entries(ref, "task_done")
    assert (entry.actor, entry.data["step"]) == ("sam", "pause_campaign")
    assert "paused in the ESP" in entry.note
    with pytest.raises(TaskStateError, match="already done"):
        stack.tasks.finish(ref, "pause_campaign", ALEX)
    with pytest.raises(UnknownTaskError, match="no task 'nap'"):
        stack.tasks.finish(ref, "nap", ALEX)


def test_skipping_a_mandatory_task_needs_a_reason(stack: Stack) -> None:
    ref = open_complaints(stack)
    with pytest.raises(BadInputError, match="needs a note"):
        stack.tasks.finish(ref, "pause_campaign", SAM, skip=True)
    task = stack.tasks.finish(ref, "pause_campaign", SAM, skip=True, note="transactional only")
    assert task.state == "skipped"
    assert stack.kinds(ref)[-1] == "task_skipped"


def test_closing_with_open_mandatory_tasks_is_refused_and_the_refusal_is_recorded(
    stack: Stack,
) -> None:
    ref = open_complaints(stack)
    recover(stack, ref)
    with pytest.raises(OpenTasksError, match="mandatory tasks open: take_command") as caught:
        stack.incidents.transition(ref, "closed", ALEX)
    assert isinstance(caught.value, IllegalTransitionError)
    assert stack.incidents.get(ref).state == "recovered"
    (refusal,) = stack.entries(ref, "close_refused")
    assert refusal.actor == "alex" and "postmortem" in refusal.data["open_tasks"]


def test_the_commander_may_close_anyway_with_a_reason_on_the_timeline(stack: Stack) -> None:
    ref = open_complaints(stack)
    stack.incidents.assign(ref, "incident_commander", "alex", ALEX)
    recover(stack, ref)
    with pytest.raises(OpenTasksError, match="only the incident commander \\(alex\\)"):
        stack.tasks.close(ref, SAM, override_reason="postmortem next week")
    closed = stack.tasks.close(ref, ALEX, override_reason="postmortem is tracked in JIRA-7")
    assert closed.state == "closed"
    kinds = stack.kinds(ref)
    assert kinds[-3:] == ["close_refused", "close_override", "transitioned"]
    override = stack.entries(ref, "close_override")[0]
    assert override.actor == "alex" and "JIRA-7" in override.note
    assert "postmortem" in override.data["open_tasks"]
    assert stack.entries(ref, "transitioned")[-1].data["override_reason"].endswith("JIRA-7")


def test_with_every_mandatory_task_done_closing_needs_no_override(stack: Stack) -> None:
    ref = open_complaints(stack)
    recover(stack, ref)
    for task in stack.tasks.tasks(ref):
        if task.mandatory:
            stack.tasks.finish(ref, task.step_id, SAM)
    assert stack.incidents.transition(ref, "closed", ALEX).state == "closed"
    assert "close_override" not in stack.kinds(ref)


def test_tasks_are_made_once_even_when_a_tick_catches_up(stack: Stack) -> None:
    ref = open_complaints(stack)
    count = len(stack.tasks.tasks(ref))
    stack.tick()
    stack.tasks.start(ref)
    assert len(stack.tasks.tasks(ref)) == count


def test_a_tick_gives_incidents_opened_elsewhere_their_tasks() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_complaints(stack)
    assert stack.tasks.tasks(ref) == []
    stack.tasks.tick(stack.clock.now())
    assert len(stack.tasks.tasks(ref)) > 0
