"""The contract every registered timing model honours (like scikit-learn's estimator checks).

Parametrized over :func:`codesign_playground.perf.available_models`: a model registered
later inherits every check, and fails the first one until ``DESIGNS`` below names designs of
its hardware kind. Checks: non-negative energy, area and latency; network totals equal sums
over layers; one design of a batch equals ``estimate`` on that design's spec; pricing each
distinct op once equals pricing every op; deterministic and picklable; latency never rises
with DRAM bandwidth, nor with array size where physics says so (``MONOTONE_IN_ARRAY``).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

import numpy as np
import pytest

from codesign_playground.hardware import get_template
from codesign_playground.perf import (
    DesignBatch,
    Workload,
    available_models,
    design_batch,
    estimate,
    evaluate,
    evaluate_totals,
    get_model,
    totals,
)
from codesign_playground.workload import ops
from codesign_playground.workload.ir import Network, TensorSpec

MODELS = [m for m in available_models() if m != "auto"]


def _network(p: str = "int8") -> Network:
    """A small network with GEMMs of several shapes, a repeated block and ops without GEMMs."""
    x = TensorSpec("x", (1, 16, 28, 28))
    c1 = ops.conv("conv1", x, (32, 16, 3, 3), pads=(1, 1, 1, 1), precision=p)
    r1 = ops.activation("relu1", "Relu", c1.outputs[0], precision=p)
    c2 = ops.conv("conv2", r1.outputs[0], (32, 32, 3, 3), pads=(1, 1, 1, 1), precision=p)
    r2 = ops.activation("relu2", "Relu", c2.outputs[0], precision=p)
    c3 = ops.conv("conv3", r2.outputs[0], (32, 32, 3, 3), pads=(1, 1, 1, 1), precision=p)
    r3 = ops.activation("relu3", "Relu", c3.outputs[0], precision=p)
    add = ops.elementwise("add", "Add", (r1.outputs[0], r3.outputs[0]), precision=p)
    flat = TensorSpec("flat", (1, 32 * 28 * 28), {"int8": "int8", "fp16": "float16"}[p])
    fc = ops.gemm("fc", flat, 10, precision=p)
    return Network("contract", (c1, r1, c2, r2, c3, r3, add, fc), inputs=(x,))


# per hardware kind: (template, knob columns of three designs); "*" models use systolic
DESIGNS: dict[str, tuple[str, dict[str, list[object]]]] = {
    "systolic": (
        "systolic",
        {
            "rows": [8, 32, 16],
            "cols": [16, 32, 64],
            "cores": [1, 2, 1],
            "dataflow": ["ws", "os", "ws"],
            "ifmap_sram_kb": [16, 128, 64],
            "filter_sram_kb": [8, 64, 256],
            "dram_bandwidth_bytes_per_s": [4e9, 34e9, 100e9],
            "tech_node_nm": [45, 28, 7],
        },
    ),
    "spatial": (
        "spatial",
        {
            "rows": [12, 12, 16],
            "cols": [14, 14, 16],
            "glb_kb": [108, 108, 64],
            "dram_bandwidth_bytes_per_s": [0.72e9, 4e9, 2e9],
            "clock_hz": [200e6, 200e6, 400e6],
        },
    ),
    "gpu": (
        "gpu",
        {
            "sms": [108, 54, 132],
            "dram_bandwidth_bytes_per_s": [2039e9, 1000e9, 3350e9],
            "clock_hz": [1.41e9, 1.2e9, 1.8e9],
        },
    ),
}
DESIGNS["*"] = DESIGNS["systolic"]
#: models whose latency never rises with a larger array (the spatial mapper picks mappings
#: by energy and the GPU model quantizes work into waves, so neither promises this)
MONOTONE_IN_ARRAY = {"roofline", "systolic", "rtl"}
_ARRAY_KNOB = {"systolic": "rows", "gpu": "sms", "spatial": "rows", "*": "rows"}


def _kind(model: str) -> str:
    kinds = get_model(model).kinds
    for k in kinds:
        if k in DESIGNS:
            return k
    pytest.fail(f"model {model!r} ({kinds}): add designs of its kind to DESIGNS in this file")


def _batch(work: Workload, model: str, cols: dict[str, list[object]] | None = None) -> DesignBatch:
    template, default = DESIGNS[_kind(model)]
    return design_batch(get_template(template), cols or default, work.precisions)


#: the precision each model's network runs at; int8 elsewhere (the GPU model is calibrated on
#: floating-point convolutions only: PyTorch runs no int8 convolution through cuDNN)
PRECISION = {"gpu": "fp16"}
_works: dict[str, Workload] = {}


@pytest.fixture
def work(request: pytest.FixtureRequest) -> Workload:
    callspec = getattr(request.node, "callspec", None)
    model = callspec.params.get("model", "") if callspec is not None else ""
    p = PRECISION.get(model, "int8")
    if p not in _works:
        _works[p] = Workload.of(_network(p))
    return _works[p]


_cache: dict[str, object] = {}


def _cost(work: Workload, model: str) -> object:
    if model not in _cache:
        _cache[model] = evaluate(work, _batch(work, model), get_model(model))
    return _cache[model]


@pytest.mark.parametrize("model", MODELS)
def test_energy_area_latency_are_non_negative(work: Workload, model: str) -> None:
    cost = _cost(work, model)
    assert np.all(cost.energy_j >= 0)  # type: ignore[attr-defined]
    assert np.all(cost.area_mm2 >= 0)  # type: ignore[attr-defined]
    assert np.all(cost.timing.latency_s >= 0)  # type: ignore[attr-defined]
    assert np.all(cost.timing.read_bytes >= 0)  # type: ignore[attr-defined]
    assert np.all(cost.timing.cycles.sum(axis=0) > 0)  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", MODELS)
def test_totals_are_sums_over_layers(work: Workload, model: str) -> None:
    cost = _cost(work, model)
    t = totals(work, cost)  # type: ignore[arg-type]
    timing = cost.timing  # type: ignore[attr-defined]
    np.testing.assert_allclose(t["latency_s"], timing.latency_s.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(t["energy_j"], cost.energy_j.sum(axis=(0, 1)), rtol=1e-12)  # type: ignore[attr-defined]
    dram = timing.read_bytes[-1].sum(axis=0) + timing.write_bytes[-1].sum(axis=0)
    np.testing.assert_allclose(t["dram_bytes"], dram, rtol=1e-12)


@pytest.mark.parametrize("model", MODELS)
def test_one_design_of_a_batch_equals_estimate(work: Workload, model: str) -> None:
    designs = _batch(work, model)
    t = totals(work, _cost(work, model))  # type: ignore[arg-type]
    for i in range(designs.n):
        est = estimate(work.net, designs.make_spec(i), mode=model)
        ref = est.totals()
        records = est.layer_records()
        assert ref["latency_s"] == pytest.approx(sum(r["latency_s"] for r in records))
        for key in ("latency_s", "energy_j", "area_mm2", "dram_bytes", "utilization"):
            assert t[key][i] == pytest.approx(ref[key], rel=1e-9), (key, i)


@pytest.mark.parametrize("model", MODELS)
def test_distinct_ops_price_like_every_op(work: Workload, model: str) -> None:
    m = get_model(model)
    designs = _batch(work, model)
    full = totals(work, evaluate(work, designs, m))
    fast = evaluate_totals(work, designs, m)  # distinct ops when op_independent
    for key, value in full.items():
        np.testing.assert_allclose(fast[key], value, rtol=1e-9, err_msg=key)


@pytest.mark.parametrize("model", MODELS)
def test_deterministic_and_picklable(work: Workload, model: str) -> None:
    m = get_model(model)
    again = pickle.loads(pickle.dumps(m))
    a = evaluate_totals(work, _batch(work, model), m)
    b = evaluate_totals(work, _batch(work, model), again)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def _sweep(
    work: Workload, model: str, knob: str, values: list[float], fixed: Callable[[int], dict]
) -> np.ndarray:
    cols: dict[str, list[object]] = {knob: list(values)}
    for k, v in fixed(len(values)).items():
        cols[k] = v
    designs = _batch(work, model, cols)
    return evaluate_totals(work, designs, get_model(model))["latency_s"]


@pytest.mark.parametrize("model", MODELS)
def test_latency_never_rises_with_dram_bandwidth(work: Workload, model: str) -> None:
    bws = [1e9, 4e9, 16e9, 64e9, 256e9, 1024e9]
    lat = _sweep(work, model, "dram_bandwidth_bytes_per_s", bws, lambda n: {})
    assert np.all(np.diff(lat) <= 1e-12 * lat[:-1]), lat


@pytest.mark.parametrize("model", sorted(MONOTONE_IN_ARRAY & set(MODELS)))
def test_latency_never_rises_with_array_size(model: str) -> None:
    """A compute-bound GEMM on ever larger arrays (SRAM and bandwidth plentiful)."""
    x = TensorSpec("x", (512, 512))
    work = Workload.of(Network("gemm", (ops.gemm("g", x, 512, bias=False, precision="int8"),)))
    knob = _ARRAY_KNOB[_kind(model)]
    sizes = [4, 8, 16, 32, 64]

    def fixed(n: int) -> dict[str, list[object]]:
        return {
            "cols": [32] * n,
            "ifmap_sram_kb": [4096] * n,
            "filter_sram_kb": [4096] * n,
            "ofmap_sram_kb": [4096] * n,
            "dram_bandwidth_bytes_per_s": [1e13] * n,
        }

    lat = _sweep(work, model, knob, sizes, fixed)
    assert np.all(np.diff(lat) <= 0), lat


def test_systolic_design_columns_equal_the_template_specs(work: Workload) -> None:
    """The systolic template's columns built as arrays (no spec per design) equal the columns
    of the specs ``hardware.templates.systolic`` builds for the same knobs."""
    template = get_template("systolic")
    cols = DESIGNS["systolic"][1]
    fast = design_batch(template, cols, work.precisions)
    specs = DesignBatch.from_specs([fast.make_spec(i) for i in range(fast.n)])
    for name in (
        "instances",
        "capacity_bytes",
        "bandwidth_bytes_per_s",
        "bytes_per_cycle",
        "read_pj_per_byte",
        "write_pj_per_byte",
        "rows",
        "cols",
        "cores",
        "clock_hz",
        "tech_node_nm",
        "die_area_mm2",
    ):
        np.testing.assert_allclose(
            getattr(fast, name), getattr(specs, name), rtol=1e-12, equal_nan=True, err_msg=name
        )
    assert fast.level_names == specs.level_names
    assert fast.level_holds == specs.level_holds
    assert fast.dataflow == specs.dataflow
    assert fast.macs_per_pe.keys() == specs.macs_per_pe.keys()
