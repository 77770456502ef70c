"""Sliding-window rate limits per client and per key, in memory and in the real Redis, and the
client address behind (un)trusted proxies, against real uvicorn processes.

Before: fixed windows let twice the limit through around a window boundary; a changing
``X-Forwarded-For`` from loopback got a fresh bucket per request; a key was not limited across
client addresses.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from codesign_playground.service.core.ratelimit import (
    MemorySlidingWindows,
    RedisSlidingWindows,
    TrustedProxies,
)

from .conftest import PY, free_port, stop_process, wait_http

REDIS_URL = "redis://127.0.0.1:6379/14"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_burst_at_a_window_boundary() -> None:
    clock = Clock()
    store = MemorySlidingWindows(clock)
    minute = [(60.0, 60, "minute")]

    def admitted(n: int) -> int:
        return sum(asyncio.run(store.admit(["ip:a"], minute)) is None for _ in range(n))

    clock.now = 1059.0  # the last second of a fixed window starting at 1000
    assert admitted(60) == 60
    clock.now = 1061.0  # a fixed window would start over here and admit 60 more
    assert admitted(60) == 0
    refused = asyncio.run(store.admit(["ip:a"], minute))
    assert refused is not None and refused[1] == pytest.approx(58.0)  # Retry-After
    clock.now = 1119.5  # the first 60 left the sliding window
    assert admitted(60) == 60


def test_a_key_is_limited_across_client_addresses() -> None:
    store = MemorySlidingWindows(Clock())
    window = [(60.0, 5, "minute")]
    results = [
        asyncio.run(store.admit([f"ip:10.0.0.{i}", "key:k"], window)) is None for i in range(8)
    ]
    assert results == [True] * 5 + [False] * 3
    assert asyncio.run(store.admit(["ip:10.0.0.99", "key:other"], window)) is None


@pytest.fixture
def prefix(services_up: None) -> Iterator[str]:
    tag = f"rltest-{uuid.uuid4().hex[:8]}"
    yield tag
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{tag}*"):
        client.delete(key)
    client.close()


def test_redis_sliding_window_holds_in_every_interval(prefix: str) -> None:
    """Hammering for 4.5 s with 5 per 2 s: any 6 admitted requests span at least 2 s, also
    across two API processes (two stores) sharing Redis."""
    window = [(2.0, 5, "w")]

    async def hammer() -> list[tuple[float, float]]:
        stores = [RedisSlidingWindows(REDIS_URL, prefix) for _ in range(2)]
        spans = []
        stop = time.monotonic() + 4.5
        n = 0
        while time.monotonic() < stop:
            start = time.monotonic()
            verdict = await stores[n % 2].admit(["ip:203.0.113.9"], window)
            end = time.monotonic()
            if verdict is None:
                spans.append((start, end))
            n += 1
        for s in stores:
            await s.client.aclose()
        return spans

    spans = asyncio.run(hammer())
    assert 10 <= len(spans) <= 15, len(spans)
    for i in range(len(spans) - 5):
        assert spans[i + 5][1] - spans[i][0] >= 2.0 - 0.005, (i, spans[i], spans[i + 5])


def test_trusted_proxies_pick_the_first_untrusted_hop() -> None:
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client("127.0.0.1", "6.6.6.6, 1.1.1.1, 10.0.0.5") == "1.1.1.1"
    assert proxies.client("10.2.3.4", "1.1.1.1") == "1.1.1.1"
    assert proxies.client("192.0.2.7", "1.1.1.1") == "192.0.2.7"  # untrusted peer: header ignored
    assert proxies.client("127.0.0.1", None) == "127.0.0.1"
    assert not TrustedProxies([])


def _uvicorn(tmp_path: Path, forwarded: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "CODESIGN_ENV": "test",
        "SECRET_KEY": "test-secret",
        "CODESIGN_DATA_DIR": str(tmp_path / f"data-{port}"),
        "CODESIGN_LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": "5",
        "FORWARDED_ALLOW_IPS": forwarded,
    }
    proc = subprocess.Popen(
        [PY, "-m", "uvicorn", "codesign_playground.server:app", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/health", proc)
    return proc, base


def _codes(base: str, headers: list[dict[str, str]]) -> list[int]:
    with httpx.Client(base_url=base, timeout=30) as c:
        return [c.get("/api/v1/hardware/templates", headers=h).status_code for h in headers]


def test_changing_forwarded_for_from_an_untrusted_peer_is_one_client(tmp_path: Path) -> None:
    spoofed = [{"X-Forwarded-For": f"198.51.100.{i}"} for i in range(10)]
    # uvicorn as the Dockerfile runs it, with FORWARDED_ALLOW_IPS empty (nothing trusted)
    proc, base = _uvicorn(tmp_path, "")
    try:
        assert _codes(base, spoofed) == [200] * 5 + [429] * 5
    finally:
        stop_process(proc)
    # codesign serve: the app resolves the header itself, and trusts nobody by default
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"RATE_LIMIT_PER_MINUTE": "5", "CODESIGN_LOG_LEVEL": "WARNING"}
    env.pop("FORWARDED_ALLOW_IPS", None)
    serve = subprocess.Popen(
        [PY, "-m", "codesign_playground.cli.main", "serve", "--port", str(port),
         "--data-dir", str(tmp_path / "serve")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/health", serve)
        assert _codes(f"http://127.0.0.1:{port}", spoofed) == [200] * 5 + [429] * 5
    finally:
        stop_process(serve)


def test_behind_a_trusted_proxy_each_client_and_each_key_has_a_bucket(tmp_path: Path) -> None:
    proc, base = _uvicorn(tmp_path, "127.0.0.1")  # the test plays the proxy
    try:
        # clients behind the proxy do not share the proxy's bucket
        clients = [{"X-Forwarded-For": f"198.51.100.{i}"} for i in range(10)]
        assert _codes(base, clients) == [200] * 10
        # a client cannot escape by prepending hops: the proxy's hop (right-most) counts
        one = [{"X-Forwarded-For": f"203.0.113.{i}, 192.0.2.1"} for i in range(7)]
        assert _codes(base, one) == [200] * 5 + [429] * 2
        # one key from many addresses shares the key's bucket (valid or not: counted first)
        keyed = [
            {"X-Forwarded-For": f"192.0.2.{100 + i}", "Authorization": "Bearer csk_shared"}
            for i in range(7)
        ]
        codes = _codes(base, keyed)
        assert codes[5:] == [429, 429] and 429 not in codes[:5]
    finally:
        stop_process(proc)
