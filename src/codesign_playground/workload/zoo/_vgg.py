"""VGG-16 (configuration "D", no batch norm), after ``torchvision.models.vgg16``.

``features`` are 3x3 convolutions with bias, each followed by ReLU, and 2x2 max pools;
``avgpool`` is ``AdaptiveAvgPool2d((7, 7))`` (an identity-sized pool at 224 x 224, still
run); the classifier is Linear-ReLU-Dropout twice then Linear. Op names are torchvision's
``features.<i>`` / ``classifier.<i>`` indices (dropout, the identity at inference, is not
an op but keeps its index).
"""

from __future__ import annotations

from codesign_playground.workload.ir import Network, Precision
from codesign_playground.workload.zoo._builder import GraphBuilder

__all__ = ["build_vgg16"]

_CFG_D: tuple[int | str, ...] = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)


def build_vgg16(
    *, batch: int, resolution: int, precision: Precision, num_classes: int = 1000
) -> Network:
    """torchvision ``vgg16`` on a ``batch x 3 x resolution^2`` image."""
    b = GraphBuilder("vgg16", precision=precision, source="zoo:vgg16 (torchvision)")
    x = b.input("x", (batch, 3, resolution, resolution))
    idx = 0
    with b.scope("features"):
        for v in _CFG_D:
            if v == "M":
                x = b.max_pool2d(str(idx), x, 2, 2)
                idx += 1
            else:
                x = b.conv2d(str(idx), x, int(v), 3, padding=1, bias=True)
                x = b.activation(str(idx + 1), "Relu", x)
                idx += 2
    x = b.adaptive_avg_pool2d("avgpool", x, 7)
    x = b.flatten("flatten", x)
    with b.scope("classifier"):
        x = b.linear("0", x, 4096)
        x = b.activation("1", "Relu", x)
        x = b.linear("3", x, 4096)
        x = b.activation("4", "Relu", x)
        x = b.linear("6", x, num_classes)
    return b.build([x])
