"""What a finished or deleted job leaves behind in the distributed mode: its shared optuna
study (``CODESIGN_SHARED_STUDIES``) and the work folders on the workers.

A real deployment (a fresh PostgreSQL database, Redis, uvicorn and a Celery worker); the
worker has a data folder of its own, as on another machine, so the API process cannot remove
the worker's folders itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from codesign_playground.service.jobs.chunked import shared_studies

from .conftest import Deployment

pytestmark = pytest.mark.slow

# NSGA-II in two batches of 8: with CODESIGN_SHARED_STUDIES, chunks of one optuna study
NSGA2_SPACE: dict[str, Any] = {
    "name": "cleanup-nsga2",
    "model": {"name": "resnet18"},
    "hardware": {"rows": [8, 16, 32, 64], "cols": [8, 16, 32, 64]},
    "objectives": ["latency", "energy"],
    "search": {"strategy": "nsga2", "budget": 16, "batch_size": 8, "seed": 5},
}


@pytest.fixture
def split(services_up: None, tmp_path: Path) -> Iterator[Deployment]:
    dep = Deployment("distributed", tmp_path)
    dep.env["CODESIGN_SHARED_STUDIES"] = "true"
    try:
        dep.start_worker(data_dir=tmp_path / "worker-data")
        dep.start_api()
        dep.wait_ready()
        dep.make_keys()
        yield dep
    finally:
        dep.close()


def test_deleting_a_shared_study_job_deletes_its_study_and_worker_folders(
    split: Deployment,
) -> None:
    worker_jobs = split.root / "worker-data" / "jobs"
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{split.database}")
    try:
        with split.client() as c:
            r = c.post("/api/v1/explorations", json={"space": NSGA2_SPACE})
            assert r.status_code == 202, r.text
            job_id = r.json()["id"]
            job = split.wait_job(job_id, timeout=300)
            assert job["status"] == "succeeded", job
            # the study the batches shared is in PostgreSQL; the worker's folder went with
            # the job's end (its report is in the artifact store)
            assert shared_studies(engine, [job_id]) == [job_id]
            assert not (worker_jobs / job_id).exists()
            # what a chunk worker keeps of a job planned elsewhere (the evaluator's folder)
            leftover = worker_jobs / job_id / "run"
            leftover.mkdir(parents=True)
            (leftover / "digits_accuracy.csv").write_text("bits,accuracy\n")
            unknown = worker_jobs / "0b3c9d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"  # no such job
            unknown.mkdir()
            foreign = worker_jobs / "not-a-job"  # not named like a job: never swept
            foreign.mkdir()

            assert c.delete(f"/api/v1/explorations/{job_id}").status_code == 204
            assert c.get(f"/api/v1/jobs/{job_id}").status_code == 404
        assert shared_studies(engine, [job_id]) == []
        # the worker's sweep runs as often as its reconciler (JOB_STALE_AFTER_SECONDS, 15 s)
        deadline = time.monotonic() + 60
        while (worker_jobs / job_id).exists() or unknown.exists():
            assert time.monotonic() < deadline, split.worker_log.read_text()[-3000:]
            time.sleep(0.5)
        assert worker_jobs.is_dir()  # only the jobs' folders go
        assert foreign.is_dir()
    finally:
        engine.dispose()
