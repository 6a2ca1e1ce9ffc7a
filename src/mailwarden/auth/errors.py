"""Why an auth operation was refused."""

from __future__ import annotations

from datetime import timedelta


class AuthError(Exception):
    """Base class for refusals the doors turn into 4xx answers."""


class InvalidCredentialsError(AuthError):
    """Wrong username or password (deliberately not saying which)."""


class ThrottledError(AuthError):
    """Too many failed sign-ins; try again after retry_after."""

    def __init__(self, retry_after: timedelta) -> None:
        seconds = max(1, int(retry_after.total_seconds() + 0.999))
        super().__init__(f"too many failed sign-ins; try again in {seconds} s")
        self.retry_after_seconds = seconds


class WeakPasswordError(AuthError, ValueError):
    """A new password does not meet the policy."""


class InvalidInputError(AuthError, ValueError):
    """A username, role, token name or expiry is not acceptable."""


class NotFoundError(AuthError, LookupError):
    """No such user or token."""


class ConflictError(AuthError):
    """The change would leave things inconsistent (name taken, last admin removed)."""


class PermissionDeniedError(AuthError):
    """The actor may not do this (e.g. a token above their own role)."""
