"""Reports and artifacts of jobs in an artifact store: S3 (a real S3 API server: moto's server
mode on a free port), the local data folder, or the job row; and reports that load one served
Plotly bundle instead of inlining it.

Before: every job's report (about 4.8 MB of inline Plotly) and artifact tarball were columns of
its row in PostgreSQL, and ``AWS_S3_BUCKET`` was read and unused.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from tests.headless import serve

from codesign_playground.config import Settings
from codesign_playground.service import crud
from codesign_playground.service.core.db import Database, migrate
from codesign_playground.service.core.headers import PLOTLY_BUNDLE_URL
from codesign_playground.service.jobs import kinds
from codesign_playground.service.jobs.runner import (
    JobContext,
    JobOutcome,
    TransientJobError,
    execute,
)
from codesign_playground.service.main import create_app
from codesign_playground.service.storage import (
    LocalStore,
    S3Store,
    StoreRefusedError,
    StoreUnavailableError,
)
from codesign_playground.service.tables import JobRow

from .conftest import (
    TINY_SPACE,
    Deployment,
    create_pg_database,
    drop_pg_database,
    free_port,
)

BUCKET = "codesign-test-artifacts"
PG = "postgresql://postgres@127.0.0.1:5432/{}"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-key-id",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 API server on a free port of 127.0.0.1, with one empty bucket."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        store = _s3(endpoint)
        store.client.create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def _s3(endpoint: str, prefix: str = "") -> S3Store:
    return S3Store(
        BUCKET,
        prefix=prefix,
        endpoint_url=endpoint,
        region=CREDENTIALS["AWS_REGION"],
        access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _object(endpoint: str, key: str) -> bytes:
    body = _s3(endpoint).client.get_object(Bucket=BUCKET, Key=key)["Body"]
    data: bytes = body.read()
    return data


def _wait(client: httpx.Client | TestClient, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def _run_both(client: httpx.Client | TestClient) -> tuple[str, str]:
    """An exploration and an RTL job, both finished; their ids."""
    r = client.post("/api/v1/explorations", json={"space": TINY_SPACE})
    assert r.status_code == 202, r.text
    exploration = r.json()["id"]
    r = client.post("/api/v1/rtl", json={"rows": 4, "cols": 4})
    assert r.status_code == 202, r.text
    rtl = r.json()["id"]
    for job_id in (exploration, rtl):
        job = _wait(client, job_id)
        assert job["status"] == "succeeded", job
    return exploration, rtl


def _row_sizes(dsn: str, job_ids: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per job: whether the report/artifact columns are NULL and the bytes of the whole row."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT id, report IS NULL, artifact IS NULL, pg_column_size(jobs.*), "
            "octet_length(result::text), result::text LIKE '%%<!DOCTYPE%%' "
            "FROM jobs WHERE id = ANY(%s)",
            (list(job_ids),),
        ).fetchall()
        blobs = conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()
    assert blobs is not None and blobs[0] == 0  # no large objects either
    return {
        r[0]: {
            "report_null": r[1],
            "artifact_null": r[2],
            "row_bytes": r[3],
            "result_bytes": r[4],
            "html_in_result": r[5],
        }
        for r in rows
    }


def _members(tarball: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        return tar.getnames()


# -- S3: a distributed deployment (PostgreSQL, Redis, a Celery worker) with AWS_S3_BUCKET -----


@pytest.fixture(scope="module")
def s3_deployment(
    services_up: None, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    dep = Deployment("distributed", tmp_path_factory.mktemp("s3"))
    dep.env |= CREDENTIALS | {
        "AWS_S3_BUCKET": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_PREFIX": "test/",
    }
    try:
        dep.start_worker()
        dep.start_api()
        dep.wait_ready()
        dep.make_keys()
        yield dep
    finally:
        dep.close()


def test_with_a_bucket_no_report_or_artifact_bytes_are_in_postgresql(
    s3_deployment: Deployment, s3_endpoint: str
) -> None:
    dep = s3_deployment
    assert dep.database is not None
    with dep.client() as c:
        exploration, rtl = _run_both(c)
        report = c.get(f"/api/v1/explorations/{exploration}/report")
        tarball = c.get(f"/api/v1/explorations/{exploration}/artifact")
        verilog = c.get(f"/api/v1/rtl/{rtl}/artifact")
        results = c.get(f"/api/v1/explorations/{exploration}/results").json()
    sizes = _row_sizes(PG.format(dep.database), (exploration, rtl))
    print("job rows in PostgreSQL:", sizes)
    for job_id in (exploration, rtl):
        assert sizes[job_id]["artifact_null"] and sizes[job_id]["report_null"]
        assert not sizes[job_id]["html_in_result"]
        assert sizes[job_id]["row_bytes"] < 64 * 1024  # the 9-point result document and params
    # the downloads are the objects in the bucket, byte for byte
    assert report.status_code == 200 and tarball.status_code == 200, report.text
    assert verilog.status_code == 200, verilog.text
    prefix = "test/jobs"
    assert report.content == _object(s3_endpoint, f"{prefix}/{exploration}/report.html")
    assert tarball.content == _object(
        s3_endpoint, f"{prefix}/{exploration}/exploration-report.tar.gz"
    )
    rtl_name = verilog.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert verilog.content == _object(s3_endpoint, f"{prefix}/{rtl}/{rtl_name}")
    print(
        f"report {len(report.content)} B, exploration tarball {len(tarball.content)} B, "
        f"RTL tarball {len(verilog.content)} B: all in S3"
    )
    # the report keeps its sandbox and loads the served Plotly bundle
    assert report.headers["content-security-policy"].startswith("sandbox allow-scripts;")
    assert report.headers["content-type"].startswith("text/html")
    assert f'src="{PLOTLY_BUNDLE_URL}"' in report.text
    assert len(report.content) < 1_000_000
    assert "report/report.html" in _members(tarball.content)
    assert "report/plotly.min.js" in _members(tarball.content)  # the tarball opens offline
    assert any(m.endswith(".v") for m in _members(verilog.content))
    assert "storage" not in results  # where the files are is the server's business


def test_stored_files_keep_their_owner_checks(s3_deployment: Deployment) -> None:
    with s3_deployment.client() as alice:
        exploration, rtl = _run_both(alice)
    with s3_deployment.client("bob") as bob:
        for path in (
            f"/api/v1/explorations/{exploration}/report",
            f"/api/v1/explorations/{exploration}/artifact",
            f"/api/v1/rtl/{rtl}/artifact",
        ):
            assert bob.get(path).status_code == 404, path
    with s3_deployment.client(None) as nobody:
        assert nobody.get(f"/api/v1/rtl/{rtl}/artifact").status_code == 401


def _app_settings(dep: Deployment, tmp_path: Path, **extra: Any) -> Settings:
    """Settings of a second API (in this process) on ``dep``'s database and Redis."""
    env = dep.env
    values: dict[str, Any] = {
        "database_url": env["DATABASE_URL"],
        "redis_url": env["REDIS_URL"],
        "redis_key_prefix": env["REDIS_KEY_PREFIX"],
        "job_queue": env["JOB_QUEUE"],
        "codesign_data_dir": tmp_path,
        "secret_key": env["SECRET_KEY"],
        "allowed_hosts": ["testserver"],
        "aws_s3_bucket": BUCKET,
        "aws_s3_endpoint_url": env["AWS_S3_ENDPOINT_URL"],
        "aws_s3_prefix": env["AWS_S3_PREFIX"],
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "aws_region": CREDENTIALS["AWS_REGION"],
        "codesign_log_level": "WARNING",
        "rate_limit_enabled": False,  # the deployment's Redis windows hold the other tests' calls
    }
    return Settings(**(values | extra))


def test_artifact_download_can_redirect_to_a_presigned_url(s3_deployment: Deployment) -> None:
    from codesign_playground.client import CodesignClient

    dep = s3_deployment
    with dep.client() as c:
        exploration, rtl = _run_both(c)
        streamed = c.get(f"/api/v1/rtl/{rtl}/artifact").content
    dep.stop_api()
    dep.env["ARTIFACT_DOWNLOAD_REDIRECT"] = "true"
    try:
        dep.start_api()
        with dep.client() as c:
            r = c.get(f"/api/v1/rtl/{rtl}/artifact", follow_redirects=False)
            # the report is never redirected: its sandbox and CSP come from this server
            report = c.get(f"/api/v1/explorations/{exploration}/report", follow_redirects=False)
        with CodesignClient(dep.base_url, api_key=dep.api_key) as client:
            downloaded = client.download_artifact(rtl)
    finally:
        dep.stop_api()
        del dep.env["ARTIFACT_DOWNLOAD_REDIRECT"]
        dep.start_api()
    assert r.status_code == 307, r.text
    url = r.headers["location"]
    assert url.startswith(dep.env["AWS_S3_ENDPOINT_URL"]) and "X-Amz-Signature=" in url
    fetched = httpx.get(url, timeout=30)
    assert fetched.status_code == 200 and fetched.content == streamed
    assert 'attachment; filename="' in fetched.headers["content-disposition"]
    assert downloaded == streamed  # the Python client follows it
    assert report.status_code == 200 and report.headers["content-security-policy"]


def test_an_unreachable_store_answers_503_not_500(
    s3_deployment: Deployment, tmp_path: Path
) -> None:
    with s3_deployment.client() as c:
        exploration, _ = _run_both(c)
    closed = f"http://127.0.0.1:{free_port()}"
    settings = _app_settings(s3_deployment, tmp_path, aws_s3_endpoint_url=closed)
    headers = {"Authorization": f"Bearer {s3_deployment.api_key}"}
    with TestClient(create_app(settings), headers=headers) as c:
        r = c.get(f"/api/v1/explorations/{exploration}/report")
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "object store" in r.json()["detail"] and r.headers["retry-after"]


# -- the local store, and rows written before stores existed ----------------------------------


@pytest.fixture
def pg_database(services_up: None) -> Iterator[str]:
    name = create_pg_database()
    try:
        yield PG.format(name)
    finally:
        drop_pg_database(name)


def _embedded(data_dir: Path, database_url: str, **extra: Any) -> Settings:
    """The embedded service (in-process worker, no Redis) on a PostgreSQL database."""
    return Settings(
        codesign_data_dir=data_dir,
        database_url=database_url,
        database_auto_migrate=True,
        allowed_hosts=["testserver"],
        secret_key="test-secret",
        codesign_log_level="WARNING",
        **extra,
    )


def test_local_store_keeps_files_in_the_data_folder(tmp_path: Path, pg_database: str) -> None:
    settings = _embedded(tmp_path / "data", pg_database)
    assert settings.artifact_store == "local"
    with TestClient(create_app(settings)) as c:
        exploration, rtl = _run_both(c)
        report = c.get(f"/api/v1/explorations/{exploration}/report")
        tarball = c.get(f"/api/v1/explorations/{exploration}/artifact")
        verilog = c.get(f"/api/v1/rtl/{rtl}/artifact")
        bundle = c.get(PLOTLY_BUNDLE_URL)
    sizes = _row_sizes(pg_database, (exploration, rtl))
    assert all(s["report_null"] and s["artifact_null"] for s in sizes.values()), sizes
    store = tmp_path / "data" / "store" / "jobs"
    assert report.content == (store / exploration / "report.html").read_bytes()
    assert tarball.content == (store / exploration / "exploration-report.tar.gz").read_bytes()
    name = verilog.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert verilog.content == (store / rtl / name).read_bytes()
    assert report.headers["content-security-policy"].startswith("sandbox allow-scripts;")
    assert "script-src 'self' 'unsafe-inline'" in report.headers["content-security-policy"]
    # the bundle the report names is the vendored plotly.js of the version the installed
    # plotly package draws its figures for
    import plotly

    package_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert bundle.status_code == 200
    version = re.compile(rb"plotly\.js[^\n]* (v\d+\.\d+\.\d+)")
    served, packaged = version.search(bundle.content), version.search(package_js.read_bytes())
    assert served and packaged and served.group(1) == packaged.group(1)
    assert bundle.headers["content-type"].startswith("text/javascript")
    print(f"served report {len(report.content)} B; plotly bundle {len(bundle.content)} B")


def test_rows_with_bytes_in_the_database_still_download(tmp_path: Path, pg_database: str) -> None:
    # written as every version before stores did (and ARTIFACT_STORE=database still does)
    with TestClient(create_app(_embedded(tmp_path, pg_database, artifact_store="database"))) as c:
        exploration, rtl = _run_both(c)
        before = [
            c.get(p).content
            for p in (
                f"/api/v1/explorations/{exploration}/report",
                f"/api/v1/explorations/{exploration}/artifact",
                f"/api/v1/rtl/{rtl}/artifact",
            )
        ]
    sizes = _row_sizes(pg_database, (exploration, rtl))
    assert not sizes[exploration]["report_null"] and not sizes[rtl]["artifact_null"]
    # the same rows, served after the switch to the local store
    with TestClient(create_app(_embedded(tmp_path, pg_database))) as c:
        report = c.get(f"/api/v1/explorations/{exploration}/report")
        after = [
            report.content,
            c.get(f"/api/v1/explorations/{exploration}/artifact").content,
            c.get(f"/api/v1/rtl/{rtl}/artifact").content,
        ]
    assert after == before and all(len(b) > 100 for b in after)
    assert report.headers["content-security-policy"].startswith("sandbox allow-scripts;")


# -- the worker side: a store that is down is a transient error ---------------------------------


def test_worker_retries_when_the_store_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = Settings(
        codesign_data_dir=tmp_path,
        secret_key="test-secret",
        aws_s3_bucket=BUCKET,
        aws_s3_endpoint_url=closed,
        job_max_retries=1,
        worker_heartbeat_seconds=0.2,
        **{k.lower(): v for k, v in CREDENTIALS.items()},
    )
    migrate(settings.database_url)
    database = Database(settings)

    def produce(ctx: JobContext) -> JobOutcome:
        return JobOutcome(result={"n": 1}, artifact=("x.tar.gz", b"bytes"), report="# r\n")

    monkeypatch.setitem(kinds.KINDS, "test", produce)
    try:
        with database.session() as s:
            job_id = crud.create_job(s, owner="test", kind="test", params={}).id
        with pytest.raises(TransientJobError, match="unreachable"):
            execute(database, settings, job_id, worker="w")
        with database.session() as s:
            row = s.get(JobRow, job_id)
            assert row is not None and row.status == "queued" and row.artifact_name is None
    finally:
        database.dispose()


# -- the stores on their own ---------------------------------------------------------------------


def test_s3_store_round_trip(s3_endpoint: str) -> None:
    store = _s3(s3_endpoint, prefix="unit/")
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one streamed piece
    where = store.put("jobs/j1/a.tar.gz", data, "application/gzip")
    assert where == {
        "store": "s3",
        "bucket": BUCKET,
        "key": "unit/jobs/j1/a.tar.gz",
        "size_bytes": len(data),
        "media_type": "application/gzip",
    }
    found = store.open(where)
    assert found.size_bytes == len(data) and b"".join(found.chunks) == data
    with pytest.raises(StoreRefusedError, match="NoSuchKey"):
        store.open(where | {"key": "unit/jobs/none"})
    url = store.url(where, filename="a.tar.gz", media_type="application/gzip", expires_s=60)
    assert url is not None and httpx.get(url, timeout=30).content == data


def test_s3_store_delete_and_ready(s3_endpoint: str) -> None:
    store = _s3(s3_endpoint, prefix="unit-delete/")
    where = store.put("jobs/j2/a.tar.gz", b"abc", "application/gzip")
    store.delete(where)
    with pytest.raises(StoreRefusedError, match="NoSuchKey"):
        store.open(where)
    store.delete(where)  # deleting what is gone is not an error
    assert store.ready() is None
    missing = S3Store(
        "codesign-no-such-bucket",
        endpoint_url=s3_endpoint,
        region=CREDENTIALS["AWS_REGION"],
        access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    assert "HeadBucket" in (missing.ready() or "") and "404" in (missing.ready() or "")
    closed = _s3(f"http://127.0.0.1:{free_port()}")
    assert "failed" in (closed.ready() or "")
    with pytest.raises(StoreUnavailableError):
        closed.delete(where)


def test_s3_store_that_does_not_answer_is_unavailable() -> None:
    store = _s3(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreUnavailableError):
        store.put("k", b"x", "text/plain")
    assert issubclass(StoreUnavailableError, ConnectionError)  # jobs retry it


def test_local_store_round_trip_and_keys_stay_inside(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    where = store.put("jobs/j1/report.html", b"<html></html>", "text/html")
    assert (tmp_path / "jobs" / "j1" / "report.html").read_bytes() == b"<html></html>"
    assert b"".join(store.open(where).chunks) == b"<html></html>"
    assert store.url(where, filename="r", media_type="text/html", expires_s=1) is None
    with pytest.raises(StoreRefusedError):
        store.put("../outside", b"x", "text/plain")
    with pytest.raises(StoreRefusedError):
        store.open({"key": "jobs/none"})
    other = store.put("jobs/j1/other.tar.gz", b"x", "application/gzip")
    store.delete(where)
    assert not (tmp_path / "jobs" / "j1" / "report.html").exists()
    assert (tmp_path / "jobs" / "j1").is_dir()  # its other file is still there
    store.delete(other)
    store.delete(other)  # twice is fine
    assert not (tmp_path / "jobs" / "j1").exists() and tmp_path.is_dir()
    with pytest.raises(StoreRefusedError):
        store.delete({"key": "../outside"})


def test_s3_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="ARTIFACT_STORE: s3 needs AWS_S3_BUCKET"):
        Settings(artifact_store="s3", secret_key="test-secret")
    assert Settings(secret_key="t", aws_s3_bucket="b").artifact_store == "s3"
    assert Settings(secret_key="t", redis_url="redis://x").artifact_store == "database"
    assert Settings(secret_key="t").artifact_store == "local"


# -- deleting a job deletes its stored files ------------------------------------------------------


def _keys(endpoint: str, prefix: str) -> list[str]:
    listed = _s3(endpoint).client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def _rows(dsn: str, job_id: str) -> tuple[int, int, int]:
    """Rows of ``job_id`` in jobs, explore_chunks and explore_runs."""
    with psycopg.connect(dsn) as conn:
        counts = tuple(
            conn.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (job_id,)).fetchone()
            for table, column in (
                ("jobs", "id"),
                ("explore_chunks", "job_id"),
                ("explore_runs", "job_id"),
            )
        )
    return tuple(int(c[0]) for c in counts if c is not None)  # type: ignore[return-value]


def test_deleting_jobs_deletes_their_objects_in_s3(
    s3_deployment: Deployment, s3_endpoint: str
) -> None:
    dep = s3_deployment
    assert dep.database is not None
    dsn = PG.format(dep.database)
    with dep.client() as c:
        exploration, rtl = _run_both(c)
    before = {job_id: _keys(s3_endpoint, f"test/jobs/{job_id}/") for job_id in (exploration, rtl)}
    assert len(before[exploration]) == 2 and len(before[rtl]) == 1, before
    # the exploration ran in chunks: its row, chunk rows and running totals are there
    assert _rows(dsn, exploration)[0] == 1 and min(_rows(dsn, exploration)[1:]) >= 1
    # another owner does not find it, a read key may not delete: nothing changes
    with dep.client("bob") as bob:
        assert bob.delete(f"/api/v1/jobs/{exploration}").status_code == 404
    with dep.client("alice-read") as reader:
        assert reader.delete(f"/api/v1/explorations/{exploration}").status_code == 403
    assert _keys(s3_endpoint, f"test/jobs/{exploration}/") == before[exploration]
    with dep.client() as c:
        # the kind routes only delete their own kind
        assert c.delete(f"/api/v1/rtl/{exploration}").status_code == 404
        assert c.delete(f"/api/v1/explorations/{exploration}").status_code == 204
        assert c.delete(f"/api/v1/rtl/{rtl}").status_code == 204
        assert c.get(f"/api/v1/explorations/{exploration}").status_code == 404
        assert c.get(f"/api/v1/rtl/{rtl}/artifact").status_code == 404
        assert c.delete(f"/api/v1/jobs/{rtl}").status_code == 404  # gone already
    for job_id in (exploration, rtl):
        assert _keys(s3_endpoint, f"test/jobs/{job_id}/") == []
        assert _rows(dsn, job_id) == (0, 0, 0)


def test_a_job_is_kept_while_the_store_cannot_delete_its_files(
    s3_deployment: Deployment, s3_endpoint: str, tmp_path: Path
) -> None:
    dep = s3_deployment
    assert dep.database is not None
    with dep.client() as c:
        _, rtl = _run_both(c)
    stored = _keys(s3_endpoint, f"test/jobs/{rtl}/")
    closed = f"http://127.0.0.1:{free_port()}"
    settings = _app_settings(dep, tmp_path, aws_s3_endpoint_url=closed)
    headers = {"Authorization": f"Bearer {dep.api_key}"}
    with TestClient(create_app(settings), headers=headers) as c:
        r = c.delete(f"/api/v1/rtl/{rtl}")
        assert r.status_code == 503, r.text
        assert "object store" in r.json()["detail"] and r.headers["retry-after"]
    # nothing was changed: the row still records the files, which are still there
    assert _rows(PG.format(dep.database), rtl)[0] == 1
    assert _keys(s3_endpoint, f"test/jobs/{rtl}/") == stored != []
    with dep.client() as c:
        assert c.get(f"/api/v1/rtl/{rtl}/artifact").status_code == 200
    from codesign_playground.client import ApiError, CodesignClient

    with CodesignClient(dep.base_url, api_key=dep.api_key) as client:
        client.delete_job(rtl)
        with pytest.raises(ApiError) as gone:
            client.delete_job(rtl)
    assert gone.value.status == 404
    assert _keys(s3_endpoint, f"test/jobs/{rtl}/") == []


def _running_job(dsn: str, like: str) -> str:
    """A job row of ``like``'s owner that a live worker holds (heartbeat in the future)."""
    job_id = f"running-{os.urandom(6).hex()}"
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO jobs (id, kind, owner, status, params, progress, cancel_requested, "
            "attempts, points_evaluated, worker, created_at, started_at, heartbeat_at) "
            "SELECT %s, 'rtl', owner, 'running', '{}', '{}', false, 1, 0, 'elsewhere', "
            "created_at, created_at, now() AT TIME ZONE 'utc' + interval '1 day' "
            "FROM jobs WHERE id = %s",
            (job_id, like),
        )
    return job_id


def test_deleting_jobs_in_the_local_store_removes_their_files(
    tmp_path: Path, pg_database: str
) -> None:
    data = tmp_path / "data"
    with TestClient(create_app(_embedded(data, pg_database))) as c:
        exploration, rtl = _run_both(c)
        store = data / "store" / "jobs"
        assert (store / exploration / "report.html").is_file()
        assert not (data / "jobs" / exploration).exists()  # its work folder went at its end
        running = _running_job(pg_database, rtl)
        r = c.delete(f"/api/v1/jobs/{running}")
        assert r.status_code == 409 and "cancel it" in r.json()["detail"], r.text
        assert c.delete(f"/api/v1/jobs/{exploration}").status_code == 204
        assert c.delete(f"/api/v1/rtl/{rtl}").status_code == 204
        assert c.get(f"/api/v1/jobs/{exploration}").status_code == 404
    assert _rows(pg_database, running)[0] == 1  # the refused one is untouched
    for job_id in (exploration, rtl):
        assert not (store / job_id).exists() and not (data / "jobs" / job_id).exists()
        assert _rows(pg_database, job_id) == (0, 0, 0)
    assert store.is_dir()  # the store folder itself stays


def test_deleting_jobs_with_bytes_in_the_row(tmp_path: Path, pg_database: str) -> None:
    settings = _embedded(tmp_path, pg_database, artifact_store="database")
    with TestClient(create_app(settings)) as c:
        exploration, rtl = _run_both(c)
        assert not _row_sizes(pg_database, (rtl,))[rtl]["artifact_null"]
        for job_id in (exploration, rtl):
            assert c.delete(f"/api/v1/jobs/{job_id}").status_code == 204
    for job_id in (exploration, rtl):
        assert _rows(pg_database, job_id) == (0, 0, 0)
    assert not (tmp_path / "store").exists()


# -- retention: old jobs lose their files, keep their rows ---------------------------------------


def _age(dsn: str, job_id: str, days: int) -> None:
    """Make ``job_id`` look finished ``days`` days ago (nothing else knows the clock)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE jobs SET finished_at = finished_at - make_interval(days => %s) WHERE id = %s",
            (days, job_id),
        )


def _gone(r: httpx.Response) -> bool:
    return r.status_code == 410 and "retention" in r.json()["detail"]


@pytest.mark.parametrize("store", ["local", "s3", "database"])
def test_retention_deletes_old_files_and_keeps_the_rows(
    store: str, tmp_path: Path, pg_database: str, request: pytest.FixtureRequest
) -> None:
    from codesign_playground.service.retention import prune_artifacts

    extra: dict[str, Any] = {"artifact_store": store}
    prefix = f"retention-{os.urandom(4).hex()}/"
    if store == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        extra |= {
            "aws_s3_bucket": BUCKET,
            "aws_s3_endpoint_url": endpoint,
            "aws_s3_prefix": prefix,
            **{k.lower(): v for k, v in CREDENTIALS.items()},
        }
    settings = _embedded(tmp_path / "data", pg_database, **extra)
    db = Database(settings)
    try:
        with TestClient(create_app(settings)) as c:
            exploration, rtl = _run_both(c)
            _age(pg_database, exploration, 10)
            _age(pg_database, rtl, 3)
            dry = prune_artifacts(db, settings, older_than_days=7, dry_run=True)
            assert dry.jobs == [exploration] and dry.files_deleted == 0
            assert c.get(f"/api/v1/explorations/{exploration}/artifact").status_code == 200
            done = prune_artifacts(db, settings, older_than_days=7)
            assert done.jobs == [exploration]
            assert done.files_deleted == (0 if store == "database" else 2)
            # the row and its result stay; the files answer 410
            job = c.get(f"/api/v1/explorations/{exploration}").json()
            assert job["status"] == "succeeded" and job["artifact_name"] is None
            results = c.get(f"/api/v1/explorations/{exploration}/results")
            assert results.status_code == 200 and results.json()["front"]
            assert "storage" not in results.json()
            for what in ("report", "artifact", "files/points.csv"):
                assert _gone(c.get(f"/api/v1/explorations/{exploration}/{what}")), what
            # the younger job keeps its files; a second pass finds nothing more
            assert c.get(f"/api/v1/rtl/{rtl}/artifact").status_code == 200
            assert prune_artifacts(db, settings, older_than_days=7).jobs == []
            pruned = _row_sizes(pg_database, (exploration,))[exploration]
            assert pruned["report_null"] and pruned["artifact_null"]  # the row's bytes too
            # a pruned job can still be deleted
            assert c.delete(f"/api/v1/jobs/{exploration}").status_code == 204
    finally:
        db.dispose()
    sizes = _row_sizes(pg_database, (rtl,))
    if store == "local":
        assert not (tmp_path / "data" / "store" / "jobs" / exploration).exists()
        assert (tmp_path / "data" / "store" / "jobs" / rtl).is_dir()
    elif store == "s3":
        assert _keys(extra["aws_s3_endpoint_url"], f"{prefix}jobs/{exploration}/") == []
        assert len(_keys(extra["aws_s3_endpoint_url"], f"{prefix}jobs/{rtl}/")) == 1
    else:
        assert not sizes[rtl]["artifact_null"]  # the younger row keeps its bytes


def test_workers_prune_once_an_hour_between_them(tmp_path: Path, pg_database: str) -> None:
    """The worker heartbeat's pruning: one worker takes the hour's Redis key, the next finds
    it taken; the pass runs in a thread of its own."""
    import redis

    from codesign_playground.service.jobs.celery_app import WorkerHeartbeat, make_celery

    queue = f"retention-{os.urandom(4).hex()}"
    base = _embedded(tmp_path / "data", pg_database)
    with TestClient(create_app(base)) as c:
        exploration, _ = _run_both(c)
    _age(pg_database, exploration, 2)
    settings = Settings(
        **base.model_dump(exclude={"redis_url", "auth_mode"})
        | {
            "redis_url": "redis://127.0.0.1:6379/0",
            "job_queue": queue,
            "codesign_artifact_retention_days": 1,
        }
    )
    migrate(settings.database_url)
    db = Database(settings)
    app = make_celery(settings)
    first = WorkerHeartbeat(app, settings, "w1")
    second = WorkerHeartbeat(app, settings, "w2")
    key = f"{settings.redis_key_prefix}:retention:{queue}"
    try:
        first._maybe_prune(db)
        assert first.pruner is not None
        first.pruner.join(60)
        second._maybe_prune(db)
        assert second.pruner is None  # this hour's pass was taken
        ttl = redis.Redis.from_url(settings.redis_url).ttl(key)
        assert 0 < ttl <= 3600
    finally:
        redis.Redis.from_url(settings.redis_url).delete(key)
        first.client.close()
        second.client.close()
        db.dispose()
    with psycopg.connect(pg_database) as conn:
        row = conn.execute("SELECT artifact_name FROM jobs WHERE id = %s", (exploration,))
        assert row.fetchone() == (None,)
    assert not (tmp_path / "data" / "store" / "jobs" / exploration).exists()


def _finished_job(db: Database, kind: str, status: str, days_ago: float = 0) -> str:
    """A job row of ``kind`` with ``status``, finished ``days_ago`` days ago when terminal."""
    from datetime import timedelta

    from codesign_playground.service.tables import utcnow

    with db.session() as s:
        job = crud.create_job(s, owner="alice", kind=kind, params={})
        job.status = status
        if status in crud.TERMINAL:
            job.finished_at = utcnow() - timedelta(days=days_ago)
        return job.id


def test_retention_deletes_the_shared_studies_of_old_and_deleted_jobs(
    tmp_path: Path, pg_database: str
) -> None:
    """``CODESIGN_SHARED_STUDIES`` studies (real optuna tables in PostgreSQL) go with the
    retention of job files: those of jobs finished before the cutoff and of jobs deleted."""
    import optuna

    from codesign_playground.service.jobs.chunked import (
        optuna_storage,
        shared_studies,
        study_name,
    )
    from codesign_playground.service.retention import prune_artifacts

    settings = _embedded(tmp_path, pg_database)
    migrate(settings.database_url)
    db = Database(settings)
    try:
        old = _finished_job(db, "exploration", "succeeded", days_ago=10)
        old_failed = _finished_job(db, "exploration", "failed", days_ago=8)
        recent = _finished_job(db, "exploration", "cancelled", days_ago=1)
        running = _finished_job(db, "exploration", "running")
        orphan = "deleted-job-0000"  # a study whose job row is gone
        storage = optuna_storage(db.engine, settings)
        for job_id in (old, old_failed, recent, running, orphan):
            study = optuna.create_study(storage=storage, study_name=study_name(job_id))
            study.enqueue_trial({"x": 1.0})
        assert shared_studies(db.engine) == sorted((old, old_failed, recent, running, orphan))

        dry = prune_artifacts(db, settings, older_than_days=7, dry_run=True)
        assert dry.studies == sorted((old, old_failed, orphan))
        assert len(shared_studies(db.engine)) == 5
        done = prune_artifacts(db, settings, older_than_days=7)
        assert done.studies == dry.studies and done.to_dict()["studies_deleted"] == 3
        assert shared_studies(db.engine) == sorted((recent, running))
        with pytest.raises(KeyError):
            optuna.load_study(study_name=study_name(old), storage=storage)
        assert prune_artifacts(db, settings, older_than_days=7).studies == []
    finally:
        db.dispose()


def test_workers_sweep_work_folders_no_job_needs(tmp_path: Path, pg_database: str) -> None:
    """Each worker's own ``CODESIGN_DATA_DIR/jobs/<id>``: kept while the job may run or be
    resumed, removed once it is deleted, succeeded, or (retention) old."""
    from codesign_playground.service.retention import sweep_work_folders

    settings = _embedded(tmp_path, pg_database, codesign_artifact_retention_days=7)
    migrate(settings.database_url)
    db = Database(settings)
    try:
        jobs = {
            "queued": _finished_job(db, "exploration", "queued"),
            "running": _finished_job(db, "exploration", "running"),
            "succeeded": _finished_job(db, "exploration", "succeeded", days_ago=0.01),
            "cancelled": _finished_job(db, "exploration", "cancelled", days_ago=1),
            "failed-long-ago": _finished_job(db, "exploration", "failed", days_ago=8),
            "rtl-failed": _finished_job(db, "rtl", "failed", days_ago=0.01),
            "deleted": "0b3c9d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
        }
        root = tmp_path / "jobs"
        for job_id in jobs.values():
            (root / job_id / "run").mkdir(parents=True)
            (root / job_id / "run" / "checkpoint.jsonl").write_text("{}\n")
        (root / "not-a-job").mkdir()  # someone else's folder: never ours to remove
        removed = sweep_work_folders(db, settings)
        gone = {"succeeded", "failed-long-ago", "rtl-failed", "deleted"}
        assert removed == sorted(jobs[k] for k in gone)
        assert sorted(p.name for p in root.iterdir()) == sorted(
            [*(jobs[k] for k in jobs.keys() - gone), "not-a-job"]
        )
        # without retention a resumable checkpoint stays until its job is deleted
        keep_all = settings.model_copy(update={"codesign_artifact_retention_days": 0})
        (root / jobs["failed-long-ago"]).mkdir()
        assert sweep_work_folders(db, keep_all) == []
        assert sweep_work_folders(db, settings) == [jobs["failed-long-ago"]]
    finally:
        db.dispose()


def test_prune_command_on_an_embedded_data_folder(tmp_path: Path) -> None:
    """``codesign jobs prune --data-dir``: the SQLite database and local store of ``codesign
    serve --data-dir``."""
    import json
    import sqlite3

    data = tmp_path / "data"
    settings = Settings(
        codesign_data_dir=data,
        allowed_hosts=["testserver"],
        secret_key="test-secret",
        codesign_log_level="WARNING",
    )
    with TestClient(create_app(settings)) as c:
        _, rtl = _run_both(c)
    with sqlite3.connect(next(data.glob("*.db"))) as conn:
        conn.execute(
            "UPDATE jobs SET finished_at = datetime(finished_at, '-5 days') WHERE id = ?", (rtl,)
        )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    command = [sys.executable, "-m", "codesign_playground.cli.main", "jobs", "prune"]
    args = ["--data-dir", str(data), "--older-than-days", "4"]
    dry = subprocess.run(
        [*command, *args, "--dry-run"], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(dry.stdout) | {"cutoff": None} == {
        "cutoff": None,
        "jobs": 1,
        "files_deleted": 0,
        "studies_deleted": 0,
        "dry_run": True,
    }
    assert (data / "store" / "jobs" / rtl).is_dir()
    done = subprocess.run([*command, *args], capture_output=True, text=True, env=env, check=True)
    assert json.loads(done.stdout)["files_deleted"] == 1, done.stderr
    assert not (data / "store" / "jobs" / rtl).exists()
    refused = subprocess.run(
        [*command, "--data-dir", str(data)], capture_output=True, text=True, env=env, check=False
    )
    assert refused.returncode != 0 and "CODESIGN_ARTIFACT_RETENTION_DAYS" in refused.stderr


# -- readiness asks the S3 bucket ------------------------------------------------------------------


def test_readiness_includes_the_s3_bucket(s3_deployment: Deployment, tmp_path: Path) -> None:
    ready = httpx.get(f"{s3_deployment.base_url}/health/ready", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["artifact_store"] is True
    closed = f"http://127.0.0.1:{free_port()}"
    for name, extra in (
        ("unreachable", {"aws_s3_endpoint_url": closed}),
        ("no such bucket", {"aws_s3_bucket": "codesign-no-such-bucket"}),
    ):
        settings = _app_settings(s3_deployment, tmp_path, **extra)
        with TestClient(create_app(settings)) as c:
            r = c.get("/health/ready")
        body = r.json()
        assert r.status_code == 503, (name, body)
        assert body["checks"]["artifact_store"] is False, (name, body)
        # the other components are as they were: only the store makes it unready
        assert body["checks"]["database"] is True and body["checks"]["workers"] >= 1, body
        assert "codesign-" not in r.text  # no bucket names in an unauthenticated answer


def test_readiness_asks_nothing_for_the_local_store_and_the_database(
    tmp_path: Path, pg_database: str
) -> None:
    for store in ("local", "database"):
        settings = _embedded(tmp_path / store, pg_database, artifact_store=store)
        with TestClient(create_app(settings)) as c:
            r = c.get("/health/ready")
        assert r.status_code == 200, r.text
        assert r.json()["checks"]["artifact_store"] is None


# -- the reports in a real browser, offline --------------------------------------------------


def test_reports_draw_their_plots_offline_served_and_from_a_folder(
    tmp_path: Path, dump_dom: Callable[..., str]
) -> None:
    with serve(tmp_path / "data") as server:
        with httpx.Client(base_url=server.base, timeout=30) as c:
            job_id = c.post("/api/v1/explorations", json={"space": TINY_SPACE}).json()["id"]
            assert _wait(c, job_id)["status"] == "succeeded"
        # served: sandboxed, under the report CSP, Plotly from /static/vendor
        served = dump_dom(f"{server.api}/explorations/{job_id}/report", offline=True)
        assert served.count('class="main-svg"') >= 2, served[:2000]
        # the tarball's folder, opened from disk with no server: plotly.min.js beside it
        tarball = httpx.get(f"{server.api}/explorations/{job_id}/artifact", timeout=30).content
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    folder = dump_dom((tmp_path / "unpacked" / "report" / "report.html").as_uri(), offline=True)
    assert folder.count('class="main-svg"') >= 2, folder[:2000]
