"""Board energy of a GPU run: power from idle, TDP and activity, times kernel time.

    P_op = idle + (TDP - idle) x (a_active + a_compute x u_compute + a_memory x u_dram),
    P_op <= TDP,    E_op = P_op x t_op

``u_compute`` is the op's arithmetic over (time x the peak of its dtype), ``u_dram`` its
DRAM bytes over (time x DRAM bandwidth), both at most 1. TDP is the datasheet's; idle power
and the shares are in ``hardware/data/gpu_specs.yaml`` with their sources (assumptions, not
measurements). This replaces per-MAC tables for GPUs: a loaded board draws hundreds of watts
whatever the arithmetic, and that is what a wall meter or ``nvidia-smi`` reports.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.energy import EnergyBreakdown
from codesign_playground.perf.gpu import GpuKernels
from codesign_playground.perf.gpu_kernels import gpu_facts, power_model
from codesign_playground.perf.roofline import RooflineResult
from codesign_playground.perf.timing import Timing
from codesign_playground.workload.arrays import LayerArrays
from codesign_playground.workload.ir import Network

__all__ = [
    "COMPONENTS",
    "gpu_energy",
    "gpu_power_w",
    "gpu_timing_and_energy",
    "tokens_per_step",
]

FloatArray = npt.NDArray[np.float64]
COMPONENTS: tuple[str, ...] = ("board_idle", "board_active", "board_compute", "board_memory")


def _shares() -> tuple[float, float, float]:
    data = power_model()
    return (
        float(data["active"]["value"]),
        float(data["compute"]["value"]),
        float(data["memory"]["value"]),
    )


def gpu_power_w(
    spec: HardwareSpec, k: GpuKernels, latency_s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-op components ``(4, n_ops)`` in watts (idle, active, compute, memory) after the
    TDP cap, and the per-op total power."""
    gpu = gpu_facts(spec)
    if gpu.tdp_w is None:
        raise HardwareSpecError(
            f"hardware field 'power_w': the gpu power model needs the board power (TDP) "
            f"of {spec.name}"
        )
    a_act, a_c, a_m = _shares()
    t = np.asarray(latency_s, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        u_c = np.clip(np.where(t > 0, k.flops / (t * k.peak_ops), 0.0), 0.0, 1.0)
        u_m = np.clip(np.where(t > 0, k.dram_bytes / (t * gpu.dram_bw), 0.0), 0.0, 1.0)
    # the active share only while a kernel runs (eager: the GPU waits for the host)
    with np.errstate(invalid="ignore", divide="ignore"):
        running = np.clip(np.where(t > 0, k.gpu_s / t, 0.0), 0.0, 1.0)
    span = float(gpu.tdp_w) - gpu.idle_w
    dyn = np.stack([a_act * running, a_c * u_c, a_m * u_m]) * span
    total_dyn = dyn.sum(axis=0)
    cap = np.where(total_dyn > span, span / np.maximum(total_dyn, 1e-30), 1.0)
    comps = np.vstack([np.where(t > 0, gpu.idle_w, 0.0), dyn * cap])
    return comps, comps.sum(axis=0)


def gpu_energy(spec: HardwareSpec, k: GpuKernels, latency_s: FloatArray) -> EnergyBreakdown:
    """Board energy per op and component (joules)."""
    comps, _ = gpu_power_w(spec, k, latency_s)
    return EnergyBreakdown(COMPONENTS, np.asarray(comps * latency_s, dtype=np.float64))


def gpu_timing_and_energy(
    net: Network,
    la: LayerArrays,
    spec: HardwareSpec,
    rf: RooflineResult,
    *,
    launch: str = "graph",
    tf32: bool | str | None = None,
) -> tuple[Timing, EnergyBreakdown | None]:
    """The GPU timing (``perf/gpu.gpu_timing``) and its board energy, from one kernel pass;
    no energy (``None``: the caller falls back to action counts) for a GPU description
    without a board power."""
    from codesign_playground.perf.gpu import gpu_kernels, timing_from_kernels

    k = gpu_kernels(net, spec, tf32=tf32)
    timing = timing_from_kernels(k, la, spec, rf, launch=launch)
    if not spec.power_w:
        return timing, None
    return timing, gpu_energy(spec, k, timing.latency_s)


def tokens_per_step(net: Network) -> int | None:
    """Tokens one run of a token model processes (rows of its first weighted GEMM: batch x
    new tokens), or ``None`` for a network that does not start from a token embedding."""
    if not net.ops or net.ops[0].kind != "embedding":
        return None
    for op in net.ops:
        if op.kind == "gemm" and op.weights and op.gemms:
            g = op.gemms[0]
            return int(g.count * g.m)
    return None
