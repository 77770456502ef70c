"""Shapes an ONNX graph computes at run time: resolved, bound with ``dims``, or an error.

A graph whose arithmetic cannot be sized must never count as zero work: an unresolvable
MatMul is an :class:`UnresolvedShapeError` (CLI exit 2, one line naming the node, the
input and the dimension), and with ``allow_unresolved`` the totals say how much is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from typer.testing import CliRunner

from codesign_playground.cli.main import app
from codesign_playground.cli.status import ExitStatus
from codesign_playground.errors import InputError, UnresolvedShapeError
from codesign_playground.workload import load_workload, profile
from codesign_playground.workload.importers.onnx_graph import network_from_onnx

runner = CliRunner()


def _save(path: Path, nodes: list[onnx.NodeProto], inputs, outputs, inits, opset: int = 17) -> Path:  # type: ignore[no-untyped-def]
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, str(path))
    return path


@pytest.fixture
def data_dependent(tmp_path: Path) -> Path:
    """x (4, 8) -> NonZero -> (2, N) -> float, transpose -> (N, 2) @ W (2, 3): N is only
    known at run time (it depends on the values of x), so MatMul 'mm' cannot be sized.
    A Conv before it (3 x 3 MACs per pixel) is sized and counted."""
    w = numpy_helper.from_array(np.ones((2, 3), np.float32), "W")
    k = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "K")
    nodes = [
        helper.make_node("Conv", ["img", "K"], ["feat"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Reshape", ["feat", "shape48"], ["x"], name="flat"),
        helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
        helper.make_node("Cast", ["nz"], ["nzf"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["nzf"], ["pts"], name="transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["pts", "W"], ["y"], name="mm"),
    ]
    shape48 = numpy_helper.from_array(np.array([4, 8], np.int64), "shape48")
    return _save(
        tmp_path / "nonzero.onnx",
        nodes,
        [helper.make_tensor_value_info("img", TensorProto.FLOAT, [1, 1, 4, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [w, k, shape48],
    )


def test_unresolvable_matmul_is_an_error_naming_node_input_and_dim(data_dependent: Path) -> None:
    with pytest.raises(UnresolvedShapeError) as err:
        network_from_onnx(data_dependent)
    msg = str(err.value)
    assert "'mm' (MatMul)" in msg
    assert "input 'pts'" in msg
    assert "dimension 0" in msg
    assert "\n" not in msg
    assert isinstance(err.value, InputError)


def test_allow_unresolved_counts_the_rest_and_says_how_much(data_dependent: Path) -> None:
    net = network_from_onnx(data_dependent, allow_unresolved=True)
    assert [u.name for u in net.unresolved] == ["mm"]
    assert net.macs == 4 * 8 * 9  # the conv only
    tot = profile(net)["totals"]
    assert tot["unresolved"] == 1
    nodes = len(net.ops) + len(net.unmodeled)
    assert tot["unresolved_fraction_of_nodes"] == round(1 / nodes, 6)
    assert tot["unresolved_fraction_of_arithmetic"] == 0.5  # conv counted, matmul not


def test_cli_exits_2_naming_the_node(data_dependent: Path) -> None:
    res = runner.invoke(app, ["profile", str(data_dependent), "--json"])
    assert res.exit_code == ExitStatus.BAD_INPUT, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "'mm' (MatMul)" in lines[0] and "'pts'" in lines[0]
    assert "Traceback" not in res.output


def test_cli_allow_unresolved_json_and_warning(data_dependent: Path) -> None:
    res = runner.invoke(app, ["profile", str(data_dependent), "--json", "--allow-unresolved"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["totals"]["unresolved"] == 1
    assert 0 < doc["totals"]["unresolved_fraction_of_nodes"] < 1
    assert doc["totals"]["unresolved_fraction_of_arithmetic"] == 0.5
    assert {"name": "mm", "op": "MatMul"}.items() <= doc["unmodeled"][-1].items()
    assert "warning" in res.stderr and "mm" in res.stderr


def test_cli_estimate_exits_2_then_warns_when_allowed(data_dependent: Path) -> None:
    args = ["estimate", "-m", str(data_dependent), "-H", "tpu-v1"]
    res = runner.invoke(app, args)
    assert res.exit_code == ExitStatus.BAD_INPUT, res.output
    assert "'mm' (MatMul)" in res.stderr
    res = runner.invoke(app, [*args, "--allow-unresolved", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["unresolved"]["count"] == 1
    assert "warning" in res.stderr


@pytest.fixture
def symbolic_seq(tmp_path: Path) -> Path:
    """x (batch, seq, 16) @ W (16, 8), then a Reshape to a target computed from Shape."""
    w = numpy_helper.from_array(np.ones((16, 8), np.float32), "W")
    zero = numpy_helper.from_array(np.array([0], np.int64), "i0")
    minus1 = numpy_helper.from_array(np.array([-1], np.int64), "m1")
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["h"], name="proj"),
        helper.make_node("Shape", ["h"], ["hs"], name="shape"),
        helper.make_node("Gather", ["hs", "i0"], ["b"], name="batch_of", axis=0),
        helper.make_node("Concat", ["b", "m1"], ["target"], name="target", axis=0),
        helper.make_node("Reshape", ["h", "target"], ["flat"], name="flat"),
        helper.make_node("Softmax", ["flat"], ["y"], name="softmax", axis=-1),
    ]
    return _save(
        tmp_path / "seq.onnx",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [w, zero, minus1],
    )


def test_dims_bind_symbolic_inputs(symbolic_seq: Path) -> None:
    net = load_workload(symbolic_seq, dims={"seq": 10})
    assert net.macs == 10 * 16 * 8
    assert net.op("softmax").outputs[0].shape == (1, 80)
    net = load_workload(symbolic_seq, batch=2, dims={"seq": 5})
    assert net.macs == 2 * 5 * 16 * 8
    with pytest.raises(InputError, match="'seq'"):
        load_workload(symbolic_seq)
    with pytest.raises(InputError, match="no graph input has a dimension named 'sequence'"):
        load_workload(symbolic_seq, dims={"seq": 4, "sequence": 4})


def test_cli_dim(symbolic_seq: Path) -> None:
    res = runner.invoke(app, ["profile", str(symbolic_seq), "--dim", "seq=10", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["totals"]["macs"] == 10 * 16 * 8
    res = runner.invoke(app, ["profile", str(symbolic_seq), "--json"])
    assert res.exit_code == ExitStatus.BAD_INPUT
    assert "--dim seq=" in res.stderr


def test_zero_total_for_a_computing_graph_is_refused(tmp_path: Path) -> None:
    """Only a node without a cost model computes: no silent zero."""
    path = _save(
        tmp_path / "custom.onnx",
        [helper.make_node("Det", ["x"], ["y"], name="det")],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        [],
    )
    with pytest.raises(Exception, match="totals would be zero"):
        network_from_onnx(path)
    assert network_from_onnx(path, allow_unresolved=True).macs == 0


def test_matmul_inside_control_flow_is_an_error(tmp_path: Path) -> None:
    """An If whose branch multiplies matrices: which branch runs is known at run time only."""
    w = numpy_helper.from_array(np.ones((4, 4), np.float32), "W")

    def branch(name: str, op: str) -> onnx.GraphProto:
        inputs = ["x", "W"] if op == "MatMul" else ["x"]
        return helper.make_graph(
            [helper.make_node(op, inputs, [f"{name}_out"], name=f"{name}_{op.lower()}")],
            name,
            [],
            [helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, [2, 4])],
        )

    nodes = [
        helper.make_node("ReduceSum", ["x"], ["total"], name="total", keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["cond"], name="positive"),
        helper.make_node(
            "If",
            ["cond"],
            ["y"],
            name="branch",
            then_branch=branch("then", "MatMul"),
            else_branch=branch("else", "Identity"),
        ),
    ]
    path = _save(
        tmp_path / "if.onnx",
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
        [w, numpy_helper.from_array(np.array(0, np.float32), "zero")],
    )
    with pytest.raises(UnresolvedShapeError, match=r"'branch' \(If\).*MatMul"):
        network_from_onnx(path)
    net = network_from_onnx(path, allow_unresolved=True)
    assert [u.name for u in net.unresolved] == ["branch"]
    assert profile(net)["totals"]["unresolved"] == 1
