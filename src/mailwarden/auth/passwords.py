"""Password hashing with argon2id, and the policy new passwords must meet."""

from __future__ import annotations

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mailwarden.auth.errors import WeakPasswordError

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 hashes anything, but unbounded input is a cheap denial of service


class PasswordHasher:
    """Hashes and verifies passwords; verify_unknown spends the same time for absent users."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4):
        self._argon = Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """Return the argon2id hash (with its salt and parameters) of password."""
        return self._argon.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True when password matches password_hash."""
        if len(password) > MAX_LENGTH:
            return False
        try:
            return self._argon.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_unknown(self, password: str) -> bool:
        """Spend a verification on a dummy hash, so unknown users answer as slowly; False."""
        if self._dummy is None:
            self._dummy = self._argon.hash("not a password anyone has")
        self.verify(self._dummy, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than ours."""
        try:
            return self._argon.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


def check_policy(password: str, username: str) -> None:
    """Raise WeakPasswordError unless password is long enough and not the username."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"a password may have at most {MAX_LENGTH} characters")
    if password.strip().lower() == username.lower():
        raise WeakPasswordError("a password must not be the username")
    if len(set(password)) < 4:
        raise WeakPasswordError("a password needs more than three different characters")
