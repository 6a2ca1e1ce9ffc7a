"""Mailgun specifics: basic-auth failures, the default domain, the subaccount stop."""

from __future__ import annotations

import pytest
from tests.integration.actions.conftest import MAILGUN_KEY, Harness
from tests.integration.actions.fakes.mailgun import FakeMailgun

from mailwarden.actions.errors import AuthError, InvalidParamsError
from mailwarden.actions.providers import mailgun as mg
from mailwarden.actions.runner import ActionRunner

ALEX = "alex@example.com"


def _runner(
    fake: FakeMailgun, harness: Harness, domain: str | None = "news.example.org"
) -> ActionRunner:
    client = mg.make_client(MAILGUN_KEY, fake.server.url, **harness.http_options())
    return harness.use(mg.actions(client, domain), secrets=[MAILGUN_KEY])


def test_a_wrong_key_gets_mailguns_plain_forbidden_as_an_auth_error(
    mailgun: FakeMailgun, harness: Harness
) -> None:
    client = mg.make_client("key-wrong-0000", mailgun.server.url, **harness.http_options())
    runner = harness.use(mg.actions(client, "news.example.org"))
    with pytest.raises(AuthError, match="HTTP 401: Forbidden") as caught:
        runner.plan("mailgun.add_complaints", {"addresses": [ALEX]}, requested_by="u")
    assert "key-wrong" not in str(caught.value)


def test_the_configured_domain_is_used_when_none_is_given(
    mailgun: FakeMailgun, harness: Harness
) -> None:
    runner = _runner(mailgun, harness)
    runner.run(
        "mailgun.add_unsubscribes", {"addresses": [ALEX]}, key="k", executed_by="system:auto"
    )
    assert mailgun.listed("news.example.org", "unsubscribes") == {ALEX}
    assert ("POST", "/v3/news.example.org/unsubscribes") in mailgun.server.log


def test_no_domain_anywhere_is_a_clear_parameter_error(
    mailgun: FakeMailgun, harness: Harness
) -> None:
    runner = _runner(mailgun, harness, domain=None)
    with pytest.raises(InvalidParamsError, match="MAILWARDEN_MAILGUN_DOMAIN"):
        runner.plan("mailgun.add_bounces", {"addresses": [ALEX]}, requested_by="u")


def test_an_invalid_address_is_refused_before_any_request(
    mailgun: FakeMailgun, harness: Harness
) -> None:
    runner = _runner(mailgun, harness)
    with pytest.raises(InvalidParamsError, match="not an email address"):
        runner.plan("mailgun.add_bounces", {"addresses": ["not an address"]}, requested_by="u")
    assert mailgun.server.log == []


def test_disabling_a_subaccount_says_it_is_not_a_domain_pause(
    mailgun: FakeMailgun, harness: Harness
) -> None:
    mailgun.state.subaccounts["sub-1"] = "open"
    runner = _runner(mailgun, harness)
    run = runner.plan(
        "mailgun.disable_subaccount", {"subaccount_id": "sub-1"}, requested_by="u", key="k"
    )
    assert "no endpoint to pause a single domain" in run.plan["notes"][0]
    assert run.plan["changes"] == [{"target": "sub-1", "before": "open", "after": "disabled"}]


def test_an_already_disabled_subaccount_is_left_disabled_by_undo(
    mailgun: FakeMailgun, harness: Harness
) -> None:
    mailgun.state.subaccounts["sub-1"] = "disabled"
    runner = _runner(mailgun, harness)
    params = {"subaccount_id": "sub-1"}
    run = runner.run(
        "mailgun.disable_subaccount", params, key="k", executed_by="u", approved_by="a"
    )
    assert (run.result or {})["applied"] == []
    runner.undo("k", executed_by="u", approved_by="a")
    assert mailgun.state.subaccounts["sub-1"] == "disabled"
    assert mailgun.server.writes() == []
