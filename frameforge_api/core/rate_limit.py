"""Requests per user per minute, and the auth endpoints' limits per address and account:
sliding windows, in process or shared through Redis.

At most ``limit`` requests are allowed in any ``window`` seconds. The embedded default
counts in process; with ``REDIS_URL`` every API process shares one count (a Lua script
makes check-and-record atomic). When Redis cannot be reached the limiter fails open:
requests are served and the outage is logged, since refusing every user because a
counter is down would turn a cache problem into an outage.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger("frameforge.api.rate_limit")

LIMIT = 100
WINDOW = 60.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds until a request would be allowed


class RateLimiter(Protocol):
    limit: int
    window: float

    def hit(self, key: str, now: float | None = None) -> Decision:
        """Record a request of ``key`` if the window has room; say whether it may proceed."""
        ...

    def check(self, key: str, now: float | None = None) -> Decision:
        """Whether the window of ``key`` has room, recording nothing (a limit on failures
        checks first and hits only when the attempt failed)."""
        ...

    def recent(self, key: str, now: float | None = None) -> tuple[int, float]:
        """How many hits of ``key`` the window holds, and when the last was (0.0: none)."""
        ...


class MemoryRateLimiter:
    """One process's count (the embedded default)."""

    def __init__(self, limit: int = LIMIT, window: float = WINDOW):
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> Decision:
        return self._decide(key, now, record=True)

    def check(self, key: str, now: float | None = None) -> Decision:
        return self._decide(key, now, record=False)

    def recent(self, key: str, now: float | None = None) -> tuple[int, float]:
        now = time.time() if now is None else now
        with self._lock:
            hits = self._hits.get(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            return len(hits), (hits[-1] if hits else 0.0)

    def _decide(self, key: str, now: float | None, record: bool) -> Decision:
        now = time.time() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return Decision(False, max(1, math.ceil(hits[0] + self.window - now)))
            if record:
                hits.append(now)
            return Decision(True)


# KEYS[1] the user's sorted set; ARGV: now, window, limit, member, record (1 or 0).
# Returns {allowed, oldest}.
_SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  return {0, oldest}
end
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
end
return {1, '0'}
"""


class RedisRateLimiter:
    """A count shared by every API process."""

    def __init__(self, client: redis.Redis, limit: int = LIMIT, window: float = WINDOW):
        self.limit, self.window = limit, window
        self._client = client
        self._script = client.register_script(_SLIDING_WINDOW)

    def recent(self, key: str, now: float | None = None) -> tuple[int, float]:
        now = time.time() if now is None else now
        name = f"frameforge:rate:{key}"
        try:
            pipe = self._client.pipeline()
            pipe.zremrangebyscore(name, "-inf", now - self.window)
            pipe.zcard(name)
            pipe.zrange(name, -1, -1, withscores=True)
            _, count, newest = pipe.execute()
        except redis.RedisError as error:
            log.warning("rate limit not enforced: Redis unreachable (%s)", error)
            return 0, 0.0
        return int(count), (float(newest[0][1]) if newest else 0.0)

    def hit(self, key: str, now: float | None = None) -> Decision:
        return self._decide(key, now, record=True)

    def check(self, key: str, now: float | None = None) -> Decision:
        return self._decide(key, now, record=False)

    def _decide(self, key: str, now: float | None, record: bool) -> Decision:
        now = time.time() if now is None else now
        try:
            allowed, oldest = self._script(
                keys=[f"frameforge:rate:{key}"],
                args=[now, self.window, self.limit, f"{now}:{uuid.uuid4().hex}", int(record)],
            )
        except redis.RedisError as error:
            log.warning("rate limit not enforced: Redis unreachable (%s)", error)
            return Decision(True)
        if allowed:
            return Decision(True)
        return Decision(False, max(1, math.ceil(float(oldest) + self.window - now)))


def limiter(shared: redis.Redis | None, limit: int, window: float) -> RateLimiter:
    """A sliding window in Redis when there is one (every API process counts together),
    else in this process."""
    if shared is None:
        return MemoryRateLimiter(limit, window)
    return RedisRateLimiter(shared, limit, window)


@dataclass(frozen=True)
class AuthLimits:
    """Brute force and sign-up floods: the auth endpoints' own limits, besides the per-user
    one (which needs a token the attacker does not have).

    - ``requests``: every auth request of one client address (login, register, refresh).
    - ``registrations``: accounts made from one address; otherwise new accounts multiply the
      per-user limit.
    - ``logins``: login attempts on one account from one address, so guessing one password
      from one place is slow, while the account's owner elsewhere is not locked out.
    - ``account_failures``: failed logins on one account from anywhere, a bound on guessing
      spread over many addresses. Only failures count, and only clients without a device
      cookie of the account are refused past it (``frameforge_api.core.devices``): the owner
      signs in from a device they signed in from before, whatever its address, however
      many guesses others made (OWASP's device cookies, against lock-outs).
      Before that bound, failures slow down: past ``FREE_FAILURES`` in the window, a client
      without a device cookie waits ``failure_wait`` after the account's last failure, 1 s
      doubling up to ``MAX_FAILURE_WAIT`` (so guessing at the cap makes about 60 an hour,
      and the owner on a new device waits at most a minute).
    - ``device_failures``: failed logins with one device cookie; past it the cookie no
      longer exempts its holder (a stolen cookie buys a few guesses, not a way round).
    - ``verification_mails``: verification links asked for again by one account, so the
      API mails nobody more than a few times an hour.
    """

    requests: RateLimiter
    registrations: RateLimiter
    logins: RateLimiter
    account_failures: RateLimiter
    device_failures: RateLimiter
    verification_mails: RateLimiter

    @classmethod
    def build(
        cls,
        shared: redis.Redis | None,
        requests_per_minute: int = 60,
        registrations_per_hour: int = 20,
        logins_per_10_minutes: int = 10,
        account_failures_per_hour: int = 100,
        device_failures_per_hour: int = 10,
        verification_mails_per_hour: int = 5,
    ) -> AuthLimits:
        return cls(
            requests=limiter(shared, requests_per_minute, 60.0),
            registrations=limiter(shared, registrations_per_hour, 3600.0),
            logins=limiter(shared, logins_per_10_minutes, 600.0),
            account_failures=limiter(shared, account_failures_per_hour, 3600.0),
            device_failures=limiter(shared, device_failures_per_hour, 3600.0),
            verification_mails=limiter(shared, verification_mails_per_hour, 3600.0),
        )

    def failure_wait(self, account_key: str, now: float | None = None) -> int:
        """Whole seconds a client without a device cookie waits before its next login on
        the account (``account_key``, as ``account_failures`` counts it): 0 for the first
        ``FREE_FAILURES`` failures in the window, then 1 s after the last failure, doubling
        with every failure up to ``MAX_FAILURE_WAIT``."""
        now = time.time() if now is None else now
        count, last = self.account_failures.recent(account_key, now)
        if count < FREE_FAILURES:
            return 0
        delay = min(2.0 ** (count - FREE_FAILURES), MAX_FAILURE_WAIT)
        return max(0, math.ceil(last + delay - now))


FREE_FAILURES = 10
MAX_FAILURE_WAIT = 60.0
