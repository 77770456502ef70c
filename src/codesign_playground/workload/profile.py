"""Per-layer and total work of a network as plain records, for reports and the API."""

from __future__ import annotations

from typing import Any

from codesign_playground.workload.ir import Network, Op, UnmodeledOp

__all__ = [
    "LAYER_FIELDS",
    "TOTAL_FIELDS",
    "layer_record",
    "profile",
    "totals",
    "unresolved_summary",
]

LAYER_FIELDS = (
    "name",
    "op",
    "kind",
    "output_shape",
    "macs",
    "flops",
    "params",
    "weight_bytes",
    "input_bytes",
    "output_bytes",
    "arithmetic_intensity",
    "weight_precision",
    "act_precision",
)
TOTAL_FIELDS = (
    "layers",
    "macs",
    "flops",
    "params",
    "weight_bytes",
    "activation_bytes",
    "unresolved",
    "unresolved_fraction_of_nodes",
    "unresolved_fraction_of_arithmetic",
)


def layer_record(op: Op) -> dict[str, Any]:
    """One op as a flat record; ``flops`` counts everything (2 per MAC plus other FLOPs)."""
    return {
        "name": op.name,
        "op": op.op_type,
        "kind": op.kind,
        "output_shape": list(op.outputs[0].shape) if op.outputs else [],
        "macs": op.macs,
        "flops": op.total_flops,
        "params": op.params,
        "weight_bytes": op.weight_bytes,
        "input_bytes": op.input_bytes,
        "output_bytes": op.output_bytes,
        "arithmetic_intensity": round(op.arithmetic_intensity, 6),
        "weight_precision": op.weight_precision,
        "act_precision": op.act_precision,
    }


def totals(net: Network) -> dict[str, Any]:
    """Network totals; ``activation_bytes`` sums every op's activation reads and writes.

    ``unresolved`` counts arithmetic nodes left out because a shape was unknown (only when
    the import allowed it); the two fractions say how much of the graph that is.
    """
    return {
        "layers": len(net.ops),
        "macs": net.macs,
        "flops": net.flops,
        "params": net.params,
        "weight_bytes": net.weight_bytes,
        "activation_bytes": net.activation_bytes,
        "unresolved": len(net.unresolved),
        "unresolved_fraction_of_nodes": round(net.unresolved_fraction_of_nodes, 6),
        "unresolved_fraction_of_arithmetic": round(net.unresolved_fraction_of_arithmetic, 6),
    }


def unresolved_summary(net: Network) -> dict[str, Any]:
    """How much of the network was left out for unresolved shapes: the count, the two
    fractions and the nodes' names (for an estimate's JSON, CLI and API alike)."""
    return {
        "count": len(net.unresolved),
        "fraction_of_nodes": round(net.unresolved_fraction_of_nodes, 6),
        "fraction_of_arithmetic": round(net.unresolved_fraction_of_arithmetic, 6),
        "nodes": [u.name for u in net.unresolved],
    }


def _unmodeled_record(u: UnmodeledOp) -> dict[str, Any]:
    rec: dict[str, Any] = {"name": u.name, "op": u.op_type}
    if u.unresolved is not None:
        rec["unresolved"] = u.unresolved.describe()
    return rec


def profile(net: Network) -> dict[str, Any]:
    """The whole profile: model facts, one record per op, totals and unmodeled nodes."""
    return {
        "model": net.name,
        "source": net.source,
        "inputs": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in net.inputs],
        "layers": [layer_record(o) for o in net.ops],
        "totals": totals(net),
        "unmodeled": [_unmodeled_record(u) for u in net.unmodeled],
    }
