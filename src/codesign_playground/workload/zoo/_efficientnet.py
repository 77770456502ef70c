"""EfficientNet-B0, after ``torchvision.models.efficientnet_b0``.

MBConv blocks: an optional 1x1 expansion, a depthwise k x k convolution, squeeze-and-
excitation (global average pool, ``fc1`` 1x1 conv with bias, SiLU, ``fc2`` 1x1 conv with
bias, sigmoid, channel-wise scale; squeeze width ``max(1, in_channels // 4)``) and a 1x1
projection without activation; the residual is added when stride is 1 and channels are
kept. Stochastic depth is the identity at inference and is left out, as is dropout.
Activations are SiLU. The width multiplier scales channels through ``_make_divisible``
(torchvision's ``adjust_channels``); the last conv has 4x the channels of its input.
Op names are torchvision's (``features.2.0.block.1.0``, ``features.2.0.block.2.fc1``).
"""

from __future__ import annotations

from codesign_playground.workload.ir import Network, Precision, TensorSpec
from codesign_playground.workload.zoo._builder import GraphBuilder
from codesign_playground.workload.zoo._mobilenet import make_divisible

__all__ = ["B0_SETTING", "build_efficientnet_b0"]

#: expand_ratio, kernel, stride, input_channels, out_channels, num_layers
B0_SETTING: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)


def _conv_bn(
    b: GraphBuilder,
    name: str,
    x: TensorSpec,
    out: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    act: bool = True,
) -> TensorSpec:
    """``Conv2dNormActivation`` (SiLU, or no activation) as submodule ``name``."""
    with b.scope(name):
        x = b.conv2d("0", x, out, kernel, stride=stride, padding=(kernel - 1) // 2, groups=groups)
        x = b.batch_norm("1", x)
        if act:
            x = b.activation("2", "SiLU", x)
        return x


def _mbconv(
    b: GraphBuilder, x: TensorSpec, expand_ratio: int, kernel: int, stride: int, out_c: int
) -> TensorSpec:
    inp = x.shape[1]
    expanded = make_divisible(inp * expand_ratio)
    use_res = stride == 1 and inp == out_c
    out = x
    with b.scope("block"):
        i = 0
        if expanded != inp:
            out = _conv_bn(b, str(i), out, expanded, 1)
            i += 1
        out = _conv_bn(b, str(i), out, expanded, kernel, stride=stride, groups=expanded)
        i += 1
        squeeze = max(1, inp // 4)
        with b.scope(i):
            s = b.adaptive_avg_pool2d("avgpool", out, 1)
            s = b.conv2d("fc1", s, squeeze, 1, bias=True)
            s = b.activation("activation", "SiLU", s)
            s = b.conv2d("fc2", s, expanded, 1, bias=True)
            s = b.activation("scale_activation", "Sigmoid", s)
            out = b.mul("mul", s, out)
        i += 1
        out = _conv_bn(b, str(i), out, out_c, 1, act=False)
    if use_res:
        out = b.add("add", out, x)
    return out


def build_efficientnet_b0(
    *, batch: int, resolution: int, width: float, precision: Precision, num_classes: int = 1000
) -> Network:
    """torchvision ``efficientnet_b0`` (width multiplier ``width``, depth 1.0)."""
    b = GraphBuilder(
        "efficientnet_b0", precision=precision, source="zoo:efficientnet_b0 (torchvision)"
    )
    x = b.input("x", (batch, 3, resolution, resolution))
    with b.scope("features"):
        x = _conv_bn(b, "0", x, make_divisible(B0_SETTING[0][3] * width), 3, stride=2)
        for stage, (t, k, s, _cin, cout, n) in enumerate(B0_SETTING, 1):
            out_c = make_divisible(cout * width)
            for j in range(n):
                with b.scope(stage, j):
                    x = _mbconv(b, x, t, k, s if j == 0 else 1, out_c)
        x = _conv_bn(b, str(len(B0_SETTING) + 1), x, 4 * x.shape[1], 1)
    x = b.adaptive_avg_pool2d("avgpool", x, 1)
    x = b.flatten("flatten", x)
    with b.scope("classifier"):
        x = b.linear("1", x, num_classes)
    return b.build([x])
