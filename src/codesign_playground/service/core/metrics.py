"""Prometheus metrics: per-process request metrics, plus job and health facts read at scrape.

Request, cache and rate-limit metrics are counted in the process that served the request.
Job metrics are read from the job table when ``/metrics`` is scraped, so they are the same
whichever API replica answers (aggregate them with ``max``, not ``sum``). With several gunicorn
workers set ``PROMETHEUS_MULTIPROC_DIR`` and the per-process metrics are merged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "CACHE_REQUESTS",
    "CONTENT_TYPE_LATEST",
    "ESTIMATE_SECONDS",
    "HTTP_IN_FLIGHT",
    "HTTP_REQUESTS",
    "HTTP_SECONDS",
    "JOB_DURATION_BUCKETS",
    "RATE_LIMITED",
    "JobStats",
    "ServiceCollector",
    "render_metrics",
]

HTTP_REQUESTS = Counter(
    "codesign_http_requests_total",
    "HTTP requests served, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "codesign_http_request_duration_seconds",
    "Time from request to response, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_IN_FLIGHT = Gauge(
    "codesign_http_requests_in_flight", "Requests being served now.", multiprocess_mode="livesum"
)
RATE_LIMITED = Counter(
    "codesign_rate_limited_total", "Requests refused with 429, by window.", ["window"]
)
CACHE_REQUESTS = Counter(
    "codesign_estimate_cache_requests_total", "Estimate cache look-ups, by result.", ["result"]
)
ESTIMATE_SECONDS = Histogram(
    "codesign_estimate_compute_seconds",
    "Time to compute one uncached estimate (model load and estimate).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

JOB_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)


@dataclass(frozen=True)
class JobStats:
    """What the job table says at scrape time."""

    by_status: dict[tuple[str, str], int]  # (kind, status) -> jobs
    durations: dict[tuple[str, str], tuple[list[int], int, float]]  # buckets, count, sum
    attempts: dict[str, int]  # kind -> retries beyond the first attempt
    points_evaluated: int
    points_per_second: float
    chunks: dict[str, int] = field(default_factory=dict)  # status -> chunks of running jobs


class ServiceCollector(Collector):
    """Health gauges and job metrics, computed by callables when scraped."""

    def __init__(
        self,
        *,
        db_up: Callable[[], bool],
        redis_up: Callable[[], bool] | None,
        workers_alive: Callable[[], int],
        job_stats: Callable[[], JobStats | None],
        cache_bytes: Callable[[], int],
    ) -> None:
        self.db_up = db_up
        self.redis_up = redis_up
        self.workers_alive = workers_alive
        self.job_stats = job_stats
        self.cache_bytes = cache_bytes

    def collect(self) -> Iterable[Any]:
        yield GaugeMetricFamily(
            "codesign_db_up", "1 when the database answers SELECT 1.", value=int(self.db_up())
        )
        redis = self.redis_up() if self.redis_up is not None else True
        yield GaugeMetricFamily(
            "codesign_redis_up",
            "1 when Redis answers PING (always 1 in the embedded mode, which has no Redis).",
            value=int(redis),
        )
        yield GaugeMetricFamily(
            "codesign_workers_alive",
            "Job workers with a fresh heartbeat.",
            value=self.workers_alive(),
        )
        yield GaugeMetricFamily(
            "codesign_cache_bytes", "Bytes held by the estimate cache.", value=self.cache_bytes()
        )
        stats = self.job_stats()
        if stats is None:
            return
        jobs = GaugeMetricFamily(
            "codesign_jobs", "Jobs by kind and status.", labels=["kind", "status"]
        )
        depth = GaugeMetricFamily(
            "codesign_job_queue_depth", "Jobs waiting for a worker.", labels=["kind"]
        )
        finished = CounterMetricFamily(
            "codesign_jobs_finished",
            "Jobs that ended, by kind and final status (succeeded, failed, cancelled).",
            labels=["kind", "status"],
        )
        failures = CounterMetricFamily(
            "codesign_job_failures", "Jobs that ended failed.", labels=["kind"]
        )
        kinds = sorted({k for k, _ in stats.by_status} | {"exploration", "rtl"})
        for kind in kinds:
            depth.add_metric([kind], stats.by_status.get((kind, "queued"), 0))
            failures.add_metric([kind], stats.by_status.get((kind, "failed"), 0))
            for status in ("queued", "running", "succeeded", "failed", "cancelled"):
                n = stats.by_status.get((kind, status), 0)
                jobs.add_metric([kind, status], n)
                if status in ("succeeded", "failed", "cancelled"):
                    finished.add_metric([kind, status], n)
        yield jobs
        yield depth
        yield finished
        yield failures
        hist = HistogramMetricFamily(
            "codesign_job_duration_seconds",
            "Run time of finished jobs, by kind and final status.",
            labels=["kind", "status"],
        )
        for (kind, status), (buckets, count, total) in sorted(stats.durations.items()):
            pairs = [(str(b), float(n)) for b, n in zip(JOB_DURATION_BUCKETS, buckets, strict=True)]
            pairs.append(("+Inf", float(count)))
            hist.add_metric([kind, status], pairs, total)
        yield hist
        retries = CounterMetricFamily(
            "codesign_job_retries",
            "Job attempts beyond the first (transient errors, lost workers).",
            labels=["kind"],
        )
        for kind in kinds:
            retries.add_metric([kind], stats.attempts.get(kind, 0))
        yield retries
        chunks = GaugeMetricFamily(
            "codesign_explore_chunks",
            "Chunks of running explorations by status (pending: waiting for a worker; the "
            "autoscaling signal of docs/scaling.md).",
            labels=["status"],
        )
        for status in ("pending", "running"):
            chunks.add_metric([status], stats.chunks.get(status, 0))
        yield chunks
        yield CounterMetricFamily(
            "codesign_exploration_points_evaluated",
            "Design points evaluated by exploration jobs, all time.",
            value=stats.points_evaluated,
        )
        yield GaugeMetricFamily(
            "codesign_exploration_points_per_second",
            "Design points evaluated per second by the running exploration jobs together.",
            value=stats.points_per_second,
        )


def render_metrics(extra: Collector | None) -> tuple[bytes, str]:
    """The exposition text: this process's metrics (or all processes', in multiprocess mode)."""
    started = time.perf_counter()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if extra is not None:
        scrape = CollectorRegistry()
        scrape.register(extra)
        text += generate_latest(scrape)
    elapsed = time.perf_counter() - started
    text += (
        "# HELP codesign_scrape_seconds Time to render this page.\n"
        "# TYPE codesign_scrape_seconds gauge\n"
        f"codesign_scrape_seconds {elapsed:.6f}\n"
    ).encode()
    return text, CONTENT_TYPE_LATEST
