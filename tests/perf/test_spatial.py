"""The mapping-aware spatial model: hand-computed access counts, mapper invariants, errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec, hardware_from_dict
from codesign_playground.hardware.templates import spatial
from codesign_playground.perf.spatial import (
    ORDERS,
    Dim,
    LoopNest,
    NestMapping,
    Operand,
    evaluate_mapping,
    loop_nests,
    map_layer,
    spatial_model,
)
from codesign_playground.workload.ir import Network, TensorSpec
from codesign_playground.workload.ops import activation, conv, gemm
from codesign_playground.workload.zoo import build_zoo_model

WT, IN, OUT = Operand.WEIGHTS, Operand.INPUTS, Operand.OUTPUTS


def _spec(*, rows: int = 1, cols: int = 1, per_pe: bool = False, buf: int = 1024) -> HardwareSpec:
    """One buffer holding everything (per PE or shared) and DRAM, 16-bit."""
    data: dict[str, Any] = {
        "name": "tiny",
        "kind": "spatial",
        "dataflow": "ws",
        "compute": {
            "rows": rows,
            "cols": cols,
            "macs_per_pe_per_cycle": {"int16": 1},
            "clock_hz": 1e8,
        },
        "memory": [
            {
                "name": "buf",
                "capacity_bytes": buf,
                "instances": rows * cols if per_pe else 1,
                "holds": ["weights", "inputs", "outputs"],
                "access_width_bits": 16,
                "read_energy_pj": 1.0,
                "write_energy_pj": 1.0,
            },
            {
                "name": "dram",
                "holds": ["weights", "inputs", "outputs"],
                "access_width_bits": 16,
                "read_energy_pj": 100.0,
                "write_energy_pj": 100.0,
                "bytes_per_cycle": 2,
            },
        ],
    }
    return hardware_from_dict(data)


def _counts(m: NestMapping, level: int) -> tuple[list[float], list[float]]:
    return [float(v) for v in m.reads[:, level]], [float(v) for v in m.writes[:, level]]


# ------------------------------------------------------------------- hand-computed counts
CONV1D = LoopNest("conv1d", bounds=(1, 1, 1, 1, 4, 1, 3))  # 4 outputs, 3 taps, 6 inputs


def test_conv1d_weights_and_row_in_buffer() -> None:
    # buf keeps the 3 weights and a 3-wide input window; DRAM iterates Q = 4.
    m = evaluate_mapping(CONV1D, _spec(), factors=[(1, 1, 1, 1, 1, 1, 3), (1, 1, 1, 1, 4, 1, 1)])
    # buf: every MAC reads a weight and an input; psums: 12 writes, 12 - 4 first-touch reads
    # plus 4 drains to DRAM. Fills: weights once (3), inputs 3 + 3 x 1 sliding column (6).
    assert _counts(m, 0) == ([12.0, 12.0, 12.0], [3.0, 6.0, 12.0])
    # DRAM: compulsory only (weights 3, inputs 6, outputs written 4, none read back)
    assert _counts(m, 1) == ([3.0, 6.0, 0.0], [0.0, 0.0, 4.0])
    assert m.macs == 12
    assert m.compute_cycles == 12
    assert m.tile_bits[0] == 16 * (3 + 3 + 1)


def test_conv1d_untiled_loop_order_decides_reuse() -> None:
    spec = _spec()
    f = [(1,) * 7, (1, 1, 1, 1, 4, 1, 3)]
    # ORDERS[0]: N,P,Q outermost ... C,R,S innermost: S is the innermost loop over DRAM
    out_stat = evaluate_mapping(CONV1D, spec, factors=f, orders=[0, ORDERS.index((0, 1, 2))])
    # weights re-fetched every MAC (12), inputs 12, outputs kept across S: 4 writes, no reads
    assert _counts(out_stat, 1) == ([12.0, 12.0, 0.0], [0.0, 0.0, 4.0])
    # ORDERS (2, 1, 0): S outermost, Q innermost: weights reused over Q (3 fetches), inputs
    # slide by one column (tile 1 wide: no overlap, 12), psums go back and forth: 4 distinct
    # outputs x 3 visits = 12 writes, 8 reads
    w_stat = evaluate_mapping(CONV1D, spec, factors=f, orders=[0, ORDERS.index((2, 1, 0))])
    assert _counts(w_stat, 1) == ([3.0, 12.0, 8.0], [0.0, 0.0, 12.0])


def test_gemm_spatial_reduction_and_multicast() -> None:
    # GEMM m = n = k = 2 on 2 PEs with per-PE buffers; k split across the two PEs.
    nest = LoopNest("mm", bounds=(2, 2, 2, 1, 1, 1, 1))
    spec = _spec(rows=2, per_pe=True)
    m = evaluate_mapping(
        nest,
        spec,
        factors=[(2, 2, 1, 1, 1, 1, 1), (1,) * 7],
        spatial_rows=(1, 1, 2, 1, 1, 1, 1),
    )
    # per PE: 2 weights, 2 inputs, 4 psums; each PE reads operands once per MAC (8 MACs)
    # and drains its 4 psums; DRAM sends 4 weights + 4 inputs and receives the 4 reduced sums
    assert _counts(m, 0) == ([8.0, 8.0, 8.0], [4.0, 4.0, 8.0])
    assert _counts(m, 1) == ([4.0, 4.0, 0.0], [0.0, 0.0, 4.0])
    assert m.active_pes == 2
    assert m.compute_cycles == 4
    # DRAM moves 12 elements = 24 bytes at 2 bytes/cycle: 12 cycles, memory bound
    assert m.cycles == 12
    assert m.bound == "dram"
    assert m.utilization == pytest.approx(8 / (12 * 2))


def test_gemm_multicast_of_inputs_across_output_columns() -> None:
    # M split across 2 PEs: inputs are shared (multicast once), weights are not
    nest = LoopNest("mm", bounds=(3, 2, 1, 1, 1, 1, 1))
    m = evaluate_mapping(
        nest,
        _spec(cols=2, per_pe=True),
        factors=[(3, 1, 1, 1, 1, 1, 1), (1,) * 7],
        spatial_cols=(1, 2, 1, 1, 1, 1, 1),
    )
    assert _counts(m, 1) == ([2.0, 3.0, 0.0], [0.0, 0.0, 6.0])
    assert _counts(m, 0) == ([6.0, 6.0, 6.0], [2.0, 6.0, 6.0])


def test_conv_nest_from_op() -> None:
    x = TensorSpec("x", (2, 8, 9, 9))
    op = conv("c", x, (16, 4, 3, 3), strides=(2, 2), pads=(1, 1, 1, 1), groups=2, precision="int16")
    (nest,) = loop_nests(op)
    assert nest.bounds == (2, 8, 4, 5, 5, 3, 3)
    assert nest.stride == (2, 2)
    assert nest.groups == 2
    assert nest.macs == op.macs
    # input footprint per group: N x C x ((P-1)*2 + 3) x ((Q-1)*2 + 3) (padding included)
    assert nest.footprint(IN) == 2 * 4 * 11 * 11
    fc = gemm("fc", TensorSpec("h", (4, 32)), 10, precision="int16")
    (fnest,) = loop_nests(fc)
    assert fnest.bounds == (4, 10, 32, 1, 1, 1, 1)


# ------------------------------------------------------------------- the mapper
EYERISS = spatial()
RESNET = build_zoo_model("resnet18", precision="int16")
SAMPLE_OPS = [
    RESNET.ops[i] for i in range(len(RESNET.ops)) if RESNET.ops[i].kind in ("conv", "gemm")
]
SAMPLE_OPS = [SAMPLE_OPS[i] for i in (0, 1, 7, 12, len(SAMPLE_OPS) - 1)]


def _check_mapping(m: NestMapping, spec: HardwareSpec) -> None:
    assert np.all(m.tile_bits <= m.capacity_bits)
    assert all(p >= b for p, b in zip(m.padded_bounds(), m.nest.bounds, strict=True))
    assert math.prod(m.spatial_rows) <= spec.compute.rows
    assert math.prod(m.spatial_cols) <= spec.compute.cols
    assert np.all(m.reads >= 0)
    assert np.all(m.writes >= 0)
    dram = len(m.level_names) - 1
    g = m.nest.groups
    assert m.reads[WT, dram] >= g * m.nest.footprint(WT) - 1e-6
    assert m.reads[IN, dram] >= g * m.nest.footprint(IN) - 1e-6
    assert m.writes[OUT, dram] >= g * m.nest.footprint(OUT) - 1e-6


@pytest.mark.parametrize("op", SAMPLE_OPS, ids=lambda o: o.name)
def test_chosen_mapping_fits_covers_and_beats_naive(op: Any) -> None:
    lm = map_layer(op, EYERISS, budget=600)
    (m,) = lm.nests
    _check_mapping(m, EYERISS)
    naive = evaluate_mapping(m.nest, EYERISS, factors=[(1,) * 7, (1,) * 7, m.nest.bounds])
    assert m.energy_pj <= naive.energy_pj
    assert "glb" in lm.describe()
    assert m.utilization <= 1.0 + 1e-9


def test_deterministic_for_a_seed() -> None:
    op = SAMPLE_OPS[2]
    a = map_layer(op, EYERISS, budget=500, seed=3).nests[0]
    b = map_layer(op, EYERISS, budget=500, seed=3).nests[0]
    assert (a.factors, a.orders, a.spatial_rows, a.spatial_cols) == (
        b.factors,
        b.orders,
        b.spatial_rows,
        b.spatial_cols,
    )
    assert a.energy_pj == b.energy_pj


@pytest.mark.parametrize("objective", ["energy", "latency", "edp"])
def test_objectives(objective: Any) -> None:
    op = SAMPLE_OPS[1]
    m = map_layer(op, EYERISS, budget=400, objective=objective).nests[0]
    _check_mapping(m, EYERISS)


def test_latency_objective_is_faster_than_energy_objective() -> None:
    op = SAMPLE_OPS[3]
    e = map_layer(op, EYERISS, budget=800, objective="energy").nests[0]
    t = map_layer(op, EYERISS, budget=800, objective="latency").nests[0]
    assert t.cycles <= e.cycles * 1.001 or t.energy_pj >= e.energy_pj


def test_spatial_model_network() -> None:
    x = TensorSpec("x", (1, 3, 16, 16))
    c1 = conv("c1", x, (8, 3, 3, 3), pads=(1, 1, 1, 1), precision="int16")
    r1 = activation("r1", "Relu", c1.outputs[0], precision="int16")
    c2 = conv("c2", r1.outputs[0], (8, 8, 3, 3), pads=(1, 1, 1, 1), precision="int16")
    net = Network("tiny", (c1, r1, c2))
    res = spatial_model(net, EYERISS, budget=300)
    n_l = len(EYERISS.memory)
    assert res.reads.shape == (n_l, 3)
    assert res.read_bytes.shape == (n_l, 3)
    assert res.mappings[1] is None
    assert res.mappings[0] is not None
    # the activation streams once: DRAM reads its input, writes its output
    assert res.read_bytes[-1, 1] == r1.input_bytes
    assert res.write_bytes[-1, 1] == r1.output_bytes
    # accesses and bytes agree through each level's width
    widths = res.access_bits[:, np.newaxis]
    assert np.allclose(res.reads * widths / 8, res.read_bytes)
    assert np.all(res.utilization <= 1.0 + 1e-9)
    assert res.latency_s[0] == pytest.approx(res.cycles[0] / EYERISS.compute.clock_hz)
    assert set(res.bound) <= {"compute", *res.level_names}
    again = spatial_model(net, EYERISS, budget=300)
    assert np.array_equal(again.energy_pj, res.energy_pj)


# ------------------------------------------------------------------- errors
def test_level_too_small_for_one_element() -> None:
    spec = spatial(filter_spad_bytes=1)
    with pytest.raises(HardwareSpecError, match=r"filter_spad.*at least 2 bytes"):
        map_layer(SAMPLE_OPS[0], spec)


def test_unsupported_precision() -> None:
    fp = build_zoo_model("resnet18")
    with pytest.raises(HardwareSpecError, match="precision"):
        spatial_model(fp, EYERISS)


# ------------------------------------------------------------------- properties
def _glb_resized(spec: HardwareSpec, capacity: int) -> HardwareSpec:
    """The same spec with another GLB capacity and unchanged per-access energies."""
    levels = tuple(
        lv.model_copy(update={"capacity_bytes": capacity}) if lv.name == "glb" else lv
        for lv in spec.memory
    )
    return spec.model_copy(update={"memory": levels})


SMALL = spatial(rows=2, cols=2, glb_kb=0.25)  # 256-byte GLB


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m=st.integers(1, 4),
    c=st.integers(1, 3),
    p=st.integers(1, 4),
    r=st.integers(1, 3),
    extra=st.integers(1, 8),
)
def test_larger_glb_never_worse_exhaustive(m: int, c: int, p: int, r: int, extra: int) -> None:
    q = 2
    x = TensorSpec("x", (1, c, p + r - 1, q + r - 1))
    op = conv("c", x, (m, c, r, r), precision="int16")
    small = map_layer(op, SMALL, search="exhaustive").nests[0]
    big = map_layer(op, _glb_resized(SMALL, 256 * (1 + extra)), search="exhaustive").nests[0]
    assert big.energy_pj <= small.energy_pj * (1 + 1e-12)
    for mm in (small, big):
        assert np.all(mm.reads >= 0)
        assert np.all(mm.writes >= 0)
        assert np.all(mm.tile_bits <= mm.capacity_bits)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), m=st.integers(1, 40), c=st.integers(1, 40), seed=st.integers(0, 9))
def test_random_search_counts_nonnegative_and_compulsory(n: int, m: int, c: int, seed: int) -> None:
    op = gemm("fc", TensorSpec("h", (n, c)), m, bias=False, precision="int16")
    mm = map_layer(op, EYERISS, budget=200, seed=seed, search="random").nests[0]
    _check_mapping(mm, EYERISS)


def test_dims_are_typed() -> None:
    assert Dim.P == 3
    assert Dim(6).name == "S"
