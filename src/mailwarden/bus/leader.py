"""One worker leads, the others stand by: a leadership lease in Redis.

Detection keeps its windows in memory and the clocks (SLA timers, reminders) must tick once,
so only the holder of ``{prefix}:worker:leader`` consumes the bus and ticks. A worker takes
the lease with ``SET key <holder> NX PX <ttl>``; the holder renews it every ttl/3 with a
compare-and-set script (only while the key still names it) and deletes it on a clean
shutdown (again only if it is still its own), so a standby takes over at once. A holder
that dies stops renewing; its lease lapses after ttl and the next standby to poll takes it.

A holder counts itself the leader only until ttl after it *sent* its last successful renewal
(less a margin for clock drift), measured on its own monotonic clock: when renewals fail or
stall it stops before Redis lets the key lapse, so two workers never both think they lead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

__all__ = ["LeaderLease", "LeaseKeeper", "leader_key", "stand_by"]
log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # wait after Redis could not be reached, then poll again
MAX_POLL_SECONDS = 1.0  # a standby polls at least this often (a released lease is taken soon)
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def leader_key(prefix: str) -> str:
    """The key of the workers' leadership lease under the bus prefix."""
    return f"{prefix}:worker:leader"


class LeaderLease:
    """The lease one holder takes, renews and releases; held() says whether it leads now."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        holder: str,
        ttl_ms: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_ms < 3:
            raise ValueError(f"the lease needs a ttl of at least 3 ms, got {ttl_ms}")
        self.client = client
        self.key = key
        self.holder = holder
        self.ttl_ms = ttl_ms
        self._clock = clock
        self._deadline = 0.0
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, key: str, holder: str, ttl_ms: int) -> LeaderLease:
        """A lease on the Redis at url, on a client of its own (short socket timeouts)."""
        timeout = min(5.0, max(1.0, ttl_ms / 1000))
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return cls(client, key, holder, ttl_ms)

    @property
    def renew_every(self) -> float:
        """Seconds between renewals: a third of the ttl."""
        return self.ttl_ms / 3000

    @property
    def poll_every(self) -> float:
        """Seconds between a standby's attempts to take the lease."""
        return min(self.renew_every, MAX_POLL_SECONDS)

    def held(self) -> bool:
        """Whether this holder leads now (its last renewal is recent enough)."""
        return self._clock() < self._deadline

    def acquire(self) -> str | None:
        """Take the lease if it is free (or renew it if ours); return who holds it now."""
        sent = self._clock()
        if self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms):
            self._valid_from(sent)
            return self.holder
        current = self.current()
        if current == self.holder and self.renew():
            return self.holder
        return current

    def renew(self) -> bool:
        """Extend the lease if it is still ours; False (and no longer leading) if it is not."""
        sent = self._clock()
        if self._renew(keys=[self.key], args=[self.holder, self.ttl_ms]) == 1:
            self._valid_from(sent)
            return True
        self._deadline = 0.0
        return False

    def release(self) -> bool:
        """Give the lease up at once if it is still ours; True if it was."""
        self._deadline = 0.0
        return bool(self._release(keys=[self.key], args=[self.holder]))

    def current(self) -> str | None:
        """Who holds the lease now, by Redis (None when nobody does)."""
        value = self.client.get(self.key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def close(self) -> None:
        """Disconnect the client."""
        self.client.close()

    def _valid_from(self, sent: float) -> None:
        drift_ms = self.ttl_ms / 100 + 2  # clock rates differ; expiry is checked in Redis
        self._deadline = sent + (self.ttl_ms - drift_ms) / 1000


class LeaseKeeper:
    """Renews a held lease every ttl/3 on a thread until stopped, lost or lapsed."""

    def __init__(self, lease: LeaderLease) -> None:
        self._lease = lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start renewing (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop renewing and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._lease.renew_every):
            if not self._renew_once():
                return

    def _renew_once(self) -> bool:
        """One renewal; False when there is nothing left to renew."""
        try:
            if self._lease.renew():
                return True
            log.warning("worker %s lost the leadership lease", self._lease.holder)
            return False
        except redis.RedisError as exc:
            log.warning("could not renew the leadership lease (%s); trying again", exc)
            return self._lease.held()


def stand_by(lease: LeaderLease, stop: threading.Event, announce: Callable[[str], None]) -> bool:
    """Poll until this holder takes the lease (True) or stop is set (False).

    announce is called with the leader's name whenever another one is seen leading."""
    seen: str | None = None
    while not stop.is_set():
        try:
            holder = lease.acquire()
        except redis.RedisError as exc:
            log.warning("leadership lease unreachable (%s); retrying", exc)
            stop.wait(RETRY_SECONDS)
            continue
        if holder == lease.holder:
            return True
        if holder is not None and holder != seen:
            announce(holder)
            seen = holder
        if holder is not None:
            stop.wait(lease.poll_every)
    return False
