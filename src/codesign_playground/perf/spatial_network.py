"""Whole networks on spatial (Eyeriss-like) hardware through the loop-nest mapper.

Each MAC-bearing op is mapped by :func:`codesign_playground.perf.spatial.spatial_model`
(tilings and loop orders searched under the levels' capacities); its per-level bytes feed the
energy step like every other timing model's, so the breakdown is comparable across models.
"""

from __future__ import annotations

import numpy as np

from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.roofline import RooflineResult
from codesign_playground.perf.spatial import spatial_model
from codesign_playground.perf.timing import Timing
from codesign_playground.workload.arrays import LayerArrays
from codesign_playground.workload.ir import Network

__all__ = ["spatial_timing"]


def spatial_timing(
    net: Network, la: LayerArrays, spec: HardwareSpec, rf: RooflineResult, *, seed: int = 0
) -> Timing:
    """Per-op cycles and per-level bytes of ``net`` mapped onto spatial ``spec``."""
    res = spatial_model(net, spec, seed=seed)
    return Timing(
        model="spatial",
        cycles=np.asarray(res.cycles, dtype=np.float64),
        latency_s=np.asarray(res.latency_s, dtype=np.float64),
        utilization=np.asarray(res.utilization, dtype=np.float64),
        bound=res.bound,
        read_bytes=np.asarray(res.read_bytes, dtype=np.float64),
        write_bytes=np.asarray(res.write_bytes, dtype=np.float64),
    )
