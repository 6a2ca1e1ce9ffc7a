"""Roles are ordered; secrets are random, prefixed where meant to be, and stored as digests."""

from __future__ import annotations

import hashlib
import re

import pytest

from mailwarden.auth.randomness import (
    digest,
    new_api_token,
    new_password,
    new_session_token,
    same,
)
from mailwarden.auth.roles import ROLE_NAMES, Role


def test_roles_are_ordered_viewer_responder_commander_admin() -> None:
    assert Role.VIEWER < Role.RESPONDER < Role.COMMANDER < Role.ADMIN
    assert ROLE_NAMES == ("viewer", "responder", "commander", "admin")


def test_role_names_parse_case_insensitively_and_unknown_names_list_the_choices() -> None:
    assert Role.parse(" Commander ") is Role.COMMANDER
    with pytest.raises(ValueError, match="viewer, responder, commander, admin"):
        Role.parse("root")


def test_api_tokens_carry_the_mw_prefix_and_256_bits() -> None:
    token = new_api_token()
    assert token.startswith("mw_") and len(token) >= 3 + 43
    assert new_api_token() != token


def test_session_tokens_are_distinct_and_stored_as_their_sha256() -> None:
    token = new_session_token()
    assert token != new_session_token()
    assert digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in digest(token)


def test_one_time_passwords_are_four_groups_without_look_alike_characters() -> None:
    password = new_password()
    assert re.fullmatch(r"[a-hjkmnp-z2-9]{5}(-[a-hjkmnp-z2-9]{5}){3}", password)
    assert password != new_password()


def test_secret_comparison_never_matches_a_missing_value() -> None:
    assert same("abc", "abc")
    assert not same("abc", "abd")
    assert not same(None, None)
    assert not same("", "")
