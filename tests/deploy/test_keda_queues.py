"""The KEDA ScaledObject (k8s/production/keda/) watches the Redis lists Celery really fills.

The worker's queue names come from the same settings the worker reads (k8s/production's
ConfigMap and the worker's environment, else the defaults); messages sent by the service's own
``submit`` and ``send_chunk`` on a real Redis are then counted with the script KEDA's Redis
scaler runs (``LLEN`` for a list), so a renamed queue or a transport that stops keeping one
list per queue fails here rather than leaving the workers unscaled.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.deploy.conftest import REDIS, REPO

from codesign_playground.config import Settings

PRODUCTION = REPO / "k8s" / "production"
QUEUE_SETTINGS = ("JOB_QUEUE", "CODESIGN_EXPLORE_QUEUE", "CODESIGN_WORKER_QUEUES")

# the length script of KEDA v2.20.2's Redis scaler (pkg/scalers/redis_scaler.go, Apache-2.0)
KEDA_LENGTH_SCRIPT = """
local listName = KEYS[1]
local listType = redis.call('type', listName).ok
if listType == 'zset' then
    return redis.call('zcard', listName)
elseif listType == 'set' then
    return redis.call('scard', listName)
elseif listType == 'hash' then
    return redis.call('hlen', listName)
elseif listType == 'list' or listType == 'none' then
    return redis.call('llen', listName)
else
    return redis.error_reply('ERR unsupported key type: ' .. listType)
end
"""


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def _one(path: Path, kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _docs(path) if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, (path, kind, name)
    return found[0]


def _worker_queue_env() -> dict[str, str]:
    """The queue settings the production worker gets: its ConfigMap, then its own env."""
    config = _one(PRODUCTION / "configmap.yaml", "ConfigMap", "codesign-config")["data"]
    worker = _one(PRODUCTION / "worker.yaml", "Deployment", "codesign-worker")
    container = worker["spec"]["template"]["spec"]["containers"][0]
    own = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return {k: str(v) for k, v in {**config, **own}.items() if k in QUEUE_SETTINGS}


def _triggers() -> list[dict[str, Any]]:
    scaled = _one(
        PRODUCTION / "keda" / "worker-autoscaling.yaml", "ScaledObject", "codesign-worker"
    )
    assert scaled["spec"]["scaleTargetRef"]["name"] == "codesign-worker"
    return list(scaled["spec"]["triggers"])


def test_the_triggers_watch_every_queue_the_worker_consumes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key in QUEUE_SETTINGS:
        monkeypatch.delenv(key, raising=False)
    env = _worker_queue_env()
    settings = Settings(
        secret_key="test-secret",
        codesign_data_dir=tmp_path,
        **{k.lower(): v for k, v in env.items()},  # type: ignore[arg-type]
    )
    triggers = _triggers()
    assert all(t["type"] == "redis" for t in triggers)
    assert sorted(t["metadata"]["listName"] for t in triggers) == sorted(
        settings.worker_queue_names
    )
    # the address is the Redis primary's Service (REDIS_URL's host in docs/operations.md)
    service = _one(PRODUCTION / "redis.yaml", "Service", "redis-primary")
    port = service["spec"]["ports"][0]["port"]
    for t in triggers:
        assert t["metadata"]["address"] == f"redis-primary.codesign-production.svc:{port}"
        assert t["metadata"]["databaseIndex"] == "0"  # REDIS_URL .../0


def test_keda_counts_the_messages_celery_leaves_in_redis(datastores: None) -> None:
    import redis

    from codesign_playground.service.jobs.celery_app import make_celery, send_chunk, submit

    queue = f"kedatest-{uuid.uuid4().hex[:8]}"  # a queue of its own on the shared Redis
    settings = Settings(secret_key="test-secret", redis_url=f"redis://{REDIS}/0", job_queue=queue)
    client = redis.Redis.from_url(settings.redis_url)
    count = client.register_script(KEDA_LENGTH_SCRIPT)
    app = make_celery(settings)
    try:
        assert [count(keys=[q]) for q in settings.worker_queue_names] == [0, 0]
        submit(app, settings, f"job-{queue}")
        for idx in range(3):
            send_chunk(app, settings, f"job-{queue}", idx)
        # one job message on the interactive list, three chunk messages on the explore list
        assert count(keys=[settings.job_queue]) == 1
        assert count(keys=[settings.explore_queue]) == 3
        assert settings.explore_queue == f"{queue}-explore"
    finally:
        client.delete(*settings.worker_queue_names)
        app.close()
        client.close()
