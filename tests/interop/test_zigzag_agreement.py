"""Our network energy and latency against ZigZag 3.9.1's on its example accelerators.

The ZigZag figures are stored outputs of ``scripts/zigzag_compare.py reference`` (ZigZag
itself is not run here); ours are mapped now on the same accelerator, mapping and workload
files with the same objective. Wall times are measured by the script, not here.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from codesign_playground.hardware.zigzag import ZigZagWarning, read_zigzag
from codesign_playground.perf.mapped import estimate_mapped
from codesign_playground.workload.load import load_workload

DATA = Path(__file__).resolve().parents[1] / "data" / "zigzag"
REFS = sorted((DATA / "reference").glob("*.json"))


def _ours(ref: dict[str, Any]) -> dict[str, Any]:
    root = DATA.parents[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZigZagWarning)
        z = read_zigzag(root / ref["files"]["accelerator"], root / ref["files"]["mapping"])
    net = load_workload(root / ref["files"]["workload"], precision="int8")
    est = estimate_mapped(net, z.spec, objective=ref["objective"], constraints=z.constraints)
    return {la.name: la for la in est.layers if la.mapped}


@pytest.mark.parametrize("path", REFS, ids=[p.stem for p in REFS])
def test_network_energy_and_latency_within_tolerance(path: Path) -> None:
    ref = json.loads(path.read_text())
    ours = _ours(ref)
    # every layer ZigZag evaluated is mapped by us too, with the same MAC count
    for la in ref["layers"]:
        assert la["name"] in ours
        assert ours[la["name"]].macs == la["macs"]
    energy = sum(la.energy_pj for la in ours.values())
    cycles = sum(la.cycles for la in ours.values())
    tol_e, tol_c = TOLERANCE.get(path.stem, (0.10, 0.10))
    assert energy == pytest.approx(ref["energy_pj"], rel=tol_e)
    assert cycles == pytest.approx(ref["latency_cycles"], rel=tol_c)


# Pairs outside 10 % (energy, latency): the measured gap, explained in
# docs/validation-interop.md; the looser bound keeps them from drifting further.
TOLERANCE: dict[str, tuple[float, float]] = {
    # objective energy: ZigZag's energy-optimal FFN-down mapping takes 2.2x the cycles of its
    # EDP one for 8 % less energy; ours stays fast (+5.3 % energy, -21.1 % cycles)
    "eyeriss_like__transformer_block__energy": (0.10, 0.25),
}
