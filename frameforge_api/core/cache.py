"""A small cache of what is expensive to read from Dagster, in process or shared in Redis.

Keys carry the version of what they describe (the job row's attempt and ``updated_at``), so
every change to a job — a sensor recording its run, an outcome, a cancel, a retry — moves
its readers to a new key at once, in every API process, with no delete to send and no race
between a delete and a reader putting back what it read before the change. Old entries
expire after ``TTL`` seconds. Like the rate limiter, the Redis cache degrades when Redis is
down: reads miss and writes are dropped, with a warning; requests are still answered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

import redis

from frameforge_api.core import metrics

log = logging.getLogger(__name__)

TTL = 300.0  # 5 min
MEMORY_ENTRIES = 10_000


class Cache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Keep ``value`` for ``ttl`` seconds (the cache's own TTL by default)."""
        ...


class MemoryCache:
    """One process's cache (the embedded default): TTL, least recently set dropped first."""

    def __init__(self, ttl: float = TTL, entries: int = MEMORY_ENTRIES):
        self.ttl, self.entries = ttl, entries
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return _counted(None)
            return _counted(item[1])

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + (self.ttl if ttl is None else ttl), value)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)


class RedisCache:
    """A cache shared by every API process."""

    def __init__(self, client: redis.Redis, ttl: float = TTL):
        self.client, self.ttl = client, ttl

    def get(self, key: str) -> str | None:
        try:
            value = self.client.get(f"frameforge:cache:{key}")
        except redis.RedisError as error:
            log.warning("cache read skipped: Redis unreachable (%s)", error)
            value = None
        return _counted(value.decode() if isinstance(value, bytes) else None)

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        seconds = self.ttl if ttl is None else ttl
        try:
            self.client.set(f"frameforge:cache:{key}", value, px=int(seconds * 1000))
        except redis.RedisError as error:
            log.warning("cache write skipped: Redis unreachable (%s)", error)


def _counted(value: str | None) -> str | None:
    (metrics.CACHE_MISSES if value is None else metrics.CACHE_HITS).inc()
    return value
