"""A Llama-style decoder, after HuggingFace ``transformers.LlamaForCausalLM``; dimensions
default to Llama-2-7B (``meta-llama/Llama-2-7b-hf``: hidden 4096, 32 layers, 32 heads,
SwiGLU FFN 11008, vocabulary 32000, RMSNorm, rotary position embeddings, untied LM head).

Two phases are built:

* **prefill** over ``seq_len`` tokens: causal attention over the prompt; the K and V of
  every layer are written to the KV cache; the LM head runs on the last position only
  (what generation needs: HuggingFace's ``logits_to_keep=1``, vLLM's prefill).
* **decode**: one new token whose K and V are written to the cache at position
  ``kv_len`` and which attends to all ``kv_len + 1`` positions. The cache is a static
  buffer, a network input per layer (``model.layers.<i>.self_attn.key_cache`` /
  ``value_cache``, ``(B, kv_heads, kv_len + 1, head_dim)``), and it is an input of the
  attention matmuls, so reading it counts in their bytes; the write counts one row.

Attention is expanded into its ops: Q K^T and P V as ``matmul`` ops with the scaling, the
causal mask (prefill) and the softmax between (see ``GraphBuilder.attention``). Rotary
embeddings are elementwise ops: ``model.rotary_emb`` computes ``cos`` and ``sin`` once
from the positions, and each layer applies ``x * cos + rotate_half(x) * sin`` to Q and K
(``rotate_half`` is a copying shape op). With fewer KV heads than heads (grouped-query
attention, e.g. Llama-2-70B's 8 KV heads for 64 heads) the K and V projections, the cache
and its reads are ``num_key_value_heads`` wide; each group of query heads attends to its
shared K/V head as fused GQA kernels do (``GraphBuilder.attention``), with no copy of K
and V up to the head count (HuggingFace's eager ``repeat_kv`` makes one; its sdpa path
passes ``enable_gqa`` where it can).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from codesign_playground.workload.ir import Network, Precision, TensorSpec
from codesign_playground.workload.zoo._builder import GraphBuilder

__all__ = ["LLAMA2_7B", "LlamaConfig", "build_llama"]


@dataclass(frozen=True, slots=True)
class LlamaConfig:
    """The dimensions of a Llama-style decoder (HuggingFace ``LlamaConfig`` field names)."""

    hidden_size: int = 4096
    num_hidden_layers: int = 32
    num_attention_heads: int = 32
    num_key_value_heads: int = 32
    intermediate_size: int = 11008
    vocab_size: int = 32000
    tie_word_embeddings: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


LLAMA2_7B = LlamaConfig()


def _rotary(
    b: GraphBuilder, name: str, x: TensorSpec, cos: TensorSpec, sin: TensorSpec
) -> TensorSpec:
    """``x * cos + rotate_half(x) * sin`` (HuggingFace ``apply_rotary_pos_emb``)."""
    with b.scope(name):
        rot = b.permute("rotate_half", x, x.shape, op_type="RotateHalf")
        a = b.mul("mul_cos", x, cos)
        c = b.mul("mul_sin", rot, sin)
        return b.add("add", a, c)


def _attention(
    b: GraphBuilder,
    cfg: LlamaConfig,
    x: TensorSpec,
    cos: TensorSpec,
    sin: TensorSpec,
    layer: int,
    kv_len: int | None,
) -> TensorSpec:
    bsz, seq, _ = x.shape
    h, hkv, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    q = b.split_heads("transpose_q", b.linear("q_proj", x, h * d, bias=False), h)
    k = b.split_heads("transpose_k", b.linear("k_proj", x, hkv * d, bias=False), hkv)
    v = b.split_heads("transpose_v", b.linear("v_proj", x, hkv * d, bias=False), hkv)
    q = _rotary(b, "rotary_q", q, cos, sin)
    k = _rotary(b, "rotary_k", k, cos, sin)
    b.permute("key_cache_update", k, k.shape, op_type="CacheWrite")
    b.permute("value_cache_update", v, v.shape, op_type="CacheWrite")
    if kv_len is not None:  # decode: attend to the whole cache, new row included
        cache_shape = (bsz, hkv, kv_len + 1, d)
        k = b.input(f"model.layers.{layer}.self_attn.key_cache", cache_shape)
        v = b.input(f"model.layers.{layer}.self_attn.value_cache", cache_shape)
    ctx = b.attention(q, k, v, scale_op="Mul", causal=kv_len is None and seq > 1)
    ctx = b.merge_heads("merge_heads", ctx)
    return b.linear("o_proj", ctx, cfg.hidden_size, bias=False)


def _decoder_layer(
    b: GraphBuilder,
    cfg: LlamaConfig,
    x: TensorSpec,
    cos: TensorSpec,
    sin: TensorSpec,
    layer: int,
    kv_len: int | None,
) -> TensorSpec:
    y = b.rms_norm("input_layernorm", x)
    with b.scope("self_attn"):
        y = _attention(b, cfg, y, cos, sin, layer, kv_len)
    x = b.add("add", x, y)
    y = b.rms_norm("post_attention_layernorm", x)
    with b.scope("mlp"):
        g = b.linear("gate_proj", y, cfg.intermediate_size, bias=False)
        g = b.activation("act_fn", "SiLU", g)
        u = b.linear("up_proj", y, cfg.intermediate_size, bias=False)
        y = b.linear("down_proj", b.mul("mul", g, u), cfg.hidden_size, bias=False)
    return b.add("add_1", x, y)


def build_llama(
    phase: Literal["prefill", "decode"],
    *,
    batch: int,
    seq_len: int = 1,
    kv_len: int = 0,
    precision: Precision,
    config: LlamaConfig = LLAMA2_7B,
    name: str | None = None,
) -> Network:
    """A prefill over ``seq_len`` tokens, or one decode step after ``kv_len`` cached ones."""
    cfg = config
    decode = phase == "decode"
    seq = 1 if decode else seq_len
    label = name or f"llama2_7b_{phase}"
    b = GraphBuilder(
        label, precision=precision, source=f"zoo:{label} (HuggingFace LlamaForCausalLM)"
    )
    ids = b.input("input_ids", (batch, seq), "int64")
    positions = b.input("position_ids", (1, seq), "int64")
    d = cfg.head_dim
    with b.scope("model"):
        x, embed = b.embedding("embed_tokens", ids, cfg.vocab_size, cfg.hidden_size)
        with b.scope("rotary_emb"):
            pos = b.permute("cast", positions, (1, seq, 1), op_type="Cast", dtype="float32")
            freqs = b.with_constant("freqs", "Mul", pos, (d // 2,), buffer="inv_freq")
            emb = b.concat("cat", [freqs, freqs], -1)
            cos = b.view("unsqueeze_cos", b.activation("cos", "Cos", emb), (1, 1, seq, d))
            sin = b.view("unsqueeze_sin", b.activation("sin", "Sin", emb), (1, 1, seq, d))
        for i in range(cfg.num_hidden_layers):
            with b.scope("layers", i):
                x = _decoder_layer(b, cfg, x, cos, sin, i, kv_len if decode else None)
        x = b.rms_norm("norm", x)
    if not decode:
        x = b.select("last_token", x, 1)
    if cfg.tie_word_embeddings:
        logits = b.tied_linear("lm_head", x, embed.weights[0])
    else:
        logits = b.linear("lm_head", x, cfg.vocab_size, bias=False)
    return b.build([logits])
