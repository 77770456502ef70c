"""The analytical systolic model against SCALE-Sim 3.0.0's own reports.

Reference data: ``tests/data/scalesim/`` written by ``scripts/scalesim_reference.py``, which ran
SCALE-Sim 3.0.0 itself on every case (nothing in it is computed by this project).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign_playground.errors import HardwareSpecError, InputError, ModelFormatError
from codesign_playground.perf.scalesim_compat import (
    BANDWIDTH_REPORT_HEADER,
    COMPUTE_REPORT_HEADER,
    DETAILED_ACCESS_REPORT_HEADER,
    ScaleSimConfig,
    TopologyLayer,
    config_from_keys,
    layer_from_row,
    load_config,
    load_topology,
    simulate_layers,
    write_reports,
)
from codesign_playground.perf.systolic import (
    FAST,
    SystolicResult,
    conv_gemm_view,
    dataflow_code,
    simulate,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "scalesim"
MANIFEST: dict[str, Any] = json.loads((DATA / "manifest.json").read_text())
CASES: list[dict[str, Any]] = MANIFEST["cases"]
IDS = [c["id"] for c in CASES]

# USER mode with read SRAMs smaller than the prefetch matrices (read-buffer ring replay).
USER_RING_CASES = frozenset(
    c["id"] for c in CASES if c["id"].startswith("user_ring_") or c["id"].startswith("user_small_")
)


SRAM_COUNTS = {
    "SRAM IFMAP Reads": "ifmap_sram_reads_words",
    "SRAM Filter Reads": "filter_sram_reads_words",
    "SRAM OFMAP Writes": "ofmap_sram_writes_words",
}
DRAM_COUNTS = {
    "DRAM IFMAP Reads": ("ifmap_dram_reads_words", "ifmap_dram_exact"),
    "DRAM Filter Reads": ("filter_dram_reads_words", "filter_dram_exact"),
    "DRAM OFMAP Writes": ("ofmap_dram_writes_words", None),
}


def layer_of(case: dict[str, Any]) -> TopologyLayer:
    return layer_from_row(case["kind"], case["topology"])


def config_of(case: dict[str, Any]) -> ScaleSimConfig:
    return config_from_keys(case["config"])


def run(case: dict[str, Any]) -> SystolicResult:
    return simulate_layers([layer_of(case)], config_of(case))


def value(res: SystolicResult, name: str) -> float:
    return float(np.asarray(getattr(res, name))[0])


def test_reference_set_is_large_and_varied() -> None:
    assert len(CASES) >= 72
    kinds = {c["kind"] for c in CASES}
    dataflows = {c["config"]["Dataflow"] for c in CASES}
    assert kinds == {"conv", "gemm"}
    assert dataflows == {"ws", "os", "is"}
    non_square = [c for c in CASES if c["config"]["ArrayHeight"] != c["config"]["ArrayWidth"]]
    assert non_square
    ragged = [c for c in CASES if run(c).mapping_efficiency[0] < 1.0]
    assert len(ragged) >= 20  # shapes that are not multiples of the array
    for case in CASES:
        for name in MANIFEST["report_files"]:
            assert (DATA / "cases" / case["id"] / name).is_file()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_compute_cycles_exact(case: dict[str, Any]) -> None:
    ref = case["reports"]["COMPUTE_REPORT.csv"][0]
    res = run(case)
    assert value(res, "compute_cycles") == ref["Total Cycles"] - ref["Stall Cycles"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sram_counts_exact(case: dict[str, Any]) -> None:
    ref = case["reports"]["DETAILED_ACCESS_REPORT.csv"][0]
    res = run(case)
    for column, field in SRAM_COUNTS.items():
        assert value(res, field) == ref[column], column


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_dram_counts_exact(case: dict[str, Any]) -> None:
    """Every DRAM count equals SCALE-Sim's in every reference case."""
    ref = case["reports"]["DETAILED_ACCESS_REPORT.csv"][0]
    res = run(case)
    for column, (field, _) in DRAM_COUNTS.items():
        assert value(res, field) == ref[column], column


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_stalls_totals_and_utilization(case: dict[str, Any]) -> None:
    ref = case["reports"]["COMPUTE_REPORT.csv"][0]
    res = run(case)
    assert value(res, "mapping_efficiency") * 100 == pytest.approx(
        ref["Mapping Efficiency %"], rel=1e-9
    )
    assert value(res, "compute_utilization") * 100 == pytest.approx(ref["Compute Util %"], rel=1e-9)
    assert value(res, "stall_cycles") == ref["Stall Cycles"]
    assert value(res, "total_cycles") == ref["Total Cycles"]
    assert value(res, "utilization") * 100 == pytest.approx(ref["Overall Util %"], rel=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_exact_flags_match_the_reference(case: dict[str, Any]) -> None:
    """The ``*_exact`` flags are True wherever the model reproduces SCALE-Sim, False at gaps."""
    res = run(case)
    assert bool(res.ifmap_dram_exact[0] & res.filter_dram_exact[0] & res.stall_exact[0])


def _read_csv(path: Path) -> tuple[str, list[str]]:
    lines = path.read_text().splitlines()
    return lines[0], lines[1:]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_report_writer_matches_scalesim_files(case: dict[str, Any], tmp_path: Path) -> None:
    write_reports([layer_of(case)], config_of(case), tmp_path)
    for name in MANIFEST["report_files"]:
        ref_header, ref_rows = _read_csv(DATA / "cases" / case["id"] / name)
        our_header, our_rows = _read_csv(tmp_path / name)
        assert our_header == ref_header
        assert len(our_rows) == len(ref_rows) == 1
        ref_vals = [v.strip() for v in ref_rows[0].split(",")]
        our_vals = [v.strip() for v in our_rows[0].split(",")]
        assert len(our_vals) == len(ref_vals)
        assert our_vals[-1] == ref_vals[-1] == ""  # SCALE-Sim's trailing comma
        cols = ref_header.split(",")[:-1]
        for col, ours, ref in zip(cols, our_vals[:-1], ref_vals[:-1], strict=True):
            assert float(ours) == pytest.approx(float(ref), rel=1e-9, abs=1e-9), (name, col)
            assert ("." in ours) == ("." in ref), (name, col)  # same int / float formatting


def test_report_headers_are_scalesims() -> None:
    assert COMPUTE_REPORT_HEADER.startswith("LayerID, Total Cycles (incl. prefetch)")
    assert BANDWIDTH_REPORT_HEADER.endswith("Avg OFMAP DRAM BW,")
    assert DETAILED_ACCESS_REPORT_HEADER.count(",") == 19


# --- parsing -------------------------------------------------------------------------------

CFG_TEXT = """[general]
run_name = demo

[architecture_presets]
ArrayHeight : 32
ArrayWidth : 16
IfmapSramSzkB : 64
FilterSramSzkB : 64
OfmapSramSzkB : 32
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Bandwidth : 4
Dataflow : os

[run_presets]
InterfaceBandwidth : USER
"""


def test_load_config_reads_keys_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "a.cfg"
    path.write_text(CFG_TEXT)
    cfg = load_config(path)
    assert (cfg.array_rows, cfg.array_cols, cfg.dataflow) == (32, 16, "os")
    assert cfg.use_user_bandwidth and cfg.bandwidths == (4,)
    assert cfg.ofmap_sram_kb == 32
    assert cfg.ifmap_sram_bank_bandwidth == 10  # SCALE-Sim default ([layout] absent)
    assert cfg.read_request_buffer == 60


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("ArrayHeight : 32", "ArrayHeight : 3x2", "ArrayHeight"),
        ("ArrayWidth : 16", "ArrayWidth : 0", "ArrayWidth"),
        ("Dataflow : os", "Dataflow : rs", "Dataflow"),
        ("InterfaceBandwidth : USER", "InterfaceBandwidth : AUTO", "InterfaceBandwidth"),
        ("Bandwidth : 4", "Bandwidth : fast", "Bandwidth"),
        ("Bandwidth : 4\n", "", "Bandwidth"),
    ],
)
def test_load_config_errors_name_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = tmp_path / "bad.cfg"
    path.write_text(CFG_TEXT.replace(old, new))
    with pytest.raises(HardwareSpecError, match=key) as info:
        load_config(path)
    assert "\n" not in str(info.value)


def test_config_from_keys_reads_like_load_config() -> None:
    """Stored reference keys go through the same parser: SCALE-Sim's flag spellings, unknown
    keys named, unmodelled settings reported by ``unmodelled``."""
    cfg = config_from_keys(
        {"InterfaceBandwidth": "USER", "Bandwidth": 3, "IfmapCustomLayout": "yes", "ArrayHeight": 5}
    )
    assert (cfg.array_rows, cfg.bandwidths, cfg.ifmap_custom_layout) == (5, (3,), True)
    assert "IfmapCustomLayout" in (cfg.unmodelled() or "")
    assert config_from_keys({"InterfaceBandwidth": "CALC", "Bandwidth": "x"}).bandwidths == ()
    assert config_from_keys({"UseRamulatorTrace": "true"}).use_ramulator_trace is False
    with pytest.raises(HardwareSpecError, match="ArrayHieght"):
        config_from_keys({"ArrayHieght": 4})
    with pytest.raises(HardwareSpecError, match="IfmapOffset"):
        config_from_keys({"IfmapOffset": -1}).require_modelled()


def test_load_config_rejects_non_ini(tmp_path: Path) -> None:
    path = tmp_path / "x.cfg"
    path.write_text("ArrayHeight = 3\n")
    with pytest.raises(HardwareSpecError):
        load_config(path)


def test_load_topology_conv_and_gemm(tmp_path: Path) -> None:
    conv = tmp_path / "conv.csv"
    conv.write_text(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,\nc1, 14, 14, 3, 3, 16, 32, 2,\n\nDPw, 8, 8, 3, 3, 3, 1, 1,\n"
    )
    layers = load_topology(conv)
    assert layers[0] == TopologyLayer("c1", 14, 14, 3, 3, 16, 32, 2, 2, row=2)
    assert [x.name for x in layers[1:]] == ["DPwChannel_0", "DPwChannel_1", "DPwChannel_2"]
    assert all(x.channels == 1 for x in layers[1:])
    gemm = tmp_path / "gemm.csv"
    gemm.write_text("Layer, M, N, K,\ng1, 100, 37, 50,\n")
    (g,) = load_topology(gemm, gemm=True)
    # SCALE-Sim: ifmap M x K, filter 1 x K, 1 channel, N filters, stride 1.
    assert (g.ifmap_h, g.ifmap_w, g.filter_h, g.filter_w, g.channels, g.num_filters) == (
        100,
        50,
        1,
        50,
        1,
        37,
    )
    view = conv_gemm_view(g.ifmap_h, g.ifmap_w, g.filter_h, g.filter_w, g.channels, g.num_filters)
    assert (int(view.m), int(view.n), int(view.k)) == (100, 37, 50)


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ("c1, 14, 14, 3, 3, 16, 32, 1\n", "row 2: no trailing comma"),
        ("c1, 14, 14, 3, x, 16, 32, 1,\n", "row 2, column 'Filter Width'"),
        ("c1, 14, 14, 3, 3, 16,\n", "row 2, column 'Num Filter': missing"),
        ("c1, 2, 14, 3, 3, 16, 32, 1,\n", "row 2, column 'Filter Height'"),
        ("c1, 14, 14, 3, 3, 16, -4, 1,\n", "row 2, column 'Num Filter'"),
        ("c1, 14, 14, 3, 3, 16, 32, 1, 2-4,\n", "row 2, column 'Sparsity'"),
        ("", "no layer rows"),
    ],
)
def test_load_topology_errors(tmp_path: Path, body: str, pattern: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,\n" + body)
    with pytest.raises(ModelFormatError, match=pattern) as info:
        load_topology(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_load_topology_lenient_trailing_comma(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("h,\nc1, 14, 14, 3, 3, 16, 32, 1\n")
    (layer,) = load_topology(path, require_trailing_comma=False)
    assert layer.stride_h == 1


# --- model properties --------------------------------------------------------------------


def test_broadcasting_layers_by_designs() -> None:
    m = np.array([[64], [100], [17]])
    n = np.array([[64], [37], [130]])
    k = np.array([[64], [50], [33]])
    rows = np.array([[8, 16, 32, 128]])
    res = simulate(m, n, k, array_rows=rows, array_cols=rows, dataflow="ws")
    assert res.compute_cycles.shape == (3, 4)
    assert res.utilization.shape == (3, 4)
    single = simulate(100, 37, 50, array_rows=16, array_cols=16, dataflow="ws")
    assert res.compute_cycles[1, 1] == single.compute_cycles


dims = st.integers(min_value=1, max_value=600)
arr = st.integers(min_value=1, max_value=256)


@settings(max_examples=200, deadline=None)
@given(
    m=dims,
    n=dims,
    k=dims,
    rows=arr,
    cols=arr,
    df=st.sampled_from(["os", "ws", "is"]),
    user=st.booleans(),
    bw=st.integers(min_value=1, max_value=64),
    extra=st.integers(min_value=1, max_value=64),
    sram_kb=st.integers(min_value=1, max_value=512),
)
def test_properties(
    m: int,
    n: int,
    k: int,
    rows: int,
    cols: int,
    df: str,
    user: bool,
    bw: int,
    extra: int,
    sram_kb: int,
) -> None:
    common: dict[str, Any] = {
        "dataflow": df,
        "user_bandwidth": user,
        "ifmap_sram_kb": sram_kb,
        "filter_sram_kb": sram_kb,
        "ofmap_sram_kb": sram_kb,
    }
    bws = np.array([bw, bw + extra])
    res = simulate(
        m,
        n,
        k,
        array_rows=rows,
        array_cols=cols,
        bandwidth_words_per_cycle=bws,
        ifmap_fill_bw_words_per_cycle=bws,
        filter_fill_bw_words_per_cycle=bws,
        **common,
        **FAST,  # properties of the closed forms (SCALE-Sim itself is not monotone)
    )
    # More bandwidth never increases total cycles.
    assert res.total_cycles[1] <= res.total_cycles[0]
    # Counts are never negative.
    for name in res.__dataclass_fields__:
        if name.endswith(("_words", "_cycles", "folds")) and "start" not in name:
            assert np.all(np.asarray(getattr(res, name)) >= 0), name
    # (Overall Util can exceed 1 on tiny layers: SCALE-Sim's cycle count is the last index.)
    assert np.all(res.utilization > 0)
    assert np.all((res.mapping_efficiency > 0) & (res.mapping_efficiency <= 1))
    # A larger array never needs more folds.
    big = simulate(m, n, k, array_rows=rows + extra, array_cols=cols + extra, **common, **FAST)
    small = simulate(m, n, k, array_rows=rows, array_cols=cols, **common, **FAST)
    assert big.folds <= small.folds
    assert big.row_folds <= small.row_folds and big.col_folds <= small.col_folds


@pytest.mark.parametrize("bad", ["rs", 3, ["ws", "xs"]])
def test_dataflow_code_raises_input_error(bad: Any) -> None:
    with pytest.raises(InputError, match="field 'dataflow'") as info:
        dataflow_code(bad)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)
    assert dataflow_code(["OS", " ws", "is"]).tolist() == [0, 1, 2]


@pytest.mark.parametrize("case", sorted(USER_RING_CASES))
def test_user_small_sram_ring_replay_exact(case: str) -> None:
    """USER mode, read SRAMs smaller than the prefetch matrices: DRAM reads and the last
    refill's cycle equal SCALE-Sim's (the read buffer's ring replay, see the docs)."""
    c = next(x for x in CASES if x["id"] == case)
    ref = c["reports"]["DETAILED_ACCESS_REPORT.csv"][0]
    res = run(c)
    for op in ("ifmap", "filter"):
        name = "IFMAP" if op == "ifmap" else "Filter"
        assert value(res, f"{op}_dram_reads_words") == ref[f"DRAM {name} Reads"]
        assert value(res, f"{op}_dram_start_cycle") == ref[f"DRAM {name} Start Cycle"]
        assert value(res, f"{op}_dram_stop_cycle") == ref[f"DRAM {name} Stop Cycle"]
        assert bool(np.asarray(getattr(res, f"{op}_dram_exact"))[0])
    x, g = layer_of(c), c["config"]
    view = conv_gemm_view(x.ifmap_h, x.ifmap_w, x.filter_h, x.filter_w, x.channels, x.num_filters)
    capped = simulate(
        view.m,
        view.n,
        view.k,
        array_rows=g["ArrayHeight"],
        array_cols=g["ArrayWidth"],
        dataflow=g["Dataflow"],
        ifmap_sram_kb=g["IfmapSramSzkB"],
        filter_sram_kb=g["FilterSramSzkB"],
        user_bandwidth=True,
        replay=False,  # no replay: the estimate, flagged
    )
    assert not bool(capped.ifmap_dram_exact & capped.filter_dram_exact)
