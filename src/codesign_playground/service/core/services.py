"""What the app holds while it runs: database, cache, job queue, Redis client."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from codesign_playground.config import Settings
from codesign_playground.service import crud
from codesign_playground.service.core.cache import Cache, MemoryCache, RedisCache
from codesign_playground.service.core.db import Database, check_migrated, migrate
from codesign_playground.service.core.metrics import JobStats, ServiceCollector
from codesign_playground.service.jobs.queue import CeleryQueue, EmbeddedQueue, JobQueue

__all__ = ["Services", "start_services"]

_log = logging.getLogger("codesign_playground.service")


@dataclass
class Services:
    settings: Settings
    db: Database
    cache: Cache
    queue: JobQueue
    redis: redis.Redis | None

    def redis_up(self) -> bool:
        if self.redis is None:
            return True
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False

    def job_stats(self) -> JobStats | None:
        try:
            with self.db.session() as s:
                return crud.job_stats(s)
        except Exception:
            return None

    def cache_bytes(self) -> int:
        try:
            return self.cache.size_bytes()
        except redis.RedisError:
            return 0

    def collector(self) -> ServiceCollector:
        return ServiceCollector(
            db_up=self.db.ping,
            redis_up=self.redis_up if self.redis is not None else None,
            workers_alive=self.queue.workers_alive,
            job_stats=self.job_stats,
            cache_bytes=self.cache_bytes,
        )

    def close(self) -> None:
        self.queue.close()
        self.db.dispose()
        if self.redis is not None:
            self.redis.close()


def start_services(settings: Settings) -> Services:
    """Connect, migrate (embedded mode) or check the schema, and start the job queue."""
    db = Database(settings)
    if settings.database_auto_migrate:
        migrate(settings.database_url)
    check_migrated(db.engine)
    client: redis.Redis | None = None
    cache: Cache
    queue: JobQueue
    if settings.redis_url:
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=5, socket_connect_timeout=5
        )
        cache = RedisCache(
            client,
            prefix=settings.redis_key_prefix,
            ttl_s=settings.cache_ttl_seconds,
            max_bytes=settings.cache_max_bytes,
        )
        queue = CeleryQueue(settings, client)
    else:
        cache = MemoryCache(ttl_s=settings.cache_ttl_seconds, max_bytes=settings.cache_max_bytes)
        queue = EmbeddedQueue(db, settings)
    mode = "embedded" if settings.embedded else "distributed"
    _log.info(
        "services started",
        extra={"mode": mode, "database": db.engine.url.render_as_string(hide_password=True)},
    )
    return Services(settings=settings, db=db, cache=cache, queue=queue, redis=client)
