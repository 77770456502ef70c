"""No server path from a client: model names, accuracy tables and caches in API documents.

Before, ``model.name`` and ``accuracy.csv`` read any server file (and answered differently for
an existing file than for a missing one), and ``accuracy.cache`` created or appended to any
writable path. Now the API takes zoo names, uploaded model ids and inline tables only, and
its answer never depends on the server's file system.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from codesign_playground.config import Settings
from codesign_playground.errors import InputError
from codesign_playground.service.jobs.kinds import prepare_space
from codesign_playground.service.main import create_app
from codesign_playground.service.space_policy import server_space


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        codesign_data_dir=tmp_path / "data",
        allowed_hosts=["testserver"],
        secret_key="test-secret",
        codesign_log_level="WARNING",
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _space(**extra: Any) -> dict[str, Any]:
    return {
        "name": "paths",
        "model": {"name": "resnet18"},
        "hardware": {"rows": [8], "cols": [8]},
        "objectives": ["latency", "energy"],
    } | extra


def _same_answer(a: Any, b: Any, name_a: str, name_b: str) -> None:
    """Equal status and detail once the echoed names are taken out: no existence oracle."""
    assert a.status_code == b.status_code
    assert a.json()["detail"].replace(repr(name_a), "NAME") == b.json()["detail"].replace(
        repr(name_b), "NAME"
    )


def test_model_name_must_be_a_zoo_model(client: TestClient, tmp_path: Path) -> None:
    existing = tmp_path / "secret.onnx"
    existing.write_bytes(b"\x08\x07")
    answers = {}
    for name in (str(existing), str(tmp_path / "missing.onnx"), "/etc/shadow", "../x.onnx"):
        r = client.post("/api/v1/explorations", json={"space": _space(model={"name": name})})
        assert r.status_code == 422, r.text
        assert r.json()["detail"].startswith("space.model.name:")
        assert "never a file path" in r.json()["detail"]
        answers[name] = r
    names = list(answers)
    for other in names[1:]:
        _same_answer(answers[names[0]], answers[other], names[0], other)
    ok = client.post("/api/v1/explorations", json={"space": _space()})
    assert ok.status_code == 202, ok.text
    assert ok.json()["params"]["space"]["model"]["name"] == "resnet18"


def test_estimate_zoo_reference_never_reads_a_file(client: TestClient, tmp_path: Path) -> None:
    existing = tmp_path / "model.onnx"
    existing.write_bytes(b"not a model")
    answers = {}
    for name in (str(existing), str(tmp_path / "nothing.onnx")):
        body = {"model": {"zoo": name}, "hardware": {"chip": "a100"}}
        r = client.post("/api/v1/estimates", json=body)
        assert r.status_code == 404, r.text
        answers[name] = r
    a, b = answers.values()
    _same_answer(a, b, *answers)


def test_accuracy_csv_and_cache_paths_are_refused(client: TestClient, tmp_path: Path) -> None:
    table = tmp_path / "acc.csv"
    table.write_text("bits,accuracy\n8,0.9\n")
    for csv in (str(table), str(tmp_path / "missing.csv")):
        space = _space(
            objectives=["latency", "accuracy"], accuracy={"csv": csv}, model={"name": "resnet18"}
        )
        r = client.post("/api/v1/explorations", json={"space": space})
        assert r.status_code == 422
        assert r.json()["detail"].startswith("space.accuracy.csv: the API takes no file paths")
    cache = tmp_path / "planted" / "cache.csv"
    space = {
        "name": "digits",
        "model": {"name": "digits_cnn", "bits": [8]},
        "hardware": {"rows": [8], "cols": [8]},
        "objectives": ["latency", "accuracy"],
        "accuracy": {"measure": "digits", "epochs": 1, "cache": str(cache)},
    }
    r = client.post("/api/v1/explorations", json={"space": space})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("space.accuracy.cache:")
    assert not cache.exists() and not cache.parent.exists()
    inline = _space(
        objectives=["latency", "accuracy"],
        accuracy={"table": [{"rows": 8, "accuracy": 0.9}]},
    )
    assert client.post("/api/v1/explorations", json={"space": inline}).status_code == 202


def test_worker_refuses_paths_in_stored_jobs() -> None:
    """A job stored before this check (or written to the table by hand) still cannot read."""
    stored = {"space": _space(model={"name": "/etc/passwd"}), "model_id": None}
    with pytest.raises(InputError, match=r"space\.model\.name"):
        prepare_space(stored, None)
    with pytest.raises(InputError, match=r"space\.accuracy\.cache"):
        server_space(_space(accuracy={"measure": "digits", "cache": "/tmp/x"}), model_id=None)
    uploaded = server_space(_space(model={"name": "/etc/passwd"}), model_id="abc")
    assert uploaded["model"]["name"] == "stored-model.onnx"  # the worker writes its own file
