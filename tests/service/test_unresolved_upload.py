"""REST: symbolic dimensions and unresolved shapes of uploaded graphs, as on the CLI.

* An uploaded graph whose MatMul cannot be sized is a 422 problem naming the node, the
  input and the dimension; with ``allow_unresolved`` it is stored and its summary, profile
  and estimates say how much of the graph was left out (count and fractions).
* Symbolic input dimensions are bound with ``dims`` (``NAME=SIZE`` form fields at upload,
  stored with the model; ``dims`` query fields of a profile, a ``dims`` object in an
  estimate request to use other sizes). An unknown name is a 422 naming it.
* The Python client sends all of these.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from codesign_playground.client import ApiError, CodesignClient

from .conftest import TINY_SPACE, Deployment


def _bytes(model: onnx.ModelProto) -> bytes:
    buf = io.BytesIO()
    onnx.save(model, buf)
    return buf.getvalue()


def _nonzero_matmul() -> bytes:
    """(4, 8) -> NonZero -> (2, N) -> transpose, float -> (N, 2) @ W (2, 3): N is run-time."""
    nodes = [
        helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
        helper.make_node("Cast", ["nz"], ["nzf"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["nzf"], ["pts"], name="transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["pts", "W"], ["y"], name="mm"),
    ]
    graph = helper.make_graph(
        nodes,
        "nonzero",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((2, 3), np.float32), "W")],
    )
    return _bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


#: MACs of the conv in _conv_then_nonzero_matmul: 4 x 8 pixels, a 3 x 3 kernel
CONV_MACS = 4 * 8 * 9


def _conv_then_nonzero_matmul() -> bytes:
    """A 3x3 conv (sized, counted), then the data-dependent MatMul 'mm' (unresolvable)."""
    nodes = [
        helper.make_node("Conv", ["img", "K"], ["feat"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Reshape", ["feat", "shape48"], ["x"], name="flat"),
        helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
        helper.make_node("Cast", ["nz"], ["nzf"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["nzf"], ["pts"], name="transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["pts", "W"], ["y"], name="mm"),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_nonzero",
        [helper.make_tensor_value_info("img", TensorProto.FLOAT, [1, 1, 4, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [
            numpy_helper.from_array(np.ones((2, 3), np.float32), "W"),
            numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "K"),
            numpy_helper.from_array(np.array([4, 8], np.int64), "shape48"),
        ],
    )
    return _bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


def _symbolic_seq() -> bytes:
    """x (batch, seq, 16) @ W (16, 8) then a softmax: seq needs a size, batch defaults to 1.
    MACs: batch * seq * 16 * 8."""
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["h"], name="proj"),
        helper.make_node("Softmax", ["h"], ["y"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "seq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((16, 8), np.float32), "W")],
    )
    return _bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


def _macs(seq: int, batch: int = 1) -> int:
    return batch * seq * 16 * 8


def _problem(r: Any, *needles: str) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail: str = r.json()["detail"]
    assert "\n" not in detail
    for n in needles:
        assert n in detail, detail
    return detail


def test_unresolvable_matmul_upload_is_422_naming_node(deployment: Deployment) -> None:
    with deployment.client() as c:
        r = c.post("/api/v1/models", files={"file": ("nonzero.onnx", _nonzero_matmul())})
    _problem(r, "'mm' (MatMul)", "'pts'", "dimension 0", "allow_unresolved")


def test_allow_unresolved_upload_profile_and_estimate(deployment: Deployment) -> None:
    """Stored with allow_unresolved: the summary, the profile and an estimate count the
    conv and say that one arithmetic node ('mm') of the graph was left out; a request may
    turn the allowance off again (422 naming the node)."""
    files = {"file": ("conv_nonzero.onnx", _conv_then_nonzero_matmul())}
    with deployment.client() as c:
        _problem(c.post("/api/v1/models", files=files), "'mm' (MatMul)")
        r = c.post("/api/v1/models", files=files, data={"allow_unresolved": "true"})
        assert r.status_code == 201, r.text
        model = r.json()
        summary = model["summary"]
        assert summary["macs"] == CONV_MACS
        assert summary["unresolved"] == 1
        assert summary["unresolved_nodes"] == ["mm"]
        assert 0 < summary["unresolved_fraction_of_nodes"] < 1
        assert summary["unresolved_fraction_of_arithmetic"] == 0.5  # conv counted, mm not
        assert summary["allow_unresolved"] is True

        r = c.get(f"/api/v1/models/{model['id']}/profile")
        assert r.status_code == 200, r.text
        prof = r.json()
        assert prof["totals"]["unresolved"] == 1
        assert prof["totals"]["macs"] == CONV_MACS
        assert {"name": "mm", "op": "MatMul"}.items() <= prof["unmodeled"][-1].items()
        refused = c.get(
            f"/api/v1/models/{model['id']}/profile", params={"allow_unresolved": "false"}
        )
        _problem(refused, "'mm' (MatMul)")

        body: dict[str, Any] = {"model": {"model_id": model["id"]}, "hardware": {"chip": "tpu-v1"}}
        r = c.post("/api/v1/estimates", json=body)
        assert r.status_code == 200, r.text
        est = r.json()["estimate"]
        assert est["totals"]["macs"] == CONV_MACS
        assert est["unresolved"] == {
            "count": 1,
            "fraction_of_nodes": summary["unresolved_fraction_of_nodes"],
            "fraction_of_arithmetic": 0.5,
            "nodes": ["mm"],
        }
        r = c.post("/api/v1/estimates", json=body | {"allow_unresolved": False})
        _problem(r, "'mm' (MatMul)", "'pts'")


def test_dims_bound_at_upload_and_per_request(deployment: Deployment) -> None:
    files = {"file": ("seq.onnx", _symbolic_seq())}
    with deployment.client() as c:
        # a symbolic dimension without a size: refused, naming it and the field
        _problem(c.post("/api/v1/models", files=files), "'seq'", "dims")
        # a name no input has, a malformed binding, a size beyond MODEL_MAX_DIM
        r = c.post("/api/v1/models", files=files, data={"dims": ["seq=4", "sequence=4"]})
        _problem(r, "no graph input has a dimension named 'sequence'", "seq")
        _problem(c.post("/api/v1/models", files=files, data={"dims": "seq"}), "dims:", "NAME=SIZE")
        too_big = {"dims": [f"seq={2**40}"]}
        _problem(c.post("/api/v1/models", files=files, data=too_big), "dims:", "MODEL_MAX_DIM")

        r = c.post("/api/v1/models", files=files, data={"dims": ["seq=10"]})
        assert r.status_code == 201, r.text
        model = r.json()
        assert model["summary"]["macs"] == _macs(10)
        assert model["summary"]["dims"] == {"seq": 10}
        assert model["summary"]["inputs"][0]["shape"] == [1, 10, 16]
        mid = model["id"]

        # profile: the stored size, or others asked for
        prof = c.get(f"/api/v1/models/{mid}/profile")
        assert prof.json()["totals"]["macs"] == _macs(10)
        prof = c.get(f"/api/v1/models/{mid}/profile", params={"dims": "seq=24", "batch": 2})
        assert prof.status_code == 200, prof.text
        assert prof.json()["totals"]["macs"] == _macs(24, batch=2)
        _problem(c.get(f"/api/v1/models/{mid}/profile", params={"dims": "nope=3"}), "'nope'")

        # estimates: the stored size, per-request sizes (cached apart), unknown names
        body: dict[str, Any] = {"model": {"model_id": mid}, "hardware": {"chip": "tpu-v1"}}
        r = c.post("/api/v1/estimates", json=body)
        assert r.status_code == 200, r.text
        stored = r.json()
        assert stored["estimate"]["totals"]["macs"] == _macs(10)
        assert stored["estimate"]["settings"]["dims"] == {
            "value": {"seq": 10},
            "source": "bound at upload",
        }
        assert "unresolved" not in stored["estimate"]
        r = c.post("/api/v1/estimates", json=body | {"dims": {"seq": 40}})
        assert r.status_code == 200, r.text
        asked = r.json()
        assert asked["cached"] is False and asked["key"] != stored["key"]
        assert asked["estimate"]["totals"]["macs"] == _macs(40)
        assert asked["estimate"]["settings"]["dims"] == {"value": {"seq": 40}, "source": "asked"}
        again = c.post("/api/v1/estimates", json=body | {"dims": {"seq": 40}}).json()
        assert again["cached"] is True and again["key"] == asked["key"]
        r = c.post("/api/v1/estimates", json=body | {"dims": {"nope": 3}})
        _problem(r, "no graph input has a dimension named 'nope'")
        r = c.post("/api/v1/estimates", json=body | {"dims": {"seq": 0}})
        _problem(r, "dims")
        # a zoo model has no symbolic inputs to bind
        zoo = {"model": {"zoo": "resnet18"}, "hardware": {"chip": "tpu-v1"}, "dims": {"seq": 4}}
        _problem(c.post("/api/v1/estimates", json=zoo), "dims:", "ONNX")


def test_python_client_sends_dims_and_allow_unresolved(
    deployment: Deployment, tmp_path: Path
) -> None:
    seq = tmp_path / "seq.onnx"
    seq.write_bytes(_symbolic_seq())
    unresolved = tmp_path / "conv_nonzero.onnx"
    unresolved.write_bytes(_conv_then_nonzero_matmul())
    with CodesignClient(deployment.base_url, api_key=deployment.api_key) as api:
        with pytest.raises(ApiError) as err:
            api.upload_model(seq)
        assert err.value.status == 422 and "'seq'" in str(err.value)
        model = api.upload_model(seq, dims={"seq": 12})
        assert model["summary"]["macs"] == _macs(12)
        assert api.profile(model_id=model["id"])["totals"]["macs"] == _macs(12)
        prof = api.profile(model_id=model["id"], dims={"seq": 6}, batch=3)
        assert prof["totals"]["macs"] == _macs(6, batch=3)
        est = api.estimate(model_id=model["id"], chip="tpu-v1", dims={"seq": 30})
        assert est["estimate"]["totals"]["macs"] == _macs(30)

        stored = api.upload_model(unresolved, allow_unresolved=True)
        assert stored["summary"]["unresolved"] == 1
        est = api.estimate(model_id=stored["id"], chip="tpu-v1")
        assert est["estimate"]["unresolved"]["count"] == 1
        with pytest.raises(ApiError) as err:
            api.estimate(model_id=stored["id"], chip="tpu-v1", allow_unresolved=False)
        assert err.value.status == 422 and "'mm' (MatMul)" in str(err.value)


def test_exploration_of_an_upload_uses_its_dims(deployment: Deployment) -> None:
    """An exploration of a model uploaded with dims sizes it as uploaded; the space may
    give other sizes."""
    files = {"file": ("seq.onnx", _symbolic_seq())}
    with deployment.client() as c:
        r = c.post("/api/v1/models", files=files, data={"dims": ["seq=10"]})
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        jobs = {}
        for seq, space in ((10, TINY_SPACE), (30, _with_model(dims={"seq": 30}))):
            r = c.post("/api/v1/explorations", json={"space": space, "model_id": mid})
            assert r.status_code == 202, r.text
            jobs[seq] = r.json()["id"]
        bad = c.post(
            "/api/v1/explorations",
            json={"space": _with_model(dims={"seq": 0}), "model_id": mid},
        )
        _problem(bad, "dims")
        listed = c.get("/api/v1/explorations")
        assert listed.status_code == 200, listed.text
        assert set(jobs.values()) <= {j["id"] for j in listed.json()["items"]}
    for seq, job_id in jobs.items():
        job = deployment.wait_job(job_id)
        assert job["status"] == "succeeded", job
        with deployment.client() as c:
            points = c.get(f"/api/v1/explorations/{job_id}/results").json()["points"]
        assert points and all(p["macs"] == _macs(seq) for p in points), points[0]


def _with_model(**fields: Any) -> dict[str, Any]:
    return TINY_SPACE | {"model": TINY_SPACE["model"] | fields}
