"""Exact counts of every op constructor, checked against hand-computed values."""

from __future__ import annotations

import pytest

from codesign_playground.errors import ModelFormatError
from codesign_playground.workload import ops
from codesign_playground.workload.ir import Network, TensorSpec, bytes_for


def t(*shape: int, dtype: str = "float32") -> TensorSpec:
    return TensorSpec("x", shape, dtype)


def test_conv2d_stride_padding_bias() -> None:
    op = ops.conv(
        "c", t(2, 3, 224, 224), (64, 3, 7, 7), strides=(2, 2), pads=(3, 3, 3, 3), bias=True
    )
    assert op.outputs[0].shape == (2, 64, 112, 112)
    assert op.macs == 2 * 64 * 112 * 112 * 3 * 49
    assert op.flops == 2 * 64 * 112 * 112  # bias adds
    assert op.params == 64 * 3 * 49 + 64
    (g,) = op.gemms
    assert (g.count, g.m, g.n, g.k) == (1, 2 * 112 * 112, 64, 147)
    assert g.macs == op.macs


def test_conv_dilation_and_asymmetric_padding() -> None:
    op = ops.conv("c", t(1, 8, 32, 30), (16, 8, 3, 3), dilations=(2, 2), pads=(0, 1, 2, 3))
    # height: 32 + 0 + 2 - (2*2+1) + 1 = 30 ; width: 30 + 1 + 3 - 5 + 1 = 30
    assert op.outputs[0].shape == (1, 16, 30, 30)
    assert op.macs == 16 * 30 * 30 * 8 * 9


def test_grouped_and_depthwise_conv() -> None:
    g = ops.conv("g", t(1, 32, 10, 10), (64, 8, 3, 3), pads=(1, 1, 1, 1), groups=4)
    assert g.macs == 64 * 100 * 8 * 9
    assert g.gemms[0].count == 4 and g.gemms[0].n == 16 and g.gemms[0].k == 72
    dw = ops.conv("dw", t(1, 32, 10, 10), (32, 1, 3, 3), pads=(1, 1, 1, 1), groups=32)
    assert dw.macs == 32 * 100 * 9
    assert dw.attrs["depthwise"] is True


def test_conv1d_and_conv3d() -> None:
    c1 = ops.conv("c1", t(1, 4, 100), (8, 4, 5), strides=(2,))
    assert c1.outputs[0].shape == (1, 8, 48)
    assert c1.macs == 8 * 48 * 4 * 5
    c3 = ops.conv("c3", t(1, 2, 8, 8, 8), (4, 2, 3, 3, 3), pads=(1,) * 6)
    assert c3.macs == 4 * 512 * 2 * 27


def test_conv_transpose() -> None:
    op = ops.conv_transpose("ct", t(1, 16, 8, 8), (16, 8, 4, 4), (1, 8, 16, 16))
    assert op.macs == 16 * 64 * 8 * 16


@pytest.mark.parametrize(
    ("x", "w"), [((1, 3, 8, 8), (4, 2, 3, 3)), ((1, 4, 2, 2), (4, 4, 3, 3)), ((3, 8, 8), (4, 3, 3))]
)
def test_conv_rejects_inconsistent_shapes(x: tuple[int, ...], w: tuple[int, ...]) -> None:
    with pytest.raises(ModelFormatError):
        ops.conv("bad", t(*x), w)


def test_dense_on_3d_input() -> None:
    op = ops.gemm("fc", t(2, 197, 768), 3072)
    assert op.outputs[0].shape == (2, 197, 3072)
    assert op.macs == 2 * 197 * 768 * 3072
    assert op.flops == 2 * 197 * 3072
    assert op.params == 768 * 3072 + 3072


def test_batched_matmul_broadcasts() -> None:
    op = ops.matmul("mm", t(2, 12, 197, 64), TensorSpec("k", (2, 12, 64, 197)))
    assert op.kind == "matmul"
    assert op.outputs[0].shape == (2, 12, 197, 197)
    assert op.macs == 24 * 197 * 64 * 197
    b = ops.matmul("mm", t(5, 1, 3, 4), TensorSpec("k", (6, 4, 2)))
    assert b.outputs[0].shape == (5, 6, 3, 2)
    assert b.macs == 30 * 3 * 4 * 2
    with pytest.raises(ModelFormatError):
        ops.matmul("mm", t(3, 4), TensorSpec("k", (5, 2)))


def test_matmul_with_constant_is_dense() -> None:
    op = ops.matmul("mm", t(4, 10, 32), TensorSpec("w", (32, 16)), b_is_weight=True)
    assert op.kind == "gemm" and op.params == 32 * 16
    assert op.gemms[0].m == 40 and op.gemms[0].count == 1


def test_attention() -> None:
    q = TensorSpec("q", (1, 12, 128, 64))
    op = ops.attention("sdpa", q, q, q)
    assert op.macs == 2 * 12 * 128 * 128 * 64
    assert op.flops == 12 * 128 * 128 * 6
    assert len(op.gemms) == 2 and sum(g.macs for g in op.gemms) == op.macs


def test_elementwise_broadcast_and_activation_costs() -> None:
    add = ops.elementwise("add", "Add", [t(1, 64, 8, 8), TensorSpec("b", (64, 1, 1))])
    assert add.outputs[0].shape == (1, 64, 8, 8) and add.flops == 64 * 64
    s = ops.elementwise("sum", "Sum", [t(10), t(10), t(10)])
    assert s.flops == 20
    gelu = ops.activation("g", "Gelu", t(1, 100))
    assert gelu.kind == "activation" and gelu.flops == 800
    assert ops.activation("r", "Relu", t(1, 100)).flops == 100


def test_pooling() -> None:
    mp = ops.pool(
        "mp", "MaxPool", t(1, 64, 112, 112), kernel=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1)
    )
    assert mp.outputs[0].shape == (1, 64, 56, 56)
    assert mp.flops == 64 * 56 * 56 * 9
    ap = ops.pool("ap", "AveragePool", t(1, 8, 7, 7), kernel=(2, 2), strides=(2, 2), ceil_mode=True)
    assert ap.outputs[0].shape == (1, 8, 4, 4)
    assert ap.flops == 8 * 16 * 5
    gp = ops.pool("gp", "GlobalAveragePool", t(1, 512, 7, 7))
    assert gp.outputs[0].shape == (1, 512, 1, 1) and gp.flops == 512 * 50


def test_norms_weights_and_buffers() -> None:
    bn = ops.norm(
        "bn",
        "BatchNormalization",
        t(1, 64, 8, 8),
        weight_shapes=[(64,), (64,)],
        buffer_shapes=[(64,), (64,)],
    )
    assert bn.params == 128
    assert bn.weight_bytes == 4 * 256
    assert bn.flops == 2 * 64 * 64
    ln = ops.norm("ln", "LayerNormalization", t(1, 10, 768), weight_shapes=[(768,), (768,)])
    assert ln.params == 1536 and ln.flops == 7 * 7680


def test_softmax_reduce() -> None:
    assert ops.softmax("s", t(2, 10)).flops == 100
    r = ops.reduce("r", "ReduceMean", t(2, 10, 5), (2, 1, 5))
    assert r.flops == 100 and r.outputs[0].shape == (2, 1, 5)


def test_embedding_counts_table_and_native_index_bytes() -> None:
    e = ops.embedding("emb", TensorSpec("ids", (1, 128), "int64"), (30522, 768))
    assert e.params == 30522 * 768
    assert e.macs == 0 and e.flops == 0
    assert e.input_bytes == 128 * 8  # int64 indices keep their width
    assert e.outputs[0].shape == (1, 128, 768)
    assert e.with_precision(activations="int8").input_bytes == 128 * 8


def test_shape_ops_copy_or_view() -> None:
    x = t(1, 64, 7, 7)
    view = ops.shape_op("r", "Reshape", [x], [TensorSpec("y", (1, 3136))], copies=False)
    assert view.input_bytes == 0 and view.output_bytes == 0 and view.macs == 0
    cp = ops.shape_op("tr", "Transpose", [x], [TensorSpec("y", (1, 7, 7, 64))], copies=True)
    assert cp.input_bytes == cp.output_bytes == 4 * 3136
    assert cp.flops == 0


@pytest.mark.parametrize(
    ("prec", "nbytes"), [("fp32", 400), ("fp16", 200), ("bf16", 200), ("int8", 100), ("int4", 50)]
)
def test_precision_changes_bytes_not_work(prec: str, nbytes: int) -> None:
    op = ops.gemm("fc", t(1, 10), 10, bias=False)
    low = op.with_precision(weights=prec, activations=prec)  # type: ignore[arg-type]
    assert low.weight_bytes == nbytes
    assert low.macs == op.macs and low.flops == op.flops
    assert bytes_for(3, "int4") == 2  # packed, rounded up


def test_arithmetic_intensity_and_network_totals() -> None:
    a = ops.gemm("a", t(1, 256), 256, bias=False)
    assert a.arithmetic_intensity == pytest.approx(2 * 256 * 256 / (4 * (256 * 256 + 512)))
    b = ops.activation("b", "Relu", a.outputs[0])
    net = Network("n", (a, b))
    assert net.macs == a.macs
    assert net.flops == 2 * a.macs + 256
    assert net.params == a.params
    assert net.activation_bytes == sum(o.input_bytes + o.output_bytes for o in net)


def test_per_layer_precision() -> None:
    a = ops.gemm("a", t(1, 16), 16)
    b = ops.gemm("b", a.outputs[0], 16)
    net = Network("n", (a, b)).with_precision(weights="int4", activations="int8", layers=["b"])
    assert net.op("a").weight_precision == "fp32"
    assert net.op("b").weight_precision == "int4" and net.op("b").act_precision == "int8"
    with pytest.raises(ValueError, match="no op named"):
        net.with_precision("int8", layers=["zzz"])


def test_pool_ceil_mode_last_window_starts_inside() -> None:
    # PyTorch: MaxPool2d(2, 2, padding=1, ceil_mode=True) on 5x5 gives 3x3, not 4x4
    op = ops.pool(
        "p",
        "MaxPool",
        t(1, 1, 5, 5),
        kernel=(2, 2),
        strides=(2, 2),
        pads=(1, 1, 1, 1),
        ceil_mode=True,
    )
    assert op.outputs[0].shape == (1, 1, 3, 3)
    with pytest.raises(ModelFormatError, match="larger than input"):
        ops.pool("p", "MaxPool", t(1, 1, 1, 1), kernel=(2, 2), strides=(2, 2))
