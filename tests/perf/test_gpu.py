"""GPU model: kernel errors on the held-out quarter of the H200 CUDA-graph kernels, whole
networks composed from kernels (dev set), LLM physics, launch modes, TF32, board power."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codesign_playground.errors import InputError
from codesign_playground.hardware.catalog import get_chip
from codesign_playground.perf.estimate import estimate
from codesign_playground.perf.gpu import gpu_kernels
from codesign_playground.perf.gpu_bench import holdout_mask, kernel_set, predict
from codesign_playground.perf.gpu_kernels import gemm_s, gpu_facts, load_calibration
from codesign_playground.perf.gpu_validation import dev_network_errors
from codesign_playground.workload.zoo import build_zoo_model

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "h200"
SCRIPT = REPO / "scripts" / "calibrate_gpu.py"

#: Acceptance (issue 10): held-out median absolute error per family and dtype.
LIMIT_PCT = {"gemm": 10.0, "conv": 10.0, "attention": 15.0, "memory": 15.0}
#: Whole-network dev entries over 10% today (see docs/validation-gpu.md and docs/models.md,
#: "Fusion rules and launch"): at batch 32 the composed kernels come out faster than the
#: networks (ResNet-18 17-22%, MobileNetV2 11% fp32 and 39% fp16), MobileNetV2 fp16 at batch 1
#: by 13%. The ResNet-18 gap is the same ~300 us in fp16 and fp32 (inside the convolutions as
#: the network runs them; the kernel file was timed with cudnn.benchmark on), MobileNetV2 fp16
#: adds an fp16-only ~490 us (cuDNN fp16 depthwise, PyTorch's native fp16 batch norm: kernels
#: with no measurement). Not fitted to the networks, so they stay strict xfails.
DEV_OVER = {
    ("resnet18", "fp16_b32"),
    ("resnet18", "fp32_b32"),
    ("mobilenet_v2", "fp16_b1"),
    ("mobilenet_v2", "fp16_b32"),
    ("mobilenet_v2", "fp32_b32"),
}


@pytest.fixture(scope="module")
def kernels() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "kernels-graph.json").read_text())
    return data


def _held_out_errors(kernels: dict[str, Any]) -> dict[tuple[str, str], float]:
    ks = kernel_set(kernels)
    held = holdout_mask(ks)
    pred = predict(ks, gpu_facts(get_chip("h200-sxm")), load_calibration())
    ape = np.abs(pred / ks.graph_s - 1.0) * 100.0
    out = {}
    for key in set(zip(ks.family, ks.dtype, strict=True)):
        sel = held & (np.asarray(ks.family) == key[0]) & (np.asarray(ks.dtype) == key[1])
        out[key] = float(np.median(ape[sel]))
    return out


def test_holdout_is_a_fixed_quarter(kernels: dict[str, Any]) -> None:
    ks = kernel_set(kernels)
    a, b = holdout_mask(ks), holdout_mask(kernel_set(kernels))
    assert (a == b).all()
    for fam in set(ks.family):
        sel = np.asarray(ks.family) == fam
        assert 0.2 <= a[sel].mean() <= 0.3


GROUPS = [
    (f, d)
    for f, ds in (
        ("gemm", ("fp16", "bf16", "fp32", "tf32", "int8")),
        ("conv", ("fp16", "tf32")),
        ("attention", ("fp16", "bf16")),
        ("memory", ("fp16", "fp32")),
    )
    for d in ds
]


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: f"{g[0]}-{g[1]}")
def test_held_out_median_error(kernels: dict[str, Any], group: tuple[str, str]) -> None:
    errs = _held_out_errors(kernels)
    assert errs[group] <= LIMIT_PCT[group[0]], f"{group}: {errs[group]:.1f}%"


@pytest.fixture(scope="module")
def dev_errors() -> dict[tuple[str, str], float]:
    dev = json.loads((DATA / "models-dev.json").read_text())
    return {
        (r["model"], r["key"]): r["pred_graph_ms"] / r["graph_ms"] - 1.0
        for r in dev_network_errors(dev)
    }


DEV_KEYS = [
    (m, f"{p}_b{b}")
    for m in ("resnet18", "mobilenet_v2")
    for p in ("fp16", "fp32")
    for b in (1, 32)
]


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(e, marks=pytest.mark.xfail(strict=True, reason="over 10% today"))
        if e in DEV_OVER
        else e
        for e in DEV_KEYS
    ],
    ids=lambda e: f"{e[0]}-{e[1]}",
)
def test_dev_network_graph_error(dev_errors: dict[tuple[str, str], float], entry: Any) -> None:
    assert abs(dev_errors[entry]) <= 0.10, f"{entry}: {dev_errors[entry]:+.1%}"


def test_calibration_states_its_origin() -> None:
    p = load_calibration()
    origin = p.extra["origin"]
    assert set(origin) == set(p.values)
    assert all(isinstance(v, str) and v for v in origin.values())
    assert "Hopper" in p.extra["applies_to"]


def test_llama_decode_is_bandwidth_bound() -> None:
    """Batch 1 decode streams every weight once: at least weights / achievable bandwidth,
    and far from the 10x of a launch-overhead model."""
    spec = get_chip("h200-sxm")
    net = build_zoo_model("llama2_7b_decode", kv_len=2048, precision="fp16")
    e = estimate(net, spec, mode="gpu")
    t = e.totals()
    floor = net.weight_bytes / (load_calibration()["mem.bw_eff"] * 4.8e12)
    assert floor <= t["latency_s"] <= 2.0 * floor
    assert t["tokens_per_step"] == 1
    assert t["tokens_per_s"] == pytest.approx(1.0 / t["latency_s"])


def test_llama_decode_batch_and_kv_scale_physically() -> None:
    spec = get_chip("h200-sxm")
    lat = {}
    for b, kv in ((1, 2048), (64, 2048), (1, 8192)):
        net = build_zoo_model("llama2_7b_decode", batch=b, kv_len=kv, precision="fp16")
        lat[(b, kv)] = estimate(net, spec, mode="gpu").totals()["latency_s"]
    # 64x the KV cache (64 x 1 GiB) but the same weights: slower, far from 64x
    assert lat[(1, 2048)] < lat[(64, 2048)] < 30 * lat[(1, 2048)]
    assert lat[(1, 8192)] > lat[(1, 2048)]


def test_prefill_is_compute_bound_and_draws_high_power() -> None:
    spec = get_chip("h200-sxm")
    net = build_zoo_model("llama2_7b_prefill", seq_len=2048, precision="fp16")
    e = estimate(net, spec, mode="gpu")
    t = e.totals()
    flops = 2.0 * net.macs
    achieved = flops / t["latency_s"]
    assert 0.4 * 989.5e12 <= achieved <= 989.5e12
    assert t["tokens_per_step"] == 2048
    assert 450.0 <= t["average_power_w"] <= 700.0


def test_board_power_between_idle_and_tdp() -> None:
    spec = get_chip("h200-sxm")
    for model, kw in (("resnet50", {}), ("llama2_7b_decode", {"kv_len": 2048})):
        net = build_zoo_model(model, precision="fp16", **kw)
        t = estimate(net, spec, mode="gpu").totals()
        assert 75.0 < t["average_power_w"] <= 700.0
    dec = estimate(build_zoo_model("llama2_7b_decode", precision="fp16"), spec, mode="gpu").totals()
    assert dec["average_power_w"] > 250.0  # HBM streaming: hundreds of watts


def test_h100_uses_its_own_specs() -> None:
    net = build_zoo_model("llama2_7b_decode", precision="fp16")
    h100 = estimate(net, get_chip("h100-sxm5"), mode="gpu").totals()["latency_s"]
    h200 = estimate(net, get_chip("h200-sxm"), mode="gpu").totals()["latency_s"]
    assert h100 > 1.2 * h200  # 3.35 vs 4.8 TB/s


def test_launch_modes() -> None:
    spec = get_chip("h200-sxm")
    net = build_zoo_model("resnet50", precision="fp16")
    graph = estimate(net, spec, mode="gpu").totals()["latency_s"]
    eager = estimate(net, spec, mode="gpu", launch="eager").totals()["latency_s"]
    assert 2e-4 < graph < eager
    with pytest.raises(InputError, match="launch"):
        estimate(net, spec, mode="gpu", launch="jit")


def test_tf32_switch() -> None:
    spec = get_chip("h200-sxm")
    net = build_zoo_model("resnet50", batch=32, precision="fp32")
    default = estimate(net, spec, mode="gpu").totals()["latency_s"]
    off = estimate(net, spec, mode="gpu", tf32="off").totals()["latency_s"]
    on = estimate(net, spec, mode="gpu", tf32="on").totals()["latency_s"]
    assert on <= default < off
    with pytest.raises(InputError, match="tf32"):
        estimate(net, spec, mode="gpu", tf32="maybe")


def test_attention_chain_is_one_kernel() -> None:
    net = build_zoo_model("gpt2", seq_len=256, precision="fp16")
    k = gpu_kernels(net, get_chip("h200-sxm"))
    assert k.kernel.count("attention") == 12
    assert "softmax" not in k.kernel


def test_gemm_time_grows_with_k() -> None:
    gpu, p = gpu_facts(get_chip("h200-sxm")), load_calibration()
    ks = np.arange(64, 8192, 64)
    t = gemm_s(512, 4096, ks, "fp16", gpu, p)
    assert (np.diff(t) >= -1e-12).all()


@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="needs SciPy")
def test_calibration_script_reproduces_the_packaged_fit() -> None:
    """The script's fit (deterministic) gives the packaged constants."""
    spec = importlib.util.spec_from_file_location("calibrate_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["calibrate_gpu"] = mod
    spec.loader.exec_module(mod)
    refit, _ = mod.fit(kernel_set(json.loads((DATA / "kernels-graph.json").read_text())))
    packaged = load_calibration()
    for name, value in packaged.values.items():
        assert refit[name] == pytest.approx(value, rel=2e-3), name


def test_gpu_options_on_other_models_are_an_error() -> None:
    net = build_zoo_model("resnet18", precision="int8")
    with pytest.raises(InputError, match="gpu timing model only"):
        estimate(net, get_chip("tpu-v1"), launch="eager")
    with pytest.raises(InputError, match="gpu timing model only"):
        estimate(net, get_chip("h200-sxm"), mode="roofline", tf32="on")


def test_template_gpu_without_power_still_times() -> None:
    from codesign_playground.hardware import gpu

    e = estimate(build_zoo_model("resnet18", precision="fp16"), gpu(), mode="gpu")
    assert e.totals()["latency_s"] > 0
    assert "board_idle" not in e.energy.components  # action counts, no board to model


def test_exported_bias_and_gelu_run_as_pytorch_runs_them(tmp_path: Path) -> None:
    """An ONNX export spells out a linear layer's bias Add and the exact GELU's five ops;
    PyTorch runs them in the GEMM epilogue and as one gelu kernel."""
    torch = pytest.importorskip("torch")
    from codesign_playground.workload.load import load_workload

    class Mlp(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.up = torch.nn.Linear(64, 256)
            self.down = torch.nn.Linear(256, 64)

        def forward(self, x: Any) -> Any:
            return self.down(torch.nn.functional.gelu(self.up(x)))

    path = tmp_path / "mlp.onnx"
    torch.onnx.export(Mlp().eval(), (torch.randn(1, 16, 64),), str(path), dynamo=False)
    net = load_workload(str(path), precision="fp16")
    k = gpu_kernels(net, get_chip("h200-sxm"))
    launched = [kind for kind in k.kernel if kind not in ("fused", "none")]
    assert launched == ["gemm", "gelu", "gemm"]


def test_gqa_decode_reads_the_kv_heads_once() -> None:
    """K and V of 8 KV heads expanded to 32 query heads: the SDPA kernel reads the 8."""
    from codesign_playground.workload.ir import Gemm, Network, Op, TensorSpec

    b, h, hkv, kv, d = 4, 32, 8, 4096, 128

    def t(name: str, *shape: int) -> TensorSpec:
        return TensorSpec(name, shape)

    def expand(name: str, src: TensorSpec) -> Op:
        return Op(name, "shape", "Expand", (src,), (t(name + ".out", b, h, kv, d),),
                  act_precision="fp16")  # fmt: skip

    q, k, v = t("q", b, h, 1, d), t("k", b, hkv, kv, d), t("v", b, hkv, kv, d)
    ops = (
        expand("expand_k", k),
        expand("expand_v", v),
        Op("qk", "matmul", "MatMul", (q, t("expand_k.out", b, h, kv, d)),
           (t("s", b, h, 1, kv),), gemms=(Gemm(b * h, 1, kv, d),), act_precision="fp16"),
        Op("softmax", "softmax", "Softmax", (t("s", b, h, 1, kv),), (t("p", b, h, 1, kv),),
           act_precision="fp16"),
        Op("pv", "matmul", "MatMul", (t("p", b, h, 1, kv), t("expand_v.out", b, h, kv, d)),
           (t("o", b, h, 1, d),), gemms=(Gemm(b * h, 1, d, kv),), act_precision="fp16"),
    )  # fmt: skip
    k_ = gpu_kernels(Network("gqa", ops), get_chip("h200-sxm"))
    assert k_.kernel == ("fused", "fused", "fused", "fused", "decode_attention")
    assert k_.dram_bytes[-1] == pytest.approx(2 * b * hkv * kv * d * 2)


def test_batch_norm_kernels_follow_pytorch_backend_choice() -> None:
    """fp32 batch norm is one cuDNN kernel; a network cast to fp16 takes PyTorch's native
    path: copy of the running mean, 1/sqrt(var + eps), then the elementwise kernel."""
    spec = get_chip("h200-sxm")
    for prec, per_bn in (("fp32", 1.0), ("fp16", 3.0)):
        net = build_zoo_model("resnet18", batch=1, precision=prec)
        k = gpu_kernels(net, spec)
        bn = [i for i, op in enumerate(net.ops) if op.op_type == "BatchNormalization"]
        assert bn and all(k.launches[i] == per_bn for i in bn)
        # the compiled policy folds batch norm into the convolution: no kernel at all
        kc = gpu_kernels(net, spec, fusion="compiled")
        assert all(kc.launches[i] == 0 for i in bn)


def test_max_pool_writes_its_indices() -> None:
    """PyTorch's CUDA max pooling writes an int64 index per output: the eager kernel moves
    more bytes than the compiled one (which only reads and writes the values)."""
    spec = get_chip("h200-sxm")
    net = build_zoo_model("resnet18", batch=32, precision="fp16")
    i = next(j for j, op in enumerate(net.ops) if op.op_type == "MaxPool")
    eager = gpu_kernels(net, spec).gpu_s[i]
    compiled = gpu_kernels(net, spec, fusion="compiled").gpu_s[i]
    assert eager > 1.5 * compiled


def test_depthwise_rate_follows_the_gpu() -> None:
    """A depthwise convolution's CUDA-core rate scales with the GPU's fp32 peak: slower on
    an A100 (108 SMs, 19.5 TFLOP/s) than on an H200 (132 SMs, 67 TFLOP/s)."""
    from codesign_playground.perf.gpu_kernels import conv_s

    p = load_calibration()
    args = (32, 144, 144, 56, 56, 3, 3, 144, 56, 56, "fp16")
    h200 = float(conv_s(*args, gpu_facts(get_chip("h200-sxm")), p))
    a100 = float(conv_s(*args, gpu_facts(get_chip("a100")), p))
    assert a100 > 1.5 * h200


def test_fp16_depthwise_kernel_is_pytorchs_choice() -> None:
    """PyTorch runs an fp16 depthwise convolution on cuDNN or on its own conv_depthwise2d by
    a shape rule (ATen's check_cudnn_depthwise_workload_with_filter); the native kernel
    prices like the fp32 one, so at batch 32 MobileNetV2's stride-2 96-channel layer is
    slower than the same layer at stride 1 would suggest, and bf16 never uses cuDNN."""
    from codesign_playground.perf.gpu_kernels import conv_s, torch_cudnn_depthwise

    # (N, C, H, W, R, S, stride): MobileNetV2's depthwise layers at batch 32 and 1
    assert torch_cudnn_depthwise(32, 96, 112, 112, 3, 3, 1, 1)
    assert not torch_cudnn_depthwise(32, 96, 112, 112, 3, 3, 2, 2)
    assert not torch_cudnn_depthwise(32, 192, 28, 28, 3, 3, 2, 2)
    assert torch_cudnn_depthwise(32, 576, 14, 14, 3, 3, 2, 2)  # 512+ channels
    assert torch_cudnn_depthwise(32, 256, 28, 28, 5, 5, 2, 2)  # 256+ at width 28+
    assert torch_cudnn_depthwise(1, 96, 112, 112, 3, 3, 2, 2)  # batch 1: 3x3 stride 2
    assert not torch_cudnn_depthwise(1, 16, 112, 112, 3, 3, 1, 1)  # under 32 channels
    assert not torch_cudnn_depthwise(1, 64, 56, 56, 7, 7, 1, 1)  # 7x7 filter
    assert not torch_cudnn_depthwise(1, 64, 5, 5, 3, 3, 1, 1)  # under 7 wide
    assert not torch_cudnn_depthwise(1, 64, 56, 56, 3, 3, 1, 2)  # unequal strides
    p = load_calibration()
    gpu = gpu_facts(get_chip("h200-sxm"))
    s2 = (32, 96, 96, 56, 56, 3, 3, 96, 112, 112)
    fp16 = float(conv_s(*s2, "fp16", gpu, p, stride_h=2, stride_w=2))
    fp32 = float(conv_s(*s2, "fp32", gpu, p, stride_h=2, stride_w=2))
    bf16 = float(conv_s(*s2, "bf16", gpu, p, stride_h=2, stride_w=2))
    assert fp16 == pytest.approx(bf16)  # both native, the same kernel over the same bytes
    assert 0.5 * fp32 < fp16 <= fp32  # the fp32 kernel's rate, half the bytes
    s1 = (32, 96, 96, 112, 112, 3, 3, 96, 112, 112)
    cudnn = float(conv_s(*s1, "fp16", gpu, p, stride_h=1, stride_w=1))
    native_bf16 = float(conv_s(*s1, "bf16", gpu, p, stride_h=1, stride_w=1))
    assert native_bf16 > 1.5 * cudnn


def test_embedding_reads_only_the_gathered_rows() -> None:
    """A decode step's token lookup reads one row of the 262 MB table, not the table."""
    net = build_zoo_model("llama2_7b_decode", kv_len=2048, precision="fp16")
    k = gpu_kernels(net, get_chip("h200-sxm"))
    i = next(j for j, op in enumerate(net.ops) if op.kind == "embedding")
    assert net.ops[i].weight_bytes > 1e8
    assert k.gpu_s[i] < 5e-6


def test_head_transposes_are_views() -> None:
    """q/k/v split into heads and transposed are strided views in PyTorch (RoPE and SDPA
    read them strided): no kernel; the attention output feeding ``o_proj`` is a copy at
    prefill and free at one token (only size-1 axes move)."""
    spec = get_chip("h200-sxm")
    pre = build_zoo_model("llama2_7b_prefill", precision="fp16")
    kp = gpu_kernels(pre, spec)
    tr = [i for i, op in enumerate(pre.ops) if op.op_type == "Transpose" and op.copies]
    launched = [i for i in tr if kp.launches[i] > 0]
    assert len(tr) == 4 * 32 and len(launched) == 32
    assert all(pre.ops[i].inputs[0].shape[1] == 32 for i in launched)  # heads -> hidden
    dec = build_zoo_model("llama2_7b_decode", kv_len=2048, precision="fp16")
    kd = gpu_kernels(dec, spec)
    assert all(kd.launches[i] == 0 for i, op in enumerate(dec.ops) if op.op_type == "Transpose")
    gpt2 = build_zoo_model("gpt2", seq_len=256, precision="fp16")
    kg = gpu_kernels(gpt2, spec)
    assert all(kg.launches[i] == 0 for i, op in enumerate(gpt2.ops) if op.op_type == "Split")
