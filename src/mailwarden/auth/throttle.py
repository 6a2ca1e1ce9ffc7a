"""Login throttling: exponential back-off per account and per source address, on the Clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailwarden.auth.errors import ThrottledError
from mailwarden.clock import Clock
from mailwarden.store.auth_repo import AuthRepo

_NOTHING = timedelta(0)


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    """After `free` failures within `window`, each further attempt waits base * 2^n (capped)."""

    free: int
    window: timedelta
    base_delay: timedelta
    max_delay: timedelta

    def wait(self, failures: Sequence[datetime], now: datetime) -> timedelta:
        """How long to wait before the next attempt, given the failure times (oldest first)."""
        recent = [at for at in failures if at > now - self.window]
        if len(recent) < self.free:
            return _NOTHING
        doublings = min(len(recent) - self.free, 20)
        delay = min(self.base_delay * (1 << doublings), self.max_delay)
        return max(recent[-1] + delay - now, _NOTHING)


ACCOUNT_RULE = ThrottleRule(5, timedelta(hours=1), timedelta(seconds=15), timedelta(minutes=15))
ADDRESS_RULE = ThrottleRule(20, timedelta(hours=1), timedelta(seconds=15), timedelta(minutes=15))


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in attempt counted as failed until it is known to have succeeded."""

    account_key: str
    failure_ids: tuple[int, ...]


class LoginThrottle:
    """Counts an attempt as a failure up front, so parallel guesses are counted too."""

    def __init__(
        self,
        repo: AuthRepo,
        clock: Clock,
        account_rule: ThrottleRule = ACCOUNT_RULE,
        address_rule: ThrottleRule = ADDRESS_RULE,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._rules = {"account": account_rule, "ip": address_rule}

    def begin(self, username: str, ip: str | None) -> Attempt:
        """Refuse with ThrottledError while a key must wait; otherwise record the attempt."""
        now = self._clock.now()
        keys = [("account", username)] + ([("ip", ip)] if ip else [])
        waits = [self._wait(scope, key, now) for scope, key in keys]
        if max(waits) > _NOTHING:
            raise ThrottledError(max(waits))
        ids = tuple(
            self._repo.add_failure(scope, key, now, now - self._rules[scope].window)
            for scope, key in keys
        )
        return Attempt(username, ids)

    def succeeded(self, attempt: Attempt) -> None:
        """Forget this attempt, the account's earlier failures, and every expired failure."""
        for failure_id in attempt.failure_ids:
            self._repo.delete_failure(failure_id)
        self._repo.clear_failures("account", attempt.account_key)
        longest = max(rule.window for rule in self._rules.values())
        self._repo.prune_failures(self._clock.now() - longest)

    def _wait(self, scope: str, key: str, now: datetime) -> timedelta:
        rule = self._rules[scope]
        return rule.wait(self._repo.failures_since(scope, key, now - rule.window), now)
