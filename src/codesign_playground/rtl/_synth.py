"""Synthesis backends: Yosys (generic gates, iCE40, Xilinx 7-series) and nextpnr-ice40.

Narrow interface: :func:`synthesize` (generated design, target, work dir) -> :class:`SynthReport`
and :func:`place_and_route_ice40` (an iCE40 netlist) -> :class:`PnrReport`. Both run the
Debian tools (Yosys 0.23, nextpnr-ice40 0.4) as subprocesses and parse their reports.

``generic`` stops twice: after Yosys' coarse (word-level) passes, with memories kept as
``$mem_v2`` cells, whose counts (``$macc``, ``$alu``, ``$dff`` bits ...) are the raw material
for an area model; and after mapping the logic to Yosys' internal gate library. The buffers are
left as memories (mapping them to flip-flops would say nothing about SRAM area).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from codesign_playground.errors import DeviceFitError, InputError, ToolError
from codesign_playground.rtl._emit import GeneratedDesign
from codesign_playground.rtl._sim import ToolNotFoundError

__all__ = [
    "ICE40_DEVICES",
    "SYNTH_TARGETS",
    "PnrReport",
    "SynthReport",
    "SynthTarget",
    "check_ice40_fit",
    "place_and_route_ice40",
    "synthesize",
    "yosys_available",
]

SynthTarget = Literal["generic", "ice40", "xilinx"]
SYNTH_TARGETS: tuple[SynthTarget, ...] = ("generic", "ice40", "xilinx")

# Resources of the iCE40 parts nextpnr-ice40 places on: logic cells (one LUT4 + one flip-flop
# each), 4-kbit block RAMs (SB_RAM40_4K) and 16x16 DSPs (SB_MAC16). Sources: Lattice
# "iCE40 LP/HX Family Data Sheet" DS1040 v3.3, Table 1-1 (hx1k, hx4k, hx8k, lp1k, lp8k) and
# "iCE40 UltraPlus Family Data Sheet" FPGA-DS-02008 v1.9, Table 1.1 (up5k).
ICE40_DEVICES: dict[str, dict[str, int]] = {
    "hx1k": {"logic_cells": 1280, "brams": 16, "dsps": 0},
    "lp1k": {"logic_cells": 1280, "brams": 16, "dsps": 0},
    "hx4k": {"logic_cells": 3520, "brams": 20, "dsps": 0},
    "hx8k": {"logic_cells": 7680, "brams": 32, "dsps": 0},
    "lp8k": {"logic_cells": 7680, "brams": 32, "dsps": 0},
    "up5k": {"logic_cells": 5280, "brams": 30, "dsps": 8},
}

_FF_PREFIXES = ("$_DFF", "$_SDFF", "$_DFFE", "$_SDFFE", "$_DLATCH", "SB_DFF", "FD")
_CELL_WIDTH_RE = re.compile(r"^\s+(\S+?)(?:_(\d+))?\s+(\d+)\s*$")


@dataclass(frozen=True)
class SynthReport:
    """Cell counts of one synthesis run and the figures derived from them."""

    target: SynthTarget
    top: str
    cells: dict[str, int]
    summary: dict[str, int]
    coarse: dict[str, int] = field(default_factory=dict)
    coarse_bits: dict[str, int] = field(default_factory=dict)
    runtime_s: float = 0.0
    netlist: Path | None = None
    log: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "top": self.top,
            "summary": self.summary,
            "cells": self.cells,
            "coarse": self.coarse,
            "coarse_bits": self.coarse_bits,
            "runtime_s": round(self.runtime_s, 2),
            "netlist": None if self.netlist is None else str(self.netlist),
        }


@dataclass(frozen=True)
class PnrReport:
    """nextpnr-ice40 result: the device, utilisation lines and the achieved clock."""

    device: str
    package: str
    fmax_mhz: float
    utilisation: dict[str, tuple[int, int]]
    runtime_s: float
    log: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "package": self.package,
            "fmax_mhz": self.fmax_mhz,
            "utilisation": {k: list(v) for k, v in self.utilisation.items()},
            "runtime_s": round(self.runtime_s, 2),
        }


def yosys_available() -> bool:
    """Whether ``yosys`` is on PATH."""
    return shutil.which("yosys") is not None


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolNotFoundError(f"{tool} is not installed; run scripts/install_rtl_tools.sh")
    return path


def _script(generated: GeneratedDesign, target: SynthTarget, out: Path) -> str:
    read = "read_verilog " + " ".join(str(p) for p in generated.sources)
    top = generated.top
    if target == "generic":
        return "\n".join(
            [
                read,
                f"synth -top {top} -flatten -run begin:fine",
                f"tee -q -o {out / 'coarse.txt'} stat -width",
                # the gate mapping of `synth`'s fine step, without memory_map
                "opt -fast -full",
                "techmap",
                "opt -fast",
                "abc -fast",
                "opt -fast",
                f"tee -q -o {out / 'stat.json'} stat -json",
                f"write_json {out / 'netlist.json'}",
            ]
        )
    if target == "ice40":
        return "\n".join(
            [
                read,
                f"synth_ice40 -top {top} -json {out / 'netlist.json'}",
                f"tee -q -o {out / 'stat.json'} stat -json",
            ]
        )
    return "\n".join(
        [
            read,
            f"synth_xilinx -top {top} -family xc7 -flatten",
            f"tee -q -o {out / 'stat.json'} stat -json",
            f"write_json {out / 'netlist.json'}",
        ]
    )


def _parse_coarse(text: str) -> tuple[dict[str, int], dict[str, int]]:
    """``stat -width`` lines (``$dff_32   58``) -> counts and bit totals per cell type."""
    counts: dict[str, int] = {}
    bits: dict[str, int] = {}
    for line in text.splitlines():
        match = _CELL_WIDTH_RE.match(line)
        if not match or not match.group(1).startswith("$"):
            continue
        kind, width, count = match.group(1), match.group(2), int(match.group(3))
        counts[kind] = counts.get(kind, 0) + count
        if width is not None:  # cells without a width suffix ($macc, $mem_v2) have no bits
            bits[kind] = bits.get(kind, 0) + count * int(width)
    return counts, bits


def _summary(target: SynthTarget, cells: dict[str, int]) -> dict[str, int]:
    def total(pred: Any) -> int:
        return sum(n for name, n in cells.items() if pred(name))

    out = {"cells": sum(cells.values())}
    out["flip_flops"] = total(lambda c: c.startswith(_FF_PREFIXES))
    if target == "ice40":
        out["luts"] = cells.get("SB_LUT4", 0)
        out["carry"] = cells.get("SB_CARRY", 0)
        out["dsps"] = cells.get("SB_MAC16", 0)
        out["brams"] = cells.get("SB_RAM40_4K", 0)
    elif target == "xilinx":
        out["luts"] = total(lambda c: c.startswith("LUT"))
        out["carry"] = cells.get("CARRY4", 0)
        out["dsps"] = total(lambda c: c.startswith("DSP48"))
        out["brams"] = total(lambda c: c.startswith(("RAMB18", "RAMB36")))
        out["srls"] = total(lambda c: c.startswith("SRL"))
        out["lutrams"] = total(lambda c: c.startswith(("RAM32", "RAM64", "RAM128", "RAM256")))
    else:
        out["gates"] = total(lambda c: c.startswith("$_") and not c.startswith(_FF_PREFIXES))
        out["memories"] = total(lambda c: c.startswith("$mem"))
    return out


SYNTH_MEMORY_MB = 8192
"""Address-space limit of Yosys and of each tool it starts (ABC), per process: a large array
can drive ABC past 15 GB, which would take a shared machine (the service's worker) down with
it. The largest design the tests synthesize needs well under 1 GB."""


def _run_bounded(cmd: list[str], out: Any, *, timeout_s: float, memory_mb: int) -> int:
    """Run ``cmd`` in a session of its own under ``ulimit -v`` (inherited by its children);
    on timeout kill the whole group (Yosys' ABC children included) and raise ToolError."""
    limited = ["/bin/sh", "-c", 'ulimit -v "$0" && exec "$@"', str(memory_mb * 1024), *cmd]
    proc = subprocess.Popen(limited, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        summary = f"{Path(cmd[0]).name}: no result within {timeout_s:.0f} s"
        raise ToolError(
            f"{summary}; synthesize a smaller design (fewer rows/columns, narrower data) or "
            "allow more time",
            summary=summary,
        ) from None
    finally:
        if proc.poll() is None:  # an interrupt: leave nothing running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def synthesize(
    generated: GeneratedDesign,
    target: str,
    work_dir: Path | str,
    *,
    timeout_s: float = 1800,
    memory_mb: int = SYNTH_MEMORY_MB,
) -> SynthReport:
    """Run Yosys for ``target`` (``generic``, ``ice40`` or ``xilinx``) and count the cells,
    within ``timeout_s`` and ``memory_mb`` of address space per process."""
    if target not in SYNTH_TARGETS:
        raise InputError(f"target must be one of {', '.join(SYNTH_TARGETS)}, got {target!r}")
    yosys = _require("yosys")
    out = Path(work_dir).resolve() / f"synth-{target}"
    out.mkdir(parents=True, exist_ok=True)
    script = out / "synth.ys"
    script.write_text(_script(generated, target, out) + "\n")
    log = out / "yosys.log"
    t0 = time.perf_counter()
    with log.open("w") as fh:
        returncode = _run_bounded(
            [yosys, "-q", "-l", str(log.with_suffix(".full.log")), "-s", str(script)],
            fh,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
        )
    runtime = time.perf_counter() - t0
    if returncode != 0:
        text = log.read_text() if log.is_file() else ""
        errors = [ln.strip() for ln in text.splitlines() if "ERROR" in ln]
        cause = errors[0] if errors else f"exit {returncode}"
        summary = f"yosys failed for target {target!r}: {cause}"
        raise ToolError(
            f"{summary}; the full log is {log} "
            f"(each process may use {memory_mb} MB: a design that needs more fails here; "
            "regenerate the design with 'codesign rtl generate' if its sources were edited)",
            summary=summary,
            log=str(log),
        )
    stat = json.loads((out / "stat.json").read_text())
    module = next(iter(stat["modules"].values()))
    cells = {str(k): int(v) for k, v in module.get("num_cells_by_type", {}).items()}
    coarse: dict[str, int] = {}
    coarse_bits: dict[str, int] = {}
    if (out / "coarse.txt").is_file():
        coarse, coarse_bits = _parse_coarse((out / "coarse.txt").read_text())
    return SynthReport(
        target=target,
        top=generated.top,
        cells=dict(sorted(cells.items())),
        summary=_summary(target, cells),
        coarse=dict(sorted(coarse.items())),
        coarse_bits=dict(sorted(coarse_bits.items())),
        runtime_s=runtime,
        netlist=out / "netlist.json",
        log=log,
    )


_FMAX_RE = re.compile(r"Max frequency for clock\s+'[^']*':\s*([\d.]+)\s*MHz")
_UTIL_RE = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)")


def place_and_route_ice40(
    netlist: Path,
    work_dir: Path | str,
    *,
    device: str = "hx8k",
    package: str = "ct256",
    target_mhz: float = 100.0,
    seed: int = 1,
    timeout_s: float = 1800,
) -> PnrReport:
    """Place and route an iCE40 JSON netlist (from ``synthesize(..., "ice40", ...)``).

    The netlist is checked against the device first (:func:`check_ice40_fit`), so a design
    that cannot fit fails at once with what to shrink, not after minutes of placement.
    """
    tool = _require("nextpnr-ice40")
    check_ice40_fit(_netlist_cells(netlist), device)
    out = Path(work_dir).resolve() / "pnr-ice40"
    out.mkdir(parents=True, exist_ok=True)
    log = out / "nextpnr.log"
    cmd = [
        tool,
        f"--{device}",
        "--package",
        package,
        "--json",
        str(netlist),
        "--freq",
        str(target_mhz),
        "--seed",
        str(seed),
        "--pcf-allow-unconstrained",
        "--asc",
        str(out / "design.asc"),
        "--log",
        str(log),
        "--quiet",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    runtime = time.perf_counter() - t0
    text = log.read_text() if log.is_file() else proc.stdout + proc.stderr
    fmax = [float(x) for x in _FMAX_RE.findall(text)]
    if proc.returncode != 0 and not fmax:
        errors = [ln for ln in text.splitlines() if ln.startswith("ERROR:")]
        reason = errors[0] if errors else (text.strip().splitlines() or ["no output"])[-1]
        summary = (
            f"nextpnr-ice40 could not place and route on {device}: "
            f"{reason.removeprefix('ERROR:').strip()}"
        )
        raise ToolError(
            f"{summary}; the full log is {log} (try a smaller design, a larger device, or a "
            "lower target clock)",
            summary=summary,
            log=str(log),
        )
    util: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        match = _UTIL_RE.match(line)
        if match:
            util[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    return PnrReport(
        device=device,
        package=package,
        fmax_mhz=fmax[-1] if fmax else 0.0,
        utilisation=util,
        runtime_s=runtime,
        log=log,
    )


def _netlist_cells(netlist: Path) -> dict[str, int]:
    """Cell counts by type of the top module of a Yosys JSON netlist."""
    try:
        doc = json.loads(Path(netlist).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"netlist {str(netlist)!r} cannot be read as Yosys JSON: {exc}") from None
    modules: dict[str, Any] = doc.get("modules", {})
    tops = [m for m in modules.values() if int(str(m.get("attributes", {}).get("top", "0")), 2)]
    top: dict[str, Any] = tops[0] if tops else next(iter(modules.values()), {})
    counts: dict[str, int] = {}
    for cell in top.get("cells", {}).values():
        kind = str(cell.get("type", ""))
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def check_ice40_fit(cells: dict[str, int], device: str) -> None:
    """Raise :class:`DeviceFitError` naming the resource when ``cells`` cannot fit ``device``.

    A logic cell holds one LUT4 and one flip-flop, so the design needs at least
    max(LUTs, flip-flops) of them (packing can only do worse).
    """
    if device not in ICE40_DEVICES:
        raise InputError(f"device must be one of {', '.join(ICE40_DEVICES)}, got {device!r}")
    cap = ICE40_DEVICES[device]
    luts = cells.get("SB_LUT4", 0)
    ffs = sum(n for name, n in cells.items() if name.startswith("SB_DFF"))
    need = {
        "logic_cells": max(luts, ffs),
        "brams": cells.get("SB_RAM40_4K", 0),
        "dsps": cells.get("SB_MAC16", 0),
    }
    what = {
        "logic_cells": (
            "logic cells (LUT4 + flip-flop)",
            "the array (--rows/--cols) or --data-width",
        ),
        "brams": ("SB_RAM40_4K block RAMs", "the buffers (--buffer-depth) or the array"),
        "dsps": ("SB_MAC16 DSPs", "the array (--rows/--cols)"),
    }
    for key, used in need.items():
        if used > cap[key]:
            label, shrink = what[key]
            raise DeviceFitError(
                f"the design needs {used} {label} but iCE40 {device.upper()} has {cap[key]}: "
                f"shrink {shrink}, or synthesize with --target generic or xilinx"
            )
