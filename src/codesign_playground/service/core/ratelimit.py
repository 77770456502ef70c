"""Rate limits: exact sliding windows per client address and per API key, shared through Redis.

A request is admitted when, for every identity it carries (``ip:<client>`` always, ``key:<hash
of the bearer token>`` when it sends one) and every window (``RATE_LIMIT_PER_MINUTE`` over 60 s,
``RATE_LIMIT_PER_HOUR`` over 3600 s), fewer than the limit requests were admitted in the last
window length. This is a sliding log: at most ``limit`` admitted requests in *any* interval of
the window's length, so there is no burst of twice the limit at a fixed-window boundary.
Refused requests are not logged, so a client that keeps hammering still gets its share back.

Both stores check all identities and windows first and record the request in all of them only
if every check passed (one Lua script in Redis: atomic across API processes; one lock in
process memory for the embedded mode).

The client address is the socket peer unless the peer is one of ``FORWARDED_ALLOW_IPS`` (the
trusted proxies): then it is the right-most ``X-Forwarded-For`` entry that is not a trusted
proxy, so an untrusted peer cannot pick its own bucket by sending a changing header.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

import redis.asyncio as aioredis
from starlette.types import ASGIApp, Receive, Scope, Send

from codesign_playground.service.core.metrics import RATE_LIMITED
from codesign_playground.service.core.middleware import send_problem

__all__ = [
    "MemorySlidingWindows",
    "RateLimitMiddleware",
    "RedisSlidingWindows",
    "TrustedProxies",
    "TrustedProxyMiddleware",
    "Window",
]

_log = logging.getLogger(__name__)

Window = tuple[float, int, str]
"""(length in seconds, limit, name for messages and metrics)."""


class WindowStore(Protocol):
    async def admit(
        self, identities: Sequence[str], windows: Sequence[Window]
    ) -> tuple[Window, float] | None:
        """``None`` when admitted (and recorded), else the refusing window and the seconds
        until it admits again."""


class MemorySlidingWindows:
    """Sliding logs in this process (the embedded mode); ``clock`` is for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._logs: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = 0.0

    async def admit(
        self, identities: Sequence[str], windows: Sequence[Window]
    ) -> tuple[Window, float] | None:
        now = self.clock()
        with self._lock:
            for who in identities:
                for window in windows:
                    length, limit, name = window
                    log = self._logs.get(f"{who}|{name}")
                    if log is None:
                        continue
                    while log and log[0] <= now - length:
                        log.popleft()
                    if len(log) >= limit:
                        return window, max(log[len(log) - limit] + length - now, 0.001)
            for who in identities:
                for _length, limit, name in windows:
                    log = self._logs.setdefault(f"{who}|{name}", deque(maxlen=limit))
                    log.append(now)
            if now - self._last_sweep > 60 and len(self._logs) > 10_000:
                self._sweep(now, {name: length for length, _, name in windows})
        return None

    def _sweep(self, now: float, lengths: dict[str, float]) -> None:
        """Forget identities with nothing in their window (bounded memory)."""
        self._last_sweep = now
        for key in [k for k, log in self._logs.items() if not log or
                    log[-1] <= now - lengths.get(k.rsplit("|", 1)[1], 3600)]:  # fmt: skip
            del self._logs[key]


# KEYS: one sorted set per (identity, window); ARGV: member, then (length_ms, limit) per key.
# Time comes from the Redis server, so API processes with skewed clocks agree.
_SLIDING_LOG = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  local length = tonumber(ARGV[2 * i])
  local limit = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - length)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local edge = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
    return {i, tonumber(edge[2]) + length - now}
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1] .. ':' .. now)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i]))
end
return {0, 0}
"""


class RedisSlidingWindows:
    """Sliding logs in Redis sorted sets, shared by every API process."""

    def __init__(self, url: str, prefix: str) -> None:
        self.client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = f"{prefix}:ratelimit:"
        self._script = self.client.register_script(_SLIDING_LOG)

    async def admit(
        self, identities: Sequence[str], windows: Sequence[Window]
    ) -> tuple[Window, float] | None:
        keys: list[str] = []
        args: list[str | int] = [uuid.uuid4().hex]
        pairs: list[Window] = []
        for who in identities:
            for window in windows:
                length, limit, name = window
                keys.append(f"{self.prefix}{who}:{name}")
                args += [int(length * 1000), int(limit)]
                pairs.append(window)
        index, wait_ms = await self._script(keys=keys, args=args)
        if int(index) == 0:
            return None
        return pairs[int(index) - 1], max(float(wait_ms) / 1000.0, 0.001)


class TrustedProxies:
    """``FORWARDED_ALLOW_IPS``: addresses and networks whose ``X-Forwarded-For`` is believed."""

    def __init__(self, entries: Sequence[str]) -> None:
        self.any = "*" in entries
        self.networks = []
        for entry in entries:
            if entry != "*":
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))

    def __bool__(self) -> bool:
        return self.any or bool(self.networks)

    def trusts(self, host: str) -> bool:
        if self.any:
            return True
        try:
            address = ipaddress.ip_address(host.strip().strip("[]"))
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client behind ``peer``: the right-most untrusted ``X-Forwarded-For`` hop."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


class TrustedProxyMiddleware:
    """Puts the real client address in ``scope["client"]`` behind the trusted proxies.

    Idempotent with uvicorn's own ``--proxy-headers`` handling under the same
    ``FORWARDED_ALLOW_IPS``: a client address it already resolved is untrusted and stays.
    """

    def __init__(self, app: ASGIApp, *, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            forwarded = None
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-for":
                    forwarded = value.decode("latin-1")
            host, _port = scope["client"]
            real = self.proxies.client(str(host), forwarded)
            if real != host:
                scope["client"] = (real, 0)
        await self.app(scope, receive, send)


def _token_identity(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            parts = value.split(None, 1)
            if len(parts) == 2 and parts[0].lower() == b"bearer" and parts[1].strip():
                return "key:" + hashlib.sha256(parts[1].strip()).hexdigest()[:32]
    return None


class RateLimitMiddleware:
    """Admits ``/api/`` requests within the limits per client and per key, else a 429 problem
    with ``Retry-After``. An unreachable store lets requests through (logged): the limiter
    must not take the API down."""

    def __init__(self, app: ASGIApp, *, store: WindowStore, per_minute: int, per_hour: int) -> None:
        self.app = app
        self.store = store
        self.windows: list[Window] = [(60.0, per_minute, "minute"), (3600.0, per_hour, "hour")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        identities = [f"ip:{client[0] if client else 'unknown'}"]
        token = _token_identity(scope)
        if token is not None:
            identities.append(token)
        try:
            refused = await self.store.admit(identities, self.windows)
        except Exception:
            _log.warning("rate limit store unreachable; request admitted")
            refused = None
        if refused is None:
            await self.app(scope, receive, send)
            return
        (_length, limit, name), wait_s = refused
        RATE_LIMITED.labels(name).inc()
        retry = max(1, int(wait_s + 0.999))
        await send_problem(
            scope,
            send,
            429,
            "rate-limited",
            f"rate limit of {limit} requests per {name} exceeded; retry in {retry} s",
            [(b"retry-after", str(retry).encode())],
        )
