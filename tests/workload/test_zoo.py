"""The built-in model zoo: published figures, agreement with ONNX exports, knobs, errors."""

from __future__ import annotations

import inspect
import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import pytest

from codesign_playground.errors import InputError, ModelNotFoundError
from codesign_playground.workload.importers.onnx_graph import network_from_onnx
from codesign_playground.workload.ir import Network
from codesign_playground.workload.zoo import (
    LLAMA2_7B,
    LlamaConfig,
    ZooEntry,
    build_zoo_model,
    list_zoo,
    make_divisible,
    zoo_entry,
)
from codesign_playground.workload.zoo._llama import build_llama
from codesign_playground.workload.zoo._mobilenet import INVERTED_RESIDUAL_SETTING

MAC_KINDS = ("conv", "gemm", "matmul", "attention")

#: Published exact parameter counts at the default knobs (sources in each ZooEntry).
EXACT_PARAMS = {
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "mobilenet_v2": 3_504_872,
    "vgg16": 138_357_544,
    "efficientnet_b0": 5_288_548,
    "vit_b_16": 86_567_656,
    "bert_base": 109_482_240,
    "gpt2": 124_439_808,
    "llama2_7b_prefill": 6_738_415_616,
    "llama2_7b_decode": 6_738_415_616,
}

#: Published MACs at batch 1, 224 x 224: exact where the figure is exact, else the
#: torchvision ``_ops`` figure (GMACs) to the digits published.
EXACT_MACS = {"resnet18": 1_814_073_344, "mobilenet_v2": 300_774_272}
ROUNDED_GMACS = {
    "resnet50": (4.089, 3),
    "vgg16": (15.47, 2),
    "efficientnet_b0": (0.386, 3),
    "vit_b_16": (17.564, 3),
}


def mac_sum(net: Network, *kinds: str) -> int:
    return sum(o.macs for o in net.ops if o.kind in (kinds or MAC_KINDS))


@pytest.fixture(scope="module")
def defaults() -> dict[str, Network]:
    return {e.name: build_zoo_model(e.name) for e in list_zoo()}


# -- published figures -------------------------------------------------------------------


def test_zoo_lists_every_model_once() -> None:
    names = [e.name for e in list_zoo()]
    assert names == list(EXACT_PARAMS)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", list(EXACT_PARAMS))
def test_params_equal_published_exact_figure(name: str, defaults: dict[str, Network]) -> None:
    assert defaults[name].params == EXACT_PARAMS[name]


@pytest.mark.parametrize("name", list(EXACT_MACS))
def test_macs_equal_published_exact_figure(name: str, defaults: dict[str, Network]) -> None:
    net = defaults[name]
    assert mac_sum(net) == net.macs == EXACT_MACS[name]


@pytest.mark.parametrize("name", list(ROUNDED_GMACS))
def test_macs_round_to_published_figure(name: str, defaults: dict[str, Network]) -> None:
    gmacs, digits = ROUNDED_GMACS[name]
    assert round(mac_sum(defaults[name]) / 1e9, digits) == pytest.approx(gmacs)


def test_exact_mac_counts_are_stable(defaults: dict[str, Network]) -> None:
    # regression pins of the exact counts behind the rounded published figures
    assert defaults["resnet50"].macs == 4_089_184_256
    assert defaults["vgg16"].macs == 15_470_264_320
    assert defaults["efficientnet_b0"].macs == 385_814_752
    assert defaults["vit_b_16"].macs == 17_563_828_224


@pytest.mark.parametrize("entry", list_zoo(), ids=lambda e: e.name)
def test_entry_reference_figures_match_and_cite_a_source(
    entry: ZooEntry, defaults: dict[str, Network]
) -> None:
    net = defaults[entry.name]
    assert entry.family and entry.description
    assert entry.knobs["batch"] == 1 and entry.knobs["precision"] == "fp32"
    params = entry.reference("params")
    assert params is not None and params.exact and params.value == EXACT_PARAMS[entry.name]
    for ref in entry.references:
        computed = net.params if ref.quantity == "params" else net.macs
        assert ref.matches(computed), (ref, computed)
        assert any(s in ref.source for s in ("torchvision", "HuggingFace"))
    if entry.name in EXACT_MACS:
        macs = entry.reference("macs")
        assert macs is not None and macs.exact and macs.value == EXACT_MACS[entry.name]


def test_vit_at_384_matches_torchvision_swag_figures() -> None:
    # ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1: 384 x 384, 86,859,496 params, 55.484 GFLOPS
    net = build_zoo_model("vit_b_16", resolution=384)
    assert net.params == 86_859_496
    assert round(net.macs / 1e9, 3) == pytest.approx(55.484)


# -- agreement with the ONNX exports -----------------------------------------------------


def _onnx_module_path(node_name: str) -> str:
    """``/layer2/layer2.0/downsample/downsample.0/Conv`` -> ``layer2.0.downsample.0``."""
    segments = node_name.strip("/").split("/")[:-1]
    parts: list[str] = []
    prev = ""
    for seg in segments:
        parts.append(seg[len(prev) + 1 :] if prev and seg.startswith(prev + ".") else seg)
        prev = seg
    return ".".join(parts)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_zoo_agrees_with_onnx_export_op_by_op(
    name: str, onnx_dir: Path, onnx_reference: dict[str, Any], defaults: dict[str, Network]
) -> None:
    zoo = defaults[name]
    onnx = network_from_onnx(onnx_dir / f"{name}.onnx")
    z_ops = zoo.by_kind("conv", "gemm")
    o_ops = onnx.by_kind("conv", "gemm")
    assert len(z_ops) == len(o_ops)
    for z, o in zip(z_ops, o_ops, strict=True):
        assert z.name == _onnx_module_path(o.name)
        assert z.kind == o.kind
        assert z.inputs[0].shape == o.inputs[0].shape, z.name
        assert z.outputs[0].shape == o.outputs[0].shape, z.name
        assert z.macs == o.macs, z.name
        assert z.weights[0].shape == o.weights[0].shape, z.name
        assert z.attrs.get("groups") == o.attrs.get("groups"), z.name
    # batch norm folded into the convolutions: gamma and beta (2C) became a C-wide bias
    bn_channels = sum(op.weights[0].elements for op in zoo.by_kind("norm"))
    assert all(op.op_type == "BatchNormalization" for op in zoo.by_kind("norm"))
    ref = onnx_reference[name]
    assert zoo.params == onnx.params + bn_channels == ref["torch_params"]
    # MACs are half the FLOPs torch's flop counter reports, per aten op too
    assert 2 * zoo.macs == 2 * onnx.macs == ref["flopcounter_flops_batch1"]
    assert 2 * mac_sum(zoo, "conv") == ref["flops_by_op"]["aten.convolution"]
    assert 2 * mac_sum(zoo, "gemm") == ref["flops_by_op"]["aten.addmm"]


# -- structure ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXACT_PARAMS))
def test_graph_is_connected_and_names_unique(name: str, defaults: dict[str, Network]) -> None:
    net = defaults[name]
    known = {t.name for t in net.inputs}
    names = [o.name for o in net.ops]
    assert len(set(names)) == len(names)
    for op in net.ops:
        for t in op.inputs:
            assert t.name in known, f"{op.name} reads {t.name} before it is produced"
        known.update(t.name for t in op.outputs)
    assert all(t.name in known for t in net.outputs)
    assert not net.unmodeled


def test_op_names_read_like_module_paths(defaults: dict[str, Network]) -> None:
    expected = {
        "resnet50": ["conv1", "layer1.0.downsample.0", "layer4.2.conv3", "fc"],
        "vgg16": ["features.0", "features.28", "classifier.6"],
        "mobilenet_v2": ["features.18.0", "classifier.1"],
        "efficientnet_b0": ["features.1.0.block.1.fc1", "features.6.3.block.3.0", "features.8.0"],
        "vit_b_16": [
            "conv_proj",
            "encoder.pos_embedding",
            "encoder.layers.encoder_layer_11.self_attention.in_proj",
            "encoder.layers.encoder_layer_0.mlp.3",
            "heads.head",
        ],
        "bert_base": [
            "embeddings.word_embeddings",
            "encoder.layer.0.attention.self.query",
            "encoder.layer.11.output.LayerNorm",
            "pooler.dense",
        ],
        "gpt2": ["transformer.wte", "transformer.h.11.attn.c_attn", "transformer.ln_f", "lm_head"],
        "llama2_7b_decode": [
            "model.embed_tokens",
            "model.layers.0.self_attn.q_proj",
            "model.layers.31.mlp.down_proj",
            "model.norm",
            "lm_head",
        ],
    }
    for model, names in expected.items():
        for n in names:
            defaults[model].op(n)  # raises KeyError when missing


def test_batch_norm_stats_are_buffers_not_params(defaults: dict[str, Network]) -> None:
    bn = defaults["resnet18"].op("bn1")
    assert [w.shape for w in bn.weights] == [(64,), (64,)]
    assert [b.shape for b in bn.buffers] == [(64,), (64,)]
    assert bn.params == 128
    assert all(not o.weights[1:] for o in defaults["resnet18"].by_kind("conv"))  # no bias


def test_efficientnet_has_squeeze_excitation_and_silu(defaults: dict[str, Network]) -> None:
    net = defaults["efficientnet_b0"]
    fc1 = net.op("features.2.0.block.2.fc1")
    assert fc1.weights[0].shape == (4, 96, 1, 1)  # squeeze = 16 // 4, expanded 16 x 6
    assert fc1.weights[1].shape == (4,)
    assert {o.op_type for o in net.by_kind("activation")} == {"SiLU", "Sigmoid"}


def test_gpt2_lm_head_is_tied(defaults: dict[str, Network]) -> None:
    net = defaults["gpt2"]
    head = net.op("lm_head")
    wte = net.op("transformer.wte")
    assert head.params == 0 and head.buffers == wte.weights
    assert head.macs == 1024 * 768 * 50257
    assert head.weight_bytes == 50257 * 768 * 4
    assert wte.params == 50257 * 768


@pytest.mark.parametrize("name", ["vit_b_16", "bert_base", "gpt2", "llama2_7b_prefill"])
def test_attention_is_expanded_into_matmuls(name: str, defaults: dict[str, Network]) -> None:
    net = defaults[name]
    assert not net.by_kind("attention")
    layers = {"vit_b_16": 12, "bert_base": 12, "gpt2": 12, "llama2_7b_prefill": 32}[name]
    assert len(net.by_kind("matmul")) == 2 * layers
    assert len(net.by_kind("softmax")) == layers


# -- knobs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "knobs"),
    [
        ("resnet18", {}),
        ("mobilenet_v2", {"width": 0.75}),
        ("vit_b_16", {}),
        ("bert_base", {"seq_len": 64}),
        ("llama2_7b_decode", {"kv_len": 100}),
    ],
)
def test_batch_scales_macs_linearly(name: str, knobs: dict[str, Any]) -> None:
    one = build_zoo_model(name, **knobs)
    four = build_zoo_model(name, batch=4, **knobs)
    assert four.macs == 4 * one.macs
    assert four.params == one.params
    assert four.inputs[0].shape[0] == 4


def test_width_multiplier_follows_make_divisible() -> None:
    # rounded to a multiple of 8, bumped up when rounding lost more than 10 %
    cases = {11.2: 16, 12.0: 16, 16 * 0.35: 8, 1280 * 1.4: 1792, 24 * 0.75: 24, 20.0: 24}
    assert {v: make_divisible(v) for v in cases} == cases
    for width in (0.35, 0.5, 0.75, 1.4):
        net = build_zoo_model("mobilenet_v2", width=width)
        assert net.op("features.0.0").outputs[0].shape[1] == make_divisible(32 * width)
        idx = 1
        for _t, c, n, _s in INVERTED_RESIDUAL_SETTING:
            for _ in range(n):
                project = next(
                    o
                    for o in reversed(net.by_kind("conv"))
                    if o.name.startswith(f"features.{idx}.")
                )
                assert project.outputs[0].shape[1] == make_divisible(c * width), project.name
                idx += 1
        last = net.op(f"features.{idx}.0").outputs[0].shape[1]
        assert last == make_divisible(1280 * max(1.0, width))
        assert net.op("classifier.1").weights[0].shape == (1000, last)
    assert build_zoo_model("mobilenet_v2", width=0.5).params < 3_504_872
    assert (
        build_zoo_model("efficientnet_b0", width=0.5).op("features.0.0").outputs[0].shape[1] == 16
    )


def test_resolution_changes_conv_macs() -> None:
    base = build_zoo_model("resnet18")
    big = build_zoo_model("resnet18", resolution=448)
    assert mac_sum(big, "conv") == 4 * mac_sum(base, "conv")
    assert mac_sum(big, "gemm") == mac_sum(base, "gemm")
    assert big.params == base.params
    small = build_zoo_model("vgg16", resolution=32)  # 1x1 features, pooled up to 7x7
    assert small.op("avgpool").outputs[0].shape == (1, 512, 7, 7)
    assert small.params == 138_357_544
    assert mac_sum(small, "conv") * 49 == mac_sum(build_zoo_model("vgg16"), "conv")


@pytest.mark.parametrize("name", ["bert_base", "gpt2", "llama2_7b_prefill"])
def test_seq_len_scales_attention_quadratically(name: str) -> None:
    short = build_zoo_model(name, seq_len=64)
    long = build_zoo_model(name, seq_len=128)
    assert mac_sum(long, "matmul") == 4 * mac_sum(short, "matmul")
    gemm_short, gemm_long = mac_sum(short, "gemm"), mac_sum(long, "gemm")
    # per-token layers scale linearly; the Llama LM head (last position only) and the
    # BERT pooler (first token only) do not
    fixed = {
        "llama2_7b_prefill": LLAMA2_7B.hidden_size * LLAMA2_7B.vocab_size,
        "bert_base": 768 * 768,
        "gpt2": 0,
    }[name]
    assert gemm_long - fixed == 2 * (gemm_short - fixed)


def _llama_linear_macs_per_token() -> int:
    c = LLAMA2_7B
    per_layer = 4 * c.hidden_size * c.hidden_size + 3 * c.hidden_size * c.intermediate_size
    return c.num_hidden_layers * per_layer + c.hidden_size * c.vocab_size


def test_llama_prefill_macs_exact() -> None:
    c, s, b = LLAMA2_7B, 300, 2
    net = build_zoo_model("llama_prefill", seq_len=s, batch=b)
    head = c.hidden_size * c.vocab_size
    attn = 2 * b * c.num_hidden_layers * c.hidden_size * s * s  # QK^T and PV, all heads
    assert net.macs == b * s * (_llama_linear_macs_per_token() - head) + b * head + attn


@pytest.mark.parametrize(("batch", "kv_len"), [(1, 0), (1, 2048), (3, 777)])
def test_llama_decode_macs_exact(batch: int, kv_len: int) -> None:
    c = LLAMA2_7B
    net = build_zoo_model("llama_decode", batch=batch, kv_len=kv_len)
    attn = 2 * batch * c.num_hidden_layers * c.hidden_size * (kv_len + 1)
    assert mac_sum(net, "matmul") == attn
    assert net.macs == batch * _llama_linear_macs_per_token() + attn
    # one token costs ~1 MAC (2 FLOPs) per parameter outside the embedding table and norms
    embed = c.vocab_size * c.hidden_size
    norms = (2 * c.num_hidden_layers + 1) * c.hidden_size
    assert mac_sum(net, "gemm") == batch * (net.params - embed - norms)


def test_llama_decode_reads_the_kv_cache() -> None:
    c, kv = LLAMA2_7B, 1000
    heads, d = c.num_attention_heads, c.head_dim
    net = build_zoo_model("llama_decode", kv_len=kv)
    qk = net.op("model.layers.5.self_attn.matmul_qk")
    pv = net.op("model.layers.5.self_attn.matmul_pv")
    cache = heads * (kv + 1) * d
    assert qk.inputs[1].elements == cache and pv.inputs[1].elements == cache
    assert qk.input_bytes == 4 * (heads * d + cache)
    assert pv.input_bytes == 4 * (heads * (kv + 1) + cache)
    cache_inputs = [t for t in net.inputs if "cache" in t.name]
    assert len(cache_inputs) == 2 * c.num_hidden_layers
    assert all(t.shape == (1, heads, kv + 1, d) for t in cache_inputs)
    write = net.op("model.layers.5.self_attn.key_cache_update")
    assert write.output_bytes == 4 * heads * d  # one new row written
    longer = build_zoo_model("llama_decode", kv_len=2 * kv)
    grown = sum(o.input_bytes for o in longer.by_kind("matmul")) - sum(
        o.input_bytes for o in net.by_kind("matmul")
    )
    assert grown == 4 * c.num_hidden_layers * heads * kv * (2 * d + 1)  # K, V rows + scores


def test_precision_changes_bytes_not_work() -> None:
    fp32 = build_zoo_model("bert_base", seq_len=32)
    fp16 = build_zoo_model("bert-base", seq_len=32, precision="FP16")
    assert fp16.macs == fp32.macs and fp16.flops == fp32.flops
    assert 2 * fp16.weight_bytes == fp32.weight_bytes
    assert all(o.weight_precision == "fp16" for o in fp16.ops)


# -- names and errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("ResNet-18", "resnet18"),
        ("RESNET50", "resnet50"),
        ("resnet_18", "resnet18"),
        ("MobileNet-V2", "mobilenet_v2"),
        ("ViT-B/16", "vit_b_16"),
        ("bert-base-uncased", "bert_base"),
        ("GPT-2", "gpt2"),
        ("llama_prefill", "llama2_7b_prefill"),
        ("llama-decode", "llama2_7b_decode"),
        ("Llama-2-7B-decode", "llama2_7b_decode"),
    ],
)
def test_names_are_case_insensitive_with_aliases(alias: str, name: str) -> None:
    assert zoo_entry(alias).name == name


def test_unknown_name_lists_close_matches() -> None:
    with pytest.raises(ModelNotFoundError, match="resnet50") as info:
        build_zoo_model("resnet51")
    assert "\n" not in str(info.value)
    with pytest.raises(ModelNotFoundError, match="llama2_7b_prefill, llama2_7b_decode"):
        build_zoo_model("lama")
    with pytest.raises(ModelNotFoundError, match="known: resnet18"):
        build_zoo_model("no-such-net")


@pytest.mark.parametrize(
    ("name", "knobs", "field"),
    [
        ("resnet50", {"seq_len": 128}, "seq_len"),
        ("resnet50", {"kv_len": 128}, "kv_len"),
        ("resnet50", {"width": 0.5}, "width"),
        ("bert_base", {"resolution": 224}, "resolution"),
        ("llama_decode", {"seq_len": 16}, "seq_len"),
        ("llama_prefill", {"kv_len": 16}, "kv_len"),
        ("resnet18", {"batch": 0}, "batch"),
        ("resnet18", {"batch": 1.5}, "batch"),
        ("mobilenet_v2", {"width": 0}, "width"),
        ("mobilenet_v2", {"width": -1.0}, "width"),
        ("efficientnet_b0", {"width": math.inf}, "width"),
        ("vgg16", {"resolution": 16}, "resolution"),
        ("vit_b_16", {"resolution": 200}, "resolution"),
        ("bert_base", {"seq_len": 513}, "seq_len"),
        ("gpt2", {"seq_len": 0}, "seq_len"),
        ("llama_decode", {"kv_len": -1}, "kv_len"),
        ("gpt2", {"precision": "fp8"}, "precision"),
    ],
)
def test_bad_knobs_raise_input_error_naming_the_knob(
    name: str, knobs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputError, match=rf"^{field}: ") as info:
        build_zoo_model(name, **knobs)
    assert not isinstance(info.value, ModelNotFoundError)


def test_each_entry_builds_with_its_own_knobs() -> None:
    for entry in list_zoo():
        knobs: dict[str, Any] = {k: v for k, v in entry.knobs.items() if k != "precision"}
        if "batch" in knobs:
            knobs["batch"] = 2
        net = build_zoo_model(entry.name, **knobs)
        assert net.name == entry.name and net.source.startswith("zoo:")


# -- grouped-query attention ---------------------------------------------------------------

GQA = LlamaConfig(
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=8,
    num_key_value_heads=2,
    intermediate_size=96,
    vocab_size=100,
)


@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_llama_with_fewer_kv_heads_builds_with_smaller_kv(
    phase: Literal["prefill", "decode"],
) -> None:
    """GQA (8 query heads sharing 2 K/V heads): K and V projections, the KV cache and its
    reads are a quarter of multi-head attention's; attention MACs are unchanged."""
    mha_cfg = replace(GQA, num_key_value_heads=GQA.num_attention_heads)
    b, s, kv = 2, 16, 40
    gqa = build_llama(phase, batch=b, seq_len=s, kv_len=kv, precision="fp16", config=GQA)
    mha = build_llama(phase, batch=b, seq_len=s, kv_len=kv, precision="fp16", config=mha_cfg)
    c, d, hkv = GQA, GQA.head_dim, GQA.num_key_value_heads
    tokens = b * (1 if phase == "decode" else s)
    saved = c.hidden_size - hkv * d  # output features each of k_proj and v_proj loses
    assert mha.params - gqa.params == c.num_hidden_layers * 2 * c.hidden_size * saved
    assert mac_sum(gqa, "gemm") == mac_sum(mha, "gemm") - tokens * (mha.params - gqa.params)
    assert mac_sum(gqa, "matmul") == mac_sum(mha, "matmul")
    k_proj = gqa.op("model.layers.1.self_attn.k_proj")
    assert k_proj.outputs[0].shape[-1] == hkv * d
    qk = gqa.op("model.layers.1.self_attn.matmul_qk")
    assert qk.inputs[1].shape[1] == hkv  # K is read at its own head count, not repeated
    assert not [o for o in gqa.ops if o.op_type == "Expand"]
    if phase == "decode":
        caches = [t for t in gqa.inputs if "cache" in t.name]
        assert len(caches) == 2 * c.num_hidden_layers
        assert all(t.shape == (b, hkv, kv + 1, d) for t in caches)
        mha_caches = [t for t in mha.inputs if "cache" in t.name]
        assert 4 * sum(t.elements for t in caches) == sum(t.elements for t in mha_caches)
        # the attention matmuls read the cache once: a quarter of MHA's cache bytes
        cache_bytes = 2 * b * hkv * (kv + 1) * d  # fp16, one of K or V
        q_bytes = 2 * b * c.num_attention_heads * d
        assert qk.input_bytes == q_bytes + cache_bytes
    assert gqa.activation_bytes < mha.activation_bytes
    # on a GPU: less DRAM traffic and a shorter step
    from codesign_playground.hardware import get_chip
    from codesign_playground.perf.estimate import estimate

    chip = get_chip("a100")
    fast, slow = (estimate(n, chip).to_dict() for n in (gqa, mha))
    assert fast["totals"]["dram_bytes"] < slow["totals"]["dram_bytes"]
    assert fast["totals"]["latency_s"] < slow["totals"]["latency_s"]


def test_llama_gqa_equals_huggingface_flop_counter() -> None:
    """The zoo's GQA decoder against HuggingFace's LlamaForCausalLM of the same config:
    a prefill (LM head on the last token, ``logits_to_keep=1``) and one decode step after
    ``kv`` cached tokens, MACs equal to FlopCounterMode's and parameters equal."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    c = GQA
    hf = transformers.LlamaForCausalLM(
        transformers.LlamaConfig(
            vocab_size=c.vocab_size,
            hidden_size=c.hidden_size,
            intermediate_size=c.intermediate_size,
            num_hidden_layers=c.num_hidden_layers,
            num_attention_heads=c.num_attention_heads,
            num_key_value_heads=c.num_key_value_heads,
            max_position_embeddings=64,
        )
    ).eval()
    b, s, kv = 2, 16, 12
    g = torch.Generator().manual_seed(0)

    def macs(**kwargs: Any) -> tuple[int, Any]:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as f:
            out = hf(logits_to_keep=1, **kwargs)
        return int(f.get_total_flops()) // 2, out

    prefill, _ = macs(input_ids=torch.randint(0, c.vocab_size, (b, s), generator=g))
    net = build_llama("prefill", batch=b, seq_len=s, precision="fp32", config=c)
    assert net.macs == prefill
    assert net.params == sum(p.numel() for p in hf.parameters())
    with torch.no_grad():
        past = hf(
            input_ids=torch.randint(0, c.vocab_size, (b, kv), generator=g), use_cache=True
        ).past_key_values
    # transformers 5.x names the argument ``cache`` (``past_key_values`` is deprecated)
    arg = "cache" if "cache" in inspect.signature(hf.forward).parameters else "past_key_values"
    step, _ = macs(input_ids=torch.randint(0, c.vocab_size, (b, 1), generator=g), **{arg: past})
    assert build_llama("decode", batch=b, kv_len=kv, precision="fp32", config=c).macs == step
