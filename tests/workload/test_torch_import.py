"""PyTorch importer: every mapped op family on small modules with hand-computed costs."""

from __future__ import annotations

import sys
from typing import Any

import pytest

pytest.importorskip("torch")

import torch
import torch.nn.functional as F
from torch import nn

from codesign_playground.errors import ModelFormatError, UnsupportedError
from codesign_playground.workload.importers.torch_export import (
    ATEN_KINDS,
    network_from_pt2,
    network_from_torch,
)
from codesign_playground.workload.ir import Gemm, Network, Op

pytestmark = pytest.mark.torch


def _net(module: Any, *inputs: Any, **kw: Any) -> Network:
    return network_from_torch(module, tuple(inputs), **kw)


def _only(net: Network, kind: str) -> Op:
    found = net.by_kind(kind)  # type: ignore[arg-type]
    assert len(found) == 1, [o.name for o in net.ops]
    return found[0]


def _n_params(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


# --- a torchvision-exact resnet18 (BasicBlock), written out ----------------------------


class BasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int = 1, down: Any = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = down

    def forward(self, x: Any) -> Any:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class ResNet18(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 1)
        self.layer2 = self._make_layer(128, 2)
        self.layer3 = self._make_layer(256, 2)
        self.layer4 = self._make_layer(512, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def _make_layer(self, planes: int, stride: int) -> Any:
        down = None
        if stride != 1 or self.inplanes != planes:
            down = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )
        first = BasicBlock(self.inplanes, planes, stride, down)
        self.inplanes = planes
        return nn.Sequential(first, BasicBlock(planes, planes))

    def forward(self, x: Any) -> Any:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


RESNET18_MACS = 1_814_073_344  # conv + fc at 1x3x224x224 (torchvision / FlopCounter)
RESNET18_PARAMS = 11_689_512


@pytest.fixture(scope="module")
def resnet18() -> tuple[Any, Network]:
    torch.manual_seed(0)
    model = ResNet18()
    return model, _net(model, torch.randn(1, 3, 224, 224))


def test_resnet18_matches_torchvision(resnet18: tuple[Any, Network]) -> None:
    model, net = resnet18
    assert _n_params(model) == RESNET18_PARAMS
    assert net.params == sum(op.params for op in net.ops) == RESNET18_PARAMS
    assert sum(o.macs for o in net.by_kind("conv", "gemm")) == RESNET18_MACS
    assert net.macs == RESNET18_MACS
    assert not net.unmodeled
    assert len(net.by_kind("conv")) == 20
    assert len(net.by_kind("norm")) == 20
    assert net.inputs[0].shape == (1, 3, 224, 224)
    assert net.outputs[0].shape == (1, 1000)


def test_resnet18_matches_shared_reference(
    resnet18: tuple[Any, Network], onnx_reference: dict[str, Any]
) -> None:
    ref = onnx_reference["resnet18"]
    _, net = resnet18
    assert net.params == ref["torch_params"]
    assert 2 * net.macs == sum(ref["flops_by_op"].values())


def test_resnet18_names_follow_module_paths(resnet18: tuple[Any, Network]) -> None:
    _, net = resnet18
    names = [o.name for o in net.ops]
    assert names[:4] == ["conv1", "bn1", "relu", "maxpool"]
    assert names[4:11] == [
        "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2",
        "layer1.0.bn2", "layer1.0.add", "layer1.0.relu@1",
    ]  # fmt: skip
    assert net.op("layer2.0.downsample.0").attrs["strides"] == (2, 2)
    assert names[-3:] == ["avgpool", "flatten", "fc"]
    assert len(set(names)) == len(names)
    bn = net.op("layer1.0.bn1")
    assert [w.name for w in bn.weights] == ["layer1.0.bn1.weight", "layer1.0.bn1.bias"]
    assert [b.name for b in bn.buffers] == [
        "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var",
    ]  # fmt: skip
    assert net.op("avgpool").attrs.get("global") is True
    assert net.op("fc").op_type == "aten.linear"


# --- convolutions --------------------------------------------------------------------

CONV_CASES = [
    # module, input shape, output shape, MACs, bias FLOPs
    (nn.Conv2d(3, 8, 3, stride=2, padding=1), (1, 3, 9, 9), (1, 8, 5, 5), 8 * 25 * 3 * 9, 200),
    (nn.Conv2d(4, 4, 3, padding=2, dilation=2, bias=False), (1, 4, 10, 10), (1, 4, 10, 10),
     4 * 100 * 4 * 9, 0),
    (nn.Conv2d(8, 16, 3, groups=4, bias=False), (2, 8, 6, 6), (2, 16, 4, 4),
     2 * 16 * 16 * 2 * 9, 0),
    (nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), (1, 8, 6, 6), (1, 8, 6, 6),
     8 * 36 * 9, 0),
    (nn.Conv2d(2, 2, 4, padding="same", bias=False), (1, 2, 7, 7), (1, 2, 7, 7),
     2 * 49 * 2 * 16, 0),
    (nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(0, 2)), (1, 3, 9, 9), (1, 4, 4, 9),
     4 * 36 * 3 * 15, 144),
    (nn.Conv1d(4, 6, 5, stride=2), (1, 4, 20), (1, 6, 8), 6 * 8 * 4 * 5, 48),
    (nn.Conv3d(2, 4, 3, padding=1), (1, 2, 4, 4, 4), (1, 4, 4, 4, 4), 4 * 64 * 2 * 27, 256),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(("module", "shape", "out", "macs", "flops"), CONV_CASES)
def test_conv_variants(
    module: Any, shape: tuple[int, ...], out: tuple[int, ...], macs: int, flops: int
) -> None:
    net = _net(module, torch.randn(*shape))
    op = _only(net, "conv")
    assert op.outputs[0].shape == out == tuple(module(torch.randn(*shape)).shape)
    assert op.macs == macs
    assert op.flops == flops
    assert op.params == _n_params(module) == net.params
    assert sum(g.macs for g in op.gemms) == macs
    assert op.name == op.op_type.removeprefix("aten.")  # a bare module: the aten op
    assert op.attrs["groups"] == module.groups


def test_depthwise_conv_is_flagged() -> None:
    net = _net(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), torch.randn(1, 8, 6, 6))
    op = _only(net, "conv")
    assert op.attrs["depthwise"] is True
    assert op.gemms == (Gemm(count=8, m=36, n=1, k=9),)


def test_conv_transpose() -> None:
    module = nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1)
    net = _net(module, torch.randn(1, 4, 8, 8))
    op = _only(net, "conv")
    assert op.attrs["transposed"] is True
    assert op.outputs[0].shape == (1, 2, 18, 18)
    assert op.macs == 4 * 64 * 2 * 9
    assert op.params == 4 * 2 * 9 + 2 == _n_params(module)


# --- dense layers and matmuls --------------------------------------------------------


def test_linear_on_3d_input() -> None:
    module = nn.Linear(16, 32)
    op = _only(_net(module, torch.randn(2, 5, 16)), "gemm")
    assert op.op_type == "aten.linear"
    assert op.outputs[0].shape == (2, 5, 32)
    assert op.macs == 10 * 16 * 32
    assert op.flops == 10 * 32  # bias
    assert op.gemms == (Gemm(count=1, m=10, n=32, k=16),)
    assert [w.name for w in op.weights] == ["weight", "bias"]
    assert op.params == 16 * 32 + 32


class ParamMatmul(nn.Module):
    """``x @ w.t()`` and ``addmm``: a view of a parameter is still that parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(8, 16))
        self.b = nn.Parameter(torch.randn(8))

    def forward(self, x: Any) -> Any:
        y = x @ self.w.t()
        return torch.addmm(self.b, x, self.w.t()) + y


def test_parameter_views_stay_weights() -> None:
    module = ParamMatmul()
    net = _net(module, torch.randn(3, 16))
    gemms = net.by_kind("gemm")
    assert len(gemms) == 2
    assert all(o.macs == 3 * 16 * 8 for o in gemms)
    first, second = gemms
    assert [w.name for w in first.weights] == ["w"]
    # the second read of w is a buffer: parameters are counted once
    assert [w.name for w in second.weights] == ["b"]
    assert [b.name for b in second.buffers] == ["w"]
    assert second.flops == 3 * 8  # bias add
    assert net.params == _n_params(module)
    assert not net.by_kind("shape")  # w.t() folds into the weight


class MatMuls(nn.Module):
    def forward(self, a: Any, b: Any, c: Any, d: Any) -> Any:
        return torch.bmm(a, b), torch.matmul(c, d), torch.baddbmm(torch.zeros(2, 3, 5), a, b)


def test_bmm_matmul_baddbmm_of_activations() -> None:
    net = _net(
        MatMuls(), torch.randn(2, 3, 4), torch.randn(2, 4, 5), torch.randn(2, 1, 3, 4),
        torch.randn(5, 4, 6),
    )  # fmt: skip
    bmm, mm, baddbmm = net.by_kind("matmul")
    assert bmm.macs == 2 * 3 * 5 * 4
    assert bmm.gemms == (Gemm(count=2, m=3, n=5, k=4),)
    assert mm.outputs[0].shape == (2, 5, 3, 6)
    assert mm.macs == 10 * 3 * 6 * 4
    assert baddbmm.macs == bmm.macs
    assert baddbmm.flops == 2 * 3 * 5  # the added term
    assert not bmm.weights and len(bmm.inputs) == 2


# --- attention -----------------------------------------------------------------------


class Attention(nn.Module):
    def __init__(self, gqa: bool = False, mask: bool = False) -> None:
        super().__init__()
        self.gqa, self.mask = gqa, mask

    def forward(self, q: Any, k: Any, v: Any) -> Any:
        m = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool) if self.mask else None
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=self.gqa)


@pytest.mark.parametrize(("gqa", "mask"), [(False, False), (True, False), (False, True)])
def test_sdpa(gqa: bool, mask: bool) -> None:
    kv_heads = 2 if gqa else 4
    q = torch.randn(2, 4, 8, 16)
    k = torch.randn(2, kv_heads, 10, 16)
    v = torch.randn(2, kv_heads, 10, 16)
    op = _only(_net(Attention(gqa, mask), q, k, v), "attention")
    scores = 2 * 4 * 8 * 10
    assert op.op_type == "aten.scaled_dot_product_attention"
    assert op.macs == scores * 16 * 2
    assert op.flops == scores * 6 + (scores if mask else 0)
    assert op.outputs[0].shape == (2, 4, 8, 16)


# --- normalization -------------------------------------------------------------------


def test_batch_norm_buffers_are_not_params() -> None:
    module = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))
    net = _net(module, torch.randn(1, 3, 6, 6))
    bn = _only(net, "norm")
    assert bn.name == "1"
    assert bn.params == 16
    assert [b.name for b in bn.buffers] == ["1.running_mean", "1.running_var"]
    assert bn.flops == 2 * 8 * 16
    assert net.params == _n_params(module) == 8 * 27 + 16
    assert bn.weight_bytes == 4 * 4 * 8  # weight, bias, mean, var at fp32


@pytest.mark.parametrize(
    ("module", "shape", "params", "flops_per"),
    [
        (nn.LayerNorm(16), (2, 5, 16), 32, 7),
        (nn.GroupNorm(2, 8), (2, 8, 4, 4), 16, 7),
        (nn.BatchNorm1d(6, affine=False), (3, 6), 0, 2),
        (nn.RMSNorm(16), (2, 5, 16), 16, 5),
    ],
)
def test_other_norms(module: Any, shape: tuple[int, ...], params: int, flops_per: int) -> None:
    net = _net(module, torch.randn(*shape))
    op = _only(net, "norm")
    assert op.params == params == net.params == _n_params(module)
    n = 1
    for d in shape:
        n *= d
    assert op.flops == flops_per * n


# --- pooling -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "shape", "out", "flops"),
    [
        (nn.MaxPool2d(3, 2, 1), (1, 4, 8, 8), (1, 4, 4, 4), 9 * 64),
        (nn.AvgPool2d(2), (1, 4, 8, 8), (1, 4, 4, 4), 5 * 64),
        (nn.AdaptiveAvgPool2d(1), (1, 4, 8, 8), (1, 4, 1, 1), 65 * 4),
        (nn.AdaptiveAvgPool2d(4), (1, 4, 8, 8), (1, 4, 4, 4), 5 * 64),
        # windows of 3, 4 and 3 rows and columns: 10 x 10 reads per channel, + 9 divides
        (nn.AdaptiveAvgPool2d(3), (1, 4, 8, 8), (1, 4, 3, 3), 4 * 100 + 36),
        # torch drops the last ceil-mode window (it would start in the padding): 3, not 4
        (nn.MaxPool2d(2, 2, padding=1, ceil_mode=True), (1, 1, 5, 5), (1, 1, 3, 3), 4 * 9),
        (nn.MaxPool1d(2), (1, 3, 8), (1, 3, 4), 2 * 12),
        (nn.AdaptiveMaxPool2d(1), (1, 2, 4, 4), (1, 2, 1, 1), 16 * 2),
    ],
)
def test_pooling(module: Any, shape: tuple[int, ...], out: tuple[int, ...], flops: int) -> None:
    op = _only(_net(module, torch.randn(*shape)), "pool")
    assert op.outputs[0].shape == out == tuple(module(torch.randn(*shape)).shape)
    assert op.flops == flops


# --- activations, elementwise, softmax, reductions -----------------------------------


@pytest.mark.parametrize(
    ("module", "flops_per"),
    [
        (nn.ReLU(), 1), (nn.ReLU6(), 2), (nn.Hardtanh(-2.0, 2.0), 2), (nn.GELU(), 8),
        (nn.GELU("tanh"), 8), (nn.SiLU(), 5), (nn.Sigmoid(), 4), (nn.Tanh(), 1),
        (nn.Hardswish(), 4), (nn.Hardsigmoid(), 3), (nn.LeakyReLU(0.1), 2), (nn.ELU(), 3),
        (nn.Mish(), 7),
    ],
)  # fmt: skip
def test_activations(module: Any, flops_per: int) -> None:
    op = _only(_net(module, torch.randn(2, 3, 4)), "activation")
    assert op.flops == flops_per * 24


def test_prelu_slope_is_a_weight() -> None:
    module = nn.PReLU(3)
    net = _net(module, torch.randn(2, 3, 4, 4))
    op = _only(net, "activation")
    assert op.params == 3 == net.params


class Arith(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(4))
        self.register_buffer("shift", torch.zeros(4))

    def forward(self, x: Any, y: Any) -> Any:
        a = x * self.scale + self.shift
        b = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)
        c = (x - y) / 2
        return (
            a,
            b,
            torch.exp(-c),
            x.sum(),
            x.amax(dim=0),
            torch.softmax(x, -1),
            F.log_softmax(x, 0),
        )


def test_elementwise_softmax_reduce() -> None:
    net = _net(Arith(), torch.randn(3, 4), torch.randn(3, 4))
    by_name = {o.name: o for o in net.ops}
    mul, add = by_name["mul"], by_name["add"]
    assert mul.kind == "elementwise" and [w.name for w in mul.weights] == ["scale"]
    assert mul.flops == 12
    assert not add.weights and [b.name for b in add.buffers] == ["shift"]
    assert by_name["pow"].flops == 12
    assert by_name["mean"].kind == "reduce" and by_name["mean"].flops == 12
    assert by_name["add_1"].flops == 3  # + eps, a scalar: one operation per element
    assert by_name["rsqrt"].flops == 2 * 3
    assert by_name["sub"].flops == 12 and len(by_name["sub"].inputs) == 2
    assert by_name["neg"].flops == by_name["exp"].flops == 12
    assert by_name["sum"].outputs[0].shape == ()
    assert by_name["amax"].outputs[0].shape == (4,)
    assert by_name["softmax"].kind == "softmax" and by_name["softmax"].flops == 60
    assert by_name["log_softmax"].kind == "softmax"
    assert net.params == 4


class ChannelScale(nn.Module):
    """A leaf module of several nodes: a viewed per-channel parameter, then a shift."""

    def __init__(self) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(8))

    def forward(self, x: Any) -> Any:
        return x * self.gamma.view(1, -1, 1, 1) + 1.0


def test_viewed_parameter_operand_and_leaf_module_names() -> None:
    module = nn.Sequential(nn.Conv2d(3, 8, 1, bias=False), ChannelScale())
    net = _net(module, torch.randn(2, 3, 4, 4))
    assert [o.name for o in net.ops] == ["0", "1.mul", "1.add"]
    mul = net.op("1.mul")
    assert [w.name for w in mul.weights] == ["1.gamma"]
    assert mul.flops == 2 * 8 * 16
    assert net.params == _n_params(module)
    assert not net.unmodeled


def test_embedding() -> None:
    module = nn.Embedding(100, 8)
    net = _net(module, torch.randint(0, 100, (2, 5)))
    op = _only(net, "embedding")
    assert op.inputs[0].dtype == "int64"
    assert op.outputs[0].shape == (2, 5, 8)
    assert op.params == 800 == net.params
    assert op.macs == op.flops == 0


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, idx: Any) -> Any:
        return self.head(self.emb(idx))


def test_tied_weights_counted_once() -> None:
    module = Tied()
    net = _net(module, torch.randint(0, 10, (2, 3)))
    assert net.params == _n_params(module) == 40
    head = net.op("head")
    assert head.macs == 6 * 4 * 10
    assert not head.weights and [b.name for b in head.buffers] == ["head.weight"]


# --- shape ops -----------------------------------------------------------------------


class Shapes(nn.Module):
    def forward(self, x: Any) -> Any:
        v = x.view(2, 3, 16).flatten(1).unsqueeze(0).squeeze(0).reshape(2, 48)
        e = x[:, :1].expand(2, 3, 4, 4)
        p = x.permute(0, 2, 3, 1).contiguous()
        t = x.transpose(1, 2)
        a, b = x.chunk(2, dim=3)
        c = torch.cat([a, b], 1)
        s = x[:, 1:, 0]
        pad = F.pad(x, (1, 1))
        return v, e, p, t, c, s, pad, x.detach(), x.clone()


def test_shape_ops_copies_vs_views() -> None:
    net = _net(Shapes(), torch.randn(2, 3, 4, 4))
    copies = {o.op_type.removeprefix("aten."): o.copies for o in net.by_kind("shape")}
    for view in ("view", "flatten", "unsqueeze", "squeeze", "reshape", "expand", "detach"):
        assert copies[view] is False, view
    for copy in ("permute", "contiguous", "transpose", "chunk", "cat", "slice", "select",
                 "pad", "clone"):  # fmt: skip
        assert copies[copy] is True, copy
    views = [o for o in net.by_kind("shape") if not o.copies]
    assert all(o.input_bytes == o.output_bytes == 0 for o in views)
    chunk = next(o for o in net.ops if o.op_type == "aten.chunk")
    assert [t.shape for t in chunk.outputs] == [(2, 3, 4, 2), (2, 3, 4, 2)]
    cat = next(o for o in net.ops if o.op_type == "aten.cat")
    assert [t.name for t in cat.inputs] == [t.name for t in chunk.outputs]


# --- unmodeled ops, precision, errors ------------------------------------------------


class WithFFT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x: Any) -> Any:
        return torch.fft.fft(self.fc(x)).abs()


def test_unmapped_op_is_listed_not_dropped() -> None:
    net = _net(WithFFT(), torch.randn(2, 8))
    assert [(u.name, u.op_type) for u in net.unmodeled] == [("fft_fft", "aten.fft_fft")]
    assert net.unmodeled[0].outputs[0].dtype == "complex64"
    assert net.op("fc").macs == 2 * 8 * 8
    assert net.by_kind("elementwise")  # abs after the fft is still modeled


@torch.library.custom_op("codesign_test::twice", mutates_args=(), schema="(Tensor x) -> Tensor")
def _twice(x: Any) -> Any:
    return x * 2


@_twice.register_fake
def _twice_fake(x: Any) -> Any:
    return torch.empty_like(x)


class WithCustomOp(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 4)

    def forward(self, x: Any) -> Any:
        return self.body(_twice(x))


def test_custom_op_is_unmodeled() -> None:
    net = _net(WithCustomOp(), torch.randn(2, 4))
    assert [u.op_type for u in net.unmodeled] == ["codesign_test.twice"]
    assert net.unmodeled[0].inputs[0].shape == (2, 4)
    assert net.params == 20


@pytest.mark.parametrize(
    ("dtype", "precision"),
    [(torch.float32, "fp32"), (torch.float16, "fp16"), (torch.bfloat16, "bf16")],
)
def test_precision_from_parameter_dtype(dtype: Any, precision: str) -> None:
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()).to(dtype)
    net = _net(module, torch.randn(1, 3, 6, 6, dtype=dtype))
    assert {o.weight_precision for o in net.ops} == {precision}
    assert {o.act_precision for o in net.ops} == {precision}
    assert net.ops[0].outputs[0].dtype == str(dtype).removeprefix("torch.")


def test_precision_override() -> None:
    net = _net(nn.Linear(4, 4), torch.randn(1, 4), precision="int8", name="tiny")
    assert net.name == "tiny"
    assert net.ops[0].weight_precision == "int8"
    assert net.ops[0].weight_bytes == 20


def test_dynamic_shapes_count_at_example_sizes() -> None:
    batch = torch.export.Dim("batch", min=1, max=64)
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 16, 2))
    net = _net(module, torch.randn(4, 3, 6, 6), dynamic_shapes=({0: batch},))
    assert net.inputs[0].shape == (4, 3, 6, 6)
    assert net.macs == 4 * (4 * 16 * 27 + 64 * 2)


def test_pt2_archive_round_trip(tmp_path: Any) -> None:
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(64, 5))
    x = torch.randn(2, 3, 6, 6)
    path = tmp_path / "small.pt2"
    torch.export.save(torch.export.export(module.eval(), (x,), strict=False), str(path))
    from_file = network_from_pt2(path)
    direct = _net(module, x)
    assert from_file.name == "small"
    assert [o.name for o in from_file.ops] == [o.name for o in direct.ops]
    assert (from_file.macs, from_file.params) == (direct.macs, direct.params)


def test_pt2_errors(tmp_path: Any) -> None:
    from codesign_playground.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError):
        network_from_pt2(tmp_path / "missing.pt2")
    bad = tmp_path / "bad.pt2"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelFormatError) as info:
        network_from_pt2(bad)
    assert "\n" not in str(info.value)


class DataDependent(nn.Module):
    def forward(self, x: Any) -> Any:
        if x.sum() > 0:
            return x * 2
        return x


@pytest.mark.parametrize(
    ("module", "inputs", "match"),
    [
        (DataDependent(), (torch.randn(3),), "torch.export of DataDependent failed"),
        (nn.Linear(4, 2), (torch.randn(3, 5),), "torch.export of Linear failed"),
        (nn.Linear(4, 2), "not inputs", "example_inputs"),
        ("not a module", (torch.randn(3),), "torch.nn.Module"),
    ],
)
def test_errors_are_one_line(
    module: Any, inputs: Any, match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ModelFormatError, match=match) as info:
        network_from_torch(module, inputs)
    assert "\n" not in str(info.value)
    assert "Traceback" not in capsys.readouterr().err


def test_missing_torch_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(UnsupportedError, match=r"\[torch\] extra"):
        network_from_torch(object(), ())


def test_op_table_covers_the_families() -> None:
    expected = {
        "aten.conv2d": "conv", "aten.convolution": "conv", "aten.linear": "gemm|matmul",
        "aten.addmm": "gemm|matmul", "aten.bmm": "gemm|matmul",
        "aten.scaled_dot_product_attention": "attention", "aten.relu": "activation",
        "aten.add": "elementwise", "aten.batch_norm": "norm", "aten.layer_norm": "norm",
        "aten._softmax": "softmax", "aten.max_pool2d": "pool", "aten.mean": "reduce",
        "aten.embedding": "embedding", "aten.view": "shape (view)",
        "aten.permute": "shape (copy)",
    }  # fmt: skip
    for op, kind in expected.items():
        assert ATEN_KINDS[op] == kind, op
