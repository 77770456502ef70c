"""BERT-base (uncased), after HuggingFace ``transformers.BertModel`` with its pooler.

Embeddings: word (30522 x 768), position (512 x 768) and token type (2 x 768) lookups
summed, then ``LayerNorm``. Twelve post-LN layers: ``attention.self.query/key/value``
(768 -> 768 gemms with bias), heads split, attention, heads merged,
``attention.output.dense`` + residual + ``LayerNorm``, ``intermediate.dense`` (768 -> 3072)
+ GELU, ``output.dense`` (3072 -> 768) + residual + ``LayerNorm``. The pooler is a
768 -> 768 dense layer with tanh on the first token.

Attention is expanded into its ops: Q K^T and P V as ``matmul`` ops with the ``/ sqrt(d)``
scaling and the softmax between (see ``GraphBuilder.attention``). The batch is unpadded,
so no padding mask is applied (an all-ones mask is dropped, as HuggingFace's SDPA path does).
"""

from __future__ import annotations

from codesign_playground.workload.ir import Network, Precision, TensorSpec
from codesign_playground.workload.zoo._builder import GraphBuilder

__all__ = ["MAX_POSITIONS", "build_bert_base"]

VOCAB = 30522
HIDDEN = 768
LAYERS = 12
HEADS = 12
INTERMEDIATE = 3072
MAX_POSITIONS = 512
TYPE_VOCAB = 2


def _layer(b: GraphBuilder, x: TensorSpec) -> TensorSpec:
    with b.scope("attention"):
        with b.scope("self"):
            q = b.split_heads("transpose_q", b.linear("query", x, HIDDEN), HEADS)
            k = b.split_heads("transpose_k", b.linear("key", x, HIDDEN), HEADS)
            v = b.split_heads("transpose_v", b.linear("value", x, HIDDEN), HEADS)
            ctx = b.attention(q, k, v, scale_op="Div")
            ctx = b.merge_heads("merge_heads", ctx)
        with b.scope("output"):
            y = b.linear("dense", ctx, HIDDEN)
            y = b.add("add", y, x)
            x = b.layer_norm("LayerNorm", y)
    with b.scope("intermediate"):
        y = b.linear("dense", x, INTERMEDIATE)
        y = b.activation("intermediate_act_fn", "Gelu", y)
    with b.scope("output"):
        y = b.linear("dense", y, HIDDEN)
        y = b.add("add", y, x)
        return b.layer_norm("LayerNorm", y)


def build_bert_base(*, batch: int, seq_len: int, precision: Precision) -> Network:
    """HuggingFace ``BertModel`` (bert-base-uncased) on ``batch x seq_len`` tokens."""
    b = GraphBuilder(
        "bert_base", precision=precision, source="zoo:bert_base (HuggingFace bert-base-uncased)"
    )
    ids = b.input("input_ids", (batch, seq_len), "int64")
    types = b.input("token_type_ids", (batch, seq_len), "int64")
    positions = b.input("position_ids", (1, seq_len), "int64")
    with b.scope("embeddings"):
        x, _ = b.embedding("word_embeddings", ids, VOCAB, HIDDEN)
        t, _ = b.embedding("token_type_embeddings", types, TYPE_VOCAB, HIDDEN)
        x = b.add("add", x, t)
        p, _ = b.embedding("position_embeddings", positions, MAX_POSITIONS, HIDDEN)
        x = b.add("add", x, p)
        x = b.layer_norm("LayerNorm", x)
    for i in range(LAYERS):
        with b.scope("encoder", "layer", i):
            x = _layer(b, x)
    with b.scope("pooler"):
        first = b.select("first_token", x, 1, 0)
        pooled = b.linear("dense", first, HIDDEN)
        pooled = b.activation("activation", "Tanh", pooled)
    return b.build([x, pooled])
