"""The estimate cache: Redis in the distributed mode, an in-process LRU in the embedded one.

Both keep entries for ``CACHE_TTL_SECONDS`` and bound the stored bytes by
``CACHE_MAX_SIZE_MB``, evicting the oldest entries first. In Redis the bound is kept with a
sorted set of keys by expiry time and a hash of their sizes (one sweep per write), so it holds
across API processes without touching the server's own ``maxmemory`` policy.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Protocol

import redis

__all__ = ["Cache", "MemoryCache", "RedisCache"]


class Cache(Protocol):
    """Bytes by string key, bounded in time and size."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...

    def size_bytes(self) -> int: ...


class MemoryCache:
    """A thread-safe LRU with a TTL and a byte budget (the embedded mode)."""

    def __init__(self, *, ttl_s: float, max_bytes: int) -> None:
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (time.monotonic() + self.ttl_s, value)
            self._bytes += len(value)
            while self._bytes > self.max_bytes and self._items:
                self._drop(next(iter(self._items)))

    def size_bytes(self) -> int:
        return self._bytes

    def _drop(self, key: str) -> None:
        _, value = self._items.pop(key)
        self._bytes -= len(value)


class RedisCache:
    """Entries with ``SET ... EX``; an index of (key, size) pops the oldest when over budget."""

    def __init__(self, client: redis.Redis, *, prefix: str, ttl_s: int, max_bytes: int) -> None:
        self.client = client
        self.prefix = f"{prefix}:cache:"
        self.index = f"{prefix}:cache-index"  # zset: key -> expiry (unix s)
        self.sizes = f"{prefix}:cache-sizes"  # hash: key -> bytes
        self.total = f"{prefix}:cache-bytes"  # int: sum of sizes still indexed
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes

    def get(self, key: str) -> bytes | None:
        value = self.client.get(self.prefix + key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        now = time.time()
        full = self.prefix + key
        pipe = self.client.pipeline()
        pipe.set(full, value, ex=self.ttl_s)
        pipe.zadd(self.index, {full: now + self.ttl_s})
        pipe.hget(self.sizes, full)
        pipe.hset(self.sizes, full, len(value))
        old = pipe.execute()[2]
        self.client.incrby(self.total, len(value) - int(old or 0))
        self._sweep(now)

    def size_bytes(self) -> int:
        return int(self.client.get(self.total) or 0)

    def _forget(self, keys: list[bytes], *, delete: bool) -> None:
        if not keys:
            return
        sizes = self.client.hmget(self.sizes, keys)
        pipe = self.client.pipeline()
        if delete:
            pipe.delete(*keys)
        pipe.zrem(self.index, *keys)
        pipe.hdel(self.sizes, *keys)
        pipe.decrby(self.total, sum(int(s or 0) for s in sizes))
        pipe.execute()

    def _sweep(self, now: float) -> None:
        expired: list[bytes] = self.client.zrangebyscore(self.index, "-inf", now)  # type: ignore[assignment]
        self._forget(expired, delete=False)
        while self.size_bytes() > self.max_bytes:
            oldest: list[bytes] = self.client.zrange(self.index, 0, 15)  # type: ignore[assignment]
            if not oldest:
                self.client.set(self.total, 0)
                break
            self._forget(oldest, delete=True)
