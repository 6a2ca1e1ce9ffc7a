"""Passwords are argon2id-hashed, verified in about the same time for unknown users, and policed."""

from __future__ import annotations

import pytest

from mailwarden.auth.errors import WeakPasswordError
from mailwarden.auth.passwords import MAX_LENGTH, PasswordHasher, check_policy


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_kib=1024, parallelism=1)


def test_a_hash_is_argon2id_salted_and_verifies_only_the_right_password(
    hasher: PasswordHasher,
) -> None:
    first = hasher.hash("correct horse battery staple")
    assert first.startswith("$argon2id$")
    assert "correct horse" not in first
    assert first != hasher.hash("correct horse battery staple")  # salted
    assert hasher.verify(first, "correct horse battery staple")
    assert not hasher.verify(first, "correct horse battery stapler")


def test_garbage_hashes_and_oversized_passwords_simply_do_not_verify(
    hasher: PasswordHasher,
) -> None:
    assert not hasher.verify("not-a-hash", "whatever")
    long = "x" * (MAX_LENGTH + 1)
    assert not hasher.verify(hasher.hash("x" * 20), long)


def test_unknown_users_still_cost_a_verification_and_never_succeed(
    hasher: PasswordHasher,
) -> None:
    assert hasher.verify_unknown("anything at all") is False
    assert hasher._dummy is not None and hasher._dummy.startswith("$argon2id$")


def test_hashes_made_with_other_parameters_are_marked_for_rehash(hasher: PasswordHasher) -> None:
    stronger = PasswordHasher(time_cost=2, memory_kib=2048, parallelism=1)
    assert hasher.needs_rehash(stronger.hash("correct horse battery staple"))
    assert not hasher.needs_rehash(hasher.hash("correct horse battery staple"))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12"),
        ("alice-the-admin", "not be the username"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
        ("y" * (MAX_LENGTH + 1), "at most"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPasswordError, match=reason):
        check_policy(password, "alice-the-admin")


def test_a_long_passphrase_meets_the_policy() -> None:
    check_policy("correct horse battery staple", "alice")
