"""The estimate pipeline: totals, energy accounting, properties, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from codesign_playground.cli.main import app
from codesign_playground.cli.status import ExitStatus
from codesign_playground.errors import HardwareSpecError, InputError
from codesign_playground.hardware import get_chip, systolic
from codesign_playground.hardware.leakage import logic_leakage_w_per_mm2, sram_leakage_w_per_byte
from codesign_playground.perf.estimate import estimate
from codesign_playground.workload import load_workload
from codesign_playground.workload.zoo import build_zoo_model

runner = CliRunner()


@pytest.fixture(scope="module")
def resnet18_int8():  # type: ignore[no-untyped-def]
    return load_workload("resnet18", precision="int8")


def test_totals_are_sums_of_layers(resnet18_int8) -> None:  # type: ignore[no-untyped-def]
    e = estimate(resnet18_int8, systolic(rows=32, cols=32))
    recs = e.layer_records()
    tot = e.totals()
    assert tot["latency_s"] == pytest.approx(sum(r["latency_s"] for r in recs))
    assert tot["energy_j"] == pytest.approx(sum(r["energy_j"] for r in recs))
    assert tot["cycles"] == pytest.approx(sum(r["cycles"] for r in recs))
    assert tot["energy_j"] == pytest.approx(sum(e.energy.by_component_j().values()))
    assert tot["macs"] == resnet18_int8.macs
    assert 0 < tot["utilization"] <= 1
    assert e.timing_model == "systolic"


def test_energy_components_non_negative_and_leakage_over_runtime(resnet18_int8) -> None:  # type: ignore[no-untyped-def]
    spec = systolic(rows=16, cols=16)
    e = estimate(resnet18_int8, spec)
    assert np.all(e.energy.per_op_j >= 0)
    comps = e.energy.by_component_j()
    assert set(comps) == {
        "mac",
        "other_arithmetic",
        "ifmap_sram",
        "filter_sram",
        "ofmap_sram",
        "dram",
        "leakage",
    }
    sram_bytes = 3 * 64 * 1024
    expected_w = sram_bytes * sram_leakage_w_per_byte()
    assert comps["leakage"] >= expected_w * e.totals()["latency_s"]
    assert logic_leakage_w_per_mm2() == pytest.approx(12.08e-3, rel=1e-3)  # 12 mW/mm^2


def test_mac_energy_is_macs_times_horowitz(resnet18_int8) -> None:  # type: ignore[no-untyped-def]
    spec = systolic(rows=32, cols=32, tech_node_nm=45)
    e = estimate(resnet18_int8, spec)
    assert e.energy.by_component_j()["mac"] == pytest.approx(resnet18_int8.macs * 0.3e-12)


@pytest.mark.parametrize("chip", ["a100", "h100", "tpu-v4", "jetson-agx-orin-64gb"])
def test_catalog_chips_estimate(chip: str) -> None:
    spec = get_chip(chip)
    prec = "fp16" if "fp16" in spec.precisions else spec.precisions[0]
    e = estimate(build_zoo_model("resnet50", precision=prec), spec)
    t = e.totals()
    assert t["latency_s"] > 0 and t["energy_j"] > 0 and t["area_mm2"] > 0
    # the roofline never beats the compute peak
    assert t["latency_s"] >= 2 * t["macs"] / spec.peak_ops_per_s(prec) * (1 - 1e-9)


def test_mode_mismatch_is_input_error(resnet18_int8) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="systolic model needs systolic"):
        estimate(resnet18_int8.with_precision("fp16"), get_chip("h100"), mode="systolic")
    with pytest.raises(InputError, match="unknown timing model"):
        estimate(resnet18_int8, systolic(), mode="magic")


@settings(max_examples=15, deadline=None)
@given(
    bw=st.floats(1e9, 1e11),
    factor=st.floats(1.0, 50.0),
    rows=st.sampled_from([8, 16, 32]),
    dataflow=st.sampled_from(["ws", "os", "is"]),
)
def test_more_bandwidth_never_slower(bw: float, factor: float, rows: int, dataflow: str) -> None:
    net = build_zoo_model("mobilenet_v2", precision="int8", resolution=64)
    slow = estimate(
        net,
        systolic(
            rows=rows,
            cols=rows,
            dataflow=dataflow,  # type: ignore[arg-type]
            dram_bandwidth_bytes_per_s=bw,
        ),
    )
    fast = estimate(
        net,
        systolic(
            rows=rows,
            cols=rows,
            dataflow=dataflow,  # type: ignore[arg-type]
            dram_bandwidth_bytes_per_s=bw * factor,
        ),
    )
    assert np.all(fast.timing.latency_s <= slow.timing.latency_s * (1 + 1e-12))
    assert np.all(fast.energy.per_op_j >= 0)


def test_cli_estimate_json() -> None:
    res = runner.invoke(app, ["estimate", "-m", "resnet18", "-H", "tpu-v1", "--json"])
    assert res.exit_code == ExitStatus.SUCCESS, res.output
    doc = json.loads(res.stdout)
    layer = doc["layers"][0]
    assert {"name", "latency_s", "cycles", "energy_j", "utilization", "bound"} <= set(layer)
    assert {"latency_s", "cycles", "energy_j", "area_mm2", "utilization"} <= set(doc["totals"])
    assert doc["timing_model"] == "systolic"


def test_cli_estimate_table_and_errors() -> None:
    res = runner.invoke(
        app, ["estimate", "-m", "mobilenet_v2", "-H", "eyeriss-v1", "--mode", "roofline"]
    )
    assert res.exit_code == 0, res.output
    assert "total" in res.stdout and "area" in res.stdout
    for args, needle in (
        (["estimate", "-m", "resnet18", "-H", "nosuchchip"], "unknown chip"),
        (["estimate", "-m", "resnet18", "-H", "h100", "--precision", "int4"], "precision"),
        (["estimate", "-m", "resnet18", "-H", "h100", "--format", "pdf"], "--format"),
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == ExitStatus.BAD_INPUT, (args, r.output)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and needle in lines[0], r.stderr


def test_spatial_hardware_uses_the_mapper() -> None:
    net = build_zoo_model("resnet18", precision="int16", resolution=64)
    e = estimate(net, get_chip("eyeriss-v1"))
    assert e.timing_model == "spatial"
    t = e.totals()
    assert t["energy_j"] == pytest.approx(sum(r["energy_j"] for r in e.layer_records()))
    assert 0 < t["utilization"] <= 1
    # the mapper moves every weight from DRAM at least once
    assert t["dram_bytes"] >= net.weight_bytes


def test_catalog_abstract_arrays_fall_back_to_roofline() -> None:
    """Catalog chips that publish only a MAC count have no array to map onto."""
    e = estimate(build_zoo_model("mobilenet_v2", precision="int8"), get_chip("edge-tpu"))
    assert e.timing_model == "roofline"


@settings(max_examples=20, deadline=None)
@given(
    rows=st.integers(2, 128),
    cols=st.integers(2, 128),
    kb=st.sampled_from([2, 16, 64, 512]),
    node=st.sampled_from([7.0, 16.0, 28.0, 45.0, 65.0]),
    dataflow=st.sampled_from(["ws", "os", "is"]),
)
def test_energy_non_negative_and_totals_are_sums(
    rows: int, cols: int, kb: int, node: float, dataflow: str
) -> None:
    net = build_zoo_model("resnet18", precision="int8", resolution=32)
    spec = systolic(
        rows=rows,
        cols=cols,
        ifmap_sram_kb=kb,
        filter_sram_kb=kb,
        ofmap_sram_kb=kb,
        tech_node_nm=node,
        dataflow=dataflow,
    )  # type: ignore[arg-type]
    e = estimate(net, spec)
    assert np.all(e.energy.per_op_j >= 0)
    assert np.all(e.timing.read_bytes >= 0) and np.all(e.timing.write_bytes >= 0)
    t = e.totals()
    recs = e.layer_records()
    assert t["energy_j"] == pytest.approx(sum(r["energy_j"] for r in recs), rel=1e-12)
    assert t["latency_s"] == pytest.approx(sum(r["latency_s"] for r in recs), rel=1e-12)
    assert t["cycles"] == pytest.approx(sum(r["cycles"] for r in recs), rel=1e-12)
    assert 0 < t["utilization"] <= 1


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_rtl_timing_mode_matches_the_generated_rtl(dataflow: str) -> None:
    """``--mode rtl``: GEMM cycles are the generated RTL's (simulation-checked in tests/rtl)."""
    from codesign_playground.perf.rtl_timing import rtl_gemm_cycles
    from codesign_playground.workload import ops
    from codesign_playground.workload.ir import Network, TensorSpec

    net = Network(
        "g", (ops.gemm("fc", TensorSpec("x", (37, 50)), 21, bias=False, precision="int8"),)
    )
    spec = systolic(
        rows=8,
        cols=8,
        dataflow=dataflow,  # type: ignore[arg-type]
        ifmap_sram_kb=512,
        filter_sram_kb=512,
        ofmap_sram_kb=512,
        dram_bandwidth_bytes_per_s=1e12,
    )
    rtl = estimate(net, spec, mode="rtl")
    assert rtl.timing_model == "rtl"
    assert rtl.timing.cycles[0] == rtl_gemm_cycles(37, 21, 50, 8, 8, dataflow)
    scalesim = estimate(net, spec, mode="systolic")
    folds = (-(-50 // 8)) * (-(-21 // 8)) if dataflow == "ws" else (-(-37 // 8)) * (-(-21 // 8))
    # SCALE-Sim's count (+1, it reports the last index) and the RTL's differ as documented
    extra = 2 if dataflow == "ws" else 8 * folds + 1
    assert rtl.timing.cycles[0] - scalesim.timing.cycles[0] == extra
    with pytest.raises(HardwareSpecError, match="ws and os"):
        estimate(net, systolic(rows=8, cols=8, dataflow="is"), mode="rtl")
