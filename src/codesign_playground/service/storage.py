"""Where the reports and artifacts of jobs are kept: a folder, an S3 bucket, or the job row.

``ARTIFACT_STORE`` (see :class:`~codesign_playground.config.Settings`) picks the place:

* ``s3``: objects under ``AWS_S3_PREFIX`` in ``AWS_S3_BUCKET``, through boto3 (AWS, or any
  S3-compatible store named by ``AWS_S3_ENDPOINT_URL``); credentials and region come from
  ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_REGION`` when set, else from boto3's
  usual chain (instance or pod role, ``~/.aws``);
* ``local``: files under ``CODESIGN_DATA_DIR/store`` (the embedded default: the API and its
  in-process worker share that folder);
* ``database``: the job row's ``report`` and ``artifact`` columns (distributed without a bucket,
  where worker pods do not share a folder with the API; what every version before did).

The worker writes a finished job's files with :func:`keep_outcome`, which records where each
went in the job's ``result`` document under :data:`STORAGE_KEY` (no schema change: the row's
``report`` and ``artifact`` columns stay NULL). Downloads read the record with
:func:`stored_file`, so a row written under another setting (or before stores existed, with its
bytes in the columns) still downloads.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from codesign_playground.config import Settings

__all__ = [
    "CHUNK_BYTES",
    "PRUNED_KEY",
    "STORAGE_KEY",
    "ArtifactStore",
    "LocalStore",
    "S3Store",
    "StoreRefusedError",
    "StoreUnavailableError",
    "StoredFile",
    "artifact_store",
    "discard_outcome",
    "keep_outcome",
    "pruned_at",
    "public_result",
    "report_media_type",
    "store_ready",
    "stored_file",
]

_log = logging.getLogger("codesign_playground.service")

STORAGE_KEY = "storage"
"""Key of a job's ``result`` document that says where its report and artifact are kept."""

PRUNED_KEY = "pruned_at"
"""Key of the storage record of a job whose files retention deleted (when, ISO 8601)."""

CHUNK_BYTES = 1 << 20
"""Size of the pieces a download is streamed in (1 MiB)."""

READY_TIMEOUT_S = 2.0
"""Connect and read timeout of the readiness check of an S3 store (one attempt, no retry): two
of them stay under the readiness probe's ``timeoutSeconds: 5`` (k8s/, the Helm chart)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StoreUnavailableError(ConnectionError):
    """The object store did not answer (a ``ConnectionError``: jobs retry it with backoff)."""


class StoreRefusedError(RuntimeError):
    """The object store answered with an error (no such bucket or object, access denied)."""


@dataclass(frozen=True)
class StoredFile:
    """One stored object as a download needs it."""

    chunks: Iterator[bytes]
    size_bytes: int


class ArtifactStore(Protocol):
    """A place for job files, addressed by a relative key such as ``jobs/<id>/report.html``."""

    kind: str

    def put(self, key: str, data: bytes, media_type: str) -> dict[str, Any]:
        """Store ``data`` at ``key``; returns the location record kept in the job row."""
        ...

    def open(self, location: dict[str, Any]) -> StoredFile:
        """The bytes at a location record (raises :class:`StoreRefusedError` if absent)."""
        ...

    def url(
        self, location: dict[str, Any], *, filename: str, media_type: str, expires_s: int
    ) -> str | None:
        """A time-limited URL a client may fetch the object from, or ``None`` (local files)."""
        ...

    def delete(self, location: dict[str, Any]) -> None:
        """Remove the object at a location record; one already gone is not an error."""
        ...


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(CHUNK_BYTES):
            yield block


class LocalStore:
    """Files under ``root`` (``CODESIGN_DATA_DIR/store``)."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StoreRefusedError(f"key {key!r} leaves the store folder")
        return path

    def put(self, key: str, data: bytes, media_type: str) -> dict[str, Any]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        partial.replace(path)  # readers never see half a file
        return {"store": self.kind, "key": key, "size_bytes": len(data), "media_type": media_type}

    def open(self, location: dict[str, Any]) -> StoredFile:
        path = self._path(str(location["key"]))
        if not path.is_file():
            raise StoreRefusedError(f"{location['key']} is not in {self.root}")
        return StoredFile(_chunks(path), path.stat().st_size)

    def url(
        self, location: dict[str, Any], *, filename: str, media_type: str, expires_s: int
    ) -> str | None:
        return None

    def delete(self, location: dict[str, Any]) -> None:
        path = self._path(str(location["key"]))
        path.unlink(missing_ok=True)
        # the job's folder goes with its last file (never the store folder itself)
        folder = path.parent
        if folder != self.root and folder.is_relative_to(self.root):
            # other files may still be in it, or it may be gone already
            with contextlib.suppress(OSError):
                folder.rmdir()


class S3Store:
    """Objects in an S3 bucket (or an S3-compatible store at ``endpoint_url``)."""

    kind = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str = "",
        region: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        config = Config(
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            # MinIO, Ceph and moto serve buckets as paths, not as host names
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        credentials = (
            {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
            if access_key_id and secret_access_key
            else {}
        )
        session = boto3.session.Session()
        self.client = session.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=config,
            **credentials,
        )
        # readiness asks once with short timeouts: a store that does not answer must not hold
        # the probe past its own timeout
        self.probe_client = session.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=config.merge(
                Config(
                    connect_timeout=READY_TIMEOUT_S,
                    read_timeout=READY_TIMEOUT_S,
                    retries={"max_attempts": 1, "mode": "standard"},
                )
            ),
            **credentials,
        )

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise StoreRefusedError(
                f"object store: {what} s3://{kwargs.get('Bucket')}/{kwargs.get('Key', '')} "
                f"refused ({code})"
            ) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(
                f"object store: {what} failed ({type(exc).__name__})"
            ) from exc

    def put(self, key: str, data: bytes, media_type: str) -> dict[str, Any]:
        full = self.prefix + key
        self._call(
            "PutObject",
            self.client.put_object,
            Bucket=self.bucket,
            Key=full,
            Body=data,
            ContentType=media_type,
        )
        return {
            "store": self.kind,
            "bucket": self.bucket,
            "key": full,
            "size_bytes": len(data),
            "media_type": media_type,
        }

    def open(self, location: dict[str, Any]) -> StoredFile:
        answer = self._call(
            "GetObject",
            self.client.get_object,
            Bucket=location.get("bucket") or self.bucket,
            Key=str(location["key"]),
        )
        body = answer["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_BYTES)
            finally:
                body.close()

        return StoredFile(chunks(), int(answer["ContentLength"]))

    def url(
        self, location: dict[str, Any], *, filename: str, media_type: str, expires_s: int
    ) -> str | None:
        params = {
            "Bucket": location.get("bucket") or self.bucket,
            "Key": str(location["key"]),
            "ResponseContentType": media_type,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        }
        return str(
            self._call(
                "presign",
                self.client.generate_presigned_url,
                ClientMethod="get_object",
                Params=params,
                ExpiresIn=expires_s,
            )
        )

    def delete(self, location: dict[str, Any]) -> None:
        # DeleteObject answers 204 for a key that is not there: deleting twice is fine
        self._call(
            "DeleteObject",
            self.client.delete_object,
            Bucket=location.get("bucket") or self.bucket,
            Key=str(location["key"]),
        )

    def ready(self) -> str | None:
        """``None`` when the bucket answers ``HeadBucket`` (allowed by ``s3:ListBucket`` on the
        bucket), else why not, in a few words."""
        try:
            self._call("HeadBucket", self.probe_client.head_bucket, Bucket=self.bucket)
        except (StoreRefusedError, StoreUnavailableError) as exc:
            return str(exc)
        return None


@lru_cache(maxsize=8)
def _s3(
    bucket: str, prefix: str, endpoint_url: str, region: str, key_id: str, secret: str
) -> S3Store:
    return S3Store(
        bucket,
        prefix=prefix,
        endpoint_url=endpoint_url,
        region=region,
        access_key_id=key_id,
        secret_access_key=secret,
    )


def _store(settings: Settings, kind: str) -> ArtifactStore | None:
    if kind == "s3":
        return _s3(
            settings.aws_s3_bucket,
            settings.aws_s3_prefix,
            settings.aws_s3_endpoint_url,
            settings.aws_region,
            settings.aws_access_key_id,
            settings.aws_secret_access_key,
        )
    if kind == "local":
        return LocalStore(settings.codesign_data_dir / "store")
    return None


def artifact_store(settings: Settings) -> ArtifactStore | None:
    """The store new files go to; ``None`` for ``ARTIFACT_STORE=database`` (the job row)."""
    return _store(settings, settings.artifact_store)


def _key(job_id: str, name: str) -> str:
    return f"jobs/{_UNSAFE.sub('_', job_id)}/{_UNSAFE.sub('_', name).lstrip('.') or 'file'}"


def report_media_type(text: str) -> str:
    """``text/html`` for an HTML document, else ``text/markdown`` (both UTF-8)."""
    html = text.lstrip().lower().startswith(("<!doctype", "<html"))
    return f"text/{'html' if html else 'markdown'}; charset=utf-8"


def keep_outcome(
    settings: Settings,
    job_id: str,
    *,
    result: dict[str, Any] | None,
    artifact: tuple[str, bytes] | None,
    report: str | None,
) -> dict[str, Any]:
    """The job-row values for a finished job's files, after writing them to the store.

    With a store the ``report`` and ``artifact`` columns are left out (NULL) and ``result``
    gains the location records; with ``ARTIFACT_STORE=database`` the bytes go to the columns.
    """
    values: dict[str, Any] = {"result": result}
    if artifact is not None:
        values["artifact_name"] = artifact[0]
    store = artifact_store(settings)
    if store is None:
        if artifact is not None:
            values["artifact"] = artifact[1]
        if report is not None:
            values["report"] = report
        return values
    where: dict[str, Any] = {}
    if report is not None:
        media_type = report_media_type(report)
        name = "report.html" if media_type.startswith("text/html") else "report.md"
        where["report"] = store.put(_key(job_id, name), report.encode("utf-8"), media_type)
    if artifact is not None:
        name, data = artifact
        where["artifact"] = store.put(_key(job_id, name), data, "application/gzip")
    if where:
        values["result"] = {**(result or {}), STORAGE_KEY: where}
    return values


def stored_file(
    settings: Settings, result: dict[str, Any] | None, what: str
) -> tuple[ArtifactStore, dict[str, Any]] | None:
    """The store and location record of a job's ``report`` or ``artifact``, if one is kept
    in a store (``None``: the bytes are in the job row, or there are none)."""
    location = ((result or {}).get(STORAGE_KEY) or {}).get(what)
    if not isinstance(location, dict):
        return None
    store = _store(settings, str(location.get("store")))
    if store is None:
        raise StoreRefusedError(f"unknown store {location.get('store')!r} in the job row")
    return store, location


def discard_outcome(settings: Settings, result: dict[str, Any] | None) -> int:
    """Delete the stored report and artifact a job's ``result`` records; the number deleted.

    Files in the row's own columns (``ARTIFACT_STORE=database``, older rows) go with the row.
    A store that does not answer raises :class:`StoreUnavailableError` before the row is
    touched, so the caller can keep the row (and its record of the files) and answer 503.
    """
    deleted = 0
    for what in ("report", "artifact"):
        found = stored_file(settings, result, what)
        if found is None:
            continue
        store, location = found
        store.delete(location)
        deleted += 1
    return deleted


def store_ready(settings: Settings) -> tuple[bool | None, str | None]:
    """The readiness check of the artifact store: ``(True, None)`` when an S3 bucket answers,
    ``(False, why)`` when it does not, ``(None, None)`` for the local folder and the database
    (nothing remote to ask: they cost the probe nothing)."""
    store = artifact_store(settings)
    if not isinstance(store, S3Store):
        return None, None
    problem = store.ready()
    return problem is None, problem


def pruned_at(result: dict[str, Any] | None) -> str | None:
    """When retention deleted the job's report and artifact (``None``: it did not)."""
    storage = (result or {}).get(STORAGE_KEY)
    return str(storage[PRUNED_KEY]) if isinstance(storage, dict) and PRUNED_KEY in storage else None


def public_result(result: dict[str, Any]) -> dict[str, Any]:
    """A result document as clients see it: without the storage record."""
    if STORAGE_KEY not in result:
        return result
    return {k: v for k, v in result.items() if k != STORAGE_KEY}
