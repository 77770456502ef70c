"""``codesign estimate --hardware X.cfg --model T.csv --format scalesim``: SCALE-Sim's own
report files, compared with the reports SCALE-Sim 3.0.0 wrote for the same inputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codesign_playground.cli.main import app
from codesign_playground.cli.status import ExitStatus

runner = CliRunner()
MANIFEST = Path(__file__).resolve().parents[1] / "data" / "scalesim" / "manifest.json"
SECTIONS = {
    "general": ("run_name",),
    "run_presets": ("InterfaceBandwidth", "UseRamulatorTrace"),
    "architecture_presets": (
        "ArrayHeight",
        "ArrayWidth",
        "IfmapSramSzkB",
        "FilterSramSzkB",
        "OfmapSramSzkB",
        "IfmapOffset",
        "FilterOffset",
        "OfmapOffset",
        "Bandwidth",
        "Dataflow",
        "ReadRequestBuffer",
        "WriteRequestBuffer",
    ),
    "layout": (
        "IfmapCustomLayout",
        "FilterCustomLayout",
        "IfmapSRAMBankBandwidth",
        "IfmapSRAMBankNum",
        "IfmapSRAMBankPort",
        "FilterSRAMBankBandwidth",
        "FilterSRAMBankNum",
        "FilterSRAMBankPort",
    ),
    "sparsity": ("SparsitySupport",),
}
COUNTS = (
    "SRAM IFMAP Reads",
    "SRAM Filter Reads",
    "SRAM OFMAP Writes",
    "DRAM IFMAP Reads",
    "DRAM Filter Reads",
    "DRAM OFMAP Writes",
)


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(MANIFEST.read_text())["cases"]
    ordinary = [c for c in cases if not c["id"].startswith(("user_small", "calc_small"))]
    # one conv and one GEMM per dataflow and bandwidth mode
    picked: dict[tuple[str, str, str], dict[str, Any]] = {}
    for c in ordinary:
        key = (c["kind"], c["config"]["Dataflow"], c["config"]["InterfaceBandwidth"])
        picked.setdefault(key, c)
    return list(picked.values())


def _write_inputs(case: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    cfg = folder / "scale.cfg"
    lines = []
    for section, keys in SECTIONS.items():
        lines.append(f"[{section}]")
        lines += [f"{k} : {case['config'][k]}" for k in keys if k in case["config"]]
    cfg.write_text("\n".join(lines) + "\n")
    topo = folder / "topology.csv"
    header = ", ".join(case["topology"]) + ","
    row = ", ".join(str(v) for v in case["topology"].values()) + ","
    topo.write_text(f"{header}\n{row}\n")
    return cfg, topo


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["id"])
def test_reports_match_scalesim(case: dict[str, Any], tmp_path: Path) -> None:
    cfg, topo = _write_inputs(case, tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "estimate",
            "--hardware",
            str(cfg),
            "--model",
            str(topo),
            "--format",
            "scalesim",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == ExitStatus.SUCCESS, res.output
    for name, expected_rows in case["reports"].items():
        with (out / name).open() as fh:
            got = list(csv.DictReader(fh, skipinitialspace=True))
        got = [{k.strip(): v for k, v in r.items() if k and k.strip()} for r in got]
        assert list(got[0]) == list(expected_rows[0]), name  # same columns, same order
        exp = expected_rows[0]
        if name == "COMPUTE_REPORT.csv":
            assert int(got[0]["Total Cycles"]) - int(got[0]["Stall Cycles"]) == (
                exp["Total Cycles"] - exp["Stall Cycles"]
            )
        if name == "DETAILED_ACCESS_REPORT.csv":
            for col in COUNTS:
                assert float(got[0][col]) == pytest.approx(exp[col], rel=0.01), col


def test_scalesim_format_needs_out_and_valid_cfg(tmp_path: Path) -> None:
    res = runner.invoke(app, ["estimate", "-m", "resnet18", "-H", "tpu-v1", "--format", "scalesim"])
    assert res.exit_code == ExitStatus.BAD_INPUT and "--out" in res.stderr
    bad = tmp_path / "bad.cfg"
    bad.write_text("[architecture_presets]\nArrayHeight : many\n")
    res = runner.invoke(
        app,
        [
            "estimate",
            "-m",
            "resnet18",
            "-H",
            str(bad),
            "--format",
            "scalesim",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == ExitStatus.BAD_INPUT and "ArrayHeight" in res.stderr


def test_any_model_on_any_systolic_design(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "estimate",
            "-m",
            "resnet18",
            "-H",
            "tpu-v1",
            "--format",
            "scalesim",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    with (tmp_path / "COMPUTE_REPORT.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 1 + 21  # header + 20 convolutions + the classifier
    res = runner.invoke(
        app, ["estimate", "-m", "resnet18", "-H", str(tmp_path / "x.cfg"), "--json"]
    )
    assert res.exit_code == ExitStatus.BAD_INPUT


MULTI = MANIFEST.with_name("multilayer.jsonl")
MULTI_CASES = [json.loads(line) for line in MULTI.read_text().splitlines() if line]
EXACT = ("Total Cycles", "Stall Cycles")


def _invoke(cfg: Path, topo: Path, out: Path) -> Any:
    args = ["estimate", "--hardware", str(cfg), "--model", str(topo), "--format", "scalesim"]
    return runner.invoke(app, [*args, "--out", str(out)])


@pytest.mark.parametrize("case", MULTI_CASES, ids=lambda c: c["id"])
def test_multilayer_reports_exact(case: dict[str, Any], tmp_path: Path) -> None:
    """Multi-layer topologies run by SCALE-Sim 3.0.0 (``scripts/scalesim_reference.py --multi``),
    a ``DP`` (depthwise) layer among them, which SCALE-Sim runs as one layer per channel: same
    rows, every cycle, stall, access count and start/stop cycle equal."""
    cfg, topo = _write_inputs({**case, "topology": {}}, tmp_path)
    layers = case["topology"]
    header = ", ".join(layers[0]) + ","
    rows = [", ".join(str(v) for v in layer.values()) + "," for layer in layers]
    topo.write_text("\n".join([header, *rows]) + "\n")
    res = _invoke(cfg, topo, tmp_path / "out")
    assert res.exit_code == ExitStatus.SUCCESS, res.output
    for name in ("COMPUTE_REPORT.csv", "DETAILED_ACCESS_REPORT.csv"):
        with (tmp_path / "out" / name).open() as fh:
            got = list(csv.DictReader(fh, skipinitialspace=True))
        want = case["reports"][name]
        assert len(got) == len(want), name
        for g, w in zip(got, want, strict=True):
            cols = EXACT if name == "COMPUTE_REPORT.csv" else [c for c in w if c != "LayerID"]
            assert {c: float(g[c]) for c in cols} == {c: float(w[c]) for c in cols}, name


@pytest.mark.parametrize(
    ("section", "line", "key"),
    [
        ("sparsity", "SparsitySupport : true", "SparsitySupport"),
        ("layout", "IfmapCustomLayout : True", "IfmapCustomLayout"),
        ("layout", "FilterCustomLayout : yes", "FilterCustomLayout"),
        ("run_presets", "UseRamulatorTrace : True", "UseRamulatorTrace"),
        ("architecture_presets", "OfmapOffset : -5", "OfmapOffset"),
    ],
)
def test_unmodelled_settings_exit_2_naming_the_key(
    tmp_path: Path, section: str, line: str, key: str
) -> None:
    """Settings that change SCALE-Sim's figures in ways the model does not reproduce: one-line
    error naming the key, exit code 2 (not a silently different report)."""
    sections = {
        "run_presets": ["InterfaceBandwidth : USER"],
        "architecture_presets": ["ArrayHeight : 8", "ArrayWidth : 8", "Bandwidth : 4"],
    }
    sections.setdefault(section, []).append(line)
    cfg = tmp_path / "s.cfg"
    cfg.write_text("".join(f"[{k}]\n" + "\n".join(v) + "\n" for k, v in sections.items()))
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\ng, 16, 16, 16,\n")
    res = _invoke(cfg, topo, tmp_path / "out")
    assert res.exit_code == ExitStatus.BAD_INPUT, res.output
    assert f"[{section}] {key}" in res.stderr, res.stderr  # not eaten as console markup
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_settings_scalesim_ignores_are_accepted(tmp_path: Path) -> None:
    """What SCALE-Sim reads but does not use in CALC mode (custom layouts, Ramulator traces, a
    malformed Bandwidth) and its lenient flag spellings run as SCALE-Sim runs them."""
    cfg = tmp_path / "s.cfg"
    cfg.write_text(
        "[run_presets]\nInterfaceBandwidth : CALC\nUseRamulatorTrace : True\n"
        "[architecture_presets]\nArrayHeight : 8\nArrayWidth : 8\nBandwidth : fast\n"
        "[layout]\nIfmapCustomLayout : yes\nFilterCustomLayout : 1\n"
        "[sparsity]\nSparsitySupport : no\n"
    )
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\ng, 16, 16, 16,\n")
    res = _invoke(cfg, topo, tmp_path / "out")
    assert res.exit_code == ExitStatus.SUCCESS, res.output
