"""ViT-B/16, after ``torchvision.models.vit_b_16``.

``conv_proj`` (16x16, stride 16, with bias) cuts the image into patches; the class token
(a learned ``(1, 1, 768)`` tensor, the weight of the ``class_token`` concat) is prepended
and the learned position embedding (``encoder.pos_embedding``, ``(1, N + 1, 768)``,
sized by the resolution as ``vit_b_16(image_size=...)`` does) is added. Twelve pre-LN
encoder blocks follow (``ln_1``, multi-head self-attention, residual; ``ln_2``, MLP
768-3072-768 with GELU, residual), then ``encoder.ln``, the class token is taken and
``heads.head`` classifies.

Attention is expanded into its ops, as ``nn.MultiheadAttention`` computes it: the packed
``in_proj`` (one 768 -> 2304 gemm for Q, K and V), a split into heads, Q K^T and P V as
``matmul`` ops with the scaling and softmax between (see ``GraphBuilder.attention``), heads
merged, then ``out_proj``. The MACs of the two matmuls are in the total, as in
torchvision's published 17.564 GFLOPS (which counts multiply-accumulates).
"""

from __future__ import annotations

from codesign_playground.workload.ir import Network, Precision, TensorSpec
from codesign_playground.workload.zoo._builder import GraphBuilder

__all__ = ["build_vit_b_16"]

PATCH = 16
HIDDEN = 768
LAYERS = 12
HEADS = 12
MLP = 3072


def _encoder_block(b: GraphBuilder, x: TensorSpec) -> TensorSpec:
    bsz, seq, d = x.shape
    y = b.layer_norm("ln_1", x)
    with b.scope("self_attention"):
        qkv = b.linear("in_proj", y, 3 * d)
        q, k, v = b.split("split_heads", qkv, 3, (bsz, HEADS, seq, d // HEADS))
        ctx = b.attention(q, k, v, scale_op="Mul")
        ctx = b.merge_heads("merge_heads", ctx)
        y = b.linear("out_proj", ctx, d)
    x = b.add("add", y, x)
    y = b.layer_norm("ln_2", x)
    with b.scope("mlp"):
        y = b.linear("0", y, MLP)
        y = b.activation("1", "Gelu", y)
        y = b.linear("3", y, d)
    return b.add("add_1", x, y)


def build_vit_b_16(
    *, batch: int, resolution: int, precision: Precision, num_classes: int = 1000
) -> Network:
    """torchvision ``vit_b_16(image_size=resolution)`` on a ``batch x 3 x resolution^2`` image."""
    b = GraphBuilder("vit_b_16", precision=precision, source="zoo:vit_b_16 (torchvision)")
    x = b.input("x", (batch, 3, resolution, resolution))
    x = b.conv2d("conv_proj", x, HIDDEN, PATCH, stride=PATCH, bias=True)
    n_patches = x.shape[2] * x.shape[3]
    x = b.view("reshape", x, (batch, HIDDEN, n_patches))
    x = b.permute("permute", x, (batch, n_patches, HIDDEN))
    x = b.concat("class_token", [x], 1, parameter_shape=(1, 1, HIDDEN))
    with b.scope("encoder"):
        x = b.add_parameter("pos_embedding", x, (1, n_patches + 1, HIDDEN))
        for i in range(LAYERS):
            with b.scope("layers", f"encoder_layer_{i}"):
                x = _encoder_block(b, x)
        x = b.layer_norm("ln", x)
    x = b.select("class_token_out", x, 1, 0)
    with b.scope("heads"):
        x = b.linear("head", x, num_classes)
    return b.build([x])
