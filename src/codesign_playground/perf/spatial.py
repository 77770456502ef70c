"""Mapping-aware model of a spatial (Eyeriss-like) accelerator: loop-nest tiling and a mapper.

Every convolution, dense layer and matmul becomes the seven-deep loop nest of a convolution
(:class:`Dim`: ``N`` batch, ``M`` output channels, ``C`` input channels per group, ``P``/``Q``
output rows/columns, ``R``/``S`` kernel rows/columns; ``groups`` as an outermost loop; a GEMM
is ``N = m``, ``M = n``, ``C = k``, ``P = Q = R = S = 1`` with the right operand as the
weights). A *mapping* gives every storage tier (the per-PE scratchpads, the global buffer,
DRAM: levels of ``spec.memory`` grouped innermost first) temporal tiling factors and a loop
order, and the PE array spatial factors over its rows and columns. Access counts follow the
tile-reuse analysis of Timeloop: the tile of an operand at a level is refilled from the next
level that holds it once per iteration of the loops above the level, except for the run of
innermost loops that do not index the operand (they reuse the tile); inputs that slide along
``P``/``Q``/``R``/``S`` fetch only the new rows or columns; partial sums are drained to the
parent after every tile and read back except on the first visit; data sent across the PE
array is multicast (inputs, weights) or spatially reduced (outputs). The mapper enumerates
(small spaces) or samples (seeded, with a budget) factorizations, loop orders and spatial
splits as NumPy arrays, evaluates every candidate in one array computation, refines the best
by local mutation, and keeps the best feasible mapping for an objective (energy, latency or
energy-delay product). Ops without a MAC core stream their tensors once through the levels.

Sources:

* A. Parashar et al., "Timeloop: A Systematic Approach to DNN Accelerator Evaluation",
  ISPASS 2019 (mapping representation, tile-based reuse analysis, random-sampling mapper).
* Y.-H. Chen, J. Emer, V. Sze, "Eyeriss: A Spatial Architecture for Energy-Efficient
  Dataflow for Convolutional Neural Networks", ISCA 2016 (row-stationary dataflow).
* Y.-H. Chen et al., "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep
  Convolutional Neural Networks", IEEE JSSC 52(1), 2017 (the template and AlexNet figures).
* V. Sze, Y.-H. Chen, T.-J. Yang, J. Emer, "Efficient Processing of Deep Neural Networks",
  Morgan & Claypool 2020, ch. 5 (loop nests, dataflows, tiling).

Equations and limits: ``docs/models.md`` ("Spatial model").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import lru_cache
from typing import Literal, cast

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import HardwareSpecError, InputError, UnsupportedError
from codesign_playground.hardware.mapping_constraints import MappingConstraints
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.hardware.technology import REFERENCE_NODE_NM, mac_energy_pj, op_energy_pj
from codesign_playground.perf.energy import access_energy_pj_per_byte
from codesign_playground.workload.ir import PRECISION_BITS, Network, Op

__all__ = [
    "DEFAULT_BUDGET",
    "ORDERS",
    "Dim",
    "LayerMapping",
    "LoopNest",
    "NestMapping",
    "Objective",
    "Operand",
    "Search",
    "SpatialResult",
    "evaluate_mapping",
    "loop_nests",
    "map_layer",
    "spatial_model",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Objective = Literal["energy", "latency", "edp"]
Search = Literal["auto", "random", "exhaustive"]

DEFAULT_BUDGET = 8000
"""Candidate mappings generated and evaluated per loop nest (random phase plus refinement)."""
EXHAUSTIVE_LIMIT = 2_000_000
"""Largest space ``search="exhaustive"`` enumerates."""
PAD_TOLERANCE = 0.125
"""Largest padding of a loop bound (as a fraction) that a padded factorization may add."""
SPATIAL_CHOICES = 8
"""Spatial splits (best PE utilization, one per set of split dimensions) the sampler keeps."""
_FIRST_FRACTION = 0.3  # share of the budget sampled at random; the rest refines the best
_ROUNDS = 8  # refinement rounds (mutating 1-2 dimensions' splits and one tier's order)
_PARENTS = 16  # candidates kept between rounds
_PER_NICHE = 2  # ... plus this many of each spatial split
_STALE_ROUNDS = 2  # with a fixed spatial split, stop refining after this many rounds
# without a better candidate
_CHUNK = 65536  # candidates evaluated per array computation in exhaustive search


class Dim(IntEnum):
    """Loop dimensions of the convolution nest."""

    N = 0  # batch (GEMM rows m)
    M = 1  # output channels per group (GEMM columns n)
    C = 2  # input channels per group (GEMM reduction k)
    P = 3  # output rows
    Q = 4  # output columns
    R = 5  # kernel rows
    S = 6  # kernel columns


class Operand(IntEnum):
    """Data spaces; the value indexes arrays and is the loop group that does not index it."""

    WEIGHTS = 0
    INPUTS = 1
    OUTPUTS = 2


N_DIMS = 7
OPERAND_NAMES: tuple[str, str, str] = ("weights", "inputs", "outputs")

#: Dimensions grouped by the operands they index: group g indexes every operand but
#: ``Operand(g)`` (N, P, Q never index weights; M never inputs; C, R, S never outputs). Within a
#: group every loop has the same relevance, so a tier's order is one of the 6 group orders.
GROUPS: tuple[tuple[Dim, ...], ...] = ((Dim.N, Dim.P, Dim.Q), (Dim.M,), (Dim.C, Dim.R, Dim.S))
#: Group orders, outermost first (6 permutations).
ORDERS: tuple[tuple[int, int, int], ...] = cast(
    tuple[tuple[int, int, int], ...], tuple(itertools.permutations(range(3)))
)
_ORDER_ARR = np.asarray(ORDERS, dtype=np.int64)
_RELEVANT: tuple[tuple[Dim, ...], ...] = tuple(
    tuple(d for g, dims in enumerate(GROUPS) if g != x for d in dims) for x in range(3)
)
_SP_ALL = "NMCPQRS"

# dims the PE array may split, per dataflow: (rows, cols)
_AXIS_DIMS: dict[str, tuple[tuple[Dim, ...], tuple[Dim, ...]]] = {
    "rs": ((Dim.R, Dim.C, Dim.M), (Dim.P, Dim.M, Dim.N)),
    "ws": ((Dim.C, Dim.R, Dim.S), (Dim.M,)),
    "os": ((Dim.P, Dim.Q, Dim.N), (Dim.M,)),
    "is": ((Dim.C, Dim.R, Dim.S), (Dim.P, Dim.Q, Dim.N)),
}
_ALL_DIMS = tuple(Dim)


# ------------------------------------------------------------------------------ loop nests
@dataclass(frozen=True, slots=True)
class LoopNest:
    """One layer as the 7-deep convolution loop nest, repeated ``groups`` times.

    ``bits`` are the element widths of (weights, inputs, outputs); ``stride`` and
    ``dilation`` are (rows, columns).
    """

    name: str
    bounds: tuple[int, int, int, int, int, int, int]
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    bits: tuple[int, int, int] = (16, 16, 16)
    final_output_bits: int | None = None  # outputs at the outermost level, when ``bits[2]``
    # is a wider partial-sum width (ZigZag's O vs O_final precision)
    stationary_reads_once: bool = False  # an operand that stays at the innermost memory's
    # output over consecutive MACs is read once (ZigZag's access_same_data_considered_as_no_access)
    onload_latency: bool = False  # add the first tile's load before compute (ZigZag's
    # data onloading) to the cycles
    tie_tolerance: float = 0.0  # energy (latency) objective: values within 1 + tie count as
    # equal and cycles (energy) decide

    def bound(self, d: Dim) -> int:
        return self.bounds[d]

    @property
    def macs(self) -> int:
        return self.groups * math.prod(self.bounds)

    def footprint(self, operand: Operand) -> int:
        """Elements of ``operand`` the nest touches (one group)."""
        return int(_footprints(np.asarray([self.bounds], dtype=np.float64), self)[operand][0])

    def describe(self) -> str:
        dims = " ".join(f"{d.name}={self.bounds[d]}" for d in Dim)
        extra = f", stride {self.stride[0]}x{self.stride[1]}"
        if self.dilation != (1, 1):
            extra += f", dilation {self.dilation[0]}x{self.dilation[1]}"
        if self.groups > 1:
            extra += f", groups {self.groups}"
        return f"{self.name} ({dims}{extra})"


def _op_bits(op: Op) -> tuple[int, int, int]:
    act = PRECISION_BITS[op.act_precision]
    w = PRECISION_BITS[op.weight_precision] if op.weights else act
    return (w, act, act)


def _pair(value: object, default: int) -> tuple[int, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(int(v) for v in value)
    return (default,)


def loop_nests(op: Op) -> tuple[LoopNest, ...]:
    """The loop nests of an op: one per GEMM; 1-D and 2-D convolutions keep their windows.

    A 2-D convolution is ``(N, M, C, P, Q, R, S)`` with its strides and dilations; a 1-D one
    has ``P = R = 1``. Other convolutions (3-D, transposed) and dense layers and matmuls use
    their GEMM view (``N = m``, ``M = n``, ``C = k``). Ops without GEMMs have no nest.
    """
    bits = _op_bits(op)
    attrs = op.attrs
    if op.kind == "conv" and "kernel" in attrs and not attrs.get("transposed", False):
        kernel = _pair(attrs["kernel"], 1)
        rank = len(kernel)
        out = op.outputs[0].shape if op.outputs else ()
        inp = op.inputs[0].shape if op.inputs else ()
        if rank in (1, 2) and len(out) == rank + 2 and len(inp) == rank + 2 and op.weights:
            strides = _pair(attrs.get("strides"), 1)
            dil = _pair(attrs.get("dilations"), 1)
            if len(strides) != rank:
                strides = (1,) * rank
            if len(dil) != rank:
                dil = (1,) * rank
            groups = int(cast(int, attrs.get("groups", 1)))
            n, f = int(out[0]), int(out[1])
            w_shape = op.weights[0].shape
            cg = int(w_shape[1])
            if rank == 1:
                p, q, r, s = 1, int(out[2]), 1, kernel[0]
                st, dl = (1, strides[0]), (1, dil[0])
            else:
                p, q, r, s = int(out[2]), int(out[3]), kernel[0], kernel[1]
                st, dl = (strides[0], strides[1]), (dil[0], dil[1])
            return (
                LoopNest(
                    name=op.name,
                    bounds=(n, f // groups, cg, p, q, r, s),
                    stride=st,
                    dilation=dl,
                    groups=groups,
                    bits=bits,
                ),
            )
    nests = []
    for i, g in enumerate(op.gemms):
        name = op.name if len(op.gemms) == 1 else f"{op.name}[{i}]"
        b_bits = bits if op.weights else (bits[1], bits[1], bits[1])
        nests.append(
            LoopNest(name=name, bounds=(g.m, g.n, g.k, 1, 1, 1, 1), groups=g.count, bits=b_bits)
        )
    return tuple(nests)


def _footprints(cum: FloatArray, nest: LoopNest) -> FloatArray:
    """Elements of each operand in a tile of extents ``cum`` (..., 7): shape (3, ...).

    Extents beyond a loop bound (padded factorizations) touch no further data: clipped."""
    cum = np.minimum(cum, np.asarray(nest.bounds, dtype=np.float64))
    n, m, c, p, q, r, s = (cum[..., d] for d in range(N_DIMS))
    h, w = _window(p, q, r, s, nest)
    return np.stack([m * c * r * s, n * c * h * w, n * m * p * q])


def _window(
    p: FloatArray, q: FloatArray, r: FloatArray, s: FloatArray, nest: LoopNest
) -> tuple[FloatArray, FloatArray]:
    """Input rows and columns a tile of ``p`` x ``q`` outputs and ``r`` x ``s`` taps reads.

    The rows ``i * stride + j * dilation`` span ``(p - 1) * stride + (r - 1) * dilation + 1``
    positions, of which only every gcd(stride, dilation)-th can occur, and at most ``p * r``
    are distinct (a 1x1 kernel with stride 2 reads every other row).
    """
    out = []
    for o, k, st, dl in (
        (p, r, nest.stride[0], nest.dilation[0]),
        (q, s, nest.stride[1], nest.dilation[1]),
    ):
        g = math.gcd(st, dl)
        out.append(np.minimum(((o - 1) * st + (k - 1) * dl) / g + 1, o * k))
    return out[0], out[1]


def _slide(cum: FloatArray, dim: IntArray, nest: LoopNest) -> FloatArray:
    """Fraction of an input tile that is new when loop ``dim`` (above it) steps by one."""
    p, q, r, s = cum[:, Dim.P], cum[:, Dim.Q], cum[:, Dim.R], cum[:, Dim.S]
    sh, sw = nest.stride
    dh, dw = nest.dilation
    h, w = _window(p, q, r, s, nest)
    gh, gw = math.gcd(sh, dh), math.gcd(sw, dw)
    frac = np.ones_like(p)
    frac = np.where(dim == Dim.Q, np.minimum(1.0, q * sw / gw / w), frac)
    frac = np.where(dim == Dim.S, np.minimum(1.0, s * dw / gw / w), frac)
    frac = np.where(dim == Dim.P, np.minimum(1.0, p * sh / gh / h), frac)
    frac = np.where(dim == Dim.R, np.minimum(1.0, r * dh / gh / h), frac)
    return np.asarray(frac, dtype=np.float64)


# ------------------------------------------------------------------------------ hardware view
@dataclass(frozen=True)
class _Hierarchy:
    """The spec as tiers of storage: per tier, the level holding each operand (or -1)."""

    level_names: tuple[str, ...]
    tier_names: tuple[str, ...]
    tier_of_level: tuple[int, ...]
    holder: tuple[tuple[int, int, int], ...]  # per tier, per operand: level index or -1
    chains: tuple[tuple[int, ...], ...]  # per operand: tiers holding it, innermost first
    spatial_tier: int  # the PE array sits between this tier and the next (-1: below all)
    rows: int
    cols: int
    capacity_bits: FloatArray  # per level (inf for DRAM)
    holds: tuple[tuple[int, ...], ...]  # per level: operands held
    access_bits: FloatArray  # per level
    read_pj_per_bit: FloatArray
    write_pj_per_bit: FloatArray
    bits_per_cycle: FloatArray  # per level, all instances (inf: no ceiling)
    clock_hz: float
    macs_per_pe: dict[str, float]
    mac_pj: dict[str, float]  # MAC energy per precision given by the spec (else technology)
    node_nm: float
    dataflow: str

    @property
    def n_tiers(self) -> int:
        return len(self.tier_names)

    @property
    def n_levels(self) -> int:
        return len(self.level_names)

    @property
    def pes(self) -> int:
        return self.rows * self.cols


def _hierarchy(spec: HardwareSpec, *, shared_levels_apart: bool = False) -> _Hierarchy:
    """Levels grouped into storage tiers: consecutive levels holding different operands with
    the same instance count share one tier (one set of loops), unless
    ``shared_levels_apart``: then every shared level is its own tier (ZigZag allocates the
    loops of each operand's memory levels separately)."""
    levels = spec.memory
    node = float(spec.tech_node_nm) if spec.tech_node_nm else REFERENCE_NODE_NM
    tiers: list[list[int]] = []
    tier_inst: list[int] = []
    for i, lv in enumerate(levels):
        held = {op for j in (tiers[-1] if tiers else []) for op in levels[j].holds}
        apart = shared_levels_apart and lv.instances == 1
        if tiers and not apart and not (held & set(lv.holds)) and tier_inst[-1] == lv.instances:
            tiers[-1].append(i)
        else:
            tiers.append([i])
            tier_inst.append(lv.instances)
    pes = spec.compute.num_pes
    per_pe = [t for t, inst in enumerate(tier_inst) if inst > 1]
    spatial_tier = max(per_pe) if per_pe else -1
    for t in per_pe:
        if tier_inst[t] != pes:
            name = levels[tiers[t][0]].name
            raise UnsupportedError(
                f"spatial model: level '{name}' has {tier_inst[t]} instances; the model needs "
                f"one per PE ({pes}) or a single shared instance"
            )
    holder = []
    for members in tiers:
        row = [-1, -1, -1]
        for i in members:
            for name in levels[i].holds:
                row[OPERAND_NAMES.index(name)] = i
        holder.append((row[0], row[1], row[2]))
    chains = tuple(tuple(t for t in range(len(tiers)) if holder[t][x] >= 0) for x in range(3))
    cap, width, rpj, wpj, bpc = [], [], [], [], []
    last = len(levels) - 1
    for j, lv in enumerate(levels):
        cap.append(math.inf if lv.capacity_bytes is None else 8.0 * lv.capacity_bytes)
        width.append(float(lv.access_width_bits) if lv.access_width_bits else 8.0)
        # the one access-energy rule of the energy step (perf/energy.py), per bit
        r, w, _ = access_energy_pj_per_byte(spec, lv, j == last)
        rpj.append(r / 8.0)
        wpj.append(w / 8.0)
        bw = lv.bandwidth(spec.compute.clock_hz)
        bpc.append(math.inf if bw is None else 8.0 * bw * lv.instances / spec.compute.clock_hz)
    return _Hierarchy(
        level_names=tuple(lv.name for lv in levels),
        tier_names=tuple("+".join(levels[i].name for i in t) for t in tiers),
        tier_of_level=tuple(t for t, idx in enumerate(tiers) for _ in idx),
        holder=tuple(holder),
        chains=chains,
        spatial_tier=spatial_tier,
        rows=spec.compute.rows,
        cols=spec.compute.cols * spec.compute.cores,
        capacity_bits=np.asarray(cap, dtype=np.float64),
        holds=tuple(tuple(OPERAND_NAMES.index(h) for h in lv.holds) for lv in levels),
        access_bits=np.asarray(width, dtype=np.float64),
        read_pj_per_bit=np.asarray(rpj, dtype=np.float64),
        write_pj_per_bit=np.asarray(wpj, dtype=np.float64),
        bits_per_cycle=np.asarray(bpc, dtype=np.float64),
        clock_hz=spec.compute.clock_hz,
        macs_per_pe={str(k): float(v) for k, v in spec.compute.macs_per_pe_per_cycle.items()},
        mac_pj={str(k): float(v) for k, v in (spec.compute.mac_energy_pj or {}).items()},
        node_nm=node,
        dataflow=spec.dataflow,
    )


# ------------------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class _Eval:
    """Per-candidate results (one row per candidate)."""

    valid: BoolArray
    reads: FloatArray  # (n, 3, L) elements, one group
    writes: FloatArray  # (n, 3, L)
    compute_cycles: FloatArray  # all groups
    cycles: FloatArray
    mem_cycles: FloatArray  # (n, L)
    energy_pj: FloatArray
    level_energy_pj: FloatArray  # (n, L)
    mac_energy_pj: float
    over: FloatArray  # (n, L): bits needed / capacity
    need: FloatArray  # (n, L): bits of the tiles one instance of each level holds


def _evaluate(
    nest: LoopNest,
    h: _Hierarchy,
    sp: FloatArray,
    f: FloatArray,
    order: IntArray,
    mac_pj: float,
    macs_per_pe: float,
) -> _Eval:
    """Access counts, capacity, cycles and energy of every candidate mapping.

    ``sp``: (n, 7) spatial factors (rows x cols combined); ``f``: (n, T, 7) temporal
    factors per tier; ``order``: (n, T) index into :data:`ORDERS` per tier.
    """
    n = sp.shape[0]
    n_t = h.n_tiers
    s_t = h.spatial_tier
    rows_idx = np.arange(n)
    bounds = np.asarray(nest.bounds, dtype=np.float64)
    bits = np.asarray(nest.bits, dtype=np.float64)
    cum: FloatArray = np.asarray(np.cumprod(f, axis=1), dtype=np.float64)
    if s_t >= 0:
        cum[:, s_t + 1 :, :] *= sp[:, np.newaxis, :]
    else:
        cum *= sp[:, np.newaxis, :]
    grp = np.stack([np.prod(f[:, :, list(g)], axis=2) for g in GROUPS], axis=2)  # (n,T,3)
    tier_tot = np.prod(f, axis=2)  # (n, T)
    temporal = np.prod(tier_tot, axis=1)
    active = np.prod(sp, axis=1)
    real = float(math.prod(nest.bounds))
    ratio = real / (temporal * active)
    red = np.prod(sp[:, [Dim.C, Dim.R, Dim.S]], axis=1)
    fps_all = _footprints(cum, nest)  # (3, n, T), one array computation for all tiers
    fps = [fps_all[:, :, t] for t in range(n_t)]  # each (3, n)
    sp_fp = _footprints(sp, nest)

    def inst(t: int) -> FloatArray | float:
        return active if t <= s_t else 1.0

    # innermost relevant dim of inputs per tier (for sliding windows)
    in_npq = np.where(f[:, :, Dim.Q] > 1, Dim.Q, np.where(f[:, :, Dim.P] > 1, Dim.P, Dim.N))
    in_crs = np.where(f[:, :, Dim.S] > 1, Dim.S, np.where(f[:, :, Dim.R] > 1, Dim.R, Dim.C))

    # Per operand, per tier u: the product of the innermost loops of u that do not index
    # the operand before the first one that does (``run``), whether such a loop exists
    # (``closed``) and, for inputs, that loop's dimension and factor; then, scanning tiers
    # from the outermost down, the reuse of a tile held just below tier u. One O(T) pass
    # per operand instead of a scan per (tier, operand).
    scans: dict[int, tuple[FloatArray, IntArray, FloatArray]] = {}

    def scan(x: int) -> tuple[FloatArray, IntArray, FloatArray]:
        if x in scans:
            return scans[x]
        red_all = np.ones((n, n_t + 1))
        dim_all = np.full((n, n_t + 1), -1, dtype=np.int64)
        ib_all = np.ones((n, n_t + 1))
        for u in range(n_t - 1, -1, -1):
            ordu = _ORDER_ARR[order[:, u]]
            run = np.ones(n)
            open_ = np.ones(n, dtype=bool)
            idim = np.full(n, -1, dtype=np.int64)
            ib = np.ones(n)
            for pos in (2, 1, 0):
                g = ordu[:, pos]
                gg = grp[rows_idx, u, g]
                irr = g == x
                run = np.where(open_ & irr, run * gg, run)
                hit = open_ & ~irr & (gg > 1)
                if x == Operand.INPUTS:
                    d = np.where(g == 0, in_npq[:, u], in_crs[:, u])
                    idim = np.where(hit, d, idim)
                    ib = np.where(hit, f[rows_idx, u, np.maximum(d, 0)], ib)
                open_ &= ~hit
            closed = ~open_
            red_all[:, u] = np.where(closed, run, run * red_all[:, u + 1])
            dim_all[:, u] = np.where(closed, idim, dim_all[:, u + 1])
            ib_all[:, u] = np.where(closed, ib, ib_all[:, u + 1])
        scans[x] = (red_all, dim_all, ib_all)
        return scans[x]

    def fills(t: int, x: int) -> tuple[FloatArray, IntArray, FloatArray]:
        above = np.prod(tier_tot[:, t + 1 :], axis=1)
        red_all, dim_all, ib_all = scan(x)
        return above / red_all[:, t + 1], dim_all[:, t + 1], ib_all[:, t + 1]

    n_l = h.n_levels
    reads = np.zeros((n, 3, n_l))
    writes = np.zeros((n, 3, n_l))
    for x in range(3):
        chain = h.chains[x]
        lv0 = h.holder[chain[0]][x]
        per_mac = np.full(n, real) if chain[0] <= s_t else temporal * sp_fp[x] * ratio
        if x == Operand.OUTPUTS:
            o_rel = np.prod(
                f[:, chain[0] + 1 :, :][:, :, [Dim.N, Dim.M, Dim.P, Dim.Q]], axis=(1, 2)
            )
            first = o_rel * fps[chain[0]][x] * inst(chain[0])
            writes[:, x, lv0] += per_mac
            reads[:, x, lv0] += np.maximum(per_mac - first, 0.0)
        elif nest.stationary_reads_once:
            reads[:, x, lv0] += per_mac / _stationary_run(x, chain[0], order, grp)
        else:
            reads[:, x, lv0] += per_mac
        for j in range(len(chain) - 1):
            t, p = chain[j], chain[j + 1]
            lc, lp = h.holder[t][x], h.holder[p][x]
            fl, idim, ib = fills(t, x)
            between = t <= s_t < p
            ucum: FloatArray = cum[:, t, :] * sp if between else cum[:, t, :]
            child_fp = fps[t][x]
            par_fp = _footprints(ucum, nest)[x] if between else child_fp
            par_inst = 1.0 if between else inst(t)
            if x == Operand.INPUTS:
                vc = (1.0 + (ib - 1.0) * _slide(cum[:, t, :], idim, nest)) / ib
                vp = (1.0 + (ib - 1.0) * _slide(ucum, idim, nest)) / ib
            else:
                vc = vp = np.ones(n)
            if x == Operand.OUTPUTS:
                dist = np.prod(f[:, t + 1 :, :][:, :, [Dim.N, Dim.M, Dim.P, Dim.Q]], axis=(1, 2))
                reload = np.maximum(fl - dist, 0.0)
                red_t = red if t <= s_t else 1.0
                reads[:, x, lc] += fl * child_fp * inst(t)
                writes[:, x, lp] += fl * par_fp * par_inst
                writes[:, x, lc] += reload * child_fp * inst(t) / red_t
                reads[:, x, lp] += reload * par_fp * par_inst
            else:
                writes[:, x, lc] += fl * child_fp * vc * inst(t)
                reads[:, x, lp] += fl * par_fp * vp * par_inst

    # capacity: per level, bits of the operands it holds in its tier's tile
    need = np.zeros((n, n_l))
    for li in range(n_l):
        t = h.tier_of_level[li]
        for x in h.holds[li]:
            need[:, li] += fps[t][x] * bits[x]
    over = need / h.capacity_bits[np.newaxis, :]
    valid = np.all(over <= 1.0, axis=1) & np.all(sp <= np.maximum(bounds, 1.0), axis=1)

    g = float(nest.groups)
    bits_xl = _level_bits(nest, h)
    rbits = np.einsum("nxl,xl->nl", reads, bits_xl) * g
    wbits = np.einsum("nxl,xl->nl", writes, bits_xl) * g
    level_e = rbits * h.read_pj_per_bit + wbits * h.write_pj_per_bit
    mac_e = mac_pj * real * g
    energy = level_e.sum(axis=1) + mac_e
    compute = temporal * g / macs_per_pe
    with np.errstate(divide="ignore", invalid="ignore"):
        mem = np.where(np.isinf(h.bits_per_cycle), 0.0, (rbits + wbits) / h.bits_per_cycle)
    if nest.onload_latency:
        # the first tile's load precedes compute; in a memory-bound layer it is part of the
        # memory time already
        cycles = np.maximum(compute + _onload_cycles(nest, h, bits_xl), mem.max(axis=1))
    else:
        cycles = np.maximum(compute, mem.max(axis=1))
    return _Eval(
        valid=valid,
        reads=reads,
        writes=writes,
        compute_cycles=compute,
        cycles=cycles,
        mem_cycles=mem,
        energy_pj=energy,
        level_energy_pj=level_e,
        mac_energy_pj=mac_e,
        over=over,
        need=need,
    )


def _stationary_run(x: int, top_tier: int, order: IntArray, grp: FloatArray) -> FloatArray:
    """Product of the innermost loops (tiers 0..``top_tier``) that do not index operand ``x``,
    up to the first loop that does: MACs over which ``x`` stays the same."""
    n = order.shape[0]
    rows_idx = np.arange(n)
    run = np.ones(n)
    open_ = np.ones(n, dtype=bool)
    for u in range(top_tier + 1):
        ordu = _ORDER_ARR[order[:, u]]
        for pos in (2, 1, 0):
            g = ordu[:, pos]
            gg = grp[rows_idx, u, g]
            irr = g == x
            run = np.where(open_ & irr, run * gg, run)
            open_ &= ~(~irr & (gg > 1))
    return run


def _onload_cycles(nest: LoopNest, h: _Hierarchy, bits_xl: FloatArray) -> float:
    """Cycles before the first MAC: the weights or inputs (the larger) that the innermost
    level holding them starts with when filled bottom-up, i.e. the whole operand or as much
    as fits (all instances), at the outermost level's bandwidth. ZigZag's LOMA allocates
    loops to the lowest memory that holds them; its data onloading loads that first tile
    (``CostModelEvaluation.calc_data_loading_latency``); later tiles overlap with compute."""
    out = 0.0
    for x in (Operand.WEIGHTS, Operand.INPUTS):
        chain = h.chains[x]
        if len(chain) < 2:
            continue
        t = chain[0]
        top = h.holder[chain[-1]][x]
        bpc = float(h.bits_per_cycle[top])
        if not math.isfinite(bpc):
            continue
        li = h.holder[t][x]
        room = float(h.capacity_bits[li]) * (h.pes if t <= h.spatial_tier else 1)
        bits = min(nest.footprint(x) * float(bits_xl[x, top]), room)
        out = max(out, bits / bpc)
    return out


def _level_bits(nest: LoopNest, h: _Hierarchy) -> FloatArray:
    """(3, L) element width of each operand at each level (final outputs at the top level)."""
    bits_xl = np.repeat(np.asarray(nest.bits, dtype=np.float64)[:, np.newaxis], h.n_levels, 1)
    if nest.final_output_bits is not None:
        top = h.holder[h.chains[Operand.OUTPUTS][-1]][Operand.OUTPUTS]
        bits_xl[Operand.OUTPUTS, top] = nest.final_output_bits
    return bits_xl


def _score(ev: _Eval, objective: Objective, tie: float = 0.0, scale: float = 1.0) -> FloatArray:
    """Lower is better. ``tie`` > 0: values of the objective within a factor ``1 + tie`` of
    each other (log buckets, the same for every batch) count as equal and the other figure
    decides (``scale``: a fixed positive reference for it)."""
    if tie > 0 and objective in ("energy", "latency"):
        main, other = (
            (ev.energy_pj, ev.cycles) if objective == "energy" else (ev.cycles, ev.energy_pj)
        )
        bucket = np.floor(np.log(np.maximum(main, 1e-30)) / math.log1p(tie))
        return np.where(ev.valid, bucket + other / (other + scale), np.inf)
    if objective == "energy":
        key = ev.energy_pj * (1.0 + 1e-12 * ev.cycles / np.maximum(ev.cycles.max(), 1.0))
    elif objective == "latency":
        key = ev.cycles * (1.0 + 1e-12 * ev.energy_pj / np.maximum(ev.energy_pj.max(), 1.0))
    else:
        key = ev.energy_pj * ev.cycles
    return np.where(ev.valid, key, np.inf)


# ------------------------------------------------------------------------------ search space
@lru_cache(maxsize=8192)
def _factorizations(bound: int, parts: int) -> tuple[tuple[int, ...], ...]:
    """Ordered factorizations of ``bound`` into ``parts`` factors."""
    if parts == 1:
        return ((bound,),)
    out: list[tuple[int, ...]] = []
    for d in range(1, bound + 1):
        if bound % d == 0:
            out.extend((d, *rest) for rest in _factorizations(bound // d, parts - 1))
    return tuple(out)


@lru_cache(maxsize=8192)
def _factor_table(rem: int, parts: int) -> IntArray:
    """Temporal factor choices for a bound: exact factorizations plus a few padded ones."""
    padded = {rem}
    for k in (2, 4, 8, 16, 32):
        b = -(-rem // k) * k
        if b <= rem * (1.0 + PAD_TOLERANCE):
            padded.add(b)
    rows: list[tuple[int, ...]] = []
    seen: set[tuple[int, ...]] = set()
    for b in sorted(padded):
        for fac in _factorizations(b, parts):
            if fac not in seen:
                seen.add(fac)
                rows.append(fac)
    return np.asarray(rows, dtype=np.int64).reshape(-1, parts)


def _axis_options(size: int, dims: Sequence[Dim], bounds: Sequence[int]) -> IntArray:
    """Spatial factors over one array axis: up to two dimensions, product <= ``size``."""
    live = [d for d in dims if bounds[d] > 1]
    rows: list[list[int]] = [[1] * N_DIMS]
    for a_i, a in enumerate(live):
        for fa in range(2, min(size, bounds[a]) + 1):
            if not _pad_ok(bounds[a], fa):
                continue
            base = [1] * N_DIMS
            base[a] = fa
            rows.append(base)
            for b in live[a_i + 1 :]:
                for fb in range(2, min(size // fa, bounds[b]) + 1):
                    if _pad_ok(bounds[b], fb):
                        row = list(base)
                        row[b] = fb
                        rows.append(row)
    return np.asarray(rows, dtype=np.int64)


def _pad_ok(bound: int, factor: int) -> bool:
    return bound % factor == 0 or -(-bound // factor) * factor <= bound * 1.25


def _spatial_options(
    nest: LoopNest,
    h: _Hierarchy,
    keep: int | None,
    allowed: tuple[tuple[Dim, ...], tuple[Dim, ...]] | None = None,
) -> tuple[IntArray, IntArray]:
    """Spatial splits (rows factors, cols factors), best PE utilization first; ``allowed``
    limits the dimensions that may be unrolled (mapping constraints)."""
    row_dims, col_dims = _AXIS_DIMS.get(h.dataflow, (_ALL_DIMS, _ALL_DIMS))
    if allowed is not None:
        row_dims, col_dims = allowed
    ro = _axis_options(h.rows, row_dims, nest.bounds)
    co = _axis_options(h.cols, col_dims, nest.bounds)
    spr = np.repeat(ro, len(co), axis=0)
    spc = np.tile(co, (len(ro), 1))
    sp = spr * spc
    bounds = np.asarray(nest.bounds, dtype=np.int64)
    ok = np.all(sp <= bounds, axis=1)
    spr, spc, sp = spr[ok], spc[ok], sp[ok]
    steps = np.prod(-(-bounds // sp), axis=1).astype(np.float64)
    util = math.prod(nest.bounds) / (steps * h.pes)
    ordering = np.lexsort((-np.prod(sp, axis=1), -util))
    spr, spc, sp, util = spr[ordering], spc[ordering], sp[ordering], util[ordering]
    if keep is None:
        return spr, spc
    sig = (sp > 1) @ (1 << np.arange(N_DIMS))
    _, first = np.unique(sig, return_index=True)
    first = np.sort(first)[:keep]  # best split of each dimension set, best sets first
    return spr[first], spc[first]


@dataclass
class _Space:
    """Candidates of one nest: spatial option and per-dim factor-table indices."""

    spr: IntArray  # (K, 7)
    spc: IntArray
    tables: list[IntArray]  # per dim: all options' tables stacked (rows, T)
    offset: IntArray  # (K, 7)
    count: IntArray  # (K, 7)


def _space(nest: LoopNest, h: _Hierarchy, spr: IntArray, spc: IntArray) -> _Space:
    sp = spr * spc
    k = len(sp)
    tables: list[IntArray] = []
    offset = np.zeros((k, N_DIMS), dtype=np.int64)
    count = np.zeros((k, N_DIMS), dtype=np.int64)
    for d in range(N_DIMS):
        parts: list[IntArray] = []
        start = 0
        cache: dict[int, tuple[int, int]] = {}
        for i in range(k):
            rem = -(-nest.bounds[d] // int(sp[i, d]))
            if rem not in cache:
                tab = _factor_table(rem, h.n_tiers)
                cache[rem] = (start, len(tab))
                parts.append(tab)
                start += len(tab)
            offset[i, d], count[i, d] = cache[rem]
        tables.append(np.concatenate(parts, axis=0))
    return _Space(spr=spr, spc=spc, tables=tables, offset=offset, count=count)


@dataclass
class _Cands:
    """Candidate mappings: spatial option, temporal factors (n, T, 7), tier orders (n, T)."""

    opt: IntArray
    f: FloatArray
    order: IntArray

    def __len__(self) -> int:
        return len(self.opt)

    def concat(self, other: _Cands) -> _Cands:
        return _Cands(
            np.concatenate([self.opt, other.opt]),
            np.concatenate([self.f, other.f]),
            np.concatenate([self.order, other.order]),
        )

    def take(self, sel: IntArray) -> _Cands:
        return _Cands(self.opt[sel], self.f[sel], self.order[sel])


def _spatial_of(space: _Space, c: _Cands) -> FloatArray:
    return cast(FloatArray, (space.spr * space.spc)[c.opt].astype(np.float64))


def _draw_factors(
    space: _Space, opt: IntArray, dims: IntArray, rng: np.random.Generator
) -> FloatArray:
    """One random row of each candidate's factor table for dimension ``dims`` (n, T)."""
    off = space.offset[opt, dims]
    cnt = space.count[opt, dims]
    row = off + (rng.random(len(opt)) * cnt).astype(np.int64)
    out = np.empty((len(opt), space.tables[0].shape[1]))
    for d in range(N_DIMS):
        sel = dims == d
        if np.any(sel):
            out[sel] = space.tables[d][row[sel]]
    return out


def _sample(space: _Space, n: int, n_tiers: int, rng: np.random.Generator) -> _Cands:
    opt = rng.integers(0, len(space.spr), size=n)
    f = np.empty((n, n_tiers, N_DIMS))
    for d in range(N_DIMS):
        f[:, :, d] = _draw_factors(space, opt, np.full(n, d, dtype=np.int64), rng)
    order = rng.integers(0, len(ORDERS), size=(n, n_tiers))
    order[:, 0] = 0
    return _Cands(opt, f, order)


def _space_size(space: _Space, n_tiers: int) -> int:
    per = np.prod(space.count.astype(np.float64), axis=1) * float(len(ORDERS) ** (n_tiers - 1))
    return int(per.sum())


def _enumerate(space: _Space, n_tiers: int) -> _Cands:
    n_ord = len(ORDERS) ** (n_tiers - 1)
    parts: list[_Cands] = []
    for i in range(len(space.spr)):
        shape = (*(int(c) for c in space.count[i]), n_ord)
        total = math.prod(shape)
        grid = np.unravel_index(np.arange(total, dtype=np.int64), shape)
        f = np.stack(
            [space.tables[d][grid[d] + space.offset[i, d]] for d in range(N_DIMS)], axis=2
        ).astype(np.float64)
        o = np.zeros((total, n_tiers), dtype=np.int64)
        rest = grid[N_DIMS]
        for t in range(1, n_tiers):
            o[:, t] = rest % len(ORDERS)
            rest = rest // len(ORDERS)
        parts.append(_Cands(np.full(total, i, dtype=np.int64), f, o))
    out = parts[0]
    for p in parts[1:]:
        out = out.concat(p)
    return out


@lru_cache(maxsize=64)
def _smallest_prime_factor(limit: int) -> IntArray:
    spf = np.arange(limit + 1, dtype=np.int64)
    for i in range(2, int(limit**0.5) + 1):
        if spf[i] == i:
            block = spf[i * i :: i]
            spf[i * i :: i] = np.where(block == np.arange(i * i, limit + 1, i), i, block)
    return spf


def _mutate(
    space: _Space, nest: LoopNest, parents: _Cands, n: int, rng: np.random.Generator
) -> _Cands:
    """Neighbours of ``parents``: move a prime factor (or a whole factor) of one dimension
    between two tiers, redraw one dimension's split, change one tier's loop order, or move
    to another spatial split (redrawing the dimensions whose remainder changes)."""
    pick = rng.integers(0, len(parents), size=n)
    c = parents.take(pick)
    opt, f, order = c.opt.copy(), c.f.copy(), c.order.copy()
    n_t = f.shape[1]
    rows = np.arange(n)
    kind = rng.random(n)
    d = rng.integers(0, N_DIMS, size=n)
    # 1. prime move between tiers
    move = kind < 0.45
    if n_t > 1:
        a = rng.integers(0, n_t, size=n)
        b = (a + rng.integers(1, n_t, size=n)) % n_t
        v = f[rows, a, d].astype(np.int64)
        spf = _smallest_prime_factor(int(max(np.max(f), 2)))
        p = np.where(rng.random(n) < 0.6, spf[v], v).astype(np.float64)
        ok = move & (v > 1)
        f[rows[ok], a[ok], d[ok]] /= p[ok]
        f[rows[ok], b[ok], d[ok]] *= p[ok]
    # 2. redraw one dimension's split
    redraw = (kind >= 0.45) & (kind < 0.65) | (move & (f[rows, 0, d] < 0))
    if np.any(redraw):
        f[redraw, :, d[redraw]] = _draw_factors(space, opt[redraw], d[redraw], rng)
    # 3. loop order of one tier
    reorder = (kind >= 0.65) & (kind < 0.85)
    if n_t > 1 and np.any(reorder):
        t = rng.integers(1, n_t, size=n)
        new = rng.integers(0, len(ORDERS), size=n)
        order[rows[reorder], t[reorder]] = new[reorder]
    # 4. another spatial split
    swap = kind >= 0.85
    if len(space.spr) > 1 and np.any(swap):
        new_opt = np.where(swap, rng.integers(0, len(space.spr), size=n), opt)
        changed = space.offset[new_opt] != space.offset[opt]  # (n, 7)
        opt = new_opt
        for dd in range(N_DIMS):
            sel = changed[:, dd]
            if np.any(sel):
                f[sel, :, dd] = _draw_factors(
                    space, opt[sel], np.full(int(sel.sum()), dd, dtype=np.int64), rng
                )
    return _Cands(opt, f, order)


# ------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class NestMapping:
    """A mapping of one loop nest and what it costs (all groups).

    ``factors[t][d]`` is the temporal factor of dimension ``d`` at tier ``t`` (innermost
    tier first; tier names in ``tiers``); ``orders[t]`` the tier's loops, outermost first;
    ``spatial_rows`` / ``spatial_cols`` the factors across the PE array, placed between tier
    ``spatial_tier`` and the next. ``reads`` / ``writes`` are elements per operand and level,
    shape (3, n_levels), for the whole nest.
    """

    nest: LoopNest
    tiers: tuple[str, ...]
    level_names: tuple[str, ...]
    level_tiers: tuple[int, ...]
    holds: tuple[tuple[int, ...], ...]
    spatial_tier: int
    factors: tuple[tuple[int, ...], ...]
    orders: tuple[tuple[Dim, ...], ...]
    spatial_rows: tuple[int, ...]
    spatial_cols: tuple[int, ...]
    reads: FloatArray
    writes: FloatArray
    read_bits: FloatArray  # (n_levels,)
    write_bits: FloatArray
    level_energy_pj: FloatArray
    mac_energy_pj: float
    energy_pj: float
    compute_cycles: float
    cycles: float
    mem_cycles: FloatArray  # (n_levels,)
    utilization: float
    tile_bits: FloatArray  # (n_levels,) bits a mapping keeps in one instance of each level
    capacity_bits: FloatArray
    candidates: int

    @property
    def macs(self) -> int:
        return self.nest.macs

    @property
    def active_pes(self) -> int:
        return math.prod(self.spatial_rows) * math.prod(self.spatial_cols)

    @property
    def bound(self) -> str:
        worst = int(np.argmax(self.mem_cycles)) if len(self.mem_cycles) else 0
        if len(self.mem_cycles) and self.mem_cycles[worst] > self.compute_cycles:
            return self.level_names[worst]
        return "compute"

    def padded_bounds(self) -> tuple[int, ...]:
        return tuple(
            math.prod(self.factors[t][d] for t in range(len(self.tiers)))
            * self.spatial_rows[d]
            * self.spatial_cols[d]
            for d in range(N_DIMS)
        )

    def tile_elements(self, tier: int) -> FloatArray:
        """Elements of (weights, inputs, outputs) in one instance's tile at ``tier``."""
        cum = np.prod(np.asarray(self.factors[: tier + 1], dtype=np.float64), axis=0)
        if tier > self.spatial_tier:
            cum = cum * np.asarray(self.spatial_rows) * np.asarray(self.spatial_cols)
        return _footprints(cum, self.nest)

    def describe(self) -> str:
        """A Timeloop-style printout: tiers outermost first, their loops, the spatial split."""
        out = [self.nest.describe()]
        pad = self.padded_bounds()
        if pad != self.nest.bounds:
            out.append(
                "padded to "
                + " ".join(f"{d.name}={pad[d]}" for d in Dim if pad[d] != self.nest.bounds[d])
            )
        if self.nest.groups > 1:
            out.append(f"for G in [0:{self.nest.groups})  (groups, outermost)")
        indent = 0
        for t in range(len(self.tiers) - 1, -1, -1):
            tile = self.tile_elements(t)
            parts = []
            for li in range(len(self.level_names)):
                if self.level_tiers[li] != t:
                    continue
                held = " ".join(
                    f"{OPERAND_NAMES[x].capitalize()}:{tile[x]:.0f}" for x in self.holds[li]
                )
                cap = self.capacity_bits[li]
                size = "" if math.isinf(cap) else f" ({self.tile_bits[li] / 8:.0f}/{cap / 8:.0f} B)"
                parts.append(f"{self.level_names[li]}: {held}{size}")
            tiles = " | ".join(parts)
            out.append(f"{'  ' * indent}{self.tiers[t]} [ {tiles} ]")
            out.append(f"{'  ' * indent}{'-' * 40}")
            for d in self.orders[t]:
                if self.factors[t][d] > 1:
                    out.append(f"{'  ' * indent}| for {d.name} in [0:{self.factors[t][d]})")
                    indent += 1
            if t == self.spatial_tier + 1 or (t == 0 and self.spatial_tier < 0):
                if t == 0 and self.spatial_tier < 0:
                    out.append(f"{'  ' * indent}(PE array below)")
                for axis, fac in (
                    ("Spatial-Y rows", self.spatial_rows),
                    ("Spatial-X cols", self.spatial_cols),
                ):
                    for d in Dim:
                        if fac[d] > 1:
                            out.append(f"{'  ' * indent}| for {d.name} in [0:{fac[d]}) ({axis})")
                            indent += 1
        out.append(
            f"=> {self.macs} MACs on {self.active_pes} PEs, {self.cycles:.0f} cycles "
            f"(bound: {self.bound}), utilization {self.utilization:.1%}, "
            f"{self.energy_pj / 1e6:.4g} uJ"
        )
        return "\n".join(out)


@dataclass(frozen=True)
class LayerMapping:
    """The chosen mapping of one op: one :class:`NestMapping` per loop nest (GEMM)."""

    op: str
    nests: tuple[NestMapping, ...]
    level_names: tuple[str, ...]

    @property
    def macs(self) -> int:
        return sum(m.macs for m in self.nests)

    @property
    def cycles(self) -> float:
        return sum(m.cycles for m in self.nests)

    @property
    def energy_pj(self) -> float:
        return sum(m.energy_pj for m in self.nests)

    @property
    def candidates(self) -> int:
        return sum(m.candidates for m in self.nests)

    def describe(self) -> str:
        return "\n\n".join(m.describe() for m in self.nests)


@dataclass(frozen=True)
class SpatialResult:
    """Per-op results of :func:`spatial_model`; level arrays have shape (n_levels, n_ops).

    ``reads`` / ``writes`` count accesses of each level's ``access_width_bits`` (one byte
    where a level gives no width); ``read_bytes`` / ``write_bytes`` the same traffic in
    bytes. ``bound`` names the binding ceiling per op ("compute" or a level).
    """

    names: tuple[str, ...]
    level_names: tuple[str, ...]
    access_bits: FloatArray  # (n_levels,)
    macs: FloatArray
    compute_cycles: FloatArray
    cycles: FloatArray
    latency_s: FloatArray
    utilization: FloatArray
    reads: FloatArray
    writes: FloatArray
    read_bytes: FloatArray
    write_bytes: FloatArray
    level_energy_pj: FloatArray
    compute_energy_pj: FloatArray
    energy_pj: FloatArray
    bound: tuple[str, ...]
    mappings: tuple[LayerMapping | None, ...]
    candidates: int

    @property
    def total_latency_s(self) -> float:
        return float(self.latency_s.sum())

    @property
    def total_energy_pj(self) -> float:
        return float(self.energy_pj.sum())


# ------------------------------------------------------------------------------ mapper
def _check_minimum(nest: LoopNest, h: _Hierarchy) -> None:
    for li in range(h.n_levels):
        need = sum(nest.bits[x] for x in h.holds[li])
        if need > h.capacity_bits[li]:
            raise HardwareSpecError(
                f"hardware field 'memory.{h.level_names[li]}.capacity_bytes': too small to map "
                f"{nest.name}: needs at least {math.ceil(need / 8)} bytes (one element of "
                f"each operand it holds), has {h.capacity_bits[li] / 8:.0f}"
            )


def _naive(nest: LoopNest, n_tiers: int) -> tuple[FloatArray, FloatArray, IntArray]:
    sp = np.ones((1, N_DIMS))
    f = np.ones((1, n_tiers, N_DIMS))
    f[0, -1, :] = nest.bounds
    return sp, f, np.zeros((1, n_tiers), dtype=np.int64)


def _precision_of(nest: LoopNest, h: _Hierarchy, precision: str) -> tuple[float, float]:
    if precision not in h.macs_per_pe:
        supported = ", ".join(h.macs_per_pe)
        raise HardwareSpecError(
            f"precision: the spec does not compute in {precision} (layer {nest.name!r}); "
            f"use one of {supported}"
        )
    if precision in h.mac_pj:
        return h.mac_pj[precision], h.macs_per_pe[precision]
    return float(mac_energy_pj(precision, h.node_nm)), h.macs_per_pe[precision]


def _parents(score: FloatArray, good: IntArray, opt: IntArray) -> IntArray:
    """The best candidates overall plus the best few of every spatial split (niches keep
    the refinement from collapsing onto one split early)."""
    ranked = good[np.argsort(score[good], kind="stable")]
    keep = list(ranked[:_PARENTS])
    seen: dict[int, int] = {}
    for i in ranked:
        o = int(opt[i])
        if seen.get(o, 0) < _PER_NICHE:
            seen[o] = seen.get(o, 0) + 1
            keep.append(int(i))
    return np.unique(np.asarray(keep, dtype=np.int64))


def _map_nest(
    nest: LoopNest,
    h: _Hierarchy,
    precision: str,
    objective: Objective,
    budget: int,
    seed: int,
    search: Search,
    fixed_spatial: tuple[int, ...] | None = None,
    allowed_spatial: tuple[tuple[Dim, ...], tuple[Dim, ...]] | None = None,
) -> NestMapping:
    _check_minimum(nest, h)
    mac_pj, per_pe = _precision_of(nest, h, precision)
    n_t = h.n_tiers
    rng = np.random.default_rng(seed)
    if fixed_spatial is not None:
        spr, spc = _fixed_spatial(nest, h, fixed_spatial)
    else:
        spr, spc = _spatial_options(
            nest, h, None if search == "exhaustive" else SPATIAL_CHOICES, allowed_spatial
        )
    space = _space(nest, h, spr, spc)
    size = _space_size(space, n_t)

    def tie_scale(obj: Objective) -> float:
        # fixed references for the deciding figure: ideal cycles, MAC energy
        return float(nest.macs) / h.pes if obj == "energy" else float(nest.macs) * mac_pj

    def run(c: _Cands) -> FloatArray:
        ev = _evaluate(nest, h, _spatial_of(space, c), c.f, c.order, mac_pj, per_pe)
        return _score(ev, objective, nest.tie_tolerance, tie_scale(objective))

    evaluated = 0
    if search == "exhaustive" or (search == "auto" and size <= budget):
        if size > EXHAUSTIVE_LIMIT:
            raise InputError(
                f"search: the mapping space of {nest.name} has {size} points, more than "
                f"{EXHAUSTIVE_LIMIT}; use search='random' or 'auto'"
            )
        cands = _enumerate(space, n_t)
        score = np.concatenate(
            [
                run(cands.take(np.arange(i, min(i + _CHUNK, len(cands)))))
                for i in range(0, len(cands), _CHUNK)
            ]
        )
        evaluated += len(cands)
    else:
        n_first = max(int(budget * _FIRST_FRACTION), 16)
        cands = _sample(space, n_first, n_t, rng)
        score = run(cands)
        evaluated += n_first
        per_round = max((budget - n_first) // _ROUNDS, 8)
        stale = 0
        for _ in range(_ROUNDS):
            if fixed_spatial is not None and stale >= _STALE_ROUNDS:
                break  # one spatial split: the temporal search has converged
            before = float(np.min(score)) if len(score) else math.inf
            good = np.flatnonzero(np.isfinite(score))
            if not len(good):
                cands = _sample(space, per_round, n_t, rng)
                score = run(cands)
                evaluated += per_round
                continue
            top = _parents(score, good, cands.opt)
            kids = _mutate(space, nest, cands.take(top), per_round, rng)
            kscore = run(kids)
            evaluated += per_round
            cands = cands.take(top).concat(kids)
            score = np.concatenate([score[top], kscore])
            stale = stale + 1 if float(np.min(score)) >= before else 0
    best = int(np.argmin(score))
    nsp, nf, nord = _naive(nest, n_t)
    nev = _evaluate(nest, h, nsp, nf, nord, mac_pj, per_pe)
    evaluated += 1
    nscore = _score(nev, objective, nest.tie_tolerance, tie_scale(objective))
    if not np.isfinite(score[best]) or nscore[0] < score[best]:
        if not np.isfinite(nscore[0]):
            li = int(np.argmax(nev.over[0]))
            raise HardwareSpecError(
                f"hardware field 'memory.{h.level_names[li]}.capacity_bytes': no mapping of "
                f"{nest.name} fits; even untiled it needs {nev.need[0, li] / 8:.0f} "
                f"bytes, has {h.capacity_bits[li] / 8:.0f}"
            )
        return _mapping(nest, h, nsp, nsp, nf, nord, mac_pj, per_pe, evaluated)
    o = int(cands.opt[best])
    return _mapping(
        nest,
        h,
        space.spr[o][np.newaxis].astype(np.float64),
        space.spc[o][np.newaxis].astype(np.float64),
        cands.f[best][np.newaxis],
        cands.order[best][np.newaxis],
        mac_pj,
        per_pe,
        evaluated,
    )


def _fixed_spatial(
    nest: LoopNest, h: _Hierarchy, factors: tuple[int, ...]
) -> tuple[IntArray, IntArray]:
    """A constrained spatial split: each factor capped at the loop bound (as ZigZag does)."""
    sp = np.minimum(np.asarray(factors, dtype=np.int64), np.asarray(nest.bounds, dtype=np.int64))
    if int(np.prod(sp)) > h.pes:
        raise HardwareSpecError(
            f"mapping constraint for {nest.name}: spatial factors {tuple(int(v) for v in sp)} "
            f"need {int(np.prod(sp))} PEs, the array has {h.pes}"
        )
    return sp[np.newaxis], np.ones((1, N_DIMS), dtype=np.int64)


def _mapping(
    nest: LoopNest,
    h: _Hierarchy,
    spr: FloatArray,
    spc: FloatArray,
    f: FloatArray,
    order: IntArray,
    mac_pj: float,
    per_pe: float,
    evaluated: int,
) -> NestMapping:
    ev = _evaluate(nest, h, spr * spc, f, order, mac_pj, per_pe)
    bits_xl = _level_bits(nest, h)
    g = float(nest.groups)
    reads = ev.reads[0] * g
    writes = ev.writes[0] * g
    orders = []
    for t in range(h.n_tiers):
        grp_order = ORDERS[int(order[0, t])]
        orders.append(tuple(d for gi in grp_order for d in GROUPS[gi]))
    pes = h.pes
    cycles = float(ev.cycles[0])
    return NestMapping(
        nest=nest,
        tiers=h.tier_names,
        level_names=h.level_names,
        level_tiers=h.tier_of_level,
        holds=h.holds,
        spatial_tier=h.spatial_tier,
        factors=tuple(tuple(int(v) for v in f[0, t]) for t in range(h.n_tiers)),
        orders=tuple(orders),
        spatial_rows=tuple(int(v) for v in spr[0]),
        spatial_cols=tuple(int(v) for v in spc[0]),
        reads=reads,
        writes=writes,
        read_bits=np.einsum("xl,xl->l", bits_xl, reads),
        write_bits=np.einsum("xl,xl->l", bits_xl, writes),
        level_energy_pj=ev.level_energy_pj[0],
        mac_energy_pj=ev.mac_energy_pj,
        energy_pj=float(ev.energy_pj[0]),
        compute_cycles=float(ev.compute_cycles[0]),
        cycles=cycles,
        mem_cycles=ev.mem_cycles[0],
        utilization=nest.macs / (cycles * pes * per_pe) if cycles > 0 else 0.0,
        tile_bits=ev.need[0],
        capacity_bits=h.capacity_bits,
        candidates=evaluated,
    )


def evaluate_mapping(
    nest: LoopNest,
    spec: HardwareSpec,
    *,
    factors: Sequence[Sequence[int]],
    orders: Sequence[int] | None = None,
    spatial_rows: Sequence[int] = (1,) * N_DIMS,
    spatial_cols: Sequence[int] = (1,) * N_DIMS,
    precision: str | None = None,
) -> NestMapping:
    """Cost of one given mapping (no search): ``factors`` per tier (innermost first) and
    dimension, ``orders`` per tier as indices into :data:`ORDERS` (default all 0).

    Capacities are not enforced here; the returned ``tile_bits`` against ``capacity_bits``
    say whether the mapping fits.
    """
    h = _hierarchy(spec)
    f = np.asarray(factors, dtype=np.float64)
    if f.shape != (h.n_tiers, N_DIMS):
        raise InputError(
            f"factors: need {h.n_tiers} tiers ({', '.join(h.tier_names)}) x 7 dimensions"
        )
    spr = np.asarray([spatial_rows], dtype=np.float64)
    spc = np.asarray([spatial_cols], dtype=np.float64)
    cover = np.prod(f, axis=0) * spr[0] * spc[0]
    if np.any(cover < np.asarray(nest.bounds)):
        raise InputError(f"factors: do not cover the loop bounds {nest.bounds} of {nest.name}")
    order = np.asarray([orders if orders is not None else [0] * h.n_tiers], dtype=np.int64)
    prec = precision or _precision_for_bits(nest.bits[1], h)
    mac_pj, per_pe = _precision_of(nest, h, prec)
    return _mapping(nest, h, spr, spc, f[np.newaxis], order, mac_pj, per_pe, 1)


def _precision_for_bits(bits: int, h: _Hierarchy) -> str:
    for p in h.macs_per_pe:
        if PRECISION_BITS[cast(Literal["fp32"], p)] == bits:
            return p
    return next(iter(h.macs_per_pe))


def map_layer(
    op: Op,
    spec: HardwareSpec,
    *,
    objective: Objective = "energy",
    budget: int = DEFAULT_BUDGET,
    seed: int = 0,
    search: Search = "auto",
    constraints: MappingConstraints | None = None,
) -> LayerMapping:
    """Best mapping of one conv / dense / matmul op on ``spec`` for ``objective``.

    ``search="auto"`` enumerates the space when it has at most ``budget`` points and
    otherwise samples ``budget`` candidates (seeded: the same seed gives the same mapping);
    ``"exhaustive"`` enumerates every spatial split, factorization and loop order.
    """
    nests = loop_nests(op)
    if not nests:
        raise InputError(f"op {op.name!r} ({op.kind}) has no MAC loop nest to map")
    h = _hierarchy(spec, shared_levels_apart=bool(constraints and constraints.shared_levels_apart))
    return _map_op(op, nests, h, objective, budget, seed, search, {}, constraints)


def _map_op(
    op: Op,
    nests: tuple[LoopNest, ...],
    h: _Hierarchy,
    objective: Objective,
    budget: int,
    seed: int,
    search: Search,
    cache: dict[tuple[object, ...], NestMapping],
    constraints: MappingConstraints | None = None,
) -> LayerMapping:
    if objective not in ("energy", "latency", "edp"):
        raise InputError(f"objective: {objective!r} is unknown; use energy, latency or edp")
    if budget < 1:
        raise InputError(f"budget: must be >= 1 (got {budget})")
    fixed = constraints.spatial_for(op.name, op.op_type) if constraints is not None else None
    once = constraints is not None and constraints.stationary_reads_once
    onload = constraints is not None and constraints.onload_latency
    tie = constraints.tie_tolerance if constraints is not None else 0.0
    allowed = None
    if constraints is not None and constraints.spatial_allowed is not None:
        rows_a, cols_a = constraints.spatial_allowed
        allowed = (
            tuple(Dim[d] for d in rows_a),
            tuple(Dim[d] for d in cols_a),
        )
    psum = constraints.partial_sum_bits if constraints is not None else None
    out = []
    for nest in nests:
        if psum is not None and psum != nest.bits[2]:
            nest = replace(
                nest, bits=(nest.bits[0], nest.bits[1], psum), final_output_bits=nest.bits[2]
            )
        if once or onload or tie:
            nest = replace(
                nest, stationary_reads_once=once, onload_latency=onload, tie_tolerance=tie
            )
        key = (
            nest.bounds,
            nest.stride,
            nest.dilation,
            nest.groups,
            nest.bits,
            nest.final_output_bits,
            nest.stationary_reads_once,
            nest.onload_latency,
            nest.tie_tolerance,
            op.act_precision,
            fixed,
            allowed,
        )
        hit = cache.get(key)
        if hit is None:
            hit = _map_nest(
                nest, h, op.act_precision, objective, budget, seed, search, fixed, allowed
            )
            cache[key] = hit
        out.append(hit if hit.nest.name == nest.name else _renamed(hit, nest))
    return LayerMapping(op=op.name, nests=tuple(out), level_names=h.level_names)


def _renamed(m: NestMapping, nest: LoopNest) -> NestMapping:
    return replace(m, nest=nest, candidates=0)


def _stream(op: Op, h: _Hierarchy) -> tuple[FloatArray, FloatArray, float, float]:
    """Read and write bits per level of an op that streams its tensors once."""
    reads = np.zeros(h.n_levels)
    writes = np.zeros(h.n_levels)
    volumes = (8.0 * op.weight_bytes, 8.0 * op.input_bytes, 8.0 * op.output_bytes)
    for x in range(3):
        chain = h.chains[x]
        for j, t in enumerate(chain):
            li = h.holder[t][x]
            top = j == len(chain) - 1
            if x == Operand.OUTPUTS:
                writes[li] += volumes[x]
                if not top:
                    reads[li] += volumes[x]
            else:
                reads[li] += volumes[x]
                if not top:
                    writes[li] += volumes[x]
    add_pj = float(op_energy_pj("add", op.act_precision, h.node_nm)) if op.flops else 0.0
    compute = (op.flops + op.macs) / h.pes
    return reads, writes, compute, add_pj * (op.flops + op.macs)


def spatial_model(
    net: Network,
    spec: HardwareSpec,
    *,
    objective: Objective = "energy",
    budget: int = DEFAULT_BUDGET,
    seed: int = 0,
    search: Search = "auto",
    constraints: MappingConstraints | None = None,
) -> SpatialResult:
    """Map every op of ``net`` on ``spec`` and return per-op cycles, accesses and energy.

    Ops with a MAC core are mapped by :func:`map_layer` (identical layers are mapped once);
    the others stream their weights, inputs and outputs once through the levels that hold
    them. The ops' latencies add up (no overlap between layers). ``constraints`` (from a
    ZigZag mapping file or Timeloop constraints) fix each layer's spatial unrolling.
    """
    h = _hierarchy(spec, shared_levels_apart=bool(constraints and constraints.shared_levels_apart))
    n_ops = len(net.ops)
    n_l = h.n_levels
    rbits = np.zeros((n_l, n_ops))
    wbits = np.zeros((n_l, n_ops))
    level_e = np.zeros((n_l, n_ops))
    compute_e = np.zeros(n_ops)
    compute_c = np.zeros(n_ops)
    cycles = np.zeros(n_ops)
    macs = np.zeros(n_ops)
    bound: list[str] = []
    mappings: list[LayerMapping | None] = []
    cache: dict[tuple[object, ...], NestMapping] = {}
    evaluated = 0
    for i, op in enumerate(net.ops):
        if op.act_precision not in h.macs_per_pe:
            supported = ", ".join(h.macs_per_pe)
            raise HardwareSpecError(
                f"precision: {spec.name} does not compute in {op.act_precision} "
                f"(layer {op.name!r}); set precision (--precision) to one of {supported}"
            )
        nests = loop_nests(op)
        macs[i] = op.macs
        if nests:
            lm = _map_op(op, nests, h, objective, budget, seed, search, cache, constraints)
            mappings.append(lm)
            evaluated += lm.candidates
            for m in lm.nests:
                rbits[:, i] += m.read_bits
                wbits[:, i] += m.write_bits
                level_e[:, i] += m.level_energy_pj
                compute_e[i] += m.mac_energy_pj
                compute_c[i] += m.compute_cycles
                cycles[i] += m.cycles
            # other constants of the op (biases) stream once from the outermost weight level
            nest_w = sum(
                m.nest.groups * m.nest.footprint(Operand.WEIGHTS) * m.nest.bits[0]
                for m in lm.nests
                if op.weights
            )
            extra = max(8.0 * op.weight_bytes - nest_w, 0.0)
            top_w = h.holder[h.chains[Operand.WEIGHTS][-1]][Operand.WEIGHTS]
            rbits[top_w, i] += extra
            level_e[top_w, i] += extra * h.read_pj_per_bit[top_w]
            worst = [m.bound for m in lm.nests if m.bound != "compute"]
            bound.append(worst[0] if worst else "compute")
        else:
            mappings.append(None)
            r, w, comp, e = _stream(op, h)
            rbits[:, i] = r
            wbits[:, i] = w
            level_e[:, i] = r * h.read_pj_per_bit + w * h.write_pj_per_bit
            compute_e[i] = e
            mem = np.where(np.isinf(h.bits_per_cycle), 0.0, (r + w) / h.bits_per_cycle)
            compute_c[i] = comp
            cycles[i] = max(comp, float(mem.max()) if n_l else 0.0)
            j = int(np.argmax(mem)) if n_l else 0
            bound.append(h.level_names[j] if n_l and mem[j] > comp else "compute")
    acc = h.access_bits[:, np.newaxis]
    per_pe = np.asarray(
        [h.macs_per_pe.get(op.act_precision, 1.0) for op in net.ops], dtype=np.float64
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(cycles > 0, macs / (cycles * h.pes * per_pe), 0.0)
    return SpatialResult(
        names=tuple(op.name for op in net.ops),
        level_names=h.level_names,
        access_bits=h.access_bits,
        macs=macs,
        compute_cycles=compute_c,
        cycles=cycles,
        latency_s=cycles / h.clock_hz,
        utilization=np.asarray(util, dtype=np.float64),
        reads=rbits / acc,
        writes=wbits / acc,
        read_bytes=rbits / 8.0,
        write_bytes=wbits / 8.0,
        level_energy_pj=level_e,
        compute_energy_pj=compute_e,
        energy_pj=level_e.sum(axis=0) + compute_e,
        bound=tuple(bound),
        mappings=tuple(mappings),
        candidates=evaluated,
    )
