"""SES actions through boto3 over HTTP: IAM against moto's server; the SESv2 sending switches and
suppression list against a fake SESv2 REST-JSON server, because moto 5.2 answers 404 to them
(put_configuration_set_sending_options, put_account_sending_attributes, get_account and the
*_suppressed_destination calls are not implemented there)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer
from tests.integration.actions.conftest import Harness
from tests.integration.actions.fakes.server import Fault
from tests.integration.actions.fakes.sesv2 import FakeSesV2, aws_error

from mailwarden.actions.errors import AuthError, NotFoundError
from mailwarden.actions.providers import ses
from mailwarden.actions.records import FAILED, SUCCEEDED, UNDONE
from mailwarden.actions.runner import ActionRunner

ACCESS_KEY_ID = "AKIAMAILWARDENTEST01"
SECRET_KEY = "mailwarden-test-secret-0123456789"
ALEX, JO = "alex@example.com", "jo@example.com"
SUPPRESS = ("PUT", "/v2/email/suppression/addresses")


@pytest.fixture(scope="module", autouse=True)
def aws_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1",
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def sesv2_server() -> Iterator[FakeSesV2]:
    fake = FakeSesV2(ACCESS_KEY_ID)
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
def sesv2(sesv2_server: FakeSesV2) -> FakeSesV2:
    sesv2_server.reset()
    sesv2_server.state.config_sets["black-friday"] = True
    return sesv2_server


def _clients(url: str, attempts: int = 2) -> ses.AwsClients:
    return ses.AwsClients(
        "us-east-1", url, connect_timeout=0.5, read_timeout=0.5, max_attempts=attempts
    )


@pytest.fixture
def runner(sesv2: FakeSesV2, moto_url: str, harness: Harness) -> ActionRunner:
    actions = ses.actions(_clients(sesv2.server.url), iam=_clients(moto_url))
    return harness.use(actions, secrets=[SECRET_KEY])


@pytest.fixture(scope="module")
def iam(moto_url: str) -> Any:
    return _clients(moto_url).client("iam")


@pytest.fixture
def smtp_key(iam: Any) -> dict[str, str]:
    user = f"smtp-{len(iam.list_users()['Users'])}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {"user_name": user, "access_key_id": key["AccessKeyId"]}


def _key_status(iam: Any, params: dict[str, str]) -> str:
    keys = iam.list_access_keys(UserName=params["user_name"])
    return str(keys["AccessKeyMetadata"][0]["Status"])


def _go(runner: ActionRunner, name: str, params: dict[str, Any], key: str = "k") -> Any:
    runner.plan(name, params, requested_by="detector", key=key)
    return runner.execute(key, executed_by="user:bob", approved_by="user:alice")


def test_an_smtp_key_is_deactivated_verified_and_reactivated_on_moto(
    runner: ActionRunner, iam: Any, smtp_key: dict[str, str], harness: Harness
) -> None:
    plan = runner.plan("ses.deactivate_access_key", smtp_key, requested_by="u", key="k").plan
    assert plan["changes"] == [
        {"target": smtp_key["access_key_id"], "before": "Active", "after": "Inactive"}
    ]
    assert _key_status(iam, smtp_key) == "Active"
    run = runner.execute("k", executed_by="user:bob", approved_by="user:alice")
    assert run.state == SUCCEEDED and run.provider_response_id  # moto's RequestId
    assert _key_status(iam, smtp_key) == "Inactive"
    assert runner.verify("k", by="system").verified is True
    assert runner.execute("k", executed_by="user:bob").attempts == 1  # same key: no new write
    assert runner.undo("k", executed_by="user:bob", approved_by="user:alice").state == UNDONE
    assert _key_status(iam, smtp_key) == "Active"
    assert [e.step for e in harness.recorder.entries] == ["plan", "execute", "verify", "undo"]


def test_a_key_that_was_already_inactive_stays_inactive_after_undo(
    runner: ActionRunner, iam: Any, smtp_key: dict[str, str]
) -> None:
    iam.update_access_key(
        UserName=smtp_key["user_name"], AccessKeyId=smtp_key["access_key_id"], Status="Inactive"
    )
    run = _go(runner, "ses.deactivate_access_key", smtp_key)
    assert (run.result or {})["applied"] == []
    runner.undo("k", executed_by="u", approved_by="a")
    assert _key_status(iam, smtp_key) == "Inactive"


def test_an_unknown_access_key_is_a_clear_not_found(
    runner: ActionRunner, smtp_key: dict[str, str]
) -> None:
    with pytest.raises(NotFoundError, match="access key AKIA0000000000000000 not found"):
        runner.plan(
            "ses.deactivate_access_key",
            {**smtp_key, "access_key_id": "AKIA0000000000000000"},
            requested_by="u",
        )


def test_disabling_a_configuration_set_is_planned_applied_verified_and_undone(
    runner: ActionRunner, sesv2: FakeSesV2
) -> None:
    plan = runner.plan(
        "ses.disable_configuration_set_sending",
        {"configuration_set": "black-friday"},
        requested_by="u",
        key="k",
    ).plan
    assert plan["changes"][0]["after"] == "sending disabled" and sesv2.server.writes() == []
    run = runner.execute("k", executed_by="u", approved_by="a")
    assert run.state == SUCCEEDED and sesv2.state.config_sets["black-friday"] is False
    assert runner.verify("k", by="system").verified is True
    runner.execute("k", executed_by="u", approved_by="a")
    assert sesv2.state.puts == 1
    runner.undo("k", executed_by="u", approved_by="a")
    assert sesv2.state.config_sets["black-friday"] is True


def test_pausing_the_account_warns_about_its_reach_and_is_undone(
    runner: ActionRunner, sesv2: FakeSesV2
) -> None:
    plan = runner.plan("ses.pause_account_sending", {}, requested_by="u", key="k").plan
    assert "Stops every message from this account" in plan["notes"][0]
    runner.execute("k", executed_by="u", approved_by="a")
    assert sesv2.state.account_sending is False
    runner.undo("k", executed_by="u", approved_by="a")
    assert sesv2.state.account_sending is True


def test_suppression_undo_removes_only_what_the_run_added(
    runner: ActionRunner, sesv2: FakeSesV2
) -> None:
    sesv2.state.suppressed[JO] = "BOUNCE"
    run = _go(runner, "ses.suppress_recipients", {"addresses": [ALEX, JO]})
    assert (run.result or {})["applied"] == [ALEX]
    assert sesv2.state.suppressed == {ALEX: "COMPLAINT", JO: "BOUNCE"}
    assert runner.verify("k", by="system").verified is True
    runner.undo("k", executed_by="u")
    assert sesv2.state.suppressed == {JO: "BOUNCE"}


def test_a_lost_answer_is_retried_by_the_run_without_a_second_write(
    sesv2: FakeSesV2, moto_url: str, harness: Harness
) -> None:
    runner = harness.use(ses.actions(_clients(sesv2.server.url, attempts=1)))
    sesv2.server.inject(*SUPPRESS, Fault(drop_after_apply=True))
    failed = _go(runner, "ses.suppress_recipients", {"addresses": [ALEX]})
    assert failed.state == FAILED and failed.error.kind == "connection"
    retried = runner.execute("k", executed_by="u")
    assert retried.state == SUCCEEDED and (retried.result or {})["applied"] == [ALEX]
    assert sesv2.server.effects(*SUPPRESS) == 1
    runner.undo("k", executed_by="u")
    assert sesv2.state.suppressed == {}


def test_throttling_is_retried_by_botocore_then_reported_clearly(
    runner: ActionRunner, sesv2: FakeSesV2
) -> None:
    throttled = Fault(aws_error(429, "TooManyRequestsException", "Too many requests"))
    sesv2.server.inject(*SUPPRESS, throttled)
    assert _go(runner, "ses.suppress_recipients", {"addresses": [ALEX]}).state == SUCCEEDED
    sesv2.server.inject(*SUPPRESS, throttled, times=2)
    failed = _go(runner, "ses.suppress_recipients", {"addresses": [JO]}, key="k2")
    assert failed.state == FAILED and failed.error.kind == "rate_limited"
    assert "TooManyRequestsException" in failed.error.message and JO not in sesv2.state.suppressed


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault(aws_error(500, "InternalFailure", "boom")), "provider"),
        (Fault(delay=0.8), "timeout"),
        (Fault(aws_error(400, "BadRequestException", "bad address")), "rejected"),
    ],
    ids=["5xx", "timeout", "4xx"],
)
def test_provider_failures_leave_a_failed_run_with_a_clear_error(
    runner: ActionRunner, sesv2: FakeSesV2, harness: Harness, fault: Fault, kind: str
) -> None:
    sesv2.server.inject("PUT", "/v2/email/configuration-sets/black-friday/sending", fault, times=2)
    run = _go(
        runner, "ses.disable_configuration_set_sending", {"configuration_set": "black-friday"}
    )
    assert run.state == FAILED and run.error is not None and run.error.kind == kind
    assert harness.recorder.entries[-1].error == run.error
    sesv2.server.wait_idle()


def test_wrong_credentials_are_an_auth_error_without_the_secret(
    sesv2: FakeSesV2, harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1")
    runner = harness.use(ses.actions(_clients(sesv2.server.url)), secrets=[SECRET_KEY])
    with pytest.raises(AuthError, match="UnrecognizedClientException") as caught:
        runner.plan("ses.pause_account_sending", {}, requested_by="u")
    assert SECRET_KEY not in str(caught.value)


def test_an_unknown_configuration_set_is_a_clear_not_found(runner: ActionRunner) -> None:
    with pytest.raises(NotFoundError, match="NotFoundException: Configuration set <nope>"):
        runner.plan(
            "ses.disable_configuration_set_sending", {"configuration_set": "nope"}, requested_by="u"
        )


def test_no_client_is_created_before_the_first_call(sesv2: FakeSesV2) -> None:
    clients = _clients(sesv2.server.url)
    ses.actions(clients)
    assert clients._clients == {}
