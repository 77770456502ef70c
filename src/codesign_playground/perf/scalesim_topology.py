"""Any network as SCALE-Sim topology rows, so it can be reported in SCALE-Sim's own format.

A convolution with batch 1, one group and no dilation keeps its convolution form (the IFMAP
grows by its padding, which SCALE-Sim takes as already applied). Every other GEMM-shaped op
becomes rows in SCALE-Sim's GEMM form ``M, N, K`` (an ``M x K`` IFMAP, a ``1 x K`` filter and
``N`` filters), one row per independent GEMM (groups, heads), named ``<op>[.g<i>]``.
Ops without a GEMM have no SCALE-Sim equivalent and are left out.
"""

from __future__ import annotations

from codesign_playground.workload.importers.scalesim_csv import TopologyRow
from codesign_playground.workload.ir import Network, Op

__all__ = ["network_to_topology"]


def _ints(value: object, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(v) for v in value) if isinstance(value, tuple | list) else default


def _conv_row(op: Op) -> TopologyRow | None:
    a = op.attrs
    x = op.inputs[0].shape
    w = op.weights[0].shape if op.weights else ()
    if (
        op.kind != "conv"
        or a.get("transposed")
        or len(x) != 4
        or x[0] != 1
        or a.get("groups", 1) != 1
        or any(d != 1 for d in _ints(a.get("dilations"), (1, 1)))
        or len(w) != 4
    ):
        return None
    pads = _ints(a.get("pads"), (0, 0, 0, 0))
    strides = _ints(a.get("strides"), (1, 1))
    return TopologyRow(
        name=op.name,
        ifmap_h=x[2] + pads[0] + pads[2],
        ifmap_w=x[3] + pads[1] + pads[3],
        filter_h=w[2],
        filter_w=w[3],
        channels=x[1],
        num_filters=w[0],
        stride_h=strides[0],
        stride_w=strides[1],
    )


def network_to_topology(net: Network) -> list[TopologyRow]:
    """SCALE-Sim layers for every GEMM-shaped op of ``net``, in order."""
    rows: list[TopologyRow] = []
    for op in net.ops:
        conv = _conv_row(op)
        if conv is not None:
            rows.append(conv)
            continue
        for gi, g in enumerate(op.gemms):
            for c in range(g.count):
                suffix = f".g{gi}" if len(op.gemms) > 1 else ""
                suffix += f".{c}" if g.count > 1 else ""
                rows.append(TopologyRow(f"{op.name}{suffix}", g.m, g.k, 1, g.k, 1, g.n, gemm=True))
    return rows
