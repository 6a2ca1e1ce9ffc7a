"""Web helpers without a server: safe redirects, cookie Secure detection, client address."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from mailwarden.web.auth.cookies import CookiePolicy
from mailwarden.web.auth.pages import safe_next


def request(scheme: str = "http", headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {
            "type": "http",
            "scheme": scheme,
            "method": "GET",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "headers": raw,
            "client": ("10.0.0.9", 5000),
            "server": ("testserver", 80),
        }
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/api/incidents?open=1", "/api/incidents?open=1"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/login?next=/", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
    ],
)
def test_only_local_paths_are_followed_after_sign_in(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_cookies_are_secure_over_https_and_not_over_plain_http() -> None:
    policy = CookiePolicy()
    assert policy.is_secure(request("https"))
    assert not policy.is_secure(request("http"))


def test_the_setting_overrides_the_scheme() -> None:
    assert CookiePolicy(secure=True).is_secure(request("http"))
    assert not CookiePolicy(secure=False).is_secure(request("https"))


def test_forwarded_proto_counts_only_behind_a_trusted_proxy() -> None:
    forwarded = request("http", {"x-forwarded-proto": "https"})
    assert not CookiePolicy().is_secure(forwarded)
    assert CookiePolicy(trust_proxy=True).is_secure(forwarded)


def test_client_address_comes_from_forwarded_for_only_behind_a_trusted_proxy() -> None:
    proxied = request("http", {"x-forwarded-for": "198.51.100.7, 203.0.113.1", "user-agent": "ua"})
    assert CookiePolicy().client(proxied).ip == "10.0.0.9"
    # the proxy appends the address it saw; earlier entries are whatever the client claimed
    assert CookiePolicy(trust_proxy=True).client(proxied).ip == "203.0.113.1"
    assert CookiePolicy().client(proxied).user_agent == "ua"
