"""Requests per second and p50/p99 latency of cached and uncached estimates over loopback.

The server runs in one process (started here, embedded mode by default, or ``--url`` for one
already running); the load comes from a second process (this script with ``--load``), an
httpx/asyncio generator with a bounded request count and duration::

    python benchmarks/bench_service.py                       # embedded server on a free port
    python benchmarks/bench_service.py --mode distributed    # uses DATABASE_URL / REDIS_URL
                                                             # (migrated) and starts a worker
    python benchmarks/bench_service.py --url http://127.0.0.1:8000 --requests 5000
                                       # AUTH_MODE=api-key: CODESIGN_API_KEY or --api-key

Cached: the same request again and again (the Redis or in-process cache answers). Uncached:
each request asks for a design no one asked before (the clock of a systolic array varies), so
the model is estimated every time. Only 127.0.0.1 is ever targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "tests" / "data" / "onnx" / "resnet18.onnx"


def _headers() -> dict[str, str]:
    key = os.environ.get("CODESIGN_API_KEY", "")
    return {"Authorization": f"Bearer {key}"} if key else {}


# --------------------------------------------------------------------------- load process
async def _load(
    url: str, bodies: list[dict[str, Any]], requests: int, concurrency: int, duration_s: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    next_index = 0
    deadline = time.perf_counter() + duration_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=60, headers=_headers()
    ) as client:

        async def one_worker() -> None:
            nonlocal next_index, errors
            while next_index < requests and time.perf_counter() < deadline:
                body = bodies[next_index % len(bodies)]
                next_index += 1
                t0 = time.perf_counter()
                r = await client.post("/api/v1/estimates", json=body)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(pct(0.50), 2),
        "p99_ms": round(pct(0.99), 2),
    }


def load_main(args: argparse.Namespace) -> None:
    bodies = json.loads(Path(args.bodies).read_text())
    result = asyncio.run(_load(args.url, bodies, args.requests, args.concurrency, args.duration))
    print(json.dumps(result))


# --------------------------------------------------------------------------- driver
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server at {url} did not become ready")


def _run_load(
    url: str, bodies: list[dict[str, Any]], requests: int, concurrency: int, duration: float
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(bodies, f)
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--load",
                "--url",
                url,
                "--bodies",
                f.name,
                "--requests",
                str(requests),
                "--concurrency",
                str(concurrency),
                "--duration",
                str(duration),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 120,
        )
    finally:
        os.unlink(f.name)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bodies", help=argparse.SUPPRESS)
    parser.add_argument("--url", help="a running server (default: start one on 127.0.0.1)")
    parser.add_argument("--mode", choices=["embedded", "distributed"], default="embedded")
    parser.add_argument("--requests", type=int, default=2000, help="cached requests")
    parser.add_argument("--uncached-requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="cap per phase, seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--api-key", help="key for AUTH_MODE=api-key (or CODESIGN_API_KEY)")
    args = parser.parse_args()
    if args.api_key:
        os.environ["CODESIGN_API_KEY"] = args.api_key  # the load process inherits it
    if args.load:
        load_main(args)
        return
    if args.url and not args.url.startswith(("http://127.0.0.1", "http://localhost")):
        raise SystemExit("load tests only run against 127.0.0.1")

    procs: list[subprocess.Popen[bytes]] = []
    tmp = tempfile.TemporaryDirectory()
    url = args.url
    try:
        if url is None:
            port = _free_port()
            url = f"http://127.0.0.1:{port}"
            env = os.environ | {
                "CODESIGN_ENV": "test",
                "CODESIGN_LOG_LEVEL": "WARNING",
                "SECRET_KEY": "bench",
                "CODESIGN_DATA_DIR": tmp.name,
                "RATE_LIMIT_PER_MINUTE": "10000000",
                "RATE_LIMIT_PER_HOUR": "100000000",
                "ALLOWED_HOSTS": "127.0.0.1",
            }
            if args.mode == "embedded":
                env.pop("DATABASE_URL", None)
                env.pop("REDIS_URL", None)
            elif not (env.get("DATABASE_URL") and env.get("REDIS_URL")):
                raise SystemExit("--mode distributed needs DATABASE_URL and REDIS_URL (migrated)")
            else:
                made = subprocess.run(
                    [sys.executable, "-m", "codesign_playground.cli.main", "keys", "create",
                     "--owner", "bench", "--scope", "write"],
                    env=env, capture_output=True, text=True, check=True,
                )  # fmt: skip
                os.environ["CODESIGN_API_KEY"] = made.stdout.strip()
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "codesign_playground.worker"],
                        env=env,
                        stderr=subprocess.DEVNULL,
                    )
                )
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "codesign_playground.server:app",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--no-access-log",
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                    stderr=subprocess.DEVNULL,
                )
            )
            _wait(f"{url}/health")
        with (
            httpx.Client(base_url=url, timeout=60, headers=_headers()) as c,
            MODEL.open("rb") as f,
        ):
            model = c.post("/api/v1/models", files={"file": ("resnet18.onnx", f)}).json()
            spec = c.post(
                "/api/v1/hardware/templates/systolic", json={"params": {"rows": 16, "cols": 16}}
            ).json()
            base = {
                "model": {"model_id": model["id"]},
                "precision": "int8",
                "include_layers": False,
            }
            cached = base | {"hardware": {"spec": spec}}
            assert c.post("/api/v1/estimates", json=cached).status_code == 200  # warm the cache
        uncached = []
        stamp = time.time_ns() % 1_000_000
        for i in range(args.uncached_requests):
            s = json.loads(json.dumps(spec))
            s["compute"]["clock_hz"] = 5e8 + stamp + i  # a design never seen before
            uncached.append(base | {"hardware": {"spec": s}})
        results = {
            "mode": args.mode if not args.url else "external",
            "concurrency": args.concurrency,
            "cached": _run_load(url, [cached], args.requests, args.concurrency, args.duration),
            "uncached": _run_load(
                url, uncached, args.uncached_requests, args.concurrency, args.duration
            ),
        }
    finally:
        for p in procs:
            p.terminate()
            p.wait(20)
        tmp.cleanup()
    if args.json:
        print(json.dumps(results))
        return
    print(
        f"estimate throughput on {url} ({results['mode']}, {args.concurrency} connections, "
        "load from a second process)"
    )
    for name in ("cached", "uncached"):
        r = results[name]
        print(
            f"  {name:9s} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:7.2f} ms   "
            f"p99 {r['p99_ms']:7.2f} ms   ({r['requests']} requests, {r['errors']} errors, "
            f"{r['seconds']} s)"
        )


if __name__ == "__main__":
    main()
