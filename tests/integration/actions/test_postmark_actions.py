"""Postmark specifics: token failures, archiving as the stream stop, suppression ownership."""

from __future__ import annotations

import pytest
from tests.integration.actions.conftest import POSTMARK_TOKEN, Harness
from tests.integration.actions.fakes.postmark import FakePostmark

from mailwarden.actions.errors import AuthError, RejectedError
from mailwarden.actions.providers import postmark as pm
from mailwarden.actions.records import FAILED
from mailwarden.actions.runner import ActionRunner

ALEX, JO = "alex@example.com", "jo@example.com"


@pytest.fixture
def runner(postmark: FakePostmark, harness: Harness) -> ActionRunner:
    client = pm.make_client(POSTMARK_TOKEN, postmark.server.url, **harness.http_options())
    return harness.use(pm.actions(client), secrets=[POSTMARK_TOKEN])


def test_a_wrong_token_is_an_auth_error_with_postmarks_error_code(
    postmark: FakePostmark, harness: Harness
) -> None:
    postmark.add_stream("broadcasts")
    runner = harness.use(pm.actions(pm.make_client("pm-wrong", postmark.server.url)))
    with pytest.raises(AuthError, match=r"valid Server token\. \(ErrorCode 10\)"):
        runner.plan("postmark.archive_stream", {"stream": "broadcasts"}, requested_by="u")


def test_archiving_is_planned_with_its_purge_window(
    postmark: FakePostmark, runner: ActionRunner
) -> None:
    postmark.add_stream("black-friday")
    run = runner.plan(
        "postmark.archive_stream", {"stream": "black-friday"}, requested_by="u", key="k"
    )
    assert "deleted 45 days after archiving" in run.plan["notes"][0]
    done = runner.execute("k", executed_by="u", approved_by="a")
    assert done.provider_response_id == "black-friday"
    assert (done.result or {})["details"]["purge"] == "2027-01-11T08:00:00Z"


def test_the_default_stream_cannot_be_archived(
    postmark: FakePostmark, runner: ActionRunner
) -> None:
    postmark.add_stream("outbound", "Transactional")
    plan = runner.plan("postmark.archive_stream", {"stream": "outbound"}, requested_by="u", key="p")
    assert plan.plan["changes"] == [] and "cannot be archived" in plan.plan["summary"]
    run = runner.run(
        "postmark.archive_stream", {"stream": "outbound"}, key="k", executed_by="u", approved_by="a"
    )
    assert run.state == FAILED and run.error is not None and run.error.kind == "rejected"
    assert "cannot be archived" in run.error.message
    assert postmark.server.writes() == []


def test_undo_deletes_only_the_suppressions_the_run_added(
    postmark: FakePostmark, runner: ActionRunner
) -> None:
    postmark.add_stream("broadcasts")
    runner.run(
        "postmark.suppress",
        {"addresses": [JO], "stream": "broadcasts"},
        key="before",
        executed_by="u",
    )
    runner.run(
        "postmark.suppress",
        {"addresses": [ALEX, JO], "stream": "broadcasts"},
        key="k",
        executed_by="u",
    )
    runner.undo("k", executed_by="u")
    assert postmark.suppressed("broadcasts") == {JO}


def test_an_unknown_stream_is_a_clear_rejection(runner: ActionRunner) -> None:
    with pytest.raises(RejectedError, match=r"HTTP 422: The message stream .* not found"):
        runner.plan("postmark.archive_stream", {"stream": "nope"}, requested_by="u")
