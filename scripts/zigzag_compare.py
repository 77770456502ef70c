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
    ``docs/validation.md``;
``all``        both.

ZigZag takes minutes per network; run it with ``nice`` in the background::

    nice python scripts/zigzag_compare.py reference   # makes .venv-zigzag, then runs ZigZag
    python scripts/zigzag_compare.py compare          # ours, table into docs/validation.md
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
DOC = REPO / "docs" / "validation.md"
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


def _ensure_venv() -> Path:
    """The ZigZag interpreter; creates ``.venv-zigzag`` with zigzag-dse pinned when missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"zigzag-dse=={ZIGZAG_VERSION}", "six"],
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
        out = REF_DIR / f"{acc}__{net}.json"
        print(f"zigzag {acc} x {net} ...", flush=True)
        subprocess.run(
            [str(python), __file__, "_worker", acc, net, "--objective", objective, "--out", str(out)],
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["reference", "compare", "all", "_worker"])
    parser.add_argument("rest", nargs="*")
    parser.add_argument("--objective", default=OBJECTIVE, choices=sorted(_ZZ_OPT))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", help="accelerator or workload name substring")
    args = parser.parse_args()
    if args.step == "_worker":
        _worker(args.rest[0], args.rest[1], args.objective, args.out)
        return
    pairs = [
        (a, n)
        for n in WORKLOADS
        for a in ACCELERATORS
        if not args.only or args.only in a or args.only in n
    ]
    if args.step in ("reference", "all"):
        reference(pairs, args.objective)
    if args.step in ("compare", "all"):
        compare(pairs, args.objective)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
