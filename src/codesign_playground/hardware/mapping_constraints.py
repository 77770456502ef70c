"""Mapping constraints that a description brings along (ZigZag mapping files, Timeloop
constraints) and that the spatial mapper honours.

The loop dimensions are the mapper's convolution nest: ``N`` batch (GEMM rows), ``M`` output
channels (GEMM columns), ``C`` input channels (GEMM reduction), ``P``/``Q`` output rows/columns,
``R``/``S`` kernel rows/columns. A spatial constraint fixes the factor of each dimension
unrolled over the PE array (dimensions not named are not unrolled); the mapper caps each
factor at the layer's loop bound, as ZigZag does, and searches only the temporal mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["LOOP_DIMS", "MappingConstraints"]

LOOP_DIMS: tuple[str, ...] = ("N", "M", "C", "P", "Q", "R", "S")
"""Names of the mapper's loop dimensions, in its order."""


@dataclass(frozen=True)
class MappingConstraints:
    """Spatial unrollings per layer, looked up by layer name, then op type, then ``default``.

    ``spatial`` maps a key (a layer name such as ``/conv1/Conv``, an ONNX op type such as
    ``Conv``/``Gemm``/``MatMul``, or ``default``) to ``{dimension: factor}``.
    ``partial_sum_bits``: width of partial sums (ZigZag's intermediate output precision);
    ``None`` keeps the output precision. ``spatial_allowed``: for layers without a fixed
    unrolling, the dimensions the mapper may unroll over the array's rows and over its
    columns (Timeloop's spatial ``factors: [X=1]`` forbid the others); ``None``: the
    dataflow's defaults. ``stationary_reads_once``: count one read of a weight or input
    that stays at its innermost memory's output over consecutive MACs (ZigZag's cost
    convention, ``access_same_data_considered_as_no_access``); Timeloop counts every read.
    ``onload_latency``: add the load of the first tile of weights or inputs before the first
    MAC to each layer's cycles (ZigZag's data onloading; Timeloop reports steady state).
    ``shared_levels_apart``: each shared memory level gets its own loops, so one operand's
    buffer can be refilled by loops that leave another's in place (ZigZag's per-operand
    memory-level allocation); otherwise levels holding different operands share a tier.
    ``tie_tolerance``: under the energy (latency) objective, mappings within a factor
    ``1 + tie_tolerance`` of each other count as equal and the faster (cheaper) one wins:
    a model that differs from the source tool's by about a percent cannot rank them.
    """

    spatial: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    spatial_allowed: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    partial_sum_bits: int | None = None
    stationary_reads_once: bool = False
    onload_latency: bool = False
    shared_levels_apart: bool = False
    tie_tolerance: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        for dim in (d for axis in self.spatial_allowed or () for d in axis):
            if dim not in LOOP_DIMS:
                raise ValueError(
                    f"mapping constraint spatial_allowed: unknown loop dimension {dim!r}; use "
                    f"one of {', '.join(LOOP_DIMS)}"
                )
        for key, factors in self.spatial.items():
            for dim, factor in factors.items():
                if dim not in LOOP_DIMS:
                    raise ValueError(
                        f"mapping constraint {key!r}: unknown loop dimension {dim!r}; use one "
                        f"of {', '.join(LOOP_DIMS)}"
                    )
                if int(factor) < 1:
                    raise ValueError(
                        f"mapping constraint {key!r}: factor of {dim} must be >= 1 (got {factor})"
                    )

    def spatial_for(self, name: str, op_type: str) -> tuple[int, ...] | None:
        """The spatial factor of every loop dimension for a layer, or None when unconstrained."""
        for key in (name, op_type, "default"):
            factors = self.spatial.get(key)
            if factors is not None:
                return tuple(int(factors.get(d, 1)) for d in LOOP_DIMS)
        return None
