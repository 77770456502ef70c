"""A small graph builder: each zoo model reads like its PyTorch definition.

The builder keeps the scope of the module being built (``with b.scope("layer1", 0):``
makes ops named ``layer1.0.conv1``), the network precision and the ops built so far. Every
layer method builds its op through :mod:`codesign_playground.workload.ops` and returns the
op's output tensor, so a forward pass is written as a chain of calls. Op names are made
unique the way ``torch.fx`` does it: a name used twice in one scope (a ``relu`` module
applied twice, a second residual ``add``) gets a ``_1``, ``_2``, ... suffix.

Conventions shared by the transformer models (see :meth:`GraphBuilder.attention`):
attention is expanded into its ops (Q K^T and P V as ``matmul`` ops with the scaling, the
optional causal mask and the softmax between); splitting or merging heads is one copying
``Transpose`` shape op per tensor; ``K^T`` is a free view.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from codesign_playground.errors import ModelFormatError
from codesign_playground.workload import ops
from codesign_playground.workload.ir import Network, Op, Precision, TensorSpec

__all__ = ["GraphBuilder"]


class GraphBuilder:
    """Collects ops in execution order under PyTorch-like module paths."""

    def __init__(self, name: str, *, precision: Precision = "fp32", source: str = "") -> None:
        self.name = name
        self.precision: Precision = precision
        self.source = source
        self._ops: list[Op] = []
        self._taken: set[str] = set()
        self._scope: list[str] = []
        self._inputs: list[TensorSpec] = []

    # -- names and bookkeeping ---------------------------------------------------------------

    @contextmanager
    def scope(self, *parts: str | int) -> Iterator[None]:
        """Build the ops of a submodule: names inside get ``parts`` as their prefix."""
        added = [str(p) for p in parts]
        self._scope.extend(added)
        try:
            yield
        finally:
            del self._scope[len(self._scope) - len(added) :]

    def _claim(self, name: str) -> str:
        """The full, unique op name for ``name`` in the current scope."""
        base = ".".join((*self._scope, name))
        full = base
        i = 0
        while full in self._taken:
            i += 1
            full = f"{base}_{i}"
        self._taken.add(full)
        return full

    def emit(self, op: Op) -> TensorSpec:
        """Append a built op; its first output is returned."""
        self._ops.append(op)
        return op.outputs[0]

    def input(self, name: str, shape: Sequence[int], dtype: str = "float32") -> TensorSpec:
        """Declare a network input."""
        t = TensorSpec(name, tuple(int(d) for d in shape), dtype)
        self._inputs.append(t)
        return t

    @property
    def ops(self) -> tuple[Op, ...]:
        return tuple(self._ops)

    def build(self, outputs: Sequence[TensorSpec]) -> Network:
        """The finished network."""
        return Network(
            name=self.name,
            ops=tuple(self._ops),
            inputs=tuple(self._inputs),
            outputs=tuple(outputs),
            source=self.source,
        )

    # -- convolutional layers ----------------------------------------------------------------

    def conv2d(
        self,
        name: str,
        x: TensorSpec,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bias: bool = False,
    ) -> TensorSpec:
        """``nn.Conv2d(in, out_channels, kernel_size, stride, padding, groups=, bias=)``."""
        c = x.shape[1]
        if c % groups:
            raise ModelFormatError(f"{name}: {c} channels do not split into {groups} groups")
        w = (out_channels, c // groups, kernel_size, kernel_size)
        return self.emit(
            ops.conv(
                self._claim(name),
                x,
                w,
                strides=(stride, stride),
                pads=(padding,) * 4,
                groups=groups,
                bias=bias,
                precision=self.precision,
            )
        )

    def batch_norm(self, name: str, x: TensorSpec) -> TensorSpec:
        """``nn.BatchNorm2d``: weight and bias are parameters, running mean/var buffers."""
        c = (x.shape[1],)
        return self.emit(
            ops.norm(
                self._claim(name),
                "BatchNormalization",
                x,
                weight_shapes=(c, c),
                buffer_shapes=(c, c),
                precision=self.precision,
            )
        )

    def max_pool2d(
        self, name: str, x: TensorSpec, kernel_size: int, stride: int, padding: int = 0
    ) -> TensorSpec:
        """``nn.MaxPool2d(kernel_size, stride, padding)``."""
        return self.emit(
            ops.pool(
                self._claim(name),
                "MaxPool",
                x,
                kernel=(kernel_size, kernel_size),
                strides=(stride, stride),
                pads=(padding,) * 4,
                precision=self.precision,
            )
        )

    def adaptive_avg_pool2d(self, name: str, x: TensorSpec, output_size: int) -> TensorSpec:
        """``nn.AdaptiveAvgPool2d(output_size)``, with PyTorch's exact window bounds.

        Output 1 is a global pool. Otherwise window ``i`` of an axis of size ``n`` spans
        ``floor(i n / out)`` to ``ceil((i + 1) n / out)``: each output element costs its
        window's additions plus one division.
        """
        full = self._claim(name)
        if output_size == 1:
            return self.emit(ops.pool(full, "GlobalAveragePool", x, precision=self.precision))
        h, w = x.shape[2], x.shape[3]
        base = ops.pool(
            full, "AveragePool", x, kernel=(1, 1), strides=(1, 1), precision=self.precision
        )

        def spans(n: int) -> list[int]:
            return [
                -(-((i + 1) * n) // output_size) - (i * n) // output_size
                for i in range(output_size)
            ]

        window_sum = sum(spans(h)) * sum(spans(w))  # sum over the grid of window areas
        planes = x.shape[0] * x.shape[1]
        out = TensorSpec(f"{full}.out", (*x.shape[:2], output_size, output_size), x.dtype)
        op = replace(
            base,
            op_type="AdaptiveAveragePool",
            outputs=(out,),
            flops=planes * (window_sum + output_size * output_size),
            attrs={"output_size": (output_size, output_size)},
        )
        return self.emit(op)

    # -- dense layers and arithmetic ---------------------------------------------------------

    def linear(
        self, name: str, x: TensorSpec, out_features: int, *, bias: bool = True
    ) -> TensorSpec:
        """``nn.Linear(in, out_features, bias=)`` on the last axis."""
        return self.emit(
            ops.gemm(self._claim(name), x, out_features, bias=bias, precision=self.precision)
        )

    def tied_linear(self, name: str, x: TensorSpec, table: TensorSpec) -> TensorSpec:
        """A bias-free linear layer whose weight is ``table`` (rows = out features), owned by
        another op (an embedding it is tied to).

        Its MACs count; the weight is read (it is held as a buffer, so its bytes count)
        but it is not counted again in the parameters.
        """
        op = ops.gemm(self._claim(name), x, table.shape[0], bias=False, precision=self.precision)
        if op.weights[0].shape != table.shape:
            raise ModelFormatError(f"{name}: tied weight {list(table.shape)} does not fit")
        return self.emit(replace(op, weights=(), buffers=(table,), attrs={"tied_to": table.name}))

    def activation(self, name: str, op_type: str, x: TensorSpec) -> TensorSpec:
        """A pointwise activation such as ``Relu``, ``Relu6``, ``SiLU``, ``Gelu``."""
        return self.emit(ops.activation(self._claim(name), op_type, x, precision=self.precision))

    def add(self, name: str, a: TensorSpec, b: TensorSpec) -> TensorSpec:
        """``a + b`` (broadcasting)."""
        return self.emit(
            ops.elementwise(self._claim(name), "Add", [a, b], precision=self.precision)
        )

    def mul(self, name: str, a: TensorSpec, b: TensorSpec) -> TensorSpec:
        """``a * b`` (broadcasting)."""
        return self.emit(
            ops.elementwise(self._claim(name), "Mul", [a, b], precision=self.precision)
        )

    def add_parameter(self, name: str, x: TensorSpec, shape: Sequence[int]) -> TensorSpec:
        """``x + p`` with a learned tensor ``p`` (a position embedding): ``p`` is a weight."""
        full = self._claim(name)
        p = TensorSpec(f"{full}.weight", tuple(shape))
        return self.emit(ops.elementwise(full, "Add", [x], weights=[p], precision=self.precision))

    def with_constant(
        self,
        name: str,
        op_type: str,
        x: TensorSpec,
        shape: Sequence[int],
        *,
        buffer: str = "buffer",
    ) -> TensorSpec:
        """``x <op> c`` with a constant tensor ``c`` of ``shape`` (an attention mask, rotary
        frequencies): ``c`` is a buffer of the op, named ``<op name>.<buffer>``."""
        full = self._claim(name)
        c = TensorSpec(f"{full}.{buffer}", tuple(shape))
        return self.emit(ops.elementwise(full, op_type, [x], buffers=[c], precision=self.precision))

    def scale(self, name: str, x: TensorSpec, op_type: str = "Mul") -> TensorSpec:
        """``x * s`` or ``x / s`` by a scalar constant: one FLOP per element."""
        full = self._claim(name)
        s = TensorSpec(f"{full}.scalar", ())
        return self.emit(ops.elementwise(full, op_type, [x], buffers=[s], precision=self.precision))

    def matmul(self, name: str, a: TensorSpec, b: TensorSpec) -> TensorSpec:
        """``torch.matmul(a, b)`` of two activations."""
        return self.emit(ops.matmul(self._claim(name), a, b, precision=self.precision))

    def softmax(self, name: str, x: TensorSpec) -> TensorSpec:
        """``softmax(x, dim=-1)``."""
        return self.emit(ops.softmax(self._claim(name), x, precision=self.precision))

    # -- normalization and lookup ------------------------------------------------------------

    def layer_norm(self, name: str, x: TensorSpec, *, bias: bool = True) -> TensorSpec:
        """``nn.LayerNorm(x.shape[-1])`` with learned scale (and shift)."""
        d = (x.shape[-1],)
        return self.emit(
            ops.norm(
                self._claim(name),
                "LayerNormalization",
                x,
                weight_shapes=(d, d) if bias else (d,),
                precision=self.precision,
            )
        )

    def rms_norm(self, name: str, x: TensorSpec) -> TensorSpec:
        """RMSNorm over the last axis with a learned scale."""
        return self.emit(
            ops.norm(
                self._claim(name),
                "RMSNormalization",
                x,
                weight_shapes=((x.shape[-1],),),
                precision=self.precision,
            )
        )

    def embedding(self, name: str, ids: TensorSpec, num: int, dim: int) -> tuple[TensorSpec, Op]:
        """``nn.Embedding(num, dim)(ids)``; the op is returned too (its table can be tied)."""
        op = ops.embedding(self._claim(name), ids, (num, dim), precision=self.precision)
        return self.emit(op), op

    # -- shape ops ---------------------------------------------------------------------------

    def view(
        self, name: str, x: TensorSpec, shape: Sequence[int], op_type: str = "Reshape"
    ) -> TensorSpec:
        """A free view (reshape, flatten, unsqueeze): no data moves."""
        shape = tuple(int(d) for d in shape)
        if math.prod(shape) != x.elements:
            raise ModelFormatError(f"{name}: cannot view {list(x.shape)} as {list(shape)}")
        full = self._claim(name)
        out = TensorSpec(f"{full}.out", shape, x.dtype)
        return self.emit(
            ops.shape_op(full, op_type, [x], [out], copies=False, precision=self.precision)
        )

    def flatten(self, name: str, x: TensorSpec) -> TensorSpec:
        """``torch.flatten(x, 1)``."""
        return self.view(name, x, (x.shape[0], math.prod(x.shape[1:])), op_type="Flatten")

    def permute(
        self,
        name: str,
        x: TensorSpec,
        shape: Sequence[int],
        *,
        copies: bool = True,
        op_type: str = "Transpose",
        dtype: str | None = None,
    ) -> TensorSpec:
        """A data-moving rearrangement (reshape + permute, made contiguous) to ``shape``;
        ``dtype`` makes it a cast."""
        shape = tuple(int(d) for d in shape)
        if math.prod(shape) != x.elements:
            raise ModelFormatError(f"{name}: cannot rearrange {list(x.shape)} as {list(shape)}")
        full = self._claim(name)
        out = TensorSpec(f"{full}.out", shape, dtype or x.dtype)
        return self.emit(
            ops.shape_op(full, op_type, [x], [out], copies=copies, precision=self.precision)
        )

    def split(
        self, name: str, x: TensorSpec, parts: int, shape: Sequence[int]
    ) -> tuple[TensorSpec, ...]:
        """Split ``x`` into ``parts`` tensors of ``shape`` each (copied, e.g. into heads)."""
        shape = tuple(int(d) for d in shape)
        if parts * math.prod(shape) != x.elements:
            raise ModelFormatError(f"{name}: cannot split {list(x.shape)} into {parts}")
        full = self._claim(name)
        outs = [TensorSpec(f"{full}.out{i}", shape, x.dtype) for i in range(parts)]
        self.emit(ops.shape_op(full, "Split", [x], outs, copies=True, precision=self.precision))
        return tuple(outs)

    def concat(
        self,
        name: str,
        xs: Sequence[TensorSpec],
        axis: int,
        *,
        parameter_shape: Sequence[int] | None = None,
    ) -> TensorSpec:
        """``torch.cat(xs, axis)``; ``parameter_shape`` prepends a learned tensor (a class
        token, expanded over the batch) that is a weight of this op."""
        full = self._claim(name)
        parts = [t.shape for t in xs]
        weights: tuple[TensorSpec, ...] = ()
        if parameter_shape is not None:
            p = TensorSpec(f"{full}.weight", tuple(parameter_shape))
            weights = (p,)
            parts.insert(0, (xs[0].shape[0], *p.shape[1:]))  # expanded over the batch
        ax = axis % len(parts[0])
        shape = list(parts[0])
        shape[ax] = sum(s[ax] for s in parts)
        out = TensorSpec(f"{full}.out", tuple(shape), xs[0].dtype)
        op = ops.shape_op(full, "Concat", xs, [out], copies=True, precision=self.precision)
        return self.emit(replace(op, weights=weights))

    def select(self, name: str, x: TensorSpec, axis: int, index: int = 0) -> TensorSpec:
        """``x.select(axis, index)`` (e.g. the class token ``x[:, 0]``)."""
        shape = tuple(d for i, d in enumerate(x.shape) if i != axis % len(x.shape))
        del index  # which slice does not change the cost
        full = self._claim(name)
        out = TensorSpec(f"{full}.out", shape, x.dtype)
        return self.emit(
            ops.shape_op(full, "Gather", [x], [out], copies=True, precision=self.precision)
        )

    # -- transformer pieces ------------------------------------------------------------------

    def split_heads(self, name: str, x: TensorSpec, heads: int) -> TensorSpec:
        """``(B, S, H*d) -> (B, H, S, d)``: view as heads then transpose (one copy)."""
        b, s, d = x.shape
        return self.permute(name, x, (b, heads, s, d // heads))

    def merge_heads(self, name: str, x: TensorSpec) -> TensorSpec:
        """``(B, H, S, d) -> (B, S, H*d)``: transpose back, made contiguous (one copy)."""
        b, h, s, d = x.shape
        return self.permute(name, x, (b, s, h * d))

    def attention(
        self,
        q: TensorSpec,
        k: TensorSpec,
        v: TensorSpec,
        *,
        scale_op: str = "Div",
        causal: bool = False,
    ) -> TensorSpec:
        """Scaled dot-product attention, expanded, in the current scope.

        ``q (B, H, L, d)``, ``k`` and ``v (B, Hkv, S, d)``. Ops: ``key_t`` (free view of
        K^T), ``matmul_qk`` (L x S scores, MACs B H L S d), ``scale`` (1 FLOP per score),
        ``causal_mask`` (an additive ``(L, S)`` constant, when ``causal``), ``softmax``
        (5 FLOPs per score) and ``matmul_pv`` (MACs B H L S d). Dropout is the identity at
        inference and is left out.

        With fewer K/V heads than query heads (grouped-query attention, ``H = g Hkv``),
        the queries are viewed as ``(B, Hkv, g, L, d)`` (``group_q``; query head ``i``
        uses K/V head ``i // g``) and K, V as ``(B, Hkv, 1, S, d)``, so both products
        broadcast each K/V head over its group, as ``scaled_dot_product_attention(...,
        enable_gqa=True)`` and fused kernels run it: K and V are read at their own head
        count, never copied up to ``H`` heads. The MACs are the same; ``ungroup`` views
        the result back as ``(B, H, L, dv)``.
        """
        b, hkv, s, d = k.shape
        heads, length = q.shape[1], q.shape[2]
        if heads % hkv:
            raise ModelFormatError(
                f"attention: {hkv} key/value heads do not divide {heads} query heads"
            )
        groups = heads // hkv
        if groups > 1:
            q = self.view("group_q", q, (b, hkv, groups, length, q.shape[3]))
            kt = self.view("key_t", k, (b, hkv, 1, d, s), op_type="Transpose")
            v = self.view("group_v", v, (b, hkv, 1, *v.shape[2:]))
        else:
            kt = self.view("key_t", k, (b, hkv, d, s), op_type="Transpose")
        scores = self.matmul("matmul_qk", q, kt)
        scores = self.scale("scale", scores, scale_op)
        if causal:
            scores = self.with_constant("causal_mask", "Add", scores, (1, 1, length, s))
        probs = self.softmax("softmax", scores)
        out = self.matmul("matmul_pv", probs, v)
        if groups > 1:
            out = self.view("ungroup", out, (b, heads, length, out.shape[-1]))
        return out
