#!/usr/bin/env python
"""Compare the spatial mapper with ZigZag 3.9.1 on ZigZag's own example accelerators.

Three steps, each runnable on its own:

``reference``  (under the ZigZag interpreter, ``.venv-zigzag``; the script makes it when missing)
    runs ``zigzag.api.get_hardware_performance_zigzag`` on every accelerator x workload pair,
    one at a time, and stores per layer and per network what ZigZag reports (energy, latency
    with its parts, MAC utilization, the chosen spatial/temporal mapping) and its wall time as
    ``tests/data/zigzag/reference/<accelerator>__<workload>.json``;
``compare``    (under the project's interpreter) reads the same accelerator, mapping and
    workload files with :mod:`codesign_playground.hardware.zigzag`, maps every layer with the
    spatial mapper (same objective), times it, and writes the table between the markers in
    ``docs/validation-interop.md``;
``all``        both.

ZigZag takes minutes per network; run it with ``nice`` in the background::

    nice python scripts/zigzag_compare.py reference   # makes .venv-zigzag, then runs ZigZag
    python scripts/zigzag_compare.py compare          # ours, table into docs/validation-interop.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "zigzag"
REF_DIR = DATA / "reference"
VENV = REPO / ".venv-zigzag"
ZIGZAG_VERSION = "3.9.1"
DOC = (
    REPO / "docs" / "validation-interop.md"
)  # validation.md is rewritten whole by rtl_validation.py
BEGIN = "<!-- zigzag-compare:begin -->"
END = "<!-- zigzag-compare:end -->"

# ZigZag's example accelerators and the mapping file its own tests pair with each
# (zigzag/inputs/{hardware,mapping}/; Eyeriss-like has no own mapping file, ZigZag's
# default.yaml is the one its examples use for it).
ACCELERATORS: dict[str, tuple[str, str]] = {
    "tpu_like": ("hardware/tpu_like.yaml", "mapping/tpu_like.yaml"),
    "eyeriss_like": ("hardware/eyeriss_like.yaml", "mapping/default.yaml"),
    "edge_tpu_like": ("hardware/edge_tpu_like.yaml", "mapping/edge_tpu_like.yaml"),
    "meta_prototype": ("hardware/meta_prototype.yaml", "mapping/meta_prototype_like.yaml"),
}
WORKLOADS: dict[str, str] = {
    "resnet18": "workload/resnet18.onnx",
    "transformer_block": "workload/transformer_block.onnx",
}
OBJECTIVE = "edp"
_ZZ_OPT = {"energy": "energy", "latency": "latency", "edp": "EDP"}


def _ref_path(acc: str, net: str, objective: str) -> Path:
    """Where ZigZag's result for a pair is stored (the default objective has no suffix)."""
    suffix = "" if objective == OBJECTIVE else f"__{objective}"
    return REF_DIR / f"{acc}__{net}{suffix}.json"


def _ensure_venv() -> Path:
    """The ZigZag interpreter; creates ``.venv-zigzag`` with zigzag-dse pinned when missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            # zigzag-dse 3.9.1 imports six without declaring it
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                f"zigzag-dse=={ZIGZAG_VERSION}",
                "six",
            ],
            check=True,
        )
    return python


# ------------------------------------------------------------------------------ ZigZag side
def _run_zigzag_pair(acc: str, net: str, objective: str) -> dict[str, Any]:
    """Runs ZigZag on one pair (inside the ZigZag venv) and returns what it reports."""
    import logging

    from zigzag import api  # type: ignore[import-not-found]

    logging.disable(logging.INFO)
    hw, mp = ACCELERATORS[acc]
    files = {
        "accelerator": str(DATA / hw),
        "mapping": str(DATA / mp),
        "workload": str(DATA / WORKLOADS[net]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        energy, latency, cmes = api.get_hardware_performance_zigzag(
            workload=files["workload"],
            accelerator=files["accelerator"],
            mapping=files["mapping"],
            opt=_ZZ_OPT[objective],
            dump_folder=tmp,
            pickle_filename=f"{tmp}/cmes.pickle",
            loma_show_progress_bar=False,
        )
        wall = time.perf_counter() - t0
    layers = []
    for cme, _extra in cmes[0][1]:
        layer = cme.layer
        layers.append(
            {
                "id": int(layer.id),
                "name": str(layer.name),
                "type": str(getattr(layer, "type", "")),
                "loop_sizes": {str(k): int(v) for k, v in layer.layer_dim_sizes.items()},
                "macs": float(layer.total_mac_count),
                "energy_pj": float(cme.energy_total),
                "mac_energy_pj": float(cme.mac_energy),
                "mem_energy_pj": float(cme.mem_energy),
                "mem_energy_pj_by_operand": {
                    str(op): [float(e) for e in v] for op, v in cme.mem_energy_breakdown.items()
                },
                "latency_cycles": float(cme.latency_total2),
                "ideal_cycles": float(cme.ideal_cycle),
                "ideal_temporal_cycles": float(cme.ideal_temporal_cycle),
                "stall_cycles": float(cme.latency_total0 - cme.ideal_temporal_cycle),
                "onloading_cycles": float(cme.latency_total1 - cme.latency_total0),
                "offloading_cycles": float(cme.latency_total2 - cme.latency_total1),
                "mac_utilization": float(cme.mac_utilization2),
                "spatial_utilization": float(cme.mac_spatial_utilization),
                "spatial_mapping": str(cme.spatial_mapping_int),
                "temporal_mapping": str(cme.temporal_mapping),
            }
        )
    return {
        "tool": f"zigzag-dse {ZIGZAG_VERSION}",
        "accelerator": acc,
        "workload": net,
        "objective": objective,
        "files": {k: str(Path(v).relative_to(REPO)) for k, v in files.items()},
        "energy_pj": float(energy),
        "latency_cycles": float(latency),
        "wall_s": wall,
        "layers": layers,
    }


def reference(pairs: list[tuple[str, str]], objective: str) -> None:
    """Runs ZigZag on each pair in its own process (one at a time) and stores the JSON."""
    python = _ensure_venv()
    REF_DIR.mkdir(parents=True, exist_ok=True)
    for acc, net in pairs:
        out = _ref_path(acc, net, objective)
        print(f"zigzag {acc} x {net} ...", flush=True)
        subprocess.run(
            [
                str(python),
                __file__,
                "_worker",
                acc,
                net,
                "--objective",
                objective,
                "--out",
                str(out),
            ],
            check=True,
        )
        data = json.loads(out.read_text())
        print(
            f"  energy {data['energy_pj']:.4g} pJ, latency {data['latency_cycles']:.4g} cycles, "
            f"{data['wall_s']:.1f} s",
            flush=True,
        )


def _worker(acc: str, net: str, objective: str, out: Path) -> None:
    data = _run_zigzag_pair(acc, net, objective)
    out.write_text(json.dumps(data, indent=1) + "\n")


# ------------------------------------------------------------------------------ our side
def _ours(acc: str, net: str, objective: str) -> dict[str, Any]:
    """Maps the same files with the spatial mapper; per-layer figures and wall time."""
    import warnings

    from codesign_playground.hardware.zigzag import ZigZagWarning, read_zigzag
    from codesign_playground.perf.mapped import estimate_mapped
    from codesign_playground.workload.load import load_workload

    hw, mp = ACCELERATORS[acc]
    load_workload(DATA / WORKLOADS[net], precision="int8")  # warm: imports onnx once
    walls = []
    for _ in range(3):  # like ZigZag's figure: files read, network parsed, every layer mapped
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZigZagWarning)
            zz = read_zigzag(DATA / hw, DATA / mp)
        network = load_workload(DATA / WORKLOADS[net], precision="int8")
        est = estimate_mapped(network, zz.spec, objective=objective, constraints=zz.constraints)
        walls.append(time.perf_counter() - t0)
    wall = sorted(walls)[1]  # median of three
    layers = {
        la.name: {
            "energy_pj": la.energy_pj,
            "latency_cycles": la.cycles,
            "mac_utilization": la.utilization,
        }
        for la in est.layers
        if la.mapped  # ZigZag gives ops without a MAC core no cost; so do we here
    }
    return {
        "energy_pj": sum(v["energy_pj"] for v in layers.values()),
        "latency_cycles": sum(v["latency_cycles"] for v in layers.values()),
        "wall_s": wall,
        "layers": layers,
    }


def _pct(ours: float, ref: float) -> float:
    return 100.0 * (ours - ref) / ref if ref else float("nan")


def compare(pairs: list[tuple[str, str]], objective: str) -> list[dict[str, Any]]:
    """Runs ours on every pair that has a ZigZag reference; writes the tables into the docs."""
    rows: list[dict[str, Any]] = []
    for acc, net in pairs:
        ref_path = _ref_path(acc, net, objective)
        if not ref_path.exists():
            print(f"no ZigZag reference for {acc} x {net}; run the 'reference' step", flush=True)
            continue
        ref = json.loads(ref_path.read_text())
        if ref["objective"] != objective:
            print(f"{ref_path.name}: reference objective {ref['objective']}, skipping")
            continue
        ours = _ours(acc, net, objective)
        row = {"accelerator": acc, "workload": net, "zigzag": ref, "ours": ours}
        rows.append(row)
        print(
            f"{acc:15s} {net:18s} energy {_pct(ours['energy_pj'], ref['energy_pj']):+6.1f}%  "
            f"latency {_pct(ours['latency_cycles'], ref['latency_cycles']):+6.1f}%  "
            f"wall {ref['wall_s']:.1f} s vs {ours['wall_s']:.2f} s "
            f"({ref['wall_s'] / ours['wall_s']:.0f}x)",
            flush=True,
        )
    if rows:
        _write_doc(rows, objective)
    return rows


def _table(rows: list[dict[str, Any]], objective: str) -> str:
    out = [
        f"Objective: {objective} (both tools). Energy in uJ, latency in cycles; ZigZag's network "
        "totals sum its per-layer results (ops without a MAC core cost nothing in either).",
        "",
        "| accelerator | workload | ZigZag energy | ours | diff | ZigZag latency | ours | diff "
        "| ZigZag util | ours | ZigZag wall s | ours wall s | speed-up |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        z, o = r["zigzag"], r["ours"]
        macs = sum(la["macs"] for la in z["layers"])
        pes = max(la["macs"] / la["ideal_cycles"] for la in z["layers"] if la["ideal_cycles"])
        zu = macs / (z["latency_cycles"] * pes)
        ou = macs / (o["latency_cycles"] * pes)
        out.append(
            f"| {r['accelerator']} | {r['workload']} | {z['energy_pj'] / 1e6:.1f} | "
            f"{o['energy_pj'] / 1e6:.1f} | {_pct(o['energy_pj'], z['energy_pj']):+.1f}% | "
            f"{z['latency_cycles']:.4g} | {o['latency_cycles']:.4g} | "
            f"{_pct(o['latency_cycles'], z['latency_cycles']):+.1f}% | {zu:.2f} | {ou:.2f} | "
            f"{z['wall_s']:.0f} | {o['wall_s']:.2f} | {z['wall_s'] / o['wall_s']:.0f}x |"
        )
    out.append("")
    for r in rows:
        z, o = r["zigzag"], r["ours"]
        out += [
            "<details>",
            f"<summary>Per layer: {r['accelerator']} x {r['workload']}</summary>",
            "",
            "| layer | ZigZag energy uJ | ours | diff | ZigZag cycles | ours | diff "
            "| ZigZag util | ours |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for la in z["layers"]:
            mine = o["layers"].get(la["name"])
            if mine is None:
                out.append(
                    f"| {la['name']} | {la['energy_pj'] / 1e6:.2f} | - | - | "
                    f"{la['latency_cycles']:.4g} | - | - | {la['mac_utilization']:.2f} | - |"
                )
                continue
            out.append(
                f"| {la['name']} | {la['energy_pj'] / 1e6:.2f} | {mine['energy_pj'] / 1e6:.2f} | "
                f"{_pct(mine['energy_pj'], la['energy_pj']):+.1f}% | {la['latency_cycles']:.4g} | "
                f"{mine['latency_cycles']:.4g} | "
                f"{_pct(mine['latency_cycles'], la['latency_cycles']):+.1f}% | "
                f"{la['mac_utilization']:.2f} | {mine['mac_utilization']:.2f} |"
            )
        out += ["", "</details>", ""]
    return "\n".join(out)


def _write_doc(rows: list[dict[str, Any]], objective: str) -> None:
    """The table between this objective's markers (the default's: BEGIN/END)."""
    begin, end = BEGIN, END
    if objective != OBJECTIVE:
        begin = BEGIN.replace("compare:", f"compare-{objective}:")
        end = END.replace("compare:", f"compare-{objective}:")
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Validation\n"
    block = f"{begin}\n{_table(rows, objective)}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        title = f"ZigZag 3.9.1 comparison, objective {objective}"
        text = text.rstrip("\n") + f"\n\n### {title}\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(REPO)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["reference", "compare", "all", "_worker"])
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--objective", default=OBJECTIVE, choices=sorted(_ZZ_OPT))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", help="an accelerator or workload name (or a substring)")
    args = parser.parse_args()
    if args.step == "_worker":
        _worker(args.rest[0], args.rest[1], args.objective, args.out)
        return
    exact = args.only in ACCELERATORS or args.only in WORKLOADS
    pairs = [
        (a, n)
        for n in WORKLOADS
        for a in ACCELERATORS
        if not args.only or (args.only in (a, n) if exact else (args.only in a or args.only in n))
    ]
    if args.step in ("reference", "all"):
        reference(pairs, args.objective)
    if args.step in ("compare", "all"):
        compare(pairs, args.objective)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
