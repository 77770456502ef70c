"""Import ONNX graphs (opsets 11 to 21) into the workload IR.

Weights need not be present: the graph is read with ``load_external_data=False`` and only
initializer shapes are used. Every shape a runtime would know is resolved before the walk,
with two maintained tools in turn (see ``docs/workload.md``):

1. ONNX shape inference with data propagation (``onnx.shape_inference``), which evaluates
   small shape subgraphs (Shape, Gather, Concat, Slice, arithmetic on shape vectors);
2. for what is still unknown, onnxruntime's symbolic shape inference
   (``onnxruntime.tools.symbolic_shape_infer``), which carries the values of shape tensors
   through Expand, Where, Range, ConstantOfShape, Reshape with computed targets and the
   rest of what the exporters emit.

Graph inputs are fixed first: ``batch`` sets every input's leading axis, ``dims`` binds
named symbolic dimensions. Large weights are handed to inference as typed inputs (their
values never matter to a shape), so a multi-gigabyte model is not copied.

An op that does arithmetic (see :data:`~codesign_playground.workload.ir.ARITHMETIC_KINDS`)
whose shapes are still unknown raises :class:`~codesign_playground.errors.UnresolvedShapeError`
naming the node, the tensor and the dimension; with ``allow_unresolved=True`` it is listed
as an unresolved :class:`UnmodeledOp` and the network's totals say how much was left out.
Node types without a cost model become :class:`UnmodeledOp` entries.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codesign_playground.errors import (
    InputError,
    ModelFormatError,
    ModelNotFoundError,
    UnresolvedShapeError,
    UnsupportedError,
)
from codesign_playground.workload import ops
from codesign_playground.workload.ir import (
    ARITHMETIC_KINDS,
    Network,
    Op,
    OpKind,
    Precision,
    TensorSpec,
    UnmodeledOp,
    UnresolvedInfo,
)

__all__ = ["SUPPORTED_OPSETS", "load_onnx", "network_from_onnx"]

SUPPORTED_OPSETS = range(11, 22)

#: Initializers with more elements than this are passed to shape inference as typed graph
#: inputs: only their shapes matter, and copying a large model's weights would cost memory.
_INFERENCE_MAX_CONST_ELEMENTS = 4096

# onnx.TensorProto element types -> names (kept here so the table is readable)
_DTYPES = {
    1: "float32",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    9: "bool",
    10: "float16",
    11: "float64",
    12: "uint32",
    13: "uint64",
    16: "bfloat16",
}
_PRECISION_OF_DTYPE: Mapping[str, Precision] = {
    "float32": "fp32",
    "float64": "fp32",
    "float16": "fp16",
    "bfloat16": "bf16",
    "int8": "int8",
    "uint8": "int8",
}

_VIEW_OPS = frozenset(
    {
        "Reshape",
        "Flatten",
        "Squeeze",
        "Unsqueeze",
        "Identity",
        "Dropout",
    }
)
_META_OPS = frozenset(
    {
        "Shape",
        "Size",
        "ConstantOfShape",
        "Range",
        "NonZero",
        "EyeLike",
    }
)
_COPY_OPS = frozenset(
    {
        "Transpose",
        "Concat",
        "Slice",
        "Split",
        "Expand",
        "Tile",
        "Pad",
        "GatherElements",
        "GatherND",
        "ScatterND",
        "ScatterElements",
        "Resize",
        "Upsample",
        "DepthToSpace",
        "SpaceToDepth",
        "Cast",
        "CastLike",
        "Trilu",
        "CumSum",
        "TopK",
        "ArgMax",
        "ArgMin",
    }
)
_ACTIVATIONS = frozenset(
    {
        "Relu",
        "LeakyRelu",
        "PRelu",
        "Clip",
        "Sigmoid",
        "HardSigmoid",
        "HardSwish",
        "Tanh",
        "Elu",
        "Selu",
        "Celu",
        "Gelu",
        "Softplus",
        "Softsign",
        "Mish",
        "Swish",
        "Erf",
    }
)
_ELEMENTWISE = frozenset(
    {
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Pow",
        "Sqrt",
        "Reciprocal",
        "Neg",
        "Abs",
        "Exp",
        "Log",
        "Max",
        "Min",
        "Where",
        "Equal",
        "Less",
        "Greater",
        "LessOrEqual",
        "GreaterOrEqual",
        "Not",
        "And",
        "Or",
        "Mod",
        "Sin",
        "Cos",
        "Floor",
        "Ceil",
        "Round",
        "Sign",
        "Sum",
        "Mean",
        "IsNaN",
        "IsInf",
        "BitShift",
    }
)
_POOLS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"})
_NORMS = frozenset(
    {
        "BatchNormalization",
        "LayerNormalization",
        "InstanceNormalization",
        "GroupNormalization",
        "RMSNormalization",
        "LpNormalization",
    }
)
_REDUCES = frozenset(
    {
        "ReduceMean",
        "ReduceSum",
        "ReduceMax",
        "ReduceMin",
        "ReduceProd",
        "ReduceL1",
        "ReduceL2",
        "ReduceSumSquare",
        "ReduceLogSumExp",
    }
)


def load_onnx(path: str | Path) -> Any:
    """Read an ONNX file without external weights, with one-line errors for bad files."""
    import onnx

    p = Path(path)
    if not p.exists():
        raise ModelNotFoundError(f"model: file not found: {p}")
    if p.is_dir():
        raise ModelFormatError(f"model: {p} is a directory, not an ONNX file")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError, RuntimeWarning, ValueError, ...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFormatError(f"model: {p.name} is not a readable ONNX file ({reason})") from exc
    if not model.HasField("graph") or len(model.graph.node) == 0:
        raise ModelFormatError(f"model: {p.name} holds no ONNX graph (empty or not ONNX)")
    return model


def _attrs(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _opset(model: Any) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 0


@dataclass
class _Context:
    """Shapes and constants known while walking the graph."""

    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    initializers: dict[str, tuple[int, ...]] = field(default_factory=dict)
    consts: dict[str, list[int]] = field(default_factory=dict)
    partial: dict[str, tuple[int | str, ...]] = field(default_factory=dict)
    precision: Precision = "fp32"

    def tensor(self, name: str) -> TensorSpec:
        if name not in self.shapes:
            raise _ShapeUnknown(name)
        return TensorSpec(name, self.shapes[name], self.dtypes.get(name, "float32"))

    def is_const(self, name: str) -> bool:
        return name in self.initializers


class _ShapeUnknown(Exception):
    """A tensor's shape could not be inferred (the tensor's name is the argument)."""


def _dims_of(vi: Any) -> tuple[int | str, ...] | None:
    """A value's shape as inferred: ints where known, the symbolic name (or "?") where not;
    None when not even the rank is known."""
    t = vi.type
    if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return None
    out: list[int | str] = []
    for d in t.tensor_type.shape.dim:
        if d.HasField("dim_value") and d.dim_value >= 0:
            out.append(int(d.dim_value))
        else:
            out.append(d.dim_param or "?")
    return tuple(out)


def _concrete(shape: tuple[int | str, ...] | None) -> tuple[int, ...] | None:
    if shape is None or not all(isinstance(d, int) for d in shape):
        return None
    return tuple(int(d) for d in shape)


#: Input positions that hold learned parameters: (op type -> first parameter position).
_PARAM_POSITIONS: Mapping[str, int] = {
    "Conv": 1,
    "ConvTranspose": 1,
    "Gemm": 1,
    "MatMul": 1,
    "PRelu": 1,
    "BatchNormalization": 1,
    "LayerNormalization": 1,
    "GroupNormalization": 1,
    "InstanceNormalization": 1,
    "RMSNormalization": 1,
}
_BIAS_OPS = frozenset({"Add", "Mul", "Sub", "Div"})


def _parameter_inputs(model: Any) -> set[str]:
    """Graph inputs that are the model's parameters, not its data.

    ``torch.onnx.export(..., export_params=False)`` turns every parameter into a graph
    input. Such an input is recognised by how it is used: only (through ``Identity``
    aliases) as a weight operand (a matmul's right side, a convolution's kernel or bias,
    a normalization's scale or shift), as the table of a ``Gather``, or, when it is a
    vector, as the bias of an elementwise op. These are weights, and never take the batch.
    """
    graph = model.graph
    init_names = {i.name for i in graph.initializer}
    rank = {
        vi.name: len(vi.type.tensor_type.shape.dim)
        for vi in graph.input
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape")
    }
    consumers: dict[str, list[tuple[Any, int]]] = {}
    for node in graph.node:
        for idx, n in enumerate(node.input):
            if n:
                consumers.setdefault(n, []).append((node, idx))
    outputs = {vi.name for vi in graph.output}

    def as_weight(name: str, r: int, depth: int = 0) -> bool:
        uses = consumers.get(name, [])
        if not uses or name in outputs or depth > 8:
            return False
        for node, idx in uses:
            if node.domain not in ("", "ai.onnx"):
                return False
            if node.op_type == "Identity":
                if not as_weight(node.output[0], r, depth + 1):
                    return False
            elif node.op_type == "Gather":
                if idx != 0:
                    return False
            elif node.op_type in _PARAM_POSITIONS:
                if idx < _PARAM_POSITIONS[node.op_type]:
                    return False
            elif node.op_type in _BIAS_OPS:
                if r != 1:
                    return False
            else:
                return False
        return True

    return {
        vi.name
        for vi in graph.input
        if vi.name not in init_names and vi.name in rank and as_weight(vi.name, rank[vi.name])
    }


def _set_input_dims(
    model: Any, batch: int | None, dims: Mapping[str, int], params: set[str] | None = None
) -> dict[str, int]:
    """Fix symbolic and batch dimensions of graph inputs in place before shape inference.

    The leading axis of every input is the batch: set to ``batch`` when given, and to 1 when
    it is symbolic and no size was given for its name. Any other symbolic axis needs a size
    in ``dims``; a name in ``dims`` that no input has is an error too (a typo would
    otherwise be silently ignored). Inputs in ``params`` (parameters) keep their shapes.
    Returns the inputs whose fixed leading axis was changed to ``batch``, with the size the
    graph was exported at.
    """
    changed: dict[str, int] = {}
    init_names = {i.name for i in model.graph.initializer} | (params or set())
    seen: set[str] = set()
    for vi in model.graph.input:
        if vi.name in init_names or not vi.type.HasField("tensor_type"):
            continue
        if not vi.type.tensor_type.HasField("shape"):
            raise InputError(f"model: input {vi.name!r} has no declared shape; re-export it")
        shape = vi.type.tensor_type.shape
        for i, d in enumerate(shape.dim):
            symbolic = not d.HasField("dim_value") or d.dim_value < 0
            if d.HasField("dim_param"):
                seen.add(d.dim_param)
            if symbolic and d.dim_param in dims:
                d.dim_value = int(dims[d.dim_param])
            elif i == 0 and symbolic:
                d.dim_value = int(batch or 1)  # a symbolic leading axis is the batch
            elif i == 0 and batch is not None and batch != d.dim_value:
                changed[vi.name] = int(d.dim_value)
                d.dim_value = int(batch)
            elif symbolic:
                name = d.dim_param or f"axis {i}"
                raise InputError(
                    f"dims: input {vi.name!r} has symbolic dimension {name!r}; "
                    f"give its size (e.g. dims={{{name!r}: 1}} or --dim {name}=1)"
                )
    unknown = sorted(set(dims) - seen)
    if unknown:
        known = ", ".join(sorted(seen)) or "none"
        raise InputError(
            f"dims: no graph input has a dimension named {unknown[0]!r} "
            f"(symbolic dimensions: {known})"
        )
    return changed


def _inference_model(model: Any) -> Any:
    """A copy of ``model`` for shape inference: large weights become typed graph inputs."""
    import onnx

    graph = model.graph
    input_names = {vi.name for vi in graph.input}
    small: list[Any] = []
    typed: list[Any] = []
    for init in graph.initializer:
        external = init.data_location == onnx.TensorProto.EXTERNAL
        if external or math.prod(init.dims) > _INFERENCE_MAX_CONST_ELEMENTS:
            if init.name not in input_names:
                typed.append(
                    onnx.helper.make_tensor_value_info(init.name, init.data_type, list(init.dims))
                )
        else:
            small.append(init)
    g = onnx.helper.make_graph(
        list(graph.node),
        graph.name or "graph",
        [*graph.input, *typed],
        list(graph.output),
        small,
        value_info=list(graph.value_info),
    )
    out = onnx.helper.make_model(
        g,
        opset_imports=list(model.opset_import),
        functions=list(model.functions),
    )
    out.ir_version = model.ir_version
    return out


def _collect_shapes(
    model: Any,
    shapes: dict[str, tuple[int | str, ...] | None],
    dtypes: dict[str, int],
) -> None:
    """Merge the value infos of an inferred model into ``shapes``, preferring known dims."""
    g = model.graph
    for vi in (*g.input, *g.value_info, *g.output):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
            dtypes.setdefault(vi.name, int(vi.type.tensor_type.elem_type))
        new = _dims_of(vi)
        if new is None:
            shapes.setdefault(vi.name, None)
            continue
        old = shapes.get(vi.name)
        if old is None or sum(isinstance(d, int) for d in new) > sum(
            isinstance(d, int) for d in old
        ):
            shapes[vi.name] = new


def _all_resolved(model: Any, shapes: Mapping[str, tuple[int | str, ...] | None]) -> bool:
    init_names = {i.name for i in model.graph.initializer}
    for node in model.graph.node:
        for n in node.output:
            if n and n not in init_names and _concrete(shapes.get(n)) is None:
                return False
    return True


def _symbolic_shape_inference(model: Any) -> Any | None:
    """onnxruntime's symbolic shape inference, or None where it is not installed or fails.

    The stepwise API is used rather than ``SymbolicShapeInference.infer_shapes``, which on
    an incomplete result writes ``sym_shape_infer_temp.onnx`` into the working directory
    and raises: here a partial result is still useful, and no file is written.
    """
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
    except ImportError:
        return None
    logger = logging.getLogger("onnxruntime.tools.symbolic_shape_infer")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        ssi = SymbolicShapeInference(2**31 - 1, False, False, 0)
        ssi._preprocess(model)
        while ssi.run_:
            ssi._infer_impl()
        ssi._update_output_from_vi()
        return ssi.out_mp_
    except Exception:  # an op it has no rule for, or a graph it cannot evaluate
        return None
    finally:
        logger.setLevel(level)


def _infer_shapes(model: Any) -> tuple[dict[str, tuple[int | str, ...] | None], dict[str, int]]:
    """Every tensor's shape (and element type) as far as the inference tools resolve it."""
    import onnx

    work = _inference_model(model)
    shapes: dict[str, tuple[int | str, ...] | None] = {}
    dtypes: dict[str, int] = {}
    try:
        inferred = onnx.shape_inference.infer_shapes(work, strict_mode=False, data_prop=True)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFormatError(f"model: ONNX shape inference failed ({reason})") from exc
    _collect_shapes(inferred, shapes, dtypes)
    if not _all_resolved(model, shapes):
        symbolic = _symbolic_shape_inference(inferred)
        if symbolic is None:
            symbolic = _symbolic_shape_inference(work)
        if symbolic is not None:
            _collect_shapes(symbolic, shapes, dtypes)
    return shapes, dtypes


def network_from_onnx(
    path: str | Path,
    *,
    batch: int | None = None,
    dims: Mapping[str, int] | None = None,
    precision: Precision | None = None,
    name: str | None = None,
    allow_unresolved: bool = False,
) -> Network:
    """Build a :class:`Network` from an ONNX file.

    ``batch`` overrides the first dimension of every graph input; ``dims`` gives sizes of
    named symbolic dimensions; ``precision`` overrides the precision read from the inputs.
    An arithmetic op whose shape stays unknown is an :class:`UnresolvedShapeError`, unless
    ``allow_unresolved``: then it is listed as unresolved and left out of the totals.
    """
    import onnx

    dims = dict(dims or {})
    for dim_name, size in dims.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InputError(f"dims: size of {dim_name!r} must be an integer >= 1 (got {size!r})")
    if batch is not None and batch < 1:
        raise InputError(f"batch: must be >= 1 (got {batch})")
    model = load_onnx(path)
    opset = _opset(model)
    params = _parameter_inputs(model)
    rebatched = _set_input_dims(model, batch, dims, params)
    inferred_shapes, inferred_dtypes = _infer_shapes(model)
    graph = model.graph
    ctx = _Context()
    for tensor_name, shape in inferred_shapes.items():
        known = _concrete(shape)
        if known is not None:
            ctx.shapes[tensor_name] = known
        elif shape is not None:
            ctx.partial[tensor_name] = shape
    for tensor_name, elem in inferred_dtypes.items():
        ctx.dtypes[tensor_name] = _DTYPES.get(elem, "float32")
    for init in graph.initializer:
        init_shape = tuple(int(d) for d in init.dims)
        ctx.initializers[init.name] = init_shape
        ctx.shapes[init.name] = init_shape
        ctx.dtypes[init.name] = _DTYPES.get(init.data_type, "float32")
        if init.data_type in (6, 7) and math.prod(init_shape) <= 64 and not init.external_data:
            ctx.consts[init.name] = [int(v) for v in onnx.numpy_helper.to_array(init).ravel()]
    for vi in graph.input:
        if vi.name in params:  # a parameter passed as an input: a weight all the same
            param_shape = _concrete(_dims_of(vi))
            if param_shape is not None:
                ctx.initializers[vi.name] = param_shape
                ctx.shapes[vi.name] = param_shape
    inputs = []
    for vi in graph.input:
        if vi.name in ctx.initializers:
            continue
        in_shape = _concrete(_dims_of(vi))
        if in_shape is not None:
            ctx.shapes[vi.name] = in_shape
        ctx.dtypes[vi.name] = _DTYPES.get(vi.type.tensor_type.elem_type, "float32")
        inputs.append(TensorSpec(vi.name, in_shape or (), ctx.dtypes[vi.name]))
    if precision is None:
        first = inputs[0].dtype if inputs else "float32"
        precision = _PRECISION_OF_DTYPE.get(first, "fp32")
    ctx.precision = precision

    built: list[Op] = []
    unmodeled: list[UnmodeledOp] = []
    for i, node in enumerate(graph.node):
        node_name = node.name or f"{node.op_type}_{i}"
        if node.op_type == "Constant":
            _record_constant(node, ctx)
            continue
        if node.op_type == "Identity" and node.input[0] in ctx.initializers:
            # the TorchScript exporter shares equal parameters through Identity nodes:
            # the alias is the parameter the module had, a weight of its own (the node
            # itself stays, a free view)
            alias = node.output[0]
            ctx.initializers[alias] = ctx.initializers[node.input[0]]
            ctx.shapes[alias] = ctx.initializers[alias]
            ctx.dtypes[alias] = ctx.dtypes.get(node.input[0], "float32")
            if node.input[0] in ctx.consts:
                ctx.consts[alias] = ctx.consts[node.input[0]]
        if node.domain not in ("", "ai.onnx"):
            unmodeled.append(_unmodeled(node, node_name, ctx))
            continue
        builder = _BUILDERS.get(node.op_type) or _builder_for_family(node.op_type)
        if builder is None:
            inner = _subgraph_arithmetic(node)
            if inner:
                # control flow: how often a branch or loop body runs is only known at run
                # time, so the work inside cannot be counted
                info = UnresolvedInfo(
                    tensor=node.output[0] if node.output else node_name,
                    role="output",
                    axis=None,
                    dim="?",
                    reason=f"its subgraphs compute ({', '.join(inner)}) a number of times "
                    "known only at run time",
                )
                if not allow_unresolved:
                    raise UnresolvedShapeError(
                        f"model: node {node_name!r} ({node.op_type}): {info.describe()}; "
                        "pass --allow-unresolved (allow_unresolved=True) to count the rest"
                    )
                unmodeled.append(_unmodeled(node, node_name, ctx, kind="matmul", unresolved=info))
                continue
            unmodeled.append(_unmodeled(node, node_name, ctx))
            continue
        try:
            op = builder(node, node_name, _attrs(node), ctx)
        except _ShapeUnknown as exc:
            kind = _family_kind(node.op_type)
            if kind not in ARITHMETIC_KINDS or _on_indices(node, ctx):
                unmodeled.append(_unmodeled(node, node_name, ctx))
                continue
            info = _unresolved_info(node, str(exc.args[0]) if exc.args else "", ctx)
            if not allow_unresolved:
                if rebatched:  # the likely cause: a batch baked into the exported graph
                    first, size = next(iter(rebatched.items()))
                    hint = (
                        f"input {first!r} was exported with a fixed batch of {size} and "
                        f"--batch {batch} conflicts with shapes the graph computes from it; "
                        "profile at that batch or re-export with a dynamic batch axis"
                    )
                else:
                    hint = (
                        "bind symbolic inputs with --dim NAME=SIZE, or pass "
                        "--allow-unresolved (allow_unresolved=True) to count the rest"
                    )
                raise UnresolvedShapeError(
                    f"model: node {node_name!r} ({node.op_type}): {info.describe()} after "
                    f"shape inference; {hint}"
                ) from None
            unmodeled.append(_unmodeled(node, node_name, ctx, kind=kind, unresolved=info))
            continue
        except ModelFormatError as exc:
            raise ModelFormatError(f"model: node {node_name!r} ({node.op_type}): {exc}") from exc
        for out in op.outputs:
            ctx.shapes.setdefault(out.name, out.shape)
        built.append(op)
    outputs = tuple(
        TensorSpec(vi.name, ctx.shapes.get(vi.name, ()), ctx.dtypes.get(vi.name, "float32"))
        for vi in graph.output
    )
    net = Network(
        name=name or Path(path).stem,
        ops=tuple(built),
        inputs=tuple(inputs),
        outputs=outputs,
        unmodeled=tuple(unmodeled),
        source=f"onnx:{Path(path).name} (opset {opset})",
    )
    check_computes(net, allow_unresolved=allow_unresolved)
    return net


def check_computes(net: Network, *, allow_unresolved: bool) -> None:
    """Refuse a network whose totals would be zero although nodes of it compute.

    A graph whose only arithmetic is in nodes without a cost model would profile as zero
    work; that is an error unless the caller allowed an incomplete count.
    """
    if allow_unresolved or net.flops > 0:
        return
    computing = [u for u in net.unmodeled if u.op_type not in _SHAPE_FAMILY]
    if computing:
        names = ", ".join(f"{u.name} ({u.op_type})" for u in computing[:3])
        raise UnsupportedError(
            f"model: {net.name} computes only in nodes without a cost model ({names}"
            f"{', ...' if len(computing) > 3 else ''}); its totals would be zero. "
            "Pass --allow-unresolved (allow_unresolved=True) to list them anyway"
        )


#: Kinds whose work is the bulk of a model's (index and shape arithmetic in control flow
#: is common and cheap; these are not).
_CORE_KINDS = frozenset({"conv", "gemm", "matmul", "attention", "norm", "softmax"})


def _subgraph_arithmetic(node: Any) -> list[str]:
    """Op types of the core kinds inside a control-flow node's subgraphs (If, Loop, Scan)."""
    import onnx

    found: dict[str, None] = {}
    stack = [
        onnx.helper.get_attribute_value(attr)
        for attr in node.attribute
        if attr.type == onnx.AttributeProto.GRAPH
    ]
    while stack:
        graph = stack.pop()
        for inner in graph.node:
            if _family_kind(inner.op_type) in _CORE_KINDS:
                found[inner.op_type] = None
            stack.extend(
                onnx.helper.get_attribute_value(attr)
                for attr in inner.attribute
                if attr.type == onnx.AttributeProto.GRAPH
            )
    return list(found)[:4]


_SHAPE_FAMILY = _VIEW_OPS | _META_OPS | _COPY_OPS | {"Constant", "Gather"}


def _family_kind(op_type: str) -> str:
    """The IR kind an ONNX op type becomes (its family), for the unresolved rule."""
    fixed = {
        "Conv": "conv",
        "ConvTranspose": "conv",
        "Gemm": "gemm",
        "MatMul": "matmul",
        "Einsum": "matmul",
        "Softmax": "softmax",
        "LogSoftmax": "softmax",
        "Gather": "embedding",
    }
    if op_type in fixed:
        return fixed[op_type]
    if op_type in _NORMS:
        return "norm"
    if op_type in _POOLS:
        return "pool"
    if op_type in _REDUCES:
        return "reduce"
    if op_type in _ACTIVATIONS:
        return "activation"
    if op_type in _ELEMENTWISE:
        return "elementwise"
    return "shape"


_INDEX_DTYPES = frozenset({"int64", "int32", "int16", "uint64", "uint32", "uint16", "bool"})


def _on_indices(node: Any, ctx: _Context) -> bool:
    """Elementwise or reduce work on integer/boolean tensors only: shape and mask
    bookkeeping, not the model's arithmetic."""
    if _family_kind(node.op_type) not in ("elementwise", "reduce"):
        return False
    types = [ctx.dtypes.get(n) for n in node.input if n]
    return bool(types) and all(t in _INDEX_DTYPES for t in types)


def _unresolved_info(node: Any, hint: str, ctx: _Context) -> UnresolvedInfo:
    """The first of a node's inputs (then outputs) whose shape is not fully known."""
    candidates = [("input", n) for n in node.input if n] + [("output", n) for n in node.output if n]
    candidates.sort(key=lambda c: c[1] != hint)  # the tensor the builder named first
    for role, n in candidates:
        if n in ctx.shapes:
            continue
        partial = ctx.partial.get(n)
        if partial is None:
            return UnresolvedInfo(tensor=n, role=role, axis=None, dim="?")
        for axis, d in enumerate(partial):
            if not isinstance(d, int):
                return UnresolvedInfo(tensor=n, role=role, axis=axis, dim=str(d))
    return UnresolvedInfo(tensor=hint or node.output[0], role="output", axis=None, dim="?")


def _record_constant(node: Any, ctx: _Context) -> None:
    import onnx

    for a in node.attribute:
        if a.name == "value":
            arr = onnx.numpy_helper.to_array(a.t)
            ctx.shapes[node.output[0]] = tuple(int(d) for d in arr.shape)
            if arr.dtype.kind in "iu" and arr.size <= 64:
                ctx.consts[node.output[0]] = [int(v) for v in arr.ravel()]


def _unmodeled(
    node: Any,
    name: str,
    ctx: _Context,
    *,
    kind: str = "",
    unresolved: UnresolvedInfo | None = None,
) -> UnmodeledOp:
    def spec(n: str) -> TensorSpec:
        return TensorSpec(n, ctx.shapes.get(n, ()), ctx.dtypes.get(n, "float32"))

    op_type = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
    return UnmodeledOp(
        name=name,
        op_type=op_type,
        inputs=tuple(spec(n) for n in node.input if n),
        outputs=tuple(spec(n) for n in node.output if n),
        kind=kind,
        unresolved=unresolved,
    )


def _out(node: Any, ctx: _Context, default: Sequence[int] | None = None) -> TensorSpec:
    name = node.output[0]
    if name in ctx.shapes:
        return TensorSpec(name, ctx.shapes[name], ctx.dtypes.get(name, "float32"))
    if default is None:
        raise _ShapeUnknown(name)
    return TensorSpec(name, tuple(default), ctx.dtypes.get(name, "float32"))


def _pads(
    attrs: Mapping[str, Any],
    in_spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> list[int]:
    rank = len(in_spatial)
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for i in range(rank):
            out = -(-in_spatial[i] // strides[i])
            total = max(
                0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - in_spatial[i]
            )
            small, big = total // 2, total - total // 2
            begins.append(small if auto == "SAME_UPPER" else big)
            ends.append(big if auto == "SAME_UPPER" else small)
        return begins + ends
    if auto == "VALID":
        return [0] * (2 * rank)
    return list(attrs.get("pads", [0] * (2 * rank)))


def _conv(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    x = ctx.tensor(node.input[0])
    w = ctx.shapes.get(node.input[1])
    if w is None:
        raise _ShapeUnknown(node.input[1])
    rank = len(w) - 2
    strides = list(a.get("strides", [1] * rank))
    dil = list(a.get("dilations", [1] * rank))
    kernel = list(a.get("kernel_shape", w[2:]))
    pads = _pads(a, x.shape[2:], kernel, strides, dil)
    has_bias = len(node.input) > 2 and bool(node.input[2])
    if node.op_type == "ConvTranspose":
        return ops.conv_transpose(
            name,
            x,
            w,
            _out(node, ctx).shape,
            groups=int(a.get("group", 1)),
            bias=has_bias,
            out_name=node.output[0],
            precision=ctx.precision,
        )
    return ops.conv(
        name,
        x,
        w,
        strides=strides,
        pads=pads,
        dilations=dil,
        groups=int(a.get("group", 1)),
        bias=has_bias,
        out_name=node.output[0],
        op_type=node.op_type,
        precision=ctx.precision,
    )


def _gemm(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    x = ctx.tensor(node.input[0])
    b = ctx.tensor(node.input[1])
    if a.get("transA", 0):
        x = TensorSpec(x.name, tuple(reversed(x.shape)), x.dtype)
    b_shape = b.shape if not a.get("transB", 0) else tuple(reversed(b.shape))
    has_c = len(node.input) > 2 and bool(node.input[2])
    if ctx.is_const(node.input[1]):
        op = ops.gemm(
            name,
            x,
            b_shape[1],
            bias=has_c,
            out_name=node.output[0],
            op_type="Gemm",
            precision=ctx.precision,
        )
        return _with_weights(op, [b] + ([ctx.tensor(node.input[2])] if has_c else []))
    mm = ops.matmul(
        name,
        x,
        TensorSpec(b.name, b_shape, b.dtype),
        out_name=node.output[0],
        op_type="Gemm",
        precision=ctx.precision,
    )
    return mm


def _with_weights(op: Op, weights: Sequence[TensorSpec]) -> Op:
    """Keep the graph's own initializer names and shapes for the op's weights."""
    from dataclasses import replace

    return replace(op, weights=tuple(weights))


def _matmul(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    x = ctx.tensor(node.input[0])
    b = ctx.tensor(node.input[1])
    if ctx.is_const(node.input[0]) and not ctx.is_const(node.input[1]):
        # constant on the left: still a weight, the product is computed the same way
        op = ops.matmul(name, x, b, out_name=node.output[0], precision=ctx.precision)
        from dataclasses import replace

        return replace(op, kind="gemm", inputs=(b,), weights=(x,))
    return ops.matmul(
        name,
        x,
        b,
        b_is_weight=ctx.is_const(node.input[1]),
        out_name=node.output[0],
        precision=ctx.precision,
    )


def _einsum(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    eq = a["equation"]
    equation = eq.decode() if isinstance(eq, bytes) else str(eq)
    specs = [ctx.tensor(n) for n in node.input]
    consts = [ctx.is_const(n) for n in node.input]
    if any(consts) and not all(consts) and consts[-1] and not any(consts[:-1]):
        op = ops.einsum(
            name,
            equation,
            specs[:-1],
            weights=specs[-1:],
            out_name=node.output[0],
            precision=ctx.precision,
        )
    else:
        op = ops.einsum(name, equation, specs, out_name=node.output[0], precision=ctx.precision)
    out = ctx.shapes.get(node.output[0])
    if out is not None and out != op.outputs[0].shape:
        raise ModelFormatError(f"output shape {list(out)} differs from {op.outputs[0].shape}")
    return op


def _split_consts(
    node: Any, ctx: _Context, skip: Sequence[int] = ()
) -> tuple[list[TensorSpec], list[TensorSpec], list[TensorSpec]]:
    """Split a node's inputs into activations, learned weights and constant buffers.

    A constant operand with more than one element is a learned parameter (a scale, a shift,
    a PReLU slope); scalars and small integer constants are buffers (an epsilon, a clip bound).
    """
    acts, weights, buffers = [], [], []
    for idx, n in enumerate(node.input):
        if not n or idx in skip:
            continue
        t = ctx.tensor(n)
        if ctx.is_const(n):
            if t.elements > 1 and t.dtype not in ("int64", "int32", "bool"):
                weights.append(t)
            else:
                buffers.append(t)
        elif n in ctx.consts:
            continue  # a Constant node's small value: folded into the op
        else:
            acts.append(t)
    return acts, weights, buffers


def _elementwise(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    acts, weights, buffers = _split_consts(node, ctx)
    kind: OpKind = "activation" if node.op_type in _ACTIVATIONS else "elementwise"
    if node.op_type == "Clip":
        acts = acts[:1]
        weights, buffers = [], []
    if not acts:
        acts = [ctx.tensor(node.input[0])]
    op = ops.elementwise(
        name,
        node.op_type,
        acts,
        weights=weights,
        buffers=buffers,
        out_name=node.output[0],
        kind=kind,
        precision=ctx.precision,
    )
    out = ctx.shapes.get(node.output[0])
    if out is not None and out != op.outputs[0].shape:
        # a small Constant operand folded into the op can still broadcast the result
        # (x <= grid): the inferred output shape is the work done
        counted = math.prod(op.outputs[0].shape)
        if counted == 0 or math.prod(out) % counted:
            raise ModelFormatError(f"output shape {list(out)} differs from {op.outputs[0].shape}")
        spec = TensorSpec(op.outputs[0].name, out, op.outputs[0].dtype)
        return replace(op, outputs=(spec,), flops=op.flops // counted * math.prod(out))
    return op


def _pool(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    x = ctx.tensor(node.input[0])
    if node.op_type.startswith("Global"):
        return ops.pool(name, node.op_type, x, out_name=node.output[0], precision=ctx.precision)
    kernel = list(a["kernel_shape"])
    rank = len(kernel)
    strides = list(a.get("strides", [1] * rank))
    dil = list(a.get("dilations", [1] * rank))
    pads = _pads(a, x.shape[2:], kernel, strides, dil)
    return ops.pool(
        name,
        node.op_type,
        x,
        kernel=kernel,
        strides=strides,
        pads=pads,
        dilations=dil,
        ceil_mode=bool(a.get("ceil_mode", 0)),
        out_name=node.output[0],
        precision=ctx.precision,
    )


def _norm(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    x = ctx.tensor(node.input[0])
    params = [ctx.shapes[n] for n in node.input[1:3] if n and n in ctx.shapes]
    stats = [ctx.shapes[n] for n in node.input[3:5] if n and n in ctx.shapes]
    if node.op_type != "BatchNormalization":
        params, stats = params + stats, []
    return ops.norm(
        name,
        node.op_type,
        x,
        weight_shapes=params,
        buffer_shapes=stats,
        out_name=node.output[0],
        precision=ctx.precision,
    )


def _softmax(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    return ops.softmax(
        name,
        ctx.tensor(node.input[0]),
        out_name=node.output[0],
        op_type=node.op_type,
        precision=ctx.precision,
    )


def _reduce(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    x = ctx.tensor(node.input[0])
    return ops.reduce(
        name,
        node.op_type,
        x,
        _out(node, ctx).shape,
        out_name=node.output[0],
        precision=ctx.precision,
    )


def _gather(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    data, idx = node.input[0], node.input[1]
    table = ctx.is_const(data) and ctx.dtypes.get(data, "float32") not in _INDEX_DTYPES
    if table and int(a.get("axis", 0)) == 0:
        # a lookup in a learned table, even at constant rows (position embeddings)
        return ops.embedding(
            name,
            ctx.tensor(idx),
            ctx.shapes[data],
            out_name=node.output[0],
            precision=ctx.precision,
        )
    return _shape(node, name, a, ctx)


def _shape(node: Any, name: str, a: dict[str, Any], ctx: _Context) -> Op:
    copies = node.op_type in _COPY_OPS or node.op_type == "Gather"
    ins = [
        ctx.tensor(n)
        for n in node.input
        if n and n in ctx.shapes and not ctx.is_const(n) and n not in ctx.consts
    ]
    if node.op_type in _META_OPS:
        copies = False
    default = ins[0].shape if ins and node.op_type in _VIEW_OPS else None
    outs = []
    for n in node.output:
        if not n:
            continue
        if n in ctx.shapes:
            outs.append(TensorSpec(n, ctx.shapes[n], ctx.dtypes.get(n, "float32")))
        elif default is not None:
            outs.append(TensorSpec(n, default, ctx.dtypes.get(n, "float32")))
        else:
            raise _ShapeUnknown(n)
    if node.op_type in ("Shape", "Size"):
        ins = []
    return ops.shape_op(name, node.op_type, ins, outs, copies=copies, precision=ctx.precision)


_Builder = Callable[[Any, str, dict[str, Any], _Context], Op]

_BUILDERS: dict[str, _Builder] = {
    "Conv": _conv,
    "ConvTranspose": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Einsum": _einsum,
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
    "Gather": _gather,
}


def _builder_for_family(op_type: str) -> _Builder | None:
    if op_type in _ELEMENTWISE or op_type in _ACTIVATIONS:
        return _elementwise
    if op_type in _POOLS:
        return _pool
    if op_type in _NORMS:
        return _norm
    if op_type in _REDUCES:
        return _reduce
    if op_type in _VIEW_OPS or op_type in _COPY_OPS or op_type in _META_OPS:
        return _shape
    return None
