"""Design points of a template as a :class:`~codesign_playground.perf.batch.DesignBatch`.

:func:`design_batch` turns columns of knob values (one entry per design) into the columns
every cost model reads, without building one :class:`HardwareSpec` per design:

* generic path (any template): one spec per distinct geometry (all knobs but the rate
  knobs: clock and DRAM bandwidth), expanded to every design, then the clock and DRAM
  bandwidth columns set per design (nothing else a model reads depends on them);
* systolic path: the systolic template's levels computed as arrays (thousands of distinct
  geometries in a typical sweep). ``tests/perf/test_contract.py`` checks it equals the
  generic path design by design.

Catalog designs (``chip``) are grouped per chip by the caller (chips differ in structure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from codesign_playground.hardware import technology
from codesign_playground.hardware.designs import DesignTemplate
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.batch import DesignBatch
from codesign_playground.units import PRECISION_BITS, FloatArray, Precision, widest_precision

__all__ = ["design_batch"]


def _column(t: DesignTemplate, cols: Mapping[str, Sequence[Any]], name: str, d: int) -> list[Any]:
    if name in cols:
        return list(cols[name])
    return [t.defaults().get(name)] * d


def design_batch(
    template: DesignTemplate,
    columns: Mapping[str, Sequence[Any]],
    precisions: Sequence[Precision],
) -> DesignBatch:
    """``D`` designs of ``template`` (``columns``: knob -> ``D`` values; knobs left out take
    their defaults) for a model running at ``precisions``."""
    d = len(next(iter(columns.values()))) if columns else 1
    if template.name == "systolic":
        return _systolic(template, columns, precisions, d)
    return _generic(template, columns, precisions, d)


def _generic(
    t: DesignTemplate, cols: Mapping[str, Sequence[Any]], precisions: Sequence[Precision], d: int
) -> DesignBatch:
    geometry = [k for k in t.knob_names if k not in t.rate_knobs]
    values = {k: _column(t, cols, k, d) for k in t.knob_names}
    keys = [tuple(values[k][i] for k in geometry) for i in range(d)]
    first: dict[tuple[Any, ...], int] = {}
    inverse = np.array([first.setdefault(key, len(first)) for key in keys], dtype=np.int64)
    reps = [int(np.flatnonzero(inverse == g)[0]) for g in range(len(first))]

    def knobs_of(i: int) -> dict[str, Any]:
        return {k: values[k][i] for k in t.knob_names}

    specs = [t.to_spec(knobs_of(i), precisions=precisions) for i in reps]
    batch = DesignBatch.from_specs(specs).take(inverse)
    clock = batch.clock_hz.copy()
    bw = batch.bandwidth_bytes_per_s.copy()
    if "clock_hz" in t.rate_knobs:
        clock = np.asarray(values["clock_hz"], dtype=np.float64)
    if "dram_bandwidth_bytes_per_s" in t.rate_knobs:
        bw[-1] = np.asarray(values["dram_bandwidth_bytes_per_s"], dtype=np.float64)
    return replace(
        batch,
        clock_hz=clock,
        bandwidth_bytes_per_s=bw,
        make_spec=lambda i: t.to_spec(knobs_of(i), precisions=precisions),
    )


def _systolic(
    t: DesignTemplate, cols: Mapping[str, Sequence[Any]], precisions: Sequence[Precision], d: int
) -> DesignBatch:
    """The systolic template's columns as arrays (``hardware/templates.py:systolic``)."""

    def num(name: str) -> FloatArray:
        return np.asarray(_column(t, cols, name, d), dtype=np.float64)

    prec_col = _column(t, cols, "precision", d)
    datapaths: list[Precision] = [p or widest_precision(tuple(precisions)) for p in prec_col]
    rows, cols_, cores = num("rows"), num("cols"), num("cores")
    word = np.array([PRECISION_BITS[p] / 8 for p in datapaths])
    node_col = _column(t, cols, "tech_node_nm", d)
    node = np.array([technology.REFERENCE_NODE_NM if n is None else float(n) for n in node_col])
    caps = [np.round(num(k) * 1024.0) for k in ("ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb")]
    sram_pj = [technology.sram_read_energy_pj(c, 64, node) * (8.0 / 64) for c in caps]
    dram_pj = technology.dram_energy_pj_per_byte()
    nan = np.full(d, np.nan)
    supported = sorted({*datapaths, *precisions})
    macs = {
        p: np.array([1.0 if (p == dp or p in precisions) else 0.0 for dp in datapaths])
        for p in supported
    }

    def make_spec(i: int) -> HardwareSpec:
        return t.to_spec(
            {k: _column(t, cols, k, d)[i] for k in t.knob_names}, precisions=precisions
        )

    return DesignBatch(
        kind="systolic",
        names=("systolic",) * d,
        level_names=("ifmap_sram", "filter_sram", "ofmap_sram", "dram"),
        level_holds=(("inputs",), ("weights",), ("outputs",), ("weights", "inputs", "outputs")),
        instances=np.ones((4, d)),
        capacity_bytes=np.vstack([*caps, nan]),
        bandwidth_bytes_per_s=np.vstack([nan, nan, nan, num("dram_bandwidth_bytes_per_s")]),
        bytes_per_cycle=np.vstack([rows * word, cols_ * word, cols_ * word, nan]),
        read_pj_per_byte=np.vstack([*sram_pj, np.full(d, dram_pj)]),
        write_pj_per_byte=np.vstack([*sram_pj, np.full(d, dram_pj)]),
        rows=rows,
        cols=cols_,
        cores=cores,
        clock_hz=num("clock_hz"),
        tech_node_nm=node,
        dataflow=tuple(str(x) for x in _column(t, cols, "dataflow", d)),
        macs_per_pe=macs,
        die_area_mm2=nan.copy(),
        make_spec=make_spec,
    )
