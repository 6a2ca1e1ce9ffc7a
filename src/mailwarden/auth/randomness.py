"""Random secrets and their digests: session tokens, API tokens, one-time passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "mw_"  # noqa: S105 (a prefix, not a secret)
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 (no i/l/1, o/0)


def new_session_token() -> str:
    """Return a 256-bit random token for a session cookie."""
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    """Return a 256-bit random API token, recognisable by its mw_ prefix."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    """Return a random token to bind forms to a session or a sign-in page."""
    return secrets.token_urlsafe(32)


def new_password() -> str:
    """Return a random one-time password of about 99 bits, e.g. 'k7m2x-...' in 4 groups."""
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(5)) for _ in range(4))
    return "-".join(groups)


def digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a high-entropy token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(given: str | None, expected: str | None) -> bool:
    """Compare two secrets in constant time; missing values never match."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
