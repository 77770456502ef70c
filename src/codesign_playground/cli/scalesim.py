"""``codesign estimate --format scalesim``: SCALE-Sim's own report files, for diffing."""

from __future__ import annotations

from pathlib import Path

from codesign_playground.cli.console import out_console
from codesign_playground.cli.perf import resolve_hardware
from codesign_playground.cli.workload import load_from_options
from codesign_playground.errors import InputError
from codesign_playground.perf.scalesim_compat import ScaleSimConfig, load_config, write_reports
from codesign_playground.perf.scalesim_hardware import config_from_spec
from codesign_playground.perf.scalesim_topology import network_to_topology
from codesign_playground.workload.importers.scalesim_csv import TopologyRow, read_topology

__all__ = ["write_scalesim_reports"]


def write_scalesim_reports(
    model: str,
    hardware: str,
    out: Path,
    *,
    batch: int,
    precision: str | None,
    dim: list[str] | None,
    resolution: int | None,
    seq_len: int | None,
    kv_len: int | None,
    width: float | None,
) -> None:
    """Write COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv."""
    cfg: ScaleSimConfig
    if hardware.lower().endswith(".cfg"):
        cfg = load_config(Path(hardware))
    else:
        cfg = config_from_spec(resolve_hardware(hardware))
    rows: list[TopologyRow]
    if model.lower().endswith(".csv") and batch == 1:
        # SCALE-Sim runs a conv layer whose name contains "DP" as one layer per channel.
        rows = read_topology(model, expand_depthwise=True)
    else:
        net = load_from_options(model, batch, precision, dim, resolution, seq_len, kv_len, width)
        rows = network_to_topology(net)
        if not rows:
            raise InputError(f"--model: {net.name} has no GEMM-shaped layers to report")
    out.mkdir(parents=True, exist_ok=True)
    write_reports(rows, cfg, out)
    names = ", ".join(p.name for p in sorted(out.glob("*_REPORT.csv")))
    out_console.print(f"wrote {names} for {len(rows)} layers into {out}")
