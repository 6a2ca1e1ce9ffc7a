"""The provider HTTP client: Retry-After-aware retries, typed errors, no secrets in messages."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from mailwarden.actions.errors import (
    ActionTimeoutError,
    AuthError,
    ConnectionLostError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RejectedError,
)
from mailwarden.actions.http import HttpClient
from mailwarden.clock import FakeClock

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
SECRET = "SG.very-secret-key-123"


class Script:
    """Answers requests from a list of responses (or exceptions), recording what was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _client(
    script: Callable[[httpx.Request], httpx.Response], sleeps: list[float], **options: object
) -> HttpClient:
    return HttpClient(
        "sendgrid",
        "https://api.example.test",
        headers={"authorization": f"Bearer {SECRET}"},
        secrets=[SECRET],
        sleep=sleeps.append,
        clock=FakeClock(NOW),
        transport=httpx.MockTransport(script),
        **options,  # type: ignore[arg-type]
    )


def test_429_waits_as_long_as_retry_after_says_then_succeeds() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(201, json={}))
    sleeps: list[float] = []
    assert _client(script, sleeps).request("POST", "/v3/x", json={"a": 1}).status == 201
    assert sleeps == [3.0] and len(script.requests) == 2


def test_retry_after_may_be_an_http_date() -> None:
    when = "Fri, 27 Nov 2026 08:00:07 GMT"
    script = Script(httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200))
    sleeps: list[float] = []
    _client(script, sleeps).request("GET", "/v3/x")
    assert sleeps == [7.0]


def test_sendgrids_rate_limit_reset_header_is_understood() -> None:
    reset = str(int(NOW.timestamp()) + 5)
    script = Script(httpx.Response(429, headers={"X-RateLimit-Reset": reset}), httpx.Response(200))
    sleeps: list[float] = []
    _client(script, sleeps).request("GET", "/v3/x")
    assert sleeps == [5.0]


def test_without_a_hint_the_backoff_doubles_until_attempts_run_out() -> None:
    script = Script(*[httpx.Response(429, json={"errors": [{"message": "too many requests"}]})] * 3)
    sleeps: list[float] = []
    with pytest.raises(RateLimitedError, match="HTTP 429: too many requests") as caught:
        _client(script, sleeps).request("GET", "/v3/x")
    assert sleeps == [1.0, 2.0] and caught.value.retry_after is None


def test_a_wait_longer_than_allowed_is_reported_not_slept() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "120"}))
    sleeps: list[float] = []
    with pytest.raises(RateLimitedError) as caught:
        _client(script, sleeps, max_wait=30.0).request("GET", "/v3/x")
    assert sleeps == [] and caught.value.retry_after == 120.0
    assert caught.value.kind == "rate_limited" and caught.value.retryable


def test_a_500_is_not_retried() -> None:
    script = Script(httpx.Response(500, json={"message": "internal"}))
    sleeps: list[float] = []
    with pytest.raises(ProviderError, match="HTTP 500: internal"):
        _client(script, sleeps).request("POST", "/v3/x")
    assert sleeps == [] and len(script.requests) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (400, RejectedError),
        (422, RejectedError),
        (502, ProviderError),
    ],
)
def test_statuses_become_typed_errors(status: int, error: type[Exception]) -> None:
    with pytest.raises(error, match=f"sendgrid: DELETE /v3/x → HTTP {status}"):
        _client(Script(httpx.Response(status)), []).request("DELETE", "/v3/x")


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"errors": [{"field": None, "message": "a"}, {"message": "b"}]}, ": a; b"),
        ({"message": "Address not found"}, ": Address not found"),
        ({"ErrorCode": 10, "Message": "No token"}, ": No token (ErrorCode 10)"),
        (b"Forbidden", ": Forbidden"),
    ],
)
def test_the_providers_own_message_is_kept(body: object, shown: str) -> None:
    response = (
        httpx.Response(401, content=body)
        if isinstance(body, bytes)
        else httpx.Response(401, json=body)
    )
    with pytest.raises(AuthError) as caught:
        _client(Script(response), []).request("GET", "/x")
    assert str(caught.value).endswith(shown)


def test_an_html_error_page_is_not_pasted_into_the_message() -> None:
    page = httpx.Response(
        502, content=b"<html><body>Bad gateway</body></html>", headers={"content-type": "text/html"}
    )
    with pytest.raises(ProviderError) as caught:
        _client(Script(page), []).request("GET", "/x")
    assert str(caught.value) == "sendgrid: GET /x → HTTP 502"


def test_a_secret_echoed_by_the_provider_is_masked() -> None:
    echo = httpx.Response(401, json={"errors": [{"message": f"bad key Bearer {SECRET}"}]})
    with pytest.raises(AuthError) as caught:
        _client(Script(echo), []).request("GET", "/x")
    assert SECRET not in str(caught.value) and "Bearer ***" in str(caught.value)


def test_timeouts_and_dropped_connections_are_not_retried() -> None:
    sleeps: list[float] = []
    with pytest.raises(ActionTimeoutError, match="may or may not have been applied"):
        _client(Script(httpx.ReadTimeout("slow")), sleeps).request("POST", "/x")
    lost = Script(httpx.RemoteProtocolError("Server disconnected without sending a response."))
    with pytest.raises(ConnectionLostError, match="RemoteProtocolError"):
        _client(lost, sleeps).request("POST", "/x")
    assert sleeps == []


def test_nothing_connects_before_the_first_request() -> None:
    client = _client(Script(httpx.Response(200)), [])
    assert client._client is None
    client.request("GET", "/x")
    assert client._client is not None
    client.close()
    assert client._client is None


def test_basic_auth_and_json_bodies_are_sent() -> None:
    script = Script(httpx.Response(200))
    client = HttpClient(
        "mailgun",
        "https://api.example.test",
        basic_auth=("api", "k"),
        transport=httpx.MockTransport(script),
    )
    client.request("POST", "/v3/d/bounces", data={"address": "a@b.co"})
    sent = script.requests[0]
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"api:k").decode()
    assert sent.content == b"address=a%40b.co"
