"""REST: an uploaded graph whose MatMul cannot be sized is a 422 problem naming the node."""

from __future__ import annotations

import io

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .conftest import Deployment


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
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    buf = io.BytesIO()
    onnx.save(model, buf)
    return buf.getvalue()


def test_unresolvable_matmul_upload_is_422_naming_node(deployment: Deployment) -> None:
    with deployment.client() as c:
        r = c.post("/api/v1/models", files={"file": ("nonzero.onnx", _nonzero_matmul())})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    assert "'mm' (MatMul)" in detail and "'pts'" in detail
    assert "\n" not in detail
