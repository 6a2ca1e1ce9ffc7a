"""Audit details never keep secrets: secret-named keys and API-token values are redacted."""

from __future__ import annotations

from mailwarden.auth.audit import REDACTED, scrub


def test_secret_named_keys_are_redacted_at_any_depth() -> None:
    detail = {
        "password": "hunter2hunter2",
        "new_password": "x",
        "api_key": "k",
        "headers": {"authorization": "Bearer abc", "cookie": "mw_session=abc"},
        "password_hash": "$argon2id$...",
    }
    cleaned = scrub(detail)
    assert cleaned["password"] == cleaned["new_password"] == cleaned["api_key"] == REDACTED
    assert cleaned["headers"] == {"authorization": REDACTED, "cookie": REDACTED}
    assert cleaned["password_hash"] == REDACTED


def test_ordinary_keys_that_mention_tokens_are_kept() -> None:
    detail = {"token_id": 3, "token_name": "ci", "role": "viewer", "campaign": "black-friday"}
    assert scrub(detail) == detail


def test_values_that_look_like_api_tokens_are_redacted_wherever_they_are() -> None:
    leaked = "mw_" + "A" * 43
    cleaned = scrub({"note": leaked, "args": ["ok", leaked]})
    assert cleaned == {"note": REDACTED, "args": ["ok", REDACTED]}
