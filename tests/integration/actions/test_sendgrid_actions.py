"""SendGrid specifics: auth failures, secrets kept out of records, ownership on undo, plans."""

from __future__ import annotations

import orjson
import pytest
from tests.integration.actions.conftest import SENDGRID_KEY, Harness
from tests.integration.actions.fakes.sendgrid import FakeSendGrid

from mailwarden.actions.errors import AuthError
from mailwarden.actions.providers import sendgrid as sg
from mailwarden.actions.records import FAILED, SUCCEEDED, UNDONE
from mailwarden.actions.runner import ActionRunner, ApprovalRequiredError

ALEX, JO = "alex@example.com", "jo@example.com"


@pytest.fixture
def runner(sendgrid: FakeSendGrid, harness: Harness) -> ActionRunner:
    client = sg.make_client(SENDGRID_KEY, sendgrid.server.url, **harness.http_options())
    return harness.use(sg.actions(client), secrets=[SENDGRID_KEY])


def test_a_wrong_key_is_an_auth_error_that_does_not_show_the_key(
    sendgrid: FakeSendGrid, harness: Harness
) -> None:
    client = sg.make_client("SG.wrong-key-000000", sendgrid.server.url, **harness.http_options())
    runner = harness.use(sg.actions(client))
    with pytest.raises(AuthError, match="HTTP 401: authorization required") as caught:
        runner.plan("sendgrid.suppress_global", {"addresses": [ALEX]}, requested_by="user:bob")
    assert "wrong-key" not in str(caught.value)
    assert harness.recorder.entries == []


def test_secrets_never_reach_recorded_params_or_errors(
    sendgrid: FakeSendGrid, harness: Harness, runner: ActionRunner
) -> None:
    runner.plan("sendgrid.suppress_global", {"addresses": [ALEX]}, requested_by="u", key="k1")
    sendgrid.api_key = "SG.rotated-by-someone"  # our key stops working between plan and run
    sendgrid.echo_auth = True  # and the provider is careless enough to echo what we sent
    run = runner.execute("k1", executed_by="system:auto")
    sendgrid.api_key = SENDGRID_KEY
    assert run.state == FAILED and run.error is not None and run.error.kind == "auth"
    assert "***" in run.error.message
    everything = orjson.dumps([e.to_dict() for e in harness.recorder.entries]).decode()
    everything += repr(harness.ledger.get("k1")) + repr(harness.ledger.steps("k1"))
    assert SENDGRID_KEY not in everything
    assert SENDGRID_KEY.split(".", 1)[1] not in everything


def test_undo_removes_only_what_the_run_added(sendgrid: FakeSendGrid, runner: ActionRunner) -> None:
    sendgrid.state.suppressed.add(JO)  # suppressed before the incident
    run = runner.plan(
        "sendgrid.suppress_global", {"addresses": [ALEX, JO]}, requested_by="u", key="k"
    )
    assert [c["target"] for c in run.plan["changes"]] == [ALEX]
    done = runner.execute("k", executed_by="system:auto")
    assert (done.result or {})["applied"] == [ALEX] and (done.result or {})["unchanged"] == [JO]
    runner.undo("k", executed_by="system:auto")
    assert sendgrid.state.suppressed == {JO}


def test_low_risk_runs_without_approval_but_high_risk_needs_it(runner: ActionRunner) -> None:
    run = runner.run(
        "sendgrid.suppress_global", {"addresses": [ALEX]}, key="a", executed_by="system:auto"
    )
    assert run.state == SUCCEEDED
    runner.plan(
        "sendgrid.allow_api_access_from", {"ips": ["203.0.113.5"]}, requested_by="u", key="b"
    )
    with pytest.raises(ApprovalRequiredError, match="high risk"):
        runner.execute("b", executed_by="system:auto")
    assert runner.get("b").state == "planned"  # type: ignore[union-attr]


def test_cancelling_a_paused_batch_is_undone_back_to_paused(
    sendgrid: FakeSendGrid, runner: ActionRunner
) -> None:
    sendgrid.state.scheduled["bf"] = "pause"
    params = {"batch_id": "bf", "status": "cancel"}
    run = runner.run(
        "sendgrid.stop_scheduled_send", params, key="k", executed_by="u", approved_by="a"
    )
    assert sendgrid.state.scheduled["bf"] == "cancel" and run.provider_response_id is None
    runner.undo("k", executed_by="u", approved_by="a")
    assert sendgrid.state.scheduled["bf"] == "pause"


def test_a_new_scheduled_send_status_is_deleted_on_undo(
    sendgrid: FakeSendGrid, runner: ActionRunner
) -> None:
    params = {"batch_id": "bf", "status": "pause"}
    run = runner.run(
        "sendgrid.stop_scheduled_send", params, key="k", executed_by="u", approved_by="a"
    )
    assert run.provider_response_id == "bf"
    assert runner.undo("k", executed_by="u", approved_by="a").state == UNDONE
    assert "bf" not in sendgrid.state.scheduled


def test_ip_access_plan_warns_when_it_turns_the_allowlist_on(
    sendgrid: FakeSendGrid, runner: ActionRunner
) -> None:
    run = runner.plan(
        "sendgrid.allow_api_access_from", {"ips": ["203.0.113.5"]}, requested_by="u", key="k"
    )
    assert any("every IP not listed" in note for note in run.plan["notes"])
    sendgrid.state.rules[7] = "192.0.2.1/32"
    again = runner.plan(
        "sendgrid.allow_api_access_from",
        {"ips": ["192.0.2.1", "203.0.113.5"]},
        requested_by="u",
        key="k2",
    )
    assert again.plan["notes"] == [] and [c["target"] for c in again.plan["changes"]] == [
        "203.0.113.5/32"
    ]
    runner.execute("k2", executed_by="u", approved_by="a")
    runner.undo("k2", executed_by="u", approved_by="a")
    assert sendgrid.state.rules == {7: "192.0.2.1/32"}


def test_deleting_an_api_key_is_planned_as_irreversible(
    sendgrid: FakeSendGrid, runner: ActionRunner
) -> None:
    sendgrid.state.api_keys["k-9"] = "old-integration"
    run = runner.plan("sendgrid.delete_api_key", {"api_key_id": "k-9"}, requested_by="u", key="k")
    assert run.plan["reversible"] is False and "Irreversible" in run.plan["notes"][0]
    assert run.plan["changes"][0]["target"] == "k-9 (old-integration)"
    info = {i.name: i for i in runner.registry.describe()}["sendgrid.delete_api_key"]
    assert (info.risk, info.reversible) == ("high", False)
