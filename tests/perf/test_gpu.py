"""GPU kernel model: the calibration, its errors on H200 measurements, bounds, monotonicity."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign_playground.hardware.catalog import get_chip
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.gpu import (
    GpuParams,
    benchmark_kernels,
    gpu_timing,
    load_calibration,
    predict_attention_s,
    predict_elementwise_s,
    predict_gemm_s,
)
from codesign_playground.perf.roofline import roofline
from codesign_playground.workload import ops
from codesign_playground.workload.arrays import layer_arrays
from codesign_playground.workload.ir import Network, TensorSpec

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "h200" / "microbenchmarks.json"
SCRIPT = REPO / "scripts" / "calibrate_gpu.py"

#: Held-out median absolute percentage error, all kernels. The data's own repeatability
#: bounds what any model can reach: the same GEMM shape in bf16 and fp16 (one tensor-core
#: rate) differs by up to 18% (3000^3: 0.109 vs 0.129 ms) and big GEMMs lose 10-12% to
#: clock throttling (bf16 8192^3 782 TFLOPS, 16384^3 692). A model within about that
#: spread on most kernels is as good as the data allow: 15% median over all held-out
#: kernels, 30% per family (some families have 2-3 held-out kernels).
HELD_OUT_MEDIAN_PCT = 15.0
HELD_OUT_FAMILY_MEDIAN_PCT = 30.0
#: The single-level roofline with catalog numbers is a lower bound on measured times.
ROOFLINE_TOLERANCE = 0.02


@pytest.fixture(scope="module")
def h200() -> HardwareSpec:
    return get_chip("h200-sxm")


@pytest.fixture(scope="module")
def bench() -> dict[str, Any]:
    if not DATA.exists():
        pytest.skip(f"H200 microbenchmarks not found at {DATA}")
    data: dict[str, Any] = json.loads(DATA.read_text())
    return data


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("calibrate_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["calibrate_gpu"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_calibration_loads() -> None:
    p = load_calibration()
    assert "microbenchmarks.json" in p.source
    assert set(p.floor_s) == {"gemm", "attention", "elementwise", "softmax", "norm"}
    assert all(0 < v <= 1 for v in p.compute_eff.values())
    assert 0 < p.bw_eff <= 1
    assert 1 <= p.combine_p <= 8
    assert all(10e-6 < v < 100e-6 for v in p.floor_s.values())


def test_recorded_errors_match_the_parameters(bench: dict[str, Any], h200: HardwareSpec) -> None:
    """The errors in the calibration file are those of its parameters on the data."""
    cal = _script()
    k = benchmark_kernels(bench, h200)
    held = cal.holdout_mask(k.family, k.label)
    assert cal.errors(k, held) == load_calibration().extra["errors"]


def test_refit_reproduces_the_calibration(bench: dict[str, Any], h200: HardwareSpec) -> None:
    pytest.importorskip("scipy")
    cal = _script()
    fitted, _ = cal.fit(bench, h200)
    a = benchmark_kernels(bench, h200, fitted).predicted_s
    b = benchmark_kernels(bench, h200).predicted_s
    np.testing.assert_allclose(a, b, rtol=0.01)


def test_held_out_error(bench: dict[str, Any], h200: HardwareSpec) -> None:
    held = load_calibration().extra["errors"]["held_out"]
    assert held["all"]["median_ape_pct"] < HELD_OUT_MEDIAN_PCT
    for fam, row in held.items():
        assert row["median_ape_pct"] < HELD_OUT_FAMILY_MEDIAN_PCT, fam
        # and far better than the roofline on the same kernels
        assert row["median_ape_pct"] < row["roofline_median_ape_pct"] / 2, fam


def test_never_faster_than_the_roofline(bench: dict[str, Any], h200: HardwareSpec) -> None:
    k = benchmark_kernels(bench, h200)
    assert np.all(k.predicted_s >= k.roofline_s)


def test_roofline_never_beats_a_measurement(bench: dict[str, Any], h200: HardwareSpec) -> None:
    """Catalog peaks and bandwidth are upper bounds of what the H200 did."""
    k = benchmark_kernels(bench, h200)
    ratio = k.roofline_s / k.measured_s
    worst = int(np.argmax(ratio))
    assert ratio[worst] <= 1.0 + ROOFLINE_TOLERANCE, k.label[worst]


def test_gpu_timing_network(h200: HardwareSpec) -> None:
    x = TensorSpec("x", (8, 4096))
    fc = ops.gemm("fc", x, 4096, bias=False, precision="fp16")
    act = ops.elementwise("act", "Relu", fc.outputs, kind="activation", precision="fp16")
    net = Network("n", (fc, act))
    la = layer_arrays(net)
    rf = roofline(net, h200)
    t = gpu_timing(net, la, h200, rf)
    assert t.model == "gpu"
    assert np.all(t.latency_s >= rf.latency_s)
    assert t.read_bytes.shape == (len(h200.memory), 2)
    p = load_calibration()
    # one small kernel each: about its launch floor
    assert t.latency_s[0] == pytest.approx(
        float(predict_gemm_s(8, 4096, 4096, "fp16", h200, dram_bytes=rf.traffic_bytes[-1, 0])),
        rel=1e-9,
    )
    assert t.latency_s[1] >= p.floor_s["elementwise"]


@pytest.mark.parametrize("chip", ["h100-sxm5", "h200-sxm", "a100-sxm4-80gb"])
def test_gpu_timing_never_under_roofline(chip: str) -> None:
    from codesign_playground.workload.zoo import build_zoo_model

    spec = get_chip(chip)
    net = build_zoo_model("gpt2", precision="fp16")
    la = layer_arrays(net)
    rf = roofline(net, spec)
    t = gpu_timing(net, la, spec, rf)
    assert np.all(t.latency_s >= rf.latency_s)
    assert t.latency_s.sum() > 10 * rf.latency_s.sum() or chip == "a100-sxm4-80gb"


DIMS = st.integers(1, 20000)
DTYPES = st.sampled_from(["bf16", "fp16", "fp32", "int8"])


@settings(max_examples=150, deadline=None)
@given(m=DIMS, n=DIMS, k=DIMS, dtype=DTYPES, axis=st.integers(0, 2), grow=st.integers(1, 5000))
def test_bigger_gemm_never_faster(m: int, n: int, k: int, dtype: str, axis: int, grow: int) -> None:
    spec = get_chip("h200-sxm")
    dims = [m, n, k]
    bigger = list(dims)
    bigger[axis] += grow
    a = predict_gemm_s(*dims, dtype, spec)
    b = predict_gemm_s(*bigger, dtype, spec)
    assert b >= a


@settings(max_examples=60, deadline=None)
@given(
    seq=st.integers(1, 16384),
    grow=st.integers(1, 4096),
    heads=st.integers(1, 64),
    d=st.sampled_from([64, 128]),
    causal=st.booleans(),
)
def test_longer_attention_never_faster(
    seq: int, grow: int, heads: int, d: int, causal: bool
) -> None:
    spec = get_chip("h200-sxm")
    a = predict_attention_s(1, heads, seq, d, causal, spec)
    b = predict_attention_s(1, heads, seq + grow, d, causal, spec)
    assert b >= a


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 2**28),
    grow=st.integers(1, 2**26),
    fam=st.sampled_from(["elementwise", "softmax", "norm"]),
    dtype=st.sampled_from(["fp16", "fp32"]),
)
def test_bigger_elementwise_never_faster(n: int, grow: int, fam: str, dtype: str) -> None:
    spec = get_chip("h200-sxm")
    assert predict_elementwise_s(n + grow, fam, dtype, spec) >= predict_elementwise_s(
        n, fam, dtype, spec
    )


def test_params_round_trip() -> None:
    p = load_calibration()
    q = p.from_vector(p.to_vector())
    assert q.to_dict() == p.to_dict()
    assert GpuParams.from_dict(p.to_dict()).to_dict() == p.to_dict()
    assert p.eff("bf16") == p.eff("fp16")
