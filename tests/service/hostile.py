"""A corpus of hostile and broken ONNX files, built in code (no downloads, nothing shared).

Each entry is ``name -> bytes``; the upload endpoint must answer every one with a 4xx problem
naming ``file`` (never a 500, never a hang or a memory blow-up).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _model(
    nodes: list[onnx.NodeProto],
    *,
    inits: list[onnx.TensorProto] | None = None,
    inputs: list[onnx.ValueInfoProto] | None = None,
    outputs: list[onnx.ValueInfoProto] | None = None,
) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(
        nodes, "hostile", inputs if inputs is not None else [x], outputs or [y], inits or []
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def constant_dims_disagree() -> bytes:
    # a Constant declaring 1000 x 1000 floats but holding 4 of them
    t = onnx.TensorProto(name="c", data_type=TensorProto.FLOAT, dims=[1000, 1000])
    t.float_data.extend([1.0, 2.0, 3.0, 4.0])
    c = helper.make_node("Constant", [], ["c"], value=t)
    add = helper.make_node("Add", ["x", "c"], ["y"])
    return _model([c, add]).SerializeToString()  # type: ignore[no-any-return]


def constant_raw_dims_disagree() -> bytes:
    t = onnx.TensorProto(name="c", data_type=TensorProto.FLOAT, dims=[64, 64])
    t.raw_data = b"\x00" * 12
    c = helper.make_node("Constant", [], ["c"], value=t)
    add = helper.make_node("Add", ["x", "c"], ["y"])
    return _model([c, add]).SerializeToString()  # type: ignore[no-any-return]


def huge_dims_initializer() -> bytes:
    # 2^20 x 2^20 floats (4 TiB if materialized), no data
    t = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2**20, 2**20])
    mm = helper.make_node("MatMul", ["x", "w"], ["y"])
    return _model([mm], inits=[t]).SerializeToString()  # type: ignore[no-any-return]


def huge_input_dims() -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2**40, 2**40])
    relu = helper.make_node("Relu", ["x"], ["y"])
    return _model([relu], inputs=[x]).SerializeToString()  # type: ignore[no-any-return]


def huge_rank() -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] * 64)
    relu = helper.make_node("Relu", ["x"], ["y"])
    return _model([relu], inputs=[x]).SerializeToString()  # type: ignore[no-any-return]


def negative_dims() -> bytes:
    t = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-5, 4])
    mm = helper.make_node("MatMul", ["x", "w"], ["y"])
    return _model([mm], inits=[t]).SerializeToString()  # type: ignore[no-any-return]


def node_bomb() -> bytes:
    # more nodes than MODEL_MAX_NODES, in a small file
    nodes = [
        helper.make_node("Relu", ["x" if i == 0 else f"t{i - 1}"], [f"t{i}"]) for i in range(50_000)
    ]
    nodes.append(helper.make_node("Identity", ["t49999"], ["y"]))
    return _model(nodes).SerializeToString()  # type: ignore[no-any-return]


def subgraph_node_bomb() -> bytes:
    # the nodes hide in an If's branches
    body_nodes = [helper.make_node("Relu", ["x"], [f"b{i}"]) for i in range(30_000)]
    out = helper.make_tensor_value_info("b0", TensorProto.FLOAT, [1, 4])
    branch = helper.make_graph(body_nodes, "branch", [], [out])
    cond = numpy_helper.from_array(np.array(True), "cond")
    node = helper.make_node("If", ["cond"], ["y"], then_branch=branch, else_branch=branch)
    return _model([node], inits=[cond]).SerializeToString()  # type: ignore[no-any-return]


def constant_of_shape_bomb() -> bytes:
    shape = numpy_helper.from_array(np.array([2**31, 2**31], dtype=np.int64), "shape")
    cos = helper.make_node("ConstantOfShape", ["shape"], ["big"])
    add = helper.make_node("Add", ["x", "big"], ["y"])
    return _model([cos, add], inits=[shape]).SerializeToString()  # type: ignore[no-any-return]


def _external(name: str) -> onnx.TensorProto:
    t = onnx.TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[4, 4])
    t.data_location = TensorProto.EXTERNAL
    entry = t.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    return t


def external_data() -> bytes:
    # weights left out (never read: only shapes count); accepted or refused, never read
    mm = helper.make_node("MatMul", ["x", "w"], ["y"])
    return _model([mm], inits=[_external("w")]).SerializeToString()  # type: ignore[no-any-return]


def external_data_constant() -> bytes:
    # a Constant's values are read by the importer: a server path there must be refused
    c = helper.make_node("Constant", [], ["c"], value=_external("c"))
    add = helper.make_node("Add", ["x", "c"], ["y"])
    return _model([c, add]).SerializeToString()  # type: ignore[no-any-return]


def reshape_to_garbage() -> bytes:
    shape = numpy_helper.from_array(np.array([7, -1, -1], dtype=np.int64), "shape")
    r = helper.make_node("Reshape", ["x", "shape"], ["y"])
    return _model([r], inits=[shape]).SerializeToString()  # type: ignore[no-any-return]


def truncated_protobuf() -> bytes:
    return constant_dims_disagree()[:37]


def random_bytes() -> bytes:
    return bytes(np.random.default_rng(0).bytes(4096))


def protobuf_varint_bomb() -> bytes:
    # field 7 (graph), length-delimited, claiming a 2^62-byte payload
    return b"\x3a" + b"\xff" * 8 + b"\x3f"


def deep_nesting() -> bytes:
    # Ifs nested 30 deep (protobuf itself refuses much deeper messages)
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g0", [], [out])
    cond = numpy_helper.from_array(np.array(True), "cond")
    leaf = g
    for i in range(30):
        node = helper.make_node("If", ["cond"], ["y"], then_branch=g, else_branch=leaf)
        g = helper.make_graph([node], f"g{i + 1}", [], [out], [cond])
    return _model(list(g.node), inits=[cond]).SerializeToString()  # type: ignore[no-any-return]


def empty_graph() -> bytes:
    return helper.make_model(helper.make_graph([], "empty", [], [])).SerializeToString()  # type: ignore[no-any-return]


CORPUS: dict[str, Callable[[], bytes]] = {
    f.__name__: f
    for f in (
        constant_dims_disagree,
        constant_raw_dims_disagree,
        huge_dims_initializer,
        huge_input_dims,
        huge_rank,
        negative_dims,
        node_bomb,
        subgraph_node_bomb,
        constant_of_shape_bomb,
        external_data,
        external_data_constant,
        reshape_to_garbage,
        truncated_protobuf,
        random_bytes,
        protobuf_varint_bomb,
        deep_nesting,
        empty_graph,
    )
}
