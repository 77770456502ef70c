"""MobileNetV2, after ``torchvision.models.mobilenet_v2``.

Channels under the width multiplier are rounded by torchvision's ``_make_divisible`` (to a
multiple of 8, never down by more than 10 %); the last feature layer keeps 1280 channels
unless the multiplier is above 1. Each ``Conv2dNormActivation`` is a bias-free conv, a
``BatchNorm2d`` and ``ReLU6``; an inverted residual adds its input when stride is 1 and
the channel count is kept. Op names are torchvision's (``features.2.conv.1.0``,
``classifier.1``).
"""

from __future__ import annotations

from codesign_playground.workload.ir import Network, Precision, TensorSpec
from codesign_playground.workload.zoo._builder import GraphBuilder

__all__ = ["INVERTED_RESIDUAL_SETTING", "build_mobilenet_v2", "make_divisible"]

#: expansion t, output channels c, repeats n, first stride s
INVERTED_RESIDUAL_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """torchvision's ``_make_divisible``: round ``v`` to a multiple of ``divisor``, never
    below ``min_value`` (default ``divisor``) nor more than 10 % below ``v``."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _conv_bn_act(
    b: GraphBuilder,
    name: str,
    x: TensorSpec,
    out: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
) -> TensorSpec:
    """``Conv2dNormActivation(..., activation_layer=nn.ReLU6)`` as submodule ``name``."""
    with b.scope(name):
        x = b.conv2d("0", x, out, kernel, stride=stride, padding=(kernel - 1) // 2, groups=groups)
        x = b.batch_norm("1", x)
        return b.activation("2", "Relu6", x)


def _inverted_residual(
    b: GraphBuilder, x: TensorSpec, oup: int, stride: int, expand_ratio: int
) -> TensorSpec:
    inp = x.shape[1]
    hidden = round(inp * expand_ratio)
    use_res = stride == 1 and inp == oup
    out = x
    with b.scope("conv"):
        i = 0
        if expand_ratio != 1:
            out = _conv_bn_act(b, str(i), out, hidden, 1)
            i += 1
        out = _conv_bn_act(b, str(i), out, hidden, 3, stride=stride, groups=hidden)
        out = b.conv2d(str(i + 1), out, oup, 1)
        out = b.batch_norm(str(i + 2), out)
    if use_res:
        out = b.add("add", x, out)
    return out


def build_mobilenet_v2(
    *, batch: int, resolution: int, width: float, precision: Precision, num_classes: int = 1000
) -> Network:
    """torchvision ``mobilenet_v2(width_mult=width)`` on a ``batch x 3 x resolution^2`` image."""
    b = GraphBuilder("mobilenet_v2", precision=precision, source="zoo:mobilenet_v2 (torchvision)")
    input_channel = make_divisible(32 * width)
    last_channel = make_divisible(1280 * max(1.0, width))
    x = b.input("x", (batch, 3, resolution, resolution))
    with b.scope("features"):
        x = _conv_bn_act(b, "0", x, input_channel, 3, stride=2)
        idx = 1
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            out_c = make_divisible(c * width)
            for i in range(n):
                with b.scope(idx):
                    x = _inverted_residual(b, x, out_c, s if i == 0 else 1, t)
                idx += 1
        x = _conv_bn_act(b, str(idx), x, last_channel, 1)
    x = b.adaptive_avg_pool2d("adaptive_avg_pool2d", x, 1)
    x = b.flatten("flatten", x)
    with b.scope("classifier"):
        x = b.linear("1", x, num_classes)
    return b.build([x])
