"""The estimate caches (in-process, and Redis) and the rate limiter, on the real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from codesign_playground.config import Settings
from codesign_playground.service.core.cache import MemoryCache, RedisCache
from codesign_playground.service.core.ratelimit import RedisSlidingWindows
from codesign_playground.service.main import create_app


@pytest.fixture
def redis_client(services_up: None) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/14")
    prefix = f"cachetest-{uuid.uuid4().hex[:8]}"
    client.prefix = prefix  # type: ignore[attr-defined]
    yield client
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def test_memory_cache_is_bounded_and_expires() -> None:
    cache = MemoryCache(ttl_s=0.2, max_bytes=100)
    for i in range(10):
        cache.set(f"k{i}", b"x" * 30)
    assert cache.size_bytes() <= 100
    assert cache.get("k0") is None and cache.get("k9") == b"x" * 30
    time.sleep(0.25)
    assert cache.get("k9") is None


def test_redis_cache_is_bounded_and_expires(redis_client: redis.Redis) -> None:
    prefix = redis_client.prefix  # type: ignore[attr-defined]
    cache = RedisCache(redis_client, prefix=prefix, ttl_s=1, max_bytes=100)
    for i in range(10):
        cache.set(f"k{i}", b"y" * 30)
    assert cache.size_bytes() <= 100
    assert cache.get("k0") is None and cache.get("k9") == b"y" * 30
    time.sleep(1.2)
    assert cache.get("k9") is None
    cache.set("fresh", b"z")
    assert cache.size_bytes() == 1  # expired entries left the accounting


def test_redis_sliding_windows(redis_client: redis.Redis) -> None:
    windows = RedisSlidingWindows("redis://127.0.0.1:6379/14", redis_client.prefix)  # type: ignore[attr-defined]
    limits = [(60.0, 3, "minute")]

    async def hits() -> list[bool]:
        out = [await windows.admit(["ip:1.2.3.4"], limits) is None for _ in range(4)]
        await windows.client.aclose()
        return out

    assert asyncio.run(hits()) == [True, True, True, False]


def test_rate_limit_gives_429_problem(tmp_path: Path) -> None:
    settings = Settings(
        codesign_data_dir=tmp_path,
        allowed_hosts=["testserver"],
        rate_limit_per_minute=3,
        secret_key="test-secret",
    )
    with TestClient(create_app(settings)) as client:
        codes = [client.get("/api/v1/models").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = client.get("/api/v1/models")
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 429 and "per minute" in r.json()["detail"]
        assert int(r.headers["retry-after"]) > 0
        assert client.get("/health").status_code == 200  # probes are never limited


def test_the_workbench_page_and_its_files_are_not_limited(tmp_path: Path) -> None:
    """With the API's bucket spent, the workbench's page, every file under /static and the
    probes are still served (the limit is the API's: /api/*), and the API answers 429."""
    settings = Settings(
        codesign_data_dir=tmp_path,
        allowed_hosts=["testserver"],
        rate_limit_per_minute=2,
        secret_key="test-secret",
    )
    static = Path(str(resources.files("codesign_playground.web").joinpath("static")))
    files = sorted(p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file())
    assert "app.js" in files and "js/api.js" in files and "vendor/plotly.min.js" in files
    with TestClient(create_app(settings)) as client:
        assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
        for _ in range(settings.rate_limit_per_minute + 1):  # more than the API's limit
            page = client.get("/")
            assert page.status_code == 200 and 'id="rate-notice"' in page.text
            for name in files:
                assert client.get(f"/static/{name}").status_code == 200, name
            assert client.get("/health/ready").status_code == 200
        refused = client.get("/api/v1/hardware/catalog")
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
        # the stream that follows a job is an API request like any other (one per stream)
        assert (
            client.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000/events").status_code
            == 429
        )
