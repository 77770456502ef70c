"""Import PyTorch modules (through ``torch.export``) into the workload IR.

The module is exported with ``torch.export.export(module.eval(), example_inputs,
strict=False)`` and the ExportedProgram's graph is walked as exported: the ATen ops keep
convolutions, linear layers and scaled-dot-product attention as single nodes, so no
decomposition is run. Shapes and dtypes come from each node's ``meta["val"]`` (a
FakeTensor); with ``dynamic_shapes`` the sizes are those of the example inputs.

The graph signature says which placeholders are parameters (an op's ``weights``), buffers
or lifted constants (an op's ``buffers``) and which are activations. Views and copies of
parameters or constants (``w.t()``, ``w.view(...)``) and arithmetic on constants alone are
folded into the constant they produce, so a ``x @ self.w.t()`` still reads ``w`` as a
weight. A parameter used by several ops is counted as a weight by the first and listed as a
buffer (read, not counted again) by the others, so the network's ``params`` equals
``sum(p.numel() for p in module.parameters())`` for the parameters the graph uses.

Op names follow the module path from ``meta["nn_module_stack"]``: an op that is the only
node of its module call is named after the module (``layer1.0.conv1``, a second call of
the same module ``layer1.0.relu@1``); ops of a module with several nodes are named
``<module path>.<aten op>`` (``layer1.0.add``), at the top level just ``<aten op>``.
``op_type`` is the ATen op (``aten.conv2d``); costs follow the same conventions as the
ONNX importer (each builder asks :mod:`~codesign_playground.workload.ops` with the
equivalent ONNX operator). Nodes without a mapping become :class:`UnmodeledOp` entries.

An op that does arithmetic but cannot be sized (a data-dependent dimension without a hint,
such as the length of ``nonzero``'s output) raises
:class:`~codesign_playground.errors.UnresolvedShapeError` naming the node, the tensor and
the symbol, unless ``allow_unresolved=True``: then it is listed as unresolved and the
network's totals say how much was left out.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codesign_playground.errors import (
    ModelFormatError,
    ModelNotFoundError,
    UnresolvedShapeError,
    UnsupportedError,
)
from codesign_playground.workload import ops
from codesign_playground.workload.ir import (
    Network,
    Op,
    OpKind,
    Precision,
    TensorSpec,
    UnmodeledOp,
    UnresolvedInfo,
)

__all__ = [
    "ATEN_KINDS",
    "network_from_exported_program",
    "network_from_pt2",
    "network_from_torch",
]

_NEEDS_EXTRA = "PyTorch import needs the [torch] extra: pip install 'codesign-playground[torch]'"

# fmt: off
_PRECISION_OF_DTYPE: Mapping[str, Precision] = {
    "float32": "fp32", "float64": "fp32", "float16": "fp16", "bfloat16": "bf16",
    "int8": "int8", "uint8": "int8", "qint8": "int8", "quint8": "int8",
}

# ---------------------------------------------------------------------------------------
# op tables: ATen op (overload packet, in-place "_" stripped) -> ONNX-equivalent operator
# whose cost convention applies
# ---------------------------------------------------------------------------------------

#: No data moves: the output is a view of the input.
_VIEW_OPS = frozenset({
    "_reshape_alias", "_unsafe_view", "alias", "alpha_dropout", "detach", "dropout", "expand",
    "expand_as", "feature_dropout", "flatten", "identity", "lift", "lift_fresh",
    "lift_fresh_copy", "reshape", "reshape_as", "squeeze", "unflatten", "unsqueeze", "view",
    "view_as",
})

#: Data moves (a transpose, a gather, a concatenation, a cast, ...).
_COPY_OPS = frozenset({
    "_to_copy", "argmax", "argmin", "cat", "channel_shuffle", "chunk", "clone", "col2im",
    "concat", "concatenate", "constant_pad_nd", "contiguous", "copy", "cumsum", "diagonal",
    "flip", "gather", "hstack", "im2col", "index", "index_put", "index_select",
    "masked_select", "movedim", "narrow", "native_channel_shuffle", "pad", "permute",
    "pixel_shuffle", "pixel_unshuffle", "reflection_pad1d", "reflection_pad2d",
    "reflection_pad3d", "repeat", "replication_pad1d", "replication_pad2d",
    "replication_pad3d", "roll", "scatter", "scatter_add", "select", "select_scatter", "slice",
    "slice_scatter", "sort", "split", "split_with_sizes", "stack", "swapaxes", "swapdims", "t",
    "take", "tensor_split", "tile", "to", "topk", "transpose", "tril", "triu", "type_as",
    "unbind", "unfold", "upsample_bicubic2d", "upsample_bilinear2d", "upsample_linear1d",
    "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "upsample_trilinear3d",
    "vstack",
})

#: Tensors made from nothing (or only from a shape): constants, never activations.
_CREATION_OPS = frozenset({
    "_local_scalar_dense", "arange", "empty", "empty_like", "empty_strided", "eye", "full",
    "full_like", "linspace", "new_empty", "new_full", "new_ones", "new_zeros", "ones",
    "ones_like", "rand", "rand_like", "randint", "randn", "randn_like", "scalar_tensor",
    "tensor", "zeros", "zeros_like",
})

_ACTIVATIONS: Mapping[str, str] = {
    "relu": "Relu", "threshold": "Relu", "relu6": "Relu6", "leaky_relu": "LeakyRelu",
    "rrelu": "LeakyRelu", "prelu": "PRelu", "_prelu_kernel": "PRelu", "gelu": "Gelu",
    "silu": "SiLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "hardswish": "HardSwish",
    "hardsigmoid": "HardSigmoid", "hardtanh": "Clip", "clamp": "Clip", "clip": "Clip",
    "clamp_min": "Clip", "clamp_max": "Clip", "elu": "Elu", "selu": "Selu", "celu": "Celu",
    "mish": "Mish", "softplus": "Softplus", "log_sigmoid": "LogSigmoid",
}

_ELEMENTWISE: Mapping[str, str] = {
    "add": "Add", "sub": "Sub", "rsub": "Sub", "mul": "Mul", "div": "Div",
    "true_divide": "Div", "floor_divide": "Div", "pow": "Pow", "sqrt": "Sqrt",
    "rsqrt": "Rsqrt", "reciprocal": "Reciprocal", "exp": "Exp", "exp2": "Exp", "expm1": "Exp",
    "log": "Log", "log2": "Log", "log10": "Log", "log1p": "Log", "neg": "Neg", "abs": "Abs",
    "maximum": "Max", "minimum": "Min", "fmax": "Max", "fmin": "Min", "where": "Where",
    "masked_fill": "Where", "eq": "Equal", "ne": "Equal", "lt": "Less", "le": "Less",
    "gt": "Greater", "ge": "Greater", "logical_not": "Not", "bitwise_not": "Not",
    "logical_and": "And", "bitwise_and": "And", "logical_or": "Or", "bitwise_or": "Or",
    "logical_xor": "Or", "bitwise_xor": "Or", "remainder": "Mod", "fmod": "Mod", "sin": "Sin",
    "cos": "Cos", "tan": "Sin", "floor": "Floor", "ceil": "Ceil", "round": "Round",
    "trunc": "Floor", "sign": "Sign", "erf": "Erf", "square": "Mul", "addcmul": "Addcmul",
    "addcdiv": "Addcmul", "lerp": "Lerp", "isnan": "IsNaN", "isinf": "IsInf", "atan": "Sin",
    "asin": "Sin", "acos": "Sin", "sinh": "Sin", "cosh": "Cos", "atan2": "Sin",
    "erfinv": "Erf", "frac": "Floor", "max": "Max", "min": "Min", "__and__": "And",
    "__or__": "Or", "__xor__": "Or", "__invert__": "Not",
}

#: FLOPs per output element where the ONNX table has no single entry
#: (rsqrt = Sqrt + Reciprocal as an exported ONNX graph computes it, log_sigmoid = Sigmoid
#: + Log, addcmul/addcdiv = a multiply and an add, lerp = a + w * (b - a)).
_EXTRA_FLOPS: Mapping[str, int] = {
    "Rsqrt": 2, "LogSigmoid": 5, "Addcmul": 2, "Lerp": 3, "IsNaN": 1, "IsInf": 1,
}

#: Reductions (``max``/``min`` with a ``dim`` are reductions, with a tensor binary ops).
_REDUCES: Mapping[str, str] = {
    "mean": "ReduceMean", "sum": "ReduceSum", "amax": "ReduceMax", "amin": "ReduceMin",
    "max": "ReduceMax", "min": "ReduceMin", "prod": "ReduceProd", "var": "ReduceMean",
    "std": "ReduceMean", "var_mean": "ReduceMean", "std_mean": "ReduceMean",
    "logsumexp": "ReduceLogSumExp", "norm": "ReduceL2", "linalg_vector_norm": "ReduceL2",
    "nansum": "ReduceSum", "nanmean": "ReduceMean", "all": "ReduceMin", "any": "ReduceMax",
    "count_nonzero": "ReduceSum", "aminmax": "ReduceMax",
}

_CONVS = frozenset({
    "_convolution", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "convolution",
})

_GEMMS = frozenset({
    "addbmm", "addmm", "addmv", "baddbmm", "bmm", "dot", "linear", "matmul", "mm", "mv", "vdot",
})

_ATTENTION = frozenset({
    "_scaled_dot_product_cudnn_attention", "_scaled_dot_product_efficient_attention",
    "_scaled_dot_product_flash_attention", "_scaled_dot_product_flash_attention_for_cpu",
    "scaled_dot_product_attention",
})

_POOLS = frozenset({
    "_adaptive_avg_pool2d", "_adaptive_avg_pool3d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d",
    "max_pool1d_with_indices", "max_pool2d", "max_pool2d_with_indices", "max_pool3d",
    "max_pool3d_with_indices",
})

_NORMS: Mapping[str, str] = {
    "batch_norm": "BatchNormalization",
    "_native_batch_norm_legit_no_training": "BatchNormalization",
    "_native_batch_norm_legit": "BatchNormalization",
    "native_batch_norm": "BatchNormalization", "_batch_norm_with_update": "BatchNormalization",
    "_batch_norm_no_update": "BatchNormalization", "cudnn_batch_norm": "BatchNormalization",
    "layer_norm": "LayerNormalization", "native_layer_norm": "LayerNormalization",
    "group_norm": "GroupNormalization", "native_group_norm": "GroupNormalization",
    "instance_norm": "InstanceNormalization", "rms_norm": "RMSNormalization",
    "_fused_rms_norm": "RMSNormalization",
}

_SOFTMAX: Mapping[str, str] = {
    "softmax": "Softmax", "_softmax": "Softmax", "log_softmax": "LogSoftmax",
    "_log_softmax": "LogSoftmax", "_safe_softmax": "Softmax",
}
# fmt: on

_EMBEDDINGS = frozenset({"embedding"})


def _kind_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for names, kind in (
        (_CONVS, "conv"),
        (_GEMMS, "gemm|matmul"),
        (("einsum",), "gemm|matmul"),
        (_ATTENTION, "attention"),
        (_POOLS, "pool"),
        (_NORMS, "norm"),
        (_SOFTMAX, "softmax"),
        (_REDUCES, "reduce"),
        (_EMBEDDINGS, "embedding"),
        (_ACTIVATIONS, "activation"),
        (_ELEMENTWISE, "elementwise"),
        (_VIEW_OPS, "shape (view)"),
        (_COPY_OPS, "shape (copy)"),
    ):
        for n in names:
            table.setdefault(f"aten.{n}", kind)
    return dict(sorted(table.items()))


#: Every mapped ATen op and the IR kind it becomes (``gemm|matmul``: ``gemm`` when one
#: operand is a parameter or constant, ``matmul`` when both are activations).
ATEN_KINDS: Mapping[str, str] = _kind_table()


# ---------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise UnsupportedError(_NEEDS_EXTRA) from exc
    return torch


@contextlib.contextmanager
def _quiet_torch() -> Iterator[io.StringIO]:
    """Silence torch's loggers while exporting, and hold back what it prints to stderr
    (on failure torch prints the partial graph; the caller's one-line error replaces it)."""
    saved: dict[str, int] = {}
    for logger_name, logger in list(logging.root.manager.loggerDict.items()):
        if logger_name.startswith("torch") and isinstance(logger, logging.Logger):
            saved[logger_name] = logger.level
            logger.setLevel(logging.CRITICAL + 1)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        for logger_name, level in saved.items():
            logging.getLogger(logger_name).setLevel(level)


def _first_line(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return type(exc).__name__


def network_from_torch(
    module: Any,
    example_inputs: tuple[Any, ...],
    *,
    name: str | None = None,
    precision: Precision | None = None,
    dynamic_shapes: Any = None,
    allow_unresolved: bool = False,
) -> Network:
    """Build a :class:`Network` from a ``torch.nn.Module`` run on ``example_inputs``.

    The module is put in eval mode and exported with ``torch.export`` (non-strict).
    ``precision`` overrides the one read from the parameters' dtype. ``dynamic_shapes`` is
    passed to ``torch.export.export``; the network is counted at the example sizes.
    """
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise ModelFormatError(f"model: expected a torch.nn.Module, got {type(module).__name__}")
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    elif isinstance(example_inputs, list):
        example_inputs = tuple(example_inputs)
    if not isinstance(example_inputs, tuple):
        raise ModelFormatError(
            f"example_inputs: expected a tuple of inputs, got {type(example_inputs).__name__}"
        )
    label = type(module).__name__
    try:
        with _quiet_torch() as captured:
            ep = torch.export.export(
                module.eval(), example_inputs, dynamic_shapes=dynamic_shapes, strict=False
            )
    except Exception as exc:  # torch raises many kinds: UserError, RuntimeError, TypeError...
        raise ModelFormatError(
            f"model: torch.export of {label} failed ({_first_line(exc)})"
        ) from exc
    if captured.getvalue():
        sys.stderr.write(captured.getvalue())
    return network_from_exported_program(
        ep,
        name=name or label,
        precision=precision,
        source=f"torch.export:{label} (torch {torch.__version__})",
        allow_unresolved=allow_unresolved,
    )


def network_from_pt2(
    path: str | Path,
    *,
    precision: Precision | None = None,
    name: str | None = None,
    allow_unresolved: bool = False,
) -> Network:
    """Build a :class:`Network` from a ``torch.export.save`` archive (``.pt2``)."""
    torch = _import_torch()
    p = Path(path)
    if not p.exists():
        raise ModelNotFoundError(f"model: file not found: {p}")
    if p.is_dir():
        raise ModelFormatError(f"model: {p} is a directory, not a .pt2 archive")
    try:
        ep = torch.export.load(str(p))
    except Exception as exc:
        raise ModelFormatError(
            f"model: {p.name} is not a readable torch.export archive ({_first_line(exc)})"
        ) from exc
    return network_from_exported_program(
        ep,
        name=name or p.stem,
        precision=precision,
        source=f"torch.export:{p.name} (torch {torch.__version__})",
        allow_unresolved=allow_unresolved,
    )


def network_from_exported_program(
    ep: Any,
    *,
    name: str = "model",
    precision: Precision | None = None,
    source: str = "torch.export",
    allow_unresolved: bool = False,
) -> Network:
    """Build a :class:`Network` from a ``torch.export.ExportedProgram``."""
    try:
        walker = _Walker(ep, allow_unresolved=allow_unresolved)
        return walker.network(name=name, precision=precision, source=source)
    except (ModelFormatError, UnsupportedError):
        raise
    except Exception as exc:  # a graph this walker does not understand: still one line
        raise ModelFormatError(
            f"model: cannot read the exported graph ({_first_line(exc)})"
        ) from exc


# ---------------------------------------------------------------------------------------
# graph walk
# ---------------------------------------------------------------------------------------


class _ShapeUnknown(Exception):
    """A tensor's shape is not concrete (or not a tensor): the node becomes unmodeled."""


@dataclass(frozen=True)
class _Val:
    """What a graph value is: an activation, or a constant derived from stored tensors.

    ``sources`` are the parameters (``origin == "param"``) or buffers and constants a
    constant value was computed from, under their own names and shapes.
    """

    spec: TensorSpec
    origin: str  # "act" | "param" | "buffer" | "const"
    sources: tuple[TensorSpec, ...] = ()
    param_sources: tuple[TensorSpec, ...] = ()


_Entry = _Val | list[_Val | None] | None


def _dim(d: Any) -> int:
    if isinstance(d, int):
        return d
    node = getattr(d, "node", None)
    hint = getattr(node, "hint", None) if node is not None else None
    if hint is not None:
        return int(hint)
    try:
        return int(d)
    except Exception as exc:
        raise _ShapeUnknown(str(d)) from exc


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


def _is_tensor(v: Any) -> bool:
    return hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, type)


def _spec(name: str, val: Any) -> TensorSpec:
    return TensorSpec(name, tuple(_dim(d) for d in val.shape), _dtype_name(val.dtype))


def _base_name(target: Any) -> tuple[str, str]:
    """(namespace, op name with in-place ``_`` stripped) of a call_function target."""
    packet = getattr(target, "overloadpacket", None)
    if packet is not None:
        ns = str(getattr(target, "namespace", "aten"))
        raw = str(packet.__name__)
    else:
        ns = "python"
        raw = str(getattr(target, "__name__", None) or getattr(target, "name", str(target)))
        if callable(getattr(target, "name", None)):
            raw = str(target.name())
            ns = "higher_order"
    base = raw[:-1] if raw.endswith("_") and not raw.endswith("__") else raw
    return ns, base


def _bind(node: Any) -> dict[str, Any]:
    """A node's arguments by schema name, defaults filled in."""
    schema = getattr(node.target, "_schema", None)
    if schema is None:
        return {f"arg{i}": a for i, a in enumerate(node.args)} | dict(node.kwargs)
    out: dict[str, Any] = {}
    for i, arg in enumerate(schema.arguments):
        if i < len(node.args) and not arg.kwarg_only:
            out[arg.name] = node.args[i]
        elif arg.name in node.kwargs:
            out[arg.name] = node.kwargs[arg.name]
        elif arg.has_default_value():
            out[arg.name] = arg.default_value
        else:
            out[arg.name] = None
    return out


def _ints(v: Any, rank: int, default: int) -> list[int]:
    """An int-list argument expanded to ``rank`` values (a single value repeats)."""
    if v is None:
        return [default] * rank
    if isinstance(v, int):
        return [v] * rank
    vals = [_dim(x) for x in v]
    if not vals:
        return [default] * rank
    if len(vals) == 1 and rank > 1:
        return vals * rank
    return vals


def _iter_nodes(arg: Any) -> Iterator[Any]:
    if isinstance(arg, list | tuple):
        for a in arg:
            yield from _iter_nodes(a)
    elif hasattr(arg, "op") and hasattr(arg, "target") and hasattr(arg, "meta"):
        yield arg


def _module_key(node: Any) -> tuple[str, str]:
    """(call key, module path) of the innermost module a node ran in."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "", ""
    key, value = list(stack.items())[-1]
    path = value[0] if isinstance(value, tuple | list) and value else ""
    return str(key), str(path)


@dataclass
class _Plan:
    node: Any
    ns: str
    base: str
    builder: Callable[[Any, str, _Walker], Op] | None  # None: unmodeled


@dataclass
class _Walker:
    ep: Any
    env: dict[str, _Entry] = field(default_factory=dict)
    counted: set[str] = field(default_factory=set)
    precision: Precision = "fp32"
    inputs: list[TensorSpec] = field(default_factory=list)
    param_dtype: str | None = None
    allow_unresolved: bool = False

    def __post_init__(self) -> None:
        sig = self.ep.graph_signature
        params: Mapping[str, str] = dict(getattr(sig, "inputs_to_parameters", {}) or {})
        buffers: Mapping[str, str] = dict(getattr(sig, "inputs_to_buffers", {}) or {})
        consts: Mapping[str, str] = dict(
            getattr(sig, "inputs_to_lifted_tensor_constants", {}) or {}
        )
        user = set(getattr(sig, "user_inputs", ()) or ())
        for node in self.ep.graph.nodes:
            if node.op != "placeholder":
                continue
            val = node.meta.get("val")
            if not _is_tensor(val):
                continue
            if node.name in params:
                spec = _spec(params[node.name], val)
                self.env[node.name] = _Val(spec, "param", (), (spec,))
                if self.param_dtype is None and val.dtype.is_floating_point:
                    self.param_dtype = spec.dtype
            elif node.name in buffers:
                spec = _spec(buffers[node.name], val)
                self.env[node.name] = _Val(spec, "buffer", (spec,))
            elif node.name in consts:
                spec = _spec(consts[node.name], val)
                self.env[node.name] = _Val(spec, "const", (spec,))
            else:
                spec = _spec(node.name, val)
                self.env[node.name] = _Val(spec, "act")
                if not user or node.name in user:
                    self.inputs.append(spec)

    # -- values -------------------------------------------------------------------------

    def val(self, arg: Any) -> _Val | None:
        if arg is None or not hasattr(arg, "name"):
            return None
        entry = self.env.get(arg.name)
        return entry if isinstance(entry, _Val) else None

    def tensor(self, arg: Any) -> TensorSpec:
        v = self.val(arg)
        if v is None:
            raise _ShapeUnknown(str(arg))
        return v.spec

    def is_const(self, arg: Any) -> bool:
        v = self.val(arg)
        return v is not None and v.origin != "act"

    def consts(self, args: Sequence[Any]) -> tuple[list[TensorSpec], list[TensorSpec]]:
        """Weights (parameters first used here) and buffers read by an op from ``args``."""
        weights: list[TensorSpec] = []
        buffers: list[TensorSpec] = []
        for a in args:
            for n in _iter_nodes(a):
                v = self.val(n)
                if v is None or v.origin == "act":
                    continue
                for p in v.param_sources:
                    if p.name in self.counted:
                        if p not in buffers:
                            buffers.append(p)
                    else:
                        self.counted.add(p.name)
                        weights.append(p)
                for b in v.sources or (() if v.param_sources else (v.spec,)):
                    if b not in buffers:
                        buffers.append(b)
        return weights, buffers

    def acts(self, args: Sequence[Any]) -> list[TensorSpec]:
        out = []
        for a in args:
            for n in _iter_nodes(a):
                v = self.val(n)
                if v is not None and v.origin == "act":
                    out.append(v.spec)
        return out

    def _outputs(self, node: Any) -> _Entry:
        val = node.meta.get("val")
        if _is_tensor(val):
            return _Val(_spec(node.name, val), "act")
        if isinstance(val, list | tuple) and any(_is_tensor(v) for v in val):
            return [
                _Val(_spec(f"{node.name}.{i}", v), "act") if _is_tensor(v) else None
                for i, v in enumerate(val)
            ]
        return None

    def out(self, node: Any) -> TensorSpec:
        entry = self.env.get(node.name)
        if isinstance(entry, _Val):
            return entry.spec
        if isinstance(entry, list) and entry and entry[0] is not None:
            return entry[0].spec
        raise _ShapeUnknown(node.name)

    def out_specs(self, node: Any) -> list[TensorSpec]:
        entry = self.env.get(node.name)
        if isinstance(entry, _Val):
            return [entry.spec]
        if isinstance(entry, list):
            return [e.spec for e in entry if e is not None]
        return []

    # -- walk ---------------------------------------------------------------------------

    def _fold(self, node: Any, args: list[Any]) -> _Entry:
        """A constant computed from constants only: keep where it came from."""
        vals = [v for v in (self.val(a) for a in args) if v is not None]
        params: list[TensorSpec] = []
        sources: list[TensorSpec] = []
        for v in vals:
            params.extend(p for p in v.param_sources if p not in params)
            sources.extend(s for s in v.sources if s not in sources)
        origin = "param" if params else ("buffer" if sources else "const")
        entry = self._outputs(node)
        if isinstance(entry, _Val):
            return _Val(entry.spec, origin, tuple(sources), tuple(params))
        if isinstance(entry, list):
            return [
                _Val(e.spec, origin, tuple(sources), tuple(params)) if e is not None else None
                for e in entry
            ]
        return None

    def plan(self) -> list[_Plan]:
        plans: list[_Plan] = []
        import operator

        for node in self.ep.graph.nodes:
            if node.op != "call_function":
                continue
            if node.target is operator.getitem:
                src = self.env.get(getattr(node.args[0], "name", ""))
                idx = node.args[1]
                if isinstance(src, list) and isinstance(idx, int) and idx < len(src):
                    self.env[node.name] = src[idx]
                continue
            ns, base = _base_name(node.target)
            builder = _BUILDERS.get(base) if ns == "aten" else None
            if builder is None and ns == "aten":
                builder = _builder_for_family(base)
            try:
                entry = self._outputs(node)
            except _ShapeUnknown:
                entry = None
                if builder is not None and builder in _ARITHMETIC:
                    # a tensor of data-dependent size: planned so the rule below sees it
                    self.env[node.name] = None
                    plans.append(_Plan(node, ns, base, builder))
                    continue
            arg_nodes = list(_iter_nodes((node.args, list(node.kwargs.values()))))
            if entry is None:
                continue  # no tensor out: shape arithmetic, asserts, metadata
            has_act = any((v := self.val(a)) is not None and v.origin == "act" for a in arg_nodes)
            if ns == "aten" and base in _CREATION_OPS:
                self.env[node.name] = self._fold(node, arg_nodes)
                continue
            if (
                not has_act
                and builder is not None
                and builder in _FOLDABLE
                and any(self.val(a) is not None for a in arg_nodes)
            ):
                self.env[node.name] = self._fold(node, arg_nodes)
                continue
            self.env[node.name] = entry
            plans.append(_Plan(node, ns, base, builder))
        return plans

    def network(self, *, name: str, precision: Precision | None, source: str) -> Network:
        if precision is None:
            dtype = self.param_dtype or next(
                (t.dtype for t in self.inputs if t.dtype.startswith(("float", "bfloat"))),
                "float32",
            )
            precision = _PRECISION_OF_DTYPE.get(dtype, "fp32")
        self.precision = precision
        plans = self.plan()
        names = _op_names(plans)
        built: list[Op] = []
        unmodeled: list[UnmodeledOp] = []
        for plan, op_name in zip(plans, names, strict=True):
            node = plan.node
            op_type = f"{plan.ns}.{plan.base}" if plan.ns != "python" else plan.base
            op: Op | None = None
            unresolved: UnresolvedInfo | None = None
            if plan.builder is not None:
                try:
                    op = plan.builder(node, op_name, self)
                except (_ShapeUnknown, ModelFormatError):
                    # torch.export checked the graph: a shape the cost model cannot place
                    # is this importer's gap, so the node is listed, never a crash
                    op = None
                    unresolved = self._unresolved(node, plan)
            if unresolved is not None and not self.allow_unresolved:
                raise UnresolvedShapeError(
                    f"model: node {op_name!r} ({op_type}): {unresolved.describe()}; pass "
                    "--allow-unresolved (allow_unresolved=True) to count the rest"
                )
            if op is None:
                unmodeled.append(
                    UnmodeledOp(
                        name=op_name,
                        op_type=op_type,
                        inputs=tuple(
                            self.tensor(a)
                            for a in _iter_nodes((node.args, list(node.kwargs.values())))
                            if self.val(a) is not None
                        ),
                        outputs=tuple(self.out_specs(node)),
                        kind=(
                            _ARITHMETIC_KIND.get(plan.builder, "")
                            if unresolved and plan.builder is not None
                            else ""
                        ),
                        unresolved=unresolved,
                    )
                )
                continue
            attrs = dict(op.attrs)
            attrs["aten"] = str(node.target)
            built.append(replace(op, op_type=op_type, attrs=attrs))
        outputs: list[TensorSpec] = []
        for node in self.ep.graph.nodes:
            if node.op == "output":
                for n in _iter_nodes(node.args):
                    v = self.val(n)
                    if v is not None:
                        outputs.append(v.spec)
        net = Network(
            name=name,
            ops=tuple(built),
            inputs=tuple(self.inputs),
            outputs=tuple(outputs),
            unmodeled=tuple(unmodeled),
            source=source,
        )
        if net.flops == 0 and unmodeled and not self.allow_unresolved:
            listed = ", ".join(f"{u.name} ({u.op_type})" for u in unmodeled[:3])
            raise UnsupportedError(
                f"model: {name} computes only in nodes without a cost model ({listed}); its "
                "totals would be zero. Pass --allow-unresolved (allow_unresolved=True) to "
                "list them anyway"
            )
        return net

    def _unresolved(self, node: Any, plan: _Plan) -> UnresolvedInfo | None:
        """Why an arithmetic node could not be built: its first tensor of unknown size.

        A node whose shapes are all known but do not fit the cost model is reported the
        same way (as its output), so its work is never dropped without a word."""
        if plan.builder not in _ARITHMETIC:
            return None
        if plan.builder in (_elementwise, _reduce):
            vals = [a.meta.get("val") for a in _iter_nodes((node.args, list(node.kwargs.values())))]
            tensors = [v for v in vals if _is_tensor(v)]
            if tensors and not any(v.dtype.is_floating_point for v in tensors):
                return None  # index and mask bookkeeping, not the model's arithmetic
        for arg in _iter_nodes((node.args, list(node.kwargs.values()))):
            found = _unknown_axis(arg.meta.get("val"))
            if found is not None:
                return UnresolvedInfo(tensor=arg.name, role="input", axis=found[0], dim=found[1])
        found = _unknown_axis(node.meta.get("val"))
        if found is not None:
            return UnresolvedInfo(tensor=node.name, role="output", axis=found[0], dim=found[1])
        return UnresolvedInfo(tensor=node.name, role="output", axis=None, dim="?")


def _op_names(plans: Sequence[_Plan]) -> list[str]:
    """Names after the module path: the only node of a leaf module's call takes the
    module's name; nodes of a module with submodules are ``<path>.<aten op>``."""
    per_call: dict[str, int] = {}
    keys = []
    for p in plans:
        key, path = _module_key(p.node)
        keys.append((key, path))
        per_call[key] = per_call.get(key, 0) + 1
    parents = {path.rsplit(".", 1)[0] for _, path in keys if "." in path}
    used: set[str] = set()
    names = []
    for p, (key, path) in zip(plans, keys, strict=True):
        call = key.rsplit("@", 1)[1] if "@" in key else ""
        where = f"{path}@{call}" if path and call else path
        if where and per_call[key] == 1 and path not in parents:
            base = where
        else:
            op = p.base.strip("_") or p.node.name
            base = f"{where}.{op}" if where else op
        name = base
        i = 1
        while name in used:
            name = f"{base}_{i}"
            i += 1
        used.add(name)
        names.append(name)
    return names


# ---------------------------------------------------------------------------------------
# builders: one per op family
# ---------------------------------------------------------------------------------------


def _conv(node: Any, name: str, w: _Walker) -> Op:
    a = _bind(node)
    x = w.tensor(a["input"])
    wt = w.tensor(a["weight"])
    rank = len(wt.shape) - 2
    base = _base_name(node.target)[1]
    transposed = bool(a.get("transposed", False)) or base.startswith("conv_transpose")
    groups = int(a.get("groups", 1) or 1)
    stride = _ints(a.get("stride"), rank, 1)
    dil = _ints(a.get("dilation"), rank, 1)
    out = w.out(node)
    weights, buffers = w.consts([a["weight"], a.get("bias")])
    acts = [x] + ([wt] if not w.is_const(a["weight"]) else [])
    has_bias = a.get("bias") is not None
    if transposed:
        op = ops.conv_transpose(
            name,
            x,
            wt.shape,
            out.shape,
            groups=groups,
            bias=has_bias,
            out_name=out.name,
            precision=w.precision,
        )
        pad = _ints(a.get("padding"), rank, 0)
        attrs = dict(op.attrs) | {
            "kernel": wt.shape[2:],
            "strides": tuple(stride),
            "pads": tuple(pad + pad),
            "dilations": tuple(dil),
        }
    else:
        padding = a.get("padding")
        if isinstance(padding, str):
            if padding == "same":
                begins, ends = [], []
                for i in range(rank):
                    total = dil[i] * (wt.shape[2 + i] - 1)
                    begins.append(total // 2)
                    ends.append(total - total // 2)
                pads = begins + ends
            else:
                pads = [0] * (2 * rank)
        else:
            p = _ints(padding, rank, 0)
            pads = p + p
        op = ops.conv(
            name,
            x,
            wt.shape,
            strides=stride,
            pads=pads,
            dilations=dil,
            groups=groups,
            bias=has_bias,
            out_name=out.name,
            op_type="Conv",
            precision=w.precision,
        )
        attrs = dict(op.attrs)
    if op.outputs[0].shape != out.shape:
        raise _ShapeUnknown(name)
    return replace(
        op,
        inputs=tuple(acts),
        outputs=(out,),
        weights=tuple(weights),
        buffers=tuple(buffers),
        attrs=attrs,
    )


def _matmul_op(
    name: str, node: Any, w: _Walker, a_arg: Any, b_arg: Any, b_shape: tuple[int, ...] | None = None
) -> Op:
    """``a @ b`` with NumPy semantics; a constant operand makes it a dense layer."""
    a = w.tensor(a_arg)
    b = w.tensor(b_arg)
    if b_shape is not None:
        b = TensorSpec(b.name, b_shape, b.dtype)
    out = w.out(node)
    a_const, b_const = w.is_const(a_arg), w.is_const(b_arg)
    if a_const and not b_const:
        op = ops.matmul(name, a, b, out_name=out.name, precision=w.precision)
        weights, buffers = w.consts([a_arg])
        op = replace(op, kind="gemm", inputs=(b,))
    else:
        op = ops.matmul(name, a, b, b_is_weight=b_const, out_name=out.name, precision=w.precision)
        weights, buffers = w.consts([b_arg]) if b_const else ([], [])
        if a_const:
            more_w, more_b = w.consts([a_arg])
            weights += more_w
            buffers += more_b
    if op.outputs[0].shape != out.shape:
        raise _ShapeUnknown(name)
    return replace(op, outputs=(out,), weights=tuple(weights), buffers=tuple(buffers))


def _gemm(node: Any, name: str, w: _Walker) -> Op:
    base = _base_name(node.target)[1]
    a = _bind(node)
    out = w.out(node)
    if base == "linear":
        x_arg, wt_arg, bias_arg = a["input"], a["weight"], a.get("bias")
        x = w.tensor(x_arg)
        wt = w.tensor(wt_arg)
        if w.is_const(wt_arg):
            op = ops.gemm(
                name,
                x,
                wt.shape[0],
                bias=bias_arg is not None,
                out_name=out.name,
                op_type="Gemm",
                precision=w.precision,
            )
            weights, buffers = w.consts([wt_arg, bias_arg])
            if op.outputs[0].shape != out.shape:
                raise _ShapeUnknown(name)
            return replace(op, outputs=(out,), weights=tuple(weights), buffers=tuple(buffers))
        bt = tuple(reversed(wt.shape)) if len(wt.shape) == 2 else wt.shape
        op = _matmul_op(name, node, w, x_arg, wt_arg, b_shape=bt)
        return _add_bias(op, w, bias_arg, out)
    if base in ("addmm", "baddbmm", "addbmm", "addmv"):
        m1 = a.get("mat1", a.get("batch1", a.get("mat")))
        m2 = a.get("mat2", a.get("batch2", a.get("vec")))
        if base == "addbmm":
            raise _ShapeUnknown(name)  # sums over the batch: rare, left unmodeled
        op = _matmul_op(name, node, w, m1, m2)
        return _add_bias(op, w, a.get("self"), out)
    if base in ("mm", "bmm", "matmul", "mv", "dot", "vdot"):
        other = a.get("mat2", a.get("other", a.get("vec", a.get("tensor"))))
        return _matmul_op(name, node, w, a["self"], other)
    raise _ShapeUnknown(name)


def _einsum(node: Any, name: str, w: _Walker) -> Op:
    """``torch.einsum``: constant operands are weights (the last one: a dense layer)."""
    a = _bind(node)
    tensors = list(a["tensors"])
    specs = [w.tensor(t) for t in tensors]
    consts = [w.is_const(t) for t in tensors]
    out = w.out(node)
    acts = [s for s, c in zip(specs, consts, strict=True) if not c]
    weights, buffers = w.consts([t for t, c in zip(tensors, consts, strict=True) if c])
    if len(tensors) > 1 and consts[-1] and not any(consts[:-1]):
        op = ops.einsum(
            name, str(a["equation"]), specs[:-1], weights=specs[-1:], precision=w.precision
        )
    else:
        op = ops.einsum(name, str(a["equation"]), specs, precision=w.precision)
    if op.outputs[0].shape != out.shape:
        raise _ShapeUnknown(name)
    return replace(
        op, inputs=tuple(acts), outputs=(out,), weights=tuple(weights), buffers=tuple(buffers)
    )


def _add_bias(op: Op, w: _Walker, bias_arg: Any, out: TensorSpec) -> Op:
    """Add the bias term of addmm / baddbmm / linear: one FLOP per output element."""
    if bias_arg is None:
        return op
    if w.is_const(bias_arg):
        weights, buffers = w.consts([bias_arg])
        return replace(
            op,
            weights=(*op.weights, *weights),
            buffers=(*op.buffers, *buffers),
            flops=op.flops + out.elements,
        )
    return replace(op, inputs=(*op.inputs, w.tensor(bias_arg)), flops=op.flops + out.elements)


def _attention(node: Any, name: str, w: _Walker) -> Op:
    a = _bind(node)
    q, k, v = (w.tensor(a[n]) for n in ("query", "key", "value"))
    if a.get("enable_gqa") and len(q.shape) >= 3 and len(k.shape) >= 3:
        heads = q.shape[-3]
        k = TensorSpec(k.name, (*k.shape[:-3], heads, *k.shape[-2:]), k.dtype)
        v = TensorSpec(v.name, (*v.shape[:-3], heads, *v.shape[-2:]), v.dtype)
    out = w.out(node)
    op = ops.attention(name, q, k, v, out_name=out.name, precision=w.precision)
    if op.outputs[0].shape != out.shape:
        raise _ShapeUnknown(name)
    q0, k0, v0 = (w.tensor(a[n]) for n in ("query", "key", "value"))
    inputs = [q0, k0, v0]
    flops = op.flops
    attrs: dict[str, object] = {"is_causal": bool(a.get("is_causal", False))}
    mask = a.get("attn_mask")
    weights: list[TensorSpec] = []
    buffers: list[TensorSpec] = []
    if mask is not None:
        if w.is_const(mask):
            weights, buffers = w.consts([mask])
        else:
            inputs.append(w.tensor(mask))
        g = op.gemms[0]
        flops += g.count * g.m * g.n  # one add (or select) per score
        attrs["mask"] = True
    return replace(
        op,
        inputs=tuple(inputs),
        outputs=(out,),
        weights=tuple(weights),
        buffers=tuple(buffers),
        flops=flops,
        attrs=attrs,
    )


def _elementwise(node: Any, name: str, w: _Walker) -> Op:
    base = _base_name(node.target)[1]
    a = _bind(node)
    out = w.out(node)
    arg_values = list(a.values())
    onnx_name = _ACTIVATIONS.get(base) or _ELEMENTWISE.get(base, "Add")
    kind: OpKind = "activation" if base in _ACTIVATIONS else "elementwise"
    per: int | None = _EXTRA_FLOPS.get(onnx_name)
    if base == "hardtanh":
        lo, hi = float(a.get("min_val", -1.0)), float(a.get("max_val", 1.0))
        onnx_name = "Relu6" if (lo, hi) == (0.0, 6.0) else "Clip"
    elif base in ("clamp", "clip"):
        bounds = [a.get("min"), a.get("max")]
        per = sum(1 for b in bounds if b is not None) or 1
    elif base in ("clamp_min", "clamp_max"):
        per = 1
    acts = w.acts(arg_values)
    weights, buffers = w.consts(arg_values)
    if not acts:
        raise _ShapeUnknown(name)
    if onnx_name == "PRelu":  # one slope per channel (axis 1): does not broadcast as stored
        op = ops.elementwise(
            name, onnx_name, acts, out_name=out.name, kind=kind, precision=w.precision
        )
        return replace(op, outputs=(out,), weights=tuple(weights), buffers=tuple(buffers))
    # constant operands as used here (a viewed parameter broadcasts, its source may not)
    operands = [
        v.spec
        for a in arg_values
        for n in _iter_nodes(a)
        if (v := w.val(n)) is not None and v.origin != "act"
    ]
    op = ops.elementwise(
        name,
        onnx_name,
        acts,
        buffers=operands,
        out_name=out.name,
        flops_per_element=per,
        kind=kind,
        precision=w.precision,
    )
    if op.outputs[0].shape != out.shape:
        raise _ShapeUnknown(name)
    return replace(op, outputs=(out,), weights=tuple(weights), buffers=tuple(buffers))


def _pool(node: Any, name: str, w: _Walker) -> Op:
    base = _base_name(node.target)[1]
    a = _bind(node)
    x = w.tensor(a["self"])
    out = w.out(node)
    rank = len(x.shape) - 2
    is_avg = "avg" in base
    onnx_name = "AveragePool" if is_avg else "MaxPool"
    if base.startswith(("adaptive", "_adaptive")):
        spatial = x.shape[2:]
        target = out.shape[2:]
        if all(o == 1 for o in target):
            op = ops.pool(name, f"Global{onnx_name}", x, out_name=out.name, precision=w.precision)
            return replace(op, outputs=(out,), attrs=dict(op.attrs) | {"global": True})
        if all(s % o == 0 for s, o in zip(spatial, target, strict=True)):
            kernel = [s // o for s, o in zip(spatial, target, strict=True)]
            op = ops.pool(
                name,
                onnx_name,
                x,
                kernel=kernel,
                strides=kernel,
                out_name=out.name,
                precision=w.precision,
            )
            if op.outputs[0].shape != out.shape:
                raise _ShapeUnknown(name)
            return replace(op, outputs=(out,), attrs=dict(op.attrs) | {"adaptive": True})
        # windows of varying size: start = floor(i*S/O), end = ceil((i+1)*S/O)
        lengths = []
        for s, o in zip(spatial, target, strict=True):
            lengths.append([-(-((i + 1) * s) // o) - (i * s) // o for i in range(o)])
        kernel = [max(lens) for lens in lengths]
        window_sum = math.prod(sum(lens) for lens in lengths)
        op = ops.pool(name, onnx_name, x, kernel=kernel, out_name=out.name, precision=w.precision)
        flops = x.shape[0] * x.shape[1] * window_sum + (out.elements if is_avg else 0)
        return replace(
            op, outputs=(out,), flops=flops, attrs={"kernel": tuple(kernel), "adaptive": True}
        )
    kernel = _ints(a.get("kernel_size"), rank, 1)
    stride = _ints(a.get("stride"), rank, 0)
    if not stride or all(s == 0 for s in stride):
        stride = list(kernel)
    pad = _ints(a.get("padding"), rank, 0)
    dil = _ints(a.get("dilation"), rank, 1)
    ceil = bool(a.get("ceil_mode", False))
    op = ops.pool(
        name,
        onnx_name,
        x,
        kernel=kernel,
        strides=stride,
        pads=pad + pad,
        dilations=dil,
        ceil_mode=ceil,
        out_name=out.name,
        precision=w.precision,
    )
    if op.outputs[0].shape != out.shape:
        if not ceil:
            raise _ShapeUnknown(name)
        # ceil_mode drops a last window that would start in the right padding (as torch
        # and ONNX do): recount with the true output size
        per_out = math.prod(kernel) + (1 if is_avg else 0)
        op = replace(op, flops=per_out * out.elements)
    attrs = dict(op.attrs) | {"strides": tuple(stride), "pads": tuple(pad + pad), "ceil_mode": ceil}
    return replace(op, outputs=(out,), attrs=attrs)


def _norm(node: Any, name: str, w: _Walker) -> Op:
    base = _base_name(node.target)[1]
    a = _bind(node)
    x = w.tensor(a["input"])
    out = w.out(node)
    onnx_name = _NORMS[base]
    learned = [a.get("weight"), a.get("bias")]
    stats = [a.get("running_mean"), a.get("running_var")]
    weights, buffers = w.consts(learned)
    stat_w, stat_b = w.consts(stats)
    op = ops.norm(name, onnx_name, x, out_name=out.name, precision=w.precision)
    attrs: dict[str, object] = {}
    if a.get("num_groups") is not None or a.get("group") is not None:
        attrs["groups"] = int(a.get("num_groups") or a.get("group") or 1)
    return replace(
        op, outputs=(out,), weights=(*weights, *stat_w), buffers=(*buffers, *stat_b), attrs=attrs
    )


def _softmax(node: Any, name: str, w: _Walker) -> Op:
    base = _base_name(node.target)[1]
    a = _bind(node)
    x = w.tensor(a["self"])
    out = w.out(node)
    op = ops.softmax(name, x, out_name=out.name, op_type=_SOFTMAX[base], precision=w.precision)
    return replace(op, outputs=(out,), attrs={"dim": a.get("dim")})


def _reduce(node: Any, name: str, w: _Walker) -> Op:
    base = _base_name(node.target)[1]
    a = _bind(node)
    if base in ("max", "min") and a.get("dim") is None and a.get("other") is not None:
        return _elementwise(node, name, w)
    x = w.tensor(a.get("self", a.get("input")))
    out = w.out(node)
    op = ops.reduce(name, _REDUCES[base], x, out.shape, out_name=out.name, precision=w.precision)
    return replace(op, outputs=(out,))


def _embedding(node: Any, name: str, w: _Walker) -> Op:
    a = _bind(node)
    table_arg = a["weight"]
    idx = w.tensor(a["indices"])
    table = w.tensor(table_arg)
    out = w.out(node)
    op = ops.embedding(
        name, idx, table.shape, out_name=out.name, op_type="Gather", precision=w.precision
    )
    if w.is_const(table_arg):
        weights, buffers = w.consts([table_arg])
        return replace(op, outputs=(out,), weights=tuple(weights), buffers=tuple(buffers))
    return replace(op, inputs=(idx, table), outputs=(out,), weights=())


def _shape(node: Any, name: str, w: _Walker) -> Op:
    base = _base_name(node.target)[1]
    copies = base in _COPY_OPS
    if base == "dropout" or base == "feature_dropout" or base == "alpha_dropout":
        copies = False
    a = list(node.args) + list(node.kwargs.values())
    ins = w.acts(a)
    weights, buffers = w.consts(a)
    outs = w.out_specs(node)
    if not outs:
        raise _ShapeUnknown(name)
    op = ops.shape_op(name, base, ins, outs, copies=copies, precision=w.precision)
    return replace(op, weights=tuple(weights), buffers=tuple(buffers))


_Builder = Callable[[Any, str, _Walker], Op]

_BUILDERS: dict[str, _Builder] = {
    **{n: _conv for n in _CONVS},
    **{n: _gemm for n in _GEMMS},
    **{n: _attention for n in _ATTENTION},
    **{n: _pool for n in _POOLS},
    **{n: _norm for n in _NORMS},
    **{n: _softmax for n in _SOFTMAX},
    **{n: _embedding for n in ("embedding",)},
    "einsum": _einsum,
    "max": _reduce,
    "min": _reduce,
}

#: Builders of ops that do arithmetic, and the IR kind each makes: such an op that cannot
#: be sized is an error (or, when allowed, an unresolved node).
_ARITHMETIC_KIND: dict[_Builder, str] = {
    _conv: "conv",
    _gemm: "gemm",
    _einsum: "matmul",
    _attention: "attention",
    _pool: "pool",
    _norm: "norm",
    _softmax: "softmax",
    _reduce: "reduce",
    _elementwise: "elementwise",
}
_ARITHMETIC: frozenset[_Builder] = frozenset(_ARITHMETIC_KIND)


def _unknown_axis(val: Any) -> tuple[int, str] | None:
    """(axis, symbol) of a tensor value's first dimension without a concrete size."""
    if not _is_tensor(val):
        return None
    for axis, d in enumerate(val.shape):
        try:
            _dim(d)
        except _ShapeUnknown:
            return axis, str(d)
    return None


#: Families whose nodes are folded into a constant when they read no activation.
_FOLDABLE: frozenset[_Builder] = frozenset({_elementwise, _shape, _reduce})


def _builder_for_family(base: str) -> _Builder | None:
    if base in _ACTIVATIONS or base in _ELEMENTWISE:
        return _elementwise
    if base in _REDUCES:
        return _reduce
    if base in _VIEW_OPS or base in _COPY_OPS:
        return _shape
    return None
