"""A small HTTP client for provider APIs: timeouts, Retry-After-aware retries, typed errors.

Only 429 and 503 are retried (the provider said it did not do the work); a timeout or a
dropped connection is raised at once, because the change may have been applied and only the
action (checking before it writes again) can tell. Waits come from Retry-After (seconds or an
HTTP date), else X-RateLimit-Reset (epoch seconds, SendGrid), else an exponential backoff,
and never exceed `max_wait`: a longer wait is reported as RateLimitedError(retry_after).
Error messages carry the method, path, status and the provider's own message, scrubbed of
every secret the client was given.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx
import orjson

from mailwarden.actions.errors import (
    ActionError,
    ActionTimeoutError,
    AuthError,
    ConnectionLostError,
    NotFoundError,
    ProviderError,
    RateLimitedError,
    RejectedError,
    scrub,
)
from mailwarden.clock import Clock, SystemClock

RETRY_STATUSES: Final = frozenset({429, 503})
_REQUEST_ID_HEADERS: Final = ("x-request-id", "x-mailgun-request-id", "x-amzn-requestid")
_MAX_PROVIDER_MESSAGE: Final = 300


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A provider's answer: status, lower-cased headers, body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (None when empty or not JSON)."""
        if not self.body:
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None

    @property
    def request_id(self) -> str | None:
        """The provider's request id header, when it sends one."""
        for name in _REQUEST_ID_HEADERS:
            if self.headers.get(name):
                return self.headers[name]
        return None


class HttpClient:
    """Talks to one provider's API; the httpx client is created on first use, not before."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
        secrets: Sequence[str] = (),
        timeout: float = 10.0,
        max_attempts: int = 3,
        max_wait: float = 30.0,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self._basic_auth = basic_auth
        self._secrets = tuple(secrets)
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._max_wait = max_wait
        self._backoff = backoff
        self._sleep = sleep
        self._clock = clock or SystemClock()
        self._transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        ok: Collection[int] = (200, 201, 202, 204),
    ) -> HttpResponse:
        """Send the request, retrying 429/503 as allowed; raise a typed ActionError otherwise."""
        where = f"{method} {path}"
        for attempt in range(1, self._max_attempts + 1):
            response = self._send(method, path, where, json=json, data=data, params=params)
            if response.status in ok:
                return response
            wait = self._retry_wait(response, attempt)
            if wait is None:
                raise self._error(response, where)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the connection pool."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _send(
        self,
        method: str,
        path: str,
        where: str,
        *,
        json: Any,
        data: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
    ) -> HttpResponse:
        content = orjson.dumps(json) if json is not None else None
        headers = {"content-type": "application/json"} if content is not None else {}
        try:
            response = self._http().request(
                method, path, content=content, data=data, params=params, headers=headers
            )
        except httpx.TimeoutException:
            raise ActionTimeoutError(
                f"{self.provider}: {where} timed out after {self._timeout:g}s; "
                "the change may or may not have been applied",
                provider=self.provider,
            ) from None
        except httpx.HTTPError as exc:
            raise ConnectionLostError(
                self._clean(
                    f"{self.provider}: {where} failed ({type(exc).__name__}: {exc}); "
                    "the change may or may not have been applied"
                ),
                provider=self.provider,
            ) from None
        return HttpResponse(response.status_code, dict(response.headers), response.content)

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self._base_url,
                    headers={"accept": "application/json", **self._headers},
                    auth=httpx.BasicAuth(*self._basic_auth) if self._basic_auth else None,
                    timeout=self._timeout,
                    follow_redirects=False,
                    transport=self._transport,
                )
            return self._client

    def _retry_wait(self, response: HttpResponse, attempt: int) -> float | None:
        if response.status not in RETRY_STATUSES or attempt >= self._max_attempts:
            return None
        told = retry_after(response.headers, self._clock)
        wait = told if told is not None else self._backoff * 2 ** (attempt - 1)
        return wait if wait <= self._max_wait else None

    def _error(self, response: HttpResponse, where: str) -> ActionError:
        status = response.status
        told = provider_message(response)
        text = self._clean(
            f"{self.provider}: {where} → HTTP {status}" + (f": {told}" if told else "")
        )
        kwargs: dict[str, Any] = {"provider": self.provider, "status": status}
        if status in (401, 403):
            return AuthError(text, **kwargs)
        if status == 404:
            return NotFoundError(text, **kwargs)
        if status == 429:
            return RateLimitedError(
                text, retry_after=retry_after(response.headers, self._clock), **kwargs
            )
        if status >= 500:
            return ProviderError(text, **kwargs)
        return RejectedError(text, **kwargs)

    def _clean(self, text: str) -> str:
        return scrub(text, self._secrets)


def retry_after(headers: Mapping[str, str], clock: Clock) -> float | None:
    """Seconds to wait as the provider said: Retry-After, else X-RateLimit-Reset (epoch)."""
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - clock.now()).total_seconds())
    reset = headers.get("x-ratelimit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - clock.now().timestamp())
    return None


def provider_message(response: HttpResponse) -> str:
    """The provider's own error text: SendGrid errors[], Mailgun message, Postmark Message."""
    body = response.json()
    text = ""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            text = "; ".join(
                str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
            )
        else:
            text = str(body.get("message") or body.get("Message") or "")
            code = body.get("ErrorCode")
            text = f"{text} (ErrorCode {code})" if code is not None else text
    elif response.body and not response.headers.get("content-type", "").startswith("text/html"):
        text = response.body[:_MAX_PROVIDER_MESSAGE].decode("utf-8", "replace").strip()
    return " ".join(text.split())[:_MAX_PROVIDER_MESSAGE]
