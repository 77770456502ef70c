"""GPT-2 (124M), after HuggingFace ``transformers.GPT2LMHeadModel``.

``transformer.wte`` (50257 x 768) and ``transformer.wpe`` (1024 x 768) lookups summed;
twelve pre-LN blocks ``transformer.h.<i>``: ``ln_1``, ``attn.c_attn`` (one packed
768 -> 2304 projection for Q, K and V), heads split, causal attention, heads merged,
``attn.c_proj``, residual; ``ln_2``, ``mlp.c_fc`` (768 -> 3072), GELU (tanh form),
``mlp.c_proj``, residual; then ``transformer.ln_f`` and ``lm_head`` over every position.

The LM head is tied to ``transformer.wte``: its MACs count and its weight is read (held as
a buffer of the ``lm_head`` op, so its bytes count), but the tied matrix is counted once
in the parameters, on the embedding.

Attention is expanded into its ops: Q K^T and P V as ``matmul`` ops with the ``/ sqrt(d)``
scaling, the additive causal mask and the softmax between (see ``GraphBuilder.attention``).
"""

from __future__ import annotations

from codesign_playground.workload.ir import Network, Precision, TensorSpec
from codesign_playground.workload.zoo._builder import GraphBuilder

__all__ = ["MAX_POSITIONS", "build_gpt2"]

VOCAB = 50257
HIDDEN = 768
LAYERS = 12
HEADS = 12
INNER = 3072
MAX_POSITIONS = 1024


def _block(b: GraphBuilder, x: TensorSpec) -> TensorSpec:
    bsz, seq, d = x.shape
    y = b.layer_norm("ln_1", x)
    with b.scope("attn"):
        qkv = b.linear("c_attn", y, 3 * d)
        q, k, v = b.split("split_heads", qkv, 3, (bsz, HEADS, seq, d // HEADS))
        ctx = b.attention(q, k, v, scale_op="Div", causal=True)
        ctx = b.merge_heads("merge_heads", ctx)
        y = b.linear("c_proj", ctx, d)
    x = b.add("add", y, x)
    y = b.layer_norm("ln_2", x)
    with b.scope("mlp"):
        y = b.linear("c_fc", y, INNER)
        y = b.activation("act", "Gelu", y)
        y = b.linear("c_proj", y, d)
    return b.add("add_1", x, y)


def build_gpt2(*, batch: int, seq_len: int, precision: Precision) -> Network:
    """HuggingFace ``GPT2LMHeadModel`` (gpt2) on ``batch x seq_len`` tokens."""
    b = GraphBuilder("gpt2", precision=precision, source="zoo:gpt2 (HuggingFace gpt2)")
    ids = b.input("input_ids", (batch, seq_len), "int64")
    positions = b.input("position_ids", (1, seq_len), "int64")
    with b.scope("transformer"):
        x, wte = b.embedding("wte", ids, VOCAB, HIDDEN)
        p, _ = b.embedding("wpe", positions, MAX_POSITIONS, HIDDEN)
        x = b.add("add", x, p)
        for i in range(LAYERS):
            with b.scope("h", i):
                x = _block(b, x)
        x = b.layer_norm("ln_f", x)
    logits = b.tied_linear("lm_head", x, wte.weights[0])
    return b.build([logits])
