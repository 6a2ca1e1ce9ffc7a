"""Every HTTP provider action, against its fake API: plan, execute, verify, retry, undo, failures.

Each case names an action, its parameters, how to set the fake up, how to see the change on
the fake, and the write request the action makes (the one faults are injected into).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from tests.integration.actions.conftest import (
    MAILGUN_KEY,
    POSTMARK_TOKEN,
    SENDGRID_KEY,
    Harness,
)
from tests.integration.actions.fakes.server import Fault, Reply

from mailwarden.actions.providers import mailgun, postmark, sendgrid
from mailwarden.actions.records import FAILED, PLANNED, SUCCEEDED, UNDONE

ALEX, JO = "alex@example.com", "jo@example.com"
DOMAIN = "news.example.org"


@dataclass(frozen=True)
class Case:
    """One action at one provider, and how to observe it on the fake."""

    id: str
    fake: str
    action: str
    params: dict[str, Any]
    write: tuple[str, str]
    applied: Callable[[Any], bool]
    setup: Callable[[Any], None] = lambda fake: None
    effects: int = 1
    reversible: bool = True


def _seed_key(fake: Any) -> None:
    fake.state.api_keys["k-123"] = "campaign-tool"


def _seed_sub(fake: Any) -> None:
    fake.state.subaccounts["sub-1"] = "open"


CASES = [
    Case(
        "sendgrid.suppress_global",
        "sendgrid",
        "sendgrid.suppress_global",
        {"addresses": [ALEX, JO]},
        ("POST", "/v3/asm/suppressions/global"),
        lambda f: {ALEX, JO} <= f.state.suppressed,
    ),
    Case(
        "sendgrid.delete_api_key",
        "sendgrid",
        "sendgrid.delete_api_key",
        {"api_key_id": "k-123"},
        ("DELETE", "/v3/api_keys/k-123"),
        lambda f: "k-123" not in f.state.api_keys,
        setup=_seed_key,
        reversible=False,
    ),
    Case(
        "sendgrid.stop_scheduled_send",
        "sendgrid",
        "sendgrid.stop_scheduled_send",
        {"batch_id": "bf2026", "status": "pause"},
        ("POST", "/v3/user/scheduled_sends"),
        lambda f: f.state.scheduled.get("bf2026") == "pause",
    ),
    Case(
        "sendgrid.allow_api_access_from",
        "sendgrid",
        "sendgrid.allow_api_access_from",
        {"ips": ["203.0.113.5", "198.51.100.0/24"]},
        ("POST", "/v3/access_settings/whitelist"),
        lambda f: {"203.0.113.5/32", "198.51.100.0/24"} <= set(f.state.rules.values()),
    ),
    *[
        Case(
            f"mailgun.add_{kind}",
            "mailgun",
            f"mailgun.add_{kind}",
            {"addresses": [ALEX, JO], "domain": DOMAIN},
            ("POST", f"/v3/{DOMAIN}/{kind}"),
            lambda f, kind=kind: {ALEX, JO} <= f.listed(DOMAIN, kind),
            effects=2,
        )
        for kind in ("bounces", "unsubscribes", "complaints")
    ],
    Case(
        "mailgun.disable_subaccount",
        "mailgun",
        "mailgun.disable_subaccount",
        {"subaccount_id": "sub-1"},
        ("POST", "/v5/accounts/subaccounts/sub-1/disable"),
        lambda f: f.state.subaccounts["sub-1"] == "disabled",
        setup=_seed_sub,
    ),
    Case(
        "postmark.suppress",
        "postmark",
        "postmark.suppress",
        {"addresses": [ALEX, JO], "stream": "broadcasts"},
        ("POST", "/message-streams/broadcasts/suppressions"),
        lambda f: {ALEX, JO} <= f.suppressed("broadcasts"),
        setup=lambda f: f.add_stream("broadcasts"),
    ),
    Case(
        "postmark.archive_stream",
        "postmark",
        "postmark.archive_stream",
        {"stream": "black-friday"},
        ("POST", "/message-streams/black-friday/archive"),
        lambda f: f.state.streams["black-friday"]["ArchivedAt"] is not None,
        setup=lambda f: f.add_stream("black-friday"),
    ),
]


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def fake(case: Case, request: pytest.FixtureRequest) -> Any:
    fake = request.getfixturevalue(case.fake)
    case.setup(fake)
    return fake


@pytest.fixture
def h(case: Case, fake: Any, harness: Harness) -> Harness:
    options = harness.http_options()
    if case.fake == "sendgrid":
        client = sendgrid.make_client(SENDGRID_KEY, fake.server.url, **options)
        harness.use(sendgrid.actions(client), secrets=[SENDGRID_KEY])
    elif case.fake == "mailgun":
        client = mailgun.make_client(MAILGUN_KEY, fake.server.url, **options)
        harness.use(mailgun.actions(client, DOMAIN), secrets=[MAILGUN_KEY])
    else:
        client = postmark.make_client(POSTMARK_TOKEN, fake.server.url, **options)
        harness.use(postmark.actions(client), secrets=[POSTMARK_TOKEN])
    return harness


def _plan(h: Harness, case: Case, key: str = "run-1") -> None:
    assert h.runner is not None
    h.runner.plan(
        case.action, case.params, requested_by="detector:complaints", key=key, incident_id="inc-7"
    )


def _execute(h: Harness, key: str = "run-1") -> Any:
    assert h.runner is not None
    return h.runner.execute(key, executed_by="user:bob", approved_by="user:alice")


def test_plan_is_a_dry_run_that_changes_nothing(case: Case, fake: Any, h: Harness) -> None:
    _plan(h, case)
    run = h.runner.get("run-1")  # type: ignore[union-attr]
    assert run is not None and run.state == PLANNED
    assert run.plan["changes"], "the plan names what would change"
    assert not case.applied(fake)
    assert fake.server.writes() == []


def test_execute_applies_verifies_and_records_each_step(case: Case, fake: Any, h: Harness) -> None:
    _plan(h, case)
    run = _execute(h)
    assert run.state == SUCCEEDED and run.error is None
    assert case.applied(fake)
    assert h.runner.verify("run-1", by="system:verifier").verified is True  # type: ignore[union-attr]
    assert h.steps() == [("plan", "succeeded"), ("execute", "succeeded"), ("verify", "succeeded")]
    execute = h.recorder.entries[1]
    assert (execute.actor, execute.approved_by, execute.incident_id) == (
        "user:bob",
        "user:alice",
        "inc-7",
    )
    assert execute.action == case.action and execute.params == run.params
    assert execute.result is not None and execute.result["applied"]
    assert execute.provider_response_id == run.provider_response_id


def test_executing_again_with_the_same_key_applies_once(case: Case, fake: Any, h: Harness) -> None:
    _plan(h, case)
    first = _execute(h)
    again = _execute(h)
    _plan(h, case)  # planning again under the same key returns the same run
    assert again == first
    assert fake.server.effects(*case.write) == case.effects
    assert [s for s, _ in h.steps()].count("execute") == 1


def test_a_lost_answer_is_retried_without_applying_twice(case: Case, fake: Any, h: Harness) -> None:
    _plan(h, case)
    fake.server.inject(*case.write, Fault(drop_after_apply=True))
    failed = _execute(h)
    assert failed.state == FAILED and failed.error.kind == "connection"
    retried = _execute(h)
    assert retried.state == SUCCEEDED and retried.attempts == 2
    assert case.applied(fake)
    assert fake.server.effects(*case.write) == case.effects
    assert h.steps()[1:] == [("execute", "failed"), ("execute", "succeeded")]
    if case.reversible:  # the run owns what the lost attempt did: undo restores it
        assert (
            h.runner.undo("run-1", executed_by="user:bob", approved_by="user:alice").state == UNDONE
        )  # type: ignore[union-attr]
        assert not case.applied(fake)


def test_a_timeout_fails_clearly_and_a_retry_finds_the_change(
    case: Case, fake: Any, h: Harness
) -> None:
    _plan(h, case)
    fake.server.inject(*case.write, Fault(delay=0.7))
    failed = _execute(h)
    assert failed.state == FAILED and failed.error.kind == "timeout"
    assert "timed out" in failed.error.message
    fake.server.wait_idle()  # the slow request did get applied in the end
    assert _execute(h).state == SUCCEEDED
    assert fake.server.effects(*case.write) == case.effects


def test_undo_restores_and_is_safe_to_repeat(case: Case, fake: Any, h: Harness) -> None:
    _plan(h, case)
    _execute(h)
    if not case.reversible:
        with pytest.raises(Exception, match="cannot be undone"):
            h.runner.undo("run-1", executed_by="user:bob", approved_by="user:alice")  # type: ignore[union-attr]
        return
    undone = h.runner.undo("run-1", executed_by="user:bob", approved_by="user:alice")  # type: ignore[union-attr]
    assert undone.state == UNDONE
    assert not case.applied(fake)
    assert h.runner.undo("run-1", executed_by="user:bob", approved_by="user:alice") == undone  # type: ignore[union-attr]
    assert h.steps()[-1] == ("undo", "succeeded")


def test_rate_limiting_is_waited_out_per_retry_after(case: Case, fake: Any, h: Harness) -> None:
    _plan(h, case)
    fake.server.inject(
        *case.write, Fault(Reply(429, {"message": "slow down"}, {"Retry-After": "2"}))
    )
    assert _execute(h).state == SUCCEEDED
    assert h.sleeps == [2.0]
    assert fake.server.effects(*case.write) == case.effects


def test_rate_limiting_that_persists_fails_the_run_clearly(
    case: Case, fake: Any, h: Harness
) -> None:
    _plan(h, case)
    fake.server.inject(*case.write, Fault(Reply(429, {}, {"Retry-After": "1"})), times=3)
    failed = _execute(h)
    assert failed.state == FAILED and failed.error.kind == "rate_limited"
    assert "HTTP 429" in failed.error.message and h.sleeps == [1.0, 1.0]
    assert not case.applied(fake)
    assert h.ledger.get("run-1") == failed
    assert h.recorder.entries[-1].error == failed.error
    assert _execute(h).state == SUCCEEDED  # the same key works once the provider recovers


@pytest.mark.parametrize(
    ("status", "kind"), [(500, "provider"), (400, "rejected"), (422, "rejected")]
)
def test_provider_errors_fail_the_run_with_their_kind(
    case: Case, fake: Any, h: Harness, status: int, kind: str
) -> None:
    _plan(h, case)
    body = {"errors": [{"message": "boom"}], "message": "boom", "Message": "boom", "ErrorCode": 1}
    fake.server.inject(*case.write, Fault(Reply(status, body)))
    failed = _execute(h)
    assert failed.state == FAILED and failed.error.kind == kind
    assert f"HTTP {status}" in failed.error.message and "boom" in failed.error.message
    assert not case.applied(fake) and h.sleeps == []
