"""A Python client for the service API (httpx), mirroring its resources.

>>> from codesign_playground.client import CodesignClient
>>> with CodesignClient("http://127.0.0.1:8000") as api:              # doctest: +SKIP
...     model = api.upload_model("resnet18.onnx")
...     est = api.estimate(model_id=model["id"], chip="a100")
...     job = api.start_exploration(space, model_id=model["id"])
...     done = api.wait(job["id"], progress=lambda j: print(j["progress"]), timeout=600)
...     front = api.exploration_front(job["id"])

Error responses (RFC 9457 problem+json) raise :class:`ApiError` carrying the problem. With
``AUTH_MODE=api-key`` pass ``api_key=`` (default: the ``CODESIGN_API_KEY`` environment variable).
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

__all__ = ["ApiError", "CodesignClient", "JobFailedError", "JobTimeoutError"]

TERMINAL = ("succeeded", "failed", "cancelled")


class ApiError(Exception):
    """The API answered with an error; ``problem`` is the problem+json body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}")


class JobTimeoutError(TimeoutError):
    """:meth:`CodesignClient.wait` ran out of time; ``job`` is the last state seen."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        super().__init__(f"job {job.get('id')} still {job.get('status')} at the timeout")


class JobFailedError(RuntimeError):
    """The job ended failed (raised by :meth:`CodesignClient.wait` with ``raise_on_failure``)."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        super().__init__(f"job {job.get('id')} failed: {job.get('error')}")


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    """A local accuracy CSV as table rows (numbers parsed, empty cells left out)."""
    rows: list[dict[str, Any]] = []
    with path.open(newline="", encoding="utf-8") as fh:
        for record in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for key, text in record.items():
                if key is None or text is None or text == "":
                    continue
                try:
                    number = float(text)
                    row[key] = int(number) if number.is_integer() and "." not in text else number
                except ValueError:
                    row[key] = text
            rows.append(row)
    return rows


class CodesignClient:
    """A synchronous client; ``base_url`` is the server root (``http://host:8000``)."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("CODESIGN_API_KEY", "")
        headers = dict(kwargs.pop("headers", None) or {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, headers=headers, **kwargs
        )

    # -- plumbing ------------------------------------------------------------------------------
    def __enter__(self) -> CodesignClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.reason_phrase, "detail": response.text[:200]}
            raise ApiError(response.status_code, problem)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, path, **kwargs).json()

    # -- health --------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", "/health")
        return result

    def ready(self) -> dict[str, Any]:
        """The readiness document (does not raise on 503)."""
        result: dict[str, Any] = self.http.get("/health/ready").json()
        return result

    # -- models --------------------------------------------------------------------------------
    def upload_model(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        dims: Mapping[str, int] | None = None,
        allow_unresolved: bool = False,
    ) -> dict[str, Any]:
        """Upload an ONNX file; ``dims`` sizes its symbolic input dimensions (stored with
        the model), ``allow_unresolved`` accepts a graph whose arithmetic cannot all be
        sized (its summary says how much was left out)."""
        p = Path(path)
        data: dict[str, Any] = {}
        if name:
            data["name"] = name
        if dims:
            data["dims"] = [f"{k}={v}" for k, v in dims.items()]
        if allow_unresolved:
            data["allow_unresolved"] = "true"
        with p.open("rb") as f:
            result: dict[str, Any] = self._json(
                "POST", "/api/v1/models", files={"file": (p.name, f)}, data=data or None
            )
        return result

    def list_models(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._json("GET", "/api/v1/models")["items"]
        return items

    def get_model(self, model_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/api/v1/models/{model_id}")
        return result

    def list_zoo(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/api/v1/models/zoo")
        return result

    def profile(
        self,
        *,
        model_id: str | None = None,
        zoo: str | None = None,
        batch: int = 1,
        dims: Mapping[str, int] | None = None,
        allow_unresolved: bool | None = None,
    ) -> dict[str, Any]:
        """Per-layer and total work; for an uploaded model ``dims`` and ``allow_unresolved``
        override what it was uploaded with."""
        path = (
            f"/api/v1/models/{model_id}/profile"
            if model_id
            else f"/api/v1/models/zoo/{zoo}/profile"
        )
        params: dict[str, Any] = {"batch": batch}
        if dims:
            params["dims"] = [f"{k}={v}" for k, v in dims.items()]
        if allow_unresolved is not None:
            params["allow_unresolved"] = "true" if allow_unresolved else "false"
        result: dict[str, Any] = self._json("GET", path, params=params)
        return result

    # -- hardware ------------------------------------------------------------------------------
    def catalog(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/api/v1/hardware/catalog")
        return result

    def templates(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/api/v1/hardware/templates")
        return result

    def from_template(self, kind: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "POST", f"/api/v1/hardware/templates/{kind}", json={"params": params}
        )
        return result

    def validate_hardware(self, spec: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "POST", "/api/v1/hardware/validate", json={"spec": spec}
        )
        return result

    def store_hardware(self, spec: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._json("POST", "/api/v1/hardware", json={"spec": spec})
        return result

    def list_hardware(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/api/v1/hardware")
        return result

    # -- estimates -----------------------------------------------------------------------------
    def estimate(
        self,
        *,
        model_id: str | None = None,
        zoo: str | None = None,
        hardware_id: str | None = None,
        chip: str | None = None,
        spec: dict[str, Any] | None = None,
        batch: int = 1,
        precision: str | None = None,
        mode: str = "auto",
        include_layers: bool = True,
        launch: str = "graph",
        tf32: str | None = None,
        dims: Mapping[str, int] | None = None,
        allow_unresolved: bool | None = None,
    ) -> dict[str, Any]:
        """``{"cached", "key", "estimate"}`` for one model on one hardware description
        (``launch`` and ``tf32``: the GPU model's execution mode and TF32 switch; ``dims``
        and ``allow_unresolved`` override what an uploaded model was stored with)."""
        model = {k: v for k, v in (("model_id", model_id), ("zoo", zoo)) if v is not None}
        hardware = {
            k: v
            for k, v in (("hardware_id", hardware_id), ("chip", chip), ("spec", spec))
            if v is not None
        }
        body = {
            "model": model,
            "hardware": hardware,
            "batch": batch,
            "precision": precision,
            "mode": mode,
            "include_layers": include_layers,
            "launch": launch,
            "tf32": tf32,
        }
        if dims:
            body["dims"] = dict(dims)
        if allow_unresolved is not None:
            body["allow_unresolved"] = allow_unresolved
        result: dict[str, Any] = self._json("POST", "/api/v1/estimates", json=body)
        return result

    # -- jobs ----------------------------------------------------------------------------------
    def start_exploration(
        self,
        space: dict[str, Any],
        *,
        model_id: str | None = None,
        strategy: str | None = None,
        budget: int | None = None,
        seed: int | None = None,
        accuracy_csv: str | Path | None = None,
    ) -> dict[str, Any]:
        """Start an exploration; ``accuracy_csv`` (a local file) is sent as
        ``space.accuracy.table`` rows (the server takes no file paths)."""
        if accuracy_csv is not None:
            space = dict(space)
            space["accuracy"] = {
                k: v for k, v in dict(space.get("accuracy") or {}).items() if k != "csv"
            } | {"table": _csv_rows(Path(accuracy_csv))}
        body = {
            "space": space,
            "model_id": model_id,
            "strategy": strategy,
            "budget": budget,
            "seed": seed,
        }
        result: dict[str, Any] = self._json("POST", "/api/v1/explorations", json=body)
        return result

    def list_explorations(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._json("GET", "/api/v1/explorations")["items"]
        return items

    def exploration(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/api/v1/explorations/{job_id}")
        return result

    def exploration_results(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/api/v1/explorations/{job_id}/results")
        return result

    def exploration_front(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/api/v1/explorations/{job_id}/front")
        return result

    def exploration_report(self, job_id: str) -> str:
        return self._request("GET", f"/api/v1/explorations/{job_id}/report").text

    def start_rtl(self, *, rows: int, cols: int, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "POST", "/api/v1/rtl", json={"rows": rows, "cols": cols, **params}
        )
        return result

    def download_artifact(self, job_id: str, dest: str | Path | None = None) -> bytes:
        """The job's tarball (RTL or exploration report); written to ``dest`` when given.

        A server with ``ARTIFACT_DOWNLOAD_REDIRECT`` answers with a presigned URL of its object
        store, which is followed (httpx drops the API key when leaving the server's origin)."""
        job = self.job(job_id)
        kind = "rtl" if job["kind"] == "rtl" else "explorations"
        path = f"/api/v1/{kind}/{job_id}/artifact"
        data = self._request("GET", path, follow_redirects=True).content
        if dest is not None:
            Path(dest).write_bytes(data)
        return data

    def job(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/api/v1/jobs/{job_id}")
        return result

    def list_jobs(self, kind: str | None = None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else None
        items: list[dict[str, Any]] = self._json("GET", "/api/v1/jobs", params=params)["items"]
        return items

    def cancel(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("POST", f"/api/v1/jobs/{job_id}/cancel")
        return result

    def delete_job(self, job_id: str) -> None:
        """Delete a finished job with its report and artifact (a queued or running job is
        refused with 409: :meth:`cancel` it and wait for it first)."""
        self._request("DELETE", f"/api/v1/jobs/{job_id}")

    def wait(
        self,
        job_id: str,
        *,
        progress: Callable[[dict[str, Any]], None] | None = None,
        timeout: float | None = 600.0,
        poll_s: float = 0.5,
        raise_on_failure: bool = False,
    ) -> dict[str, Any]:
        """Poll job ``job_id`` until it ends; ``progress`` gets each new state of the job.

        Returns the final job; raises :class:`JobTimeoutError` after ``timeout`` seconds and
        :class:`JobFailedError` for a failed job when ``raise_on_failure``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last: Any = None
        while True:
            job = self.job(job_id)
            seen = (job["status"], job.get("progress"))
            if progress is not None and seen != last:
                progress(job)
            last = seen
            if job["status"] in TERMINAL:
                if raise_on_failure and job["status"] == "failed":
                    raise JobFailedError(job)
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise JobTimeoutError(job)
            time.sleep(poll_s)
