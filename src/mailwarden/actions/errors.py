"""Typed action errors: what went wrong talking to a provider, never with a secret in the text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Final

MASK: Final = "***"
_MAX_MESSAGE: Final = 500


class ActionError(Exception):
    """Base of every failure an action reports; `kind` is the stable, recordable category."""

    kind: ClassVar[str] = "error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, provider: str | None = None, status: int | None = None):
        super().__init__(message[:_MAX_MESSAGE])
        self.provider = provider
        self.status = status

    @property
    def message(self) -> str:
        """The human-readable message (already scrubbed by whoever raised it)."""
        return str(self)


class AuthError(ActionError):
    """The provider refused our credentials (HTTP 401/403, AWS access denied)."""

    kind = "auth"


class NotFoundError(ActionError):
    """The thing the action targets does not exist at the provider (HTTP 404)."""

    kind = "not_found"


class RateLimitedError(ActionError):
    """The provider throttled us and waiting longer than we may was required (HTTP 429)."""

    kind = "rate_limited"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after = retry_after


class ProviderError(ActionError):
    """The provider failed on its side (HTTP 5xx)."""

    kind = "provider"
    retryable = True


class RejectedError(ActionError):
    """The provider refused the request as invalid (HTTP 400/409/422 and similar)."""

    kind = "rejected"


class ActionTimeoutError(ActionError):
    """No answer within the timeout; the change may or may not have been applied."""

    kind = "timeout"
    retryable = True


class ConnectionLostError(ActionError):
    """The connection failed or dropped; the change may or may not have been applied."""

    kind = "connection"
    retryable = True


class ConfigurationError(ActionError):
    """Mailwarden is not configured for this provider (a key or setting is missing)."""

    kind = "configuration"


class InvalidParamsError(ActionError):
    """The parameters do not fit the action's schema."""

    kind = "invalid_params"


class NotReversibleError(ActionError):
    """The action cannot be undone (the provider offers no way back)."""

    kind = "not_reversible"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret (4+ characters) in text with a mask."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
