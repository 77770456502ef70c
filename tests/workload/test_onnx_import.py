"""ONNX import: the real shared graphs counted exactly, every op family, and bad files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from codesign_playground.errors import InputError, ModelFormatError, ModelNotFoundError
from codesign_playground.workload.importers.onnx_graph import network_from_onnx

MAC_KINDS = ("conv", "gemm", "matmul", "attention")


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_real_graph_macs_equal_flop_counter(
    name: str, onnx_dir: Path, onnx_reference: dict[str, Any]
) -> None:
    net = network_from_onnx(onnx_dir / f"{name}.onnx")
    ref = onnx_reference[name]
    macs = sum(o.macs for o in net.ops if o.kind in MAC_KINDS)
    assert 2 * macs == ref["flopcounter_flops_batch1"]
    conv = sum(o.macs for o in net.ops if o.kind == "conv")
    assert 2 * conv == ref["flops_by_op"]["aten.convolution"]
    assert not net.unmodeled


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_real_graph_params_match_torch_after_bn_folding(
    name: str, onnx_dir: Path, onnx_reference: dict[str, Any]
) -> None:
    """BN (gamma, beta: 2C params) folds into a C-element conv bias: torch = onnx + C per BN."""
    net = network_from_onnx(onnx_dir / f"{name}.onnx")
    convs = [o for o in net.ops if o.kind == "conv"]
    assert all(len(o.weights) == 2 for o in convs)  # every conv got a folded bias
    folded_channels = sum(o.weights[0].shape[0] for o in convs)
    assert net.params + folded_channels == onnx_reference[name]["torch_params"]


def test_batch_override_scales_work(onnx_dir: Path) -> None:
    one = network_from_onnx(onnx_dir / "resnet18.onnx")
    four = network_from_onnx(onnx_dir / "resnet18.onnx", batch=4)
    assert four.macs == 4 * one.macs
    assert four.params == one.params
    assert four.inputs[0].shape == (4, 3, 224, 224)


def test_precision_override(onnx_dir: Path) -> None:
    net = network_from_onnx(onnx_dir / "mobilenet_v2.onnx", precision="int8")
    fp = network_from_onnx(onnx_dir / "mobilenet_v2.onnx")
    assert net.weight_bytes * 4 == pytest.approx(fp.weight_bytes, rel=1e-6)


# ---------------------------------------------------------------- synthetic graphs
def _init(name: str, shape: tuple[int, ...], dtype: Any = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(shape, dtype=dtype), name)


def _save(
    tmp_path: Path,
    nodes: list[Any],
    inputs: list[Any],
    outputs: list[Any],
    inits: list[Any],
    opset: int = 17,
    name: str = "m.onnx",
) -> Path:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7 if opset < 15 else 8
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def _vi(name: str, shape: list[Any], elem: int = TensorProto.FLOAT) -> Any:
    return helper.make_tensor_value_info(name, elem, shape)


@pytest.mark.parametrize("opset", [11, 13, 17, 21])
def test_cnn_ops_across_opsets(tmp_path: Path, opset: int) -> None:
    nodes = [
        helper.make_node(
            "Conv", ["x", "w1", "b1"], ["c1"], name="conv1", auto_pad="SAME_UPPER", strides=[2, 2]
        ),
        helper.make_node(
            "BatchNormalization", ["c1", "g", "beta", "mu", "var"], ["bn"], name="bn1"
        ),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("Conv", ["r", "wd"], ["dw"], name="dw", group=8, pads=[1, 1, 1, 1]),
        helper.make_node(
            "MaxPool", ["dw"], ["mp"], name="pool", kernel_shape=[2, 2], strides=[2, 2]
        ),
        helper.make_node("GlobalAveragePool", ["mp"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flat"),
        helper.make_node("Gemm", ["flat", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    inits = [
        _init("w1", (8, 3, 3, 3)),
        _init("b1", (8,)),
        _init("g", (8,)),
        _init("beta", (8,)),
        _init("mu", (8,)),
        _init("var", (8,)),
        _init("wd", (8, 1, 3, 3)),
        _init("wf", (10, 8)),
        _init("bf", (10,)),
    ]
    path = _save(
        tmp_path, nodes, [_vi("x", [1, 3, 32, 32])], [_vi("y", [1, 10])], inits, opset=opset
    )
    net = network_from_onnx(path)
    c1, bn, relu, dw, mp, gap, flat, fc = net.ops
    assert c1.outputs[0].shape == (1, 8, 16, 16)
    assert c1.macs == 8 * 256 * 27
    assert bn.params == 16 and bn.weight_bytes == 4 * 32
    assert relu.kind == "activation"
    assert dw.macs == 8 * 256 * 9 and dw.attrs["depthwise"]
    assert mp.outputs[0].shape == (1, 8, 8, 8)
    assert gap.kind == "pool" and flat.kind == "shape" and not flat.copies
    assert fc.kind == "gemm" and fc.macs == 80 and fc.params == 90
    assert net.params == 8 * 27 + 8 + 16 + 72 + 90


def test_transformer_ops(tmp_path: Path) -> None:
    """MatMul with weights, batched MatMul of activations, LayerNorm, Softmax, embedding
    Gather, Transpose, Reshape, Concat, Slice, ReduceMean, Gelu (opset 20), Erf."""
    nodes = [
        helper.make_node("Gather", ["emb", "ids"], ["h"], name="embed"),
        helper.make_node("LayerNormalization", ["h", "ln_g", "ln_b"], ["n"], name="ln", axis=-1),
        helper.make_node("MatMul", ["n", "wq"], ["q"], name="q_proj"),
        helper.make_node("Transpose", ["q"], ["qt"], name="qt", perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "qt"], ["s"], name="scores"),
        helper.make_node("Softmax", ["s"], ["p"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["p", "q"], ["ctx"], name="context"),
        helper.make_node("Reshape", ["ctx", "shape"], ["flat"], name="reshape"),
        helper.make_node("Concat", ["flat", "flat"], ["cat"], name="concat", axis=1),
        helper.make_node("Slice", ["cat", "starts", "ends", "axes"], ["sl"], name="slice"),
        helper.make_node("ReduceMean", ["sl"], ["m"], name="mean", keepdims=1, axes=[1]),
        helper.make_node("Erf", ["m"], ["y"], name="erf"),
    ]
    inits = [
        _init("emb", (100, 16)),
        _init("ln_g", (16,)),
        _init("ln_b", (16,)),
        _init("wq", (16, 16)),
        numpy_helper.from_array(np.array([1, 128], dtype=np.int64), "shape"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "starts"),
        numpy_helper.from_array(np.array([128], dtype=np.int64), "ends"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
    ]
    path = _save(
        tmp_path, nodes, [_vi("ids", [1, 8], TensorProto.INT64)], [_vi("y", None)], inits, opset=17
    )
    net = network_from_onnx(path)
    by = {o.name: o for o in net.ops}
    assert by["embed"].kind == "embedding" and by["embed"].params == 1600
    assert by["ln"].kind == "norm" and by["ln"].params == 32
    assert by["q_proj"].kind == "gemm" and by["q_proj"].macs == 8 * 16 * 16
    assert by["scores"].kind == "matmul" and by["scores"].macs == 8 * 16 * 8
    assert by["softmax"].flops == 5 * 64
    assert by["context"].macs == 8 * 8 * 16
    assert not by["reshape"].copies and by["reshape"].outputs[0].shape == (1, 128)
    assert by["concat"].copies and by["concat"].outputs[0].shape == (1, 256)
    assert by["slice"].outputs[0].shape == (1, 128)
    assert by["mean"].kind == "reduce"
    assert net.params == 1600 + 32 + 256  # int64 constants are not parameters


def test_unknown_and_foreign_ops_are_listed_not_fatal(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("Det", ["a"], ["b"], name="det"),
        helper.make_node("FusedGemm", ["a", "a"], ["c"], name="fused", domain="com.microsoft"),
    ]
    graph = helper.make_graph(nodes, "g", [_vi("x", [4, 4])], [_vi("b", None), _vi("c", None)])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    path = tmp_path / "u.onnx"
    onnx.save(model, str(path))
    net = network_from_onnx(path)
    assert [o.name for o in net.ops] == ["relu"]
    assert {(u.name, u.op_type) for u in net.unmodeled} == {
        ("det", "Det"),
        ("fused", "com.microsoft.FusedGemm"),
    }


def test_symbolic_dims(tmp_path: Path) -> None:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    path = _save(
        tmp_path, nodes, [_vi("x", ["batch", "seq", 8])], [_vi("y", None)], [_init("w", (8, 4))]
    )
    with pytest.raises(InputError, match="seq"):
        network_from_onnx(path)
    net = network_from_onnx(path, batch=2, dims={"seq": 5})
    assert net.ops[0].macs == 2 * 5 * 8 * 4
    assert network_from_onnx(path, dims={"batch": 3, "seq": 5}).ops[0].macs == 3 * 5 * 32


def test_bad_files(tmp_path: Path, onnx_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="file not found"):
        network_from_onnx(tmp_path / "missing.onnx")
    text = tmp_path / "text.onnx"
    text.write_text("hello, this is not ONNX\n" * 10)
    with pytest.raises(ModelFormatError):
        network_from_onnx(text)
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes((onnx_dir / "resnet18.onnx").read_bytes()[:5000])
    with pytest.raises(ModelFormatError):
        network_from_onnx(trunc)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ModelFormatError, match="no ONNX graph"):
        network_from_onnx(empty)
    with pytest.raises(ModelFormatError, match="directory"):
        network_from_onnx(tmp_path)
