from __future__ import annotations

import numpy as np
import pytest

from codesign_playground.explore.space import ModelSpace
from codesign_playground.explore.variants import build_variant, digits_cnn_network, prune_channels
from codesign_playground.hardware import get_template
from codesign_playground.perf import (
    Workload,
    choose_model,
    design_batch,
    estimate,
    evaluate_totals,
)
from codesign_playground.workload import load_workload
from codesign_playground.workload.ir import Network

SYSTOLIC = get_template("systolic")

POINTS = [
    {
        "rows": 16,
        "cols": 64,
        "dataflow": "os",
        "cores": 2,
        "ifmap_sram_kb": 32,
        "filter_sram_kb": 128,
        "ofmap_sram_kb": 16,
        "dram_bandwidth_bytes_per_s": 8e9,
        "clock_hz": 1e9,
        "tech_node_nm": 7,
    },
    {
        "rows": 128,
        "cols": 8,
        "dataflow": "is",
        "cores": 1,
        "ifmap_sram_kb": 512,
        "filter_sram_kb": 8,
        "ofmap_sram_kb": 64,
        "dram_bandwidth_bytes_per_s": 100e9,
        "clock_hz": 5e8,
        "tech_node_nm": 45,
    },
    {
        "rows": 32,
        "cols": 32,
        "dataflow": "ws",
        "cores": 4,
        "ifmap_sram_kb": 64,
        "filter_sram_kb": 64,
        "ofmap_sram_kb": 64,
        "dram_bandwidth_bytes_per_s": 34e9,
        "clock_hz": 7e8,
        "tech_node_nm": 28,
    },
]


def _columns() -> dict[str, list[object]]:
    return {k: [p[k] for p in POINTS] for k in POINTS[0]}


def _batch_totals(net: Network, cols: dict[str, list[object]]) -> dict[str, np.ndarray]:
    work = Workload.of(net)
    designs = design_batch(SYSTOLIC, cols, work.precisions)
    return evaluate_totals(work, designs, choose_model("auto", designs))


@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2"])
def test_vectorized_matches_estimate(model: str) -> None:
    """The exploration path (many designs at once) equals estimate() design by design."""
    net = load_workload(model, precision="int8")
    out = _batch_totals(net, {**_columns(), "precision": ["int8"] * len(POINTS)})
    for i, p in enumerate(POINTS):
        spec = SYSTOLIC.to_spec({**p, "precision": "int8"}, precisions=("int8",))
        totals = estimate(net, spec).totals()
        for key in ("latency_s", "energy_j", "area_mm2", "dram_bytes", "utilization"):
            assert out[key][i] == pytest.approx(totals[key], rel=1e-9), key


def test_mixed_precision_variant_matches_estimate() -> None:
    model = ModelSpace(
        name="digits_cnn",
        groups=[{"name": "edge", "layers": ["conv1", "fc"], "weight_bits": 8, "act_bits": 16}],
    )
    net = build_variant(
        model, {"bits": 4, "edge.weight_bits": 8, "edge.act_bits": 16}, default_precision="int8"
    )
    assert {o.act_precision for o in net.ops} == {"int4", "int16"}
    out = _batch_totals(net, _columns())
    precisions = tuple(sorted({o.act_precision for o in net.ops}))
    for i, p in enumerate(POINTS):
        totals = estimate(net, SYSTOLIC.to_spec(p, precisions=precisions)).totals()
        assert out["energy_j"][i] == pytest.approx(totals["energy_j"], rel=1e-9)
        assert out["latency_s"][i] == pytest.approx(totals["latency_s"], rel=1e-9)


def test_pruning_shrinks_gemms_quadratically() -> None:
    net = load_workload("resnet18", precision="int8")
    pruned = prune_channels(net, 0.5)
    ratio = pruned.macs / net.macs
    assert 0.22 < ratio < 0.35  # ~ (1 - p)^2 in the body, first/last layers keep one side
    assert pruned.params < 0.35 * net.params
    fc = pruned.ops[-1] if pruned.ops[-1].gemms else pruned.by_kind("gemm")[-1]
    assert fc.gemms[0].n == net.by_kind("gemm")[-1].gemms[0].n  # classifier keeps classes
    conv1 = pruned.ops[0]
    assert conv1.gemms[0].k == net.ops[0].gemms[0].k  # image channels are not pruned


def test_digits_network_shapes() -> None:
    net = digits_cnn_network(1.0)
    assert net.macs == 8 * 64 * 9 + 16 * 64 * 8 * 9 + 256 * 10
    assert net.params == (8 * 9 + 8) + (16 * 8 * 9 + 16) + (256 * 10 + 10)


def test_digits_network_matches_torch_export() -> None:
    pytest.importorskip("torch")
    import torch

    from codesign_playground.explore.digits import DigitsCNN
    from codesign_playground.workload.importers.torch_export import network_from_torch

    for w in (0.5, 2.0):
        ref = network_from_torch(DigitsCNN(w, 32), (torch.zeros(1, 1, 8, 8),))
        ours = digits_cnn_network(w)
        assert ours.macs == ref.macs
        assert ours.params == ref.params


def test_many_designs_in_one_call() -> None:
    net = load_workload("resnet18", precision="int8")
    rng = np.random.default_rng(0)
    cols = {
        "rows": list(rng.choice([8, 32, 128], 500)),
        "cols": list(rng.choice([8, 32, 128], 500)),
    }
    out = _batch_totals(net, cols)
    assert out["latency_s"].shape == (500,)
    assert np.all(out["latency_s"] > 0)
