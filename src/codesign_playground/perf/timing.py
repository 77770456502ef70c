"""The hand-off between a timing model and the energy step."""

from __future__ import annotations

from dataclasses import dataclass

from codesign_playground.units import FloatArray

__all__ = ["Timing"]


@dataclass(frozen=True)
class Timing:
    """What a timing model hands to the energy step: per-op cycles and per-level bytes."""

    model: str
    cycles: FloatArray
    latency_s: FloatArray
    utilization: FloatArray
    bound: tuple[str, ...]
    read_bytes: FloatArray  # (n_levels, n_ops)
    write_bytes: FloatArray  # (n_levels, n_ops)
