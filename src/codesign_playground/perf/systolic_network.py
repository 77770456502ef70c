"""Whole networks on one systolic design: the one-design case of ``perf/systolic_fast.py``.

``systolic_timing`` and ``rtl_timing`` keep the per-spec signatures older callers use;
the mapping of a hardware description onto SCALE-Sim's parameters and the fast-mode model
are documented in :mod:`codesign_playground.perf.systolic_fast`.
"""

from __future__ import annotations

from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.batch import BatchTiming, DesignBatch, Workload
from codesign_playground.perf.roofline import RooflineResult
from codesign_playground.perf.systolic_fast import scalesim_columns, systolic_fast_timing
from codesign_playground.perf.timing import Timing
from codesign_playground.workload.arrays import LayerArrays
from codesign_playground.workload.ir import Network

__all__ = ["rtl_timing", "scalesim_parameters", "systolic_timing"]


def scalesim_parameters(spec: HardwareSpec, word_bytes: float) -> dict[str, float]:
    """SCALE-Sim's configuration values for ``spec`` (sizes in KB, bandwidth in words of
    ``word_bytes``): the one-design case of :func:`.systolic_fast.scalesim_columns`."""
    designs = DesignBatch.from_specs([spec])
    cols = scalesim_columns(designs)
    dram_bw = float(designs.bandwidth()[-1, 0])
    words = max(1, int(dram_bw / spec.compute.clock_hz / word_bytes))
    return {
        "ifmap_sram_kb": int(cols["ifmap_sram_kb"][0]),
        "filter_sram_kb": int(cols["filter_sram_kb"][0]),
        "ofmap_sram_kb": int(cols["ofmap_sram_kb"][0]),
        "bandwidth_words_per_cycle": words,
    }


def _timing(bt: BatchTiming) -> Timing:
    """Design 0 of a batch timing as the per-op :class:`Timing` of one design."""
    return Timing(
        model=bt.model,
        cycles=bt.cycles[:, 0],
        latency_s=bt.latency_s[:, 0],
        utilization=bt.utilization[:, 0],
        bound=tuple(bt.bound_labels[int(b)] for b in bt.bound[:, 0]),
        read_bytes=bt.read_bytes[..., 0],
        write_bytes=bt.write_bytes[..., 0],
    )


def systolic_timing(
    net: Network, la: LayerArrays, spec: HardwareSpec, rf: RooflineResult
) -> Timing:
    """Per-op cycles and per-level bytes of ``net`` on systolic ``spec`` (the one-design
    case of :func:`.systolic_fast.systolic_fast_timing`; ``la`` and ``rf`` are accepted for
    the older call signature)."""
    return _timing(systolic_fast_timing(Workload(net, la), DesignBatch.from_specs([spec])))


def rtl_timing(net: Network, la: LayerArrays, spec: HardwareSpec, rf: RooflineResult) -> Timing:
    """Like :func:`systolic_timing`, with GEMM cycles of the generated RTL (``rtl`` package):
    the one-design case of the registered ``rtl`` model."""
    from codesign_playground.perf.engine import get_model

    return _timing(get_model("rtl").timing(Workload(net, la), DesignBatch.from_specs([spec])))
