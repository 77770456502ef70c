"""ResNet-18 and ResNet-50, after ``torchvision.models.resnet`` (v1.5: in a bottleneck the
stride is on the 3x3 convolution).

Every convolution is bias-free and followed by a ``BatchNorm2d`` (weight and bias are
parameters, running mean and variance buffers); op names are torchvision's module paths
(``layer1.0.conv1``, ``layer2.0.downsample.0``), with ``add`` for the residual sum and
``relu_1`` for the block's second use of its ``relu`` module. Ops follow ``forward`` order:
a block's ``downsample`` branch comes after its main branch, as in a trace.
"""

from __future__ import annotations

from codesign_playground.workload.ir import Network, Precision, TensorSpec
from codesign_playground.workload.zoo._builder import GraphBuilder

__all__ = ["build_resnet"]

#: blocks per stage and block type for each depth
_LAYERS = {18: ("basic", (2, 2, 2, 2)), 50: ("bottleneck", (3, 4, 6, 3))}


def _basic_block(b: GraphBuilder, x: TensorSpec, planes: int, stride: int) -> TensorSpec:
    inplanes = x.shape[1]
    out = b.conv2d("conv1", x, planes, 3, stride=stride, padding=1)
    out = b.batch_norm("bn1", out)
    out = b.activation("relu", "Relu", out)
    out = b.conv2d("conv2", out, planes, 3, padding=1)
    out = b.batch_norm("bn2", out)
    identity = x
    if stride != 1 or inplanes != planes:
        with b.scope("downsample"):
            identity = b.conv2d("0", x, planes, 1, stride=stride)
            identity = b.batch_norm("1", identity)
    out = b.add("add", out, identity)
    return b.activation("relu", "Relu", out)


def _bottleneck(b: GraphBuilder, x: TensorSpec, planes: int, stride: int) -> TensorSpec:
    inplanes = x.shape[1]
    width = planes  # base_width 64, groups 1
    expansion = 4
    out = b.conv2d("conv1", x, width, 1)
    out = b.batch_norm("bn1", out)
    out = b.activation("relu", "Relu", out)
    out = b.conv2d("conv2", out, width, 3, stride=stride, padding=1)
    out = b.batch_norm("bn2", out)
    out = b.activation("relu", "Relu", out)
    out = b.conv2d("conv3", out, planes * expansion, 1)
    out = b.batch_norm("bn3", out)
    identity = x
    if stride != 1 or inplanes != planes * expansion:
        with b.scope("downsample"):
            identity = b.conv2d("0", x, planes * expansion, 1, stride=stride)
            identity = b.batch_norm("1", identity)
    out = b.add("add", out, identity)
    return b.activation("relu", "Relu", out)


def build_resnet(
    depth: int, *, batch: int, resolution: int, precision: Precision, num_classes: int = 1000
) -> Network:
    """torchvision ``resnet18`` / ``resnet50`` on a ``batch x 3 x resolution^2`` image."""
    kind, layers = _LAYERS[depth]
    block = _basic_block if kind == "basic" else _bottleneck
    b = GraphBuilder(
        f"resnet{depth}", precision=precision, source=f"zoo:resnet{depth} (torchvision)"
    )
    x = b.input("x", (batch, 3, resolution, resolution))
    x = b.conv2d("conv1", x, 64, 7, stride=2, padding=3)
    x = b.batch_norm("bn1", x)
    x = b.activation("relu", "Relu", x)
    x = b.max_pool2d("maxpool", x, 3, 2, 1)
    for stage, (planes, n) in enumerate(zip((64, 128, 256, 512), layers, strict=True), 1):
        for i in range(n):
            stride = 2 if stage > 1 and i == 0 else 1
            with b.scope(f"layer{stage}", i):
                x = block(b, x, planes, stride)
    x = b.adaptive_avg_pool2d("avgpool", x, 1)
    x = b.flatten("flatten", x)
    x = b.linear("fc", x, num_classes)
    return b.build([x])
