"""Errors a stranger's input can cause; the web door maps them to 400 and 401."""

from __future__ import annotations


class PayloadError(ValueError):
    """The payload is malformed or not what the provider documents (HTTP 400)."""


class SignatureError(PermissionError):
    """The payload's authenticity could not be established (HTTP 401)."""


class NotConfiguredError(SignatureError):
    """The provider has no secret configured, so nothing it sends can be trusted (HTTP 401)."""
