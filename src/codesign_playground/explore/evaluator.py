"""Evaluate batches of design points of a :class:`Space`: network variants, hardware metrics
from the perf engine (vectorized over designs), measured accuracy, constraint violation.

A point is one index per knob. Rows are grouped by model variant and hardware alternative
(and catalog chip); each group becomes one :class:`~codesign_playground.perf.DesignBatch`
priced by :func:`codesign_playground.perf.evaluate_totals` with the model its template's
hardware kind selects. No cost formula lives here.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from codesign_playground.errors import InputError
from codesign_playground.explore.space import (
    METRICS,
    HardwareSpace,
    Knob,
    Scalar,
    Space,
    bits_to_precision,
    space_knobs,
)
from codesign_playground.explore.variants import DIGITS_CNN, build_variant
from codesign_playground.perf import Workload, choose_model, design_batch, evaluate_totals
from codesign_playground.units import PRECISION_BITS, Precision

__all__ = ["Evaluator"]

IntArray = npt.NDArray[np.int64]
_META = {"accuracy", "epochs", "seed", "train_s", "source", "note", "notes"}


def _same(a: Scalar, b: Scalar, knob: str) -> bool:
    if knob.endswith("bits"):
        try:
            return bits_to_precision(a, knob) == bits_to_precision(b, knob)
        except InputError:
            return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a).strip().lower() == str(b).strip().lower()


def _read_accuracy_csv(path: Path) -> list[dict[str, Scalar]]:
    if not path.is_file():
        raise InputError(f"accuracy.csv: file not found: {path}")
    rows: list[dict[str, Scalar]] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "accuracy" not in reader.fieldnames:
            raise InputError(f"accuracy.csv: {path} needs an 'accuracy' column and knob columns")
        for r in reader:
            row: dict[str, Scalar] = {}
            for k, v in r.items():
                if v is None or v == "":
                    continue
                try:
                    f = float(v)
                    row[k] = int(f) if f.is_integer() and "." not in v else f
                except ValueError:
                    row[k] = v
            rows.append(row)
    return rows


class Evaluator:
    """Turns index rows (one index per knob) into a table of knobs and metrics."""

    def __init__(
        self,
        space: Space,
        *,
        base_dir: Path | None = None,
        out_dir: Path | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.space = space
        self.base_dir = base_dir
        self.alternatives: list[HardwareSpace] = space.alternatives()
        self.labels = [a.display_label() for a in self.alternatives]
        self.knobs: list[Knob] = space_knobs(space)
        self.names = [k.name for k in self.knobs]
        self.hw_cols = [i for i, k in enumerate(self.knobs) if k.section == "hardware"]
        self.model_cols = [i for i, k in enumerate(self.knobs) if k.section == "model"]
        self.design_col = self.names.index("design") if space.mixed else None
        #: per alternative: the columns of its knobs
        self.alt_cols = [
            [i for i, k in enumerate(self.knobs) if k.alternative == a]
            for a in range(len(self.alternatives))
        ]
        self.sizes = np.array([len(k.values) for k in self.knobs], dtype=np.int64)
        self._variants: dict[tuple[object, ...], Workload] = {}
        self.objectives = space.objective_list()
        self.accuracy_table = self._accuracy_table(out_dir, log)
        self.accuracy_knobs = sorted(
            {k for row in (self.accuracy_table or []) for k in row if k in self.names}
        )

    # ------------------------------------------------------------------ accuracy
    def _accuracy_table(
        self, out_dir: Path | None, log: Callable[[str], None] | None
    ) -> list[dict[str, Scalar]] | None:
        acc = self.space.accuracy
        if acc is None:
            return None
        if acc.table is not None:
            rows = [dict(r) for r in acc.table]
        elif acc.csv is not None:
            p = Path(acc.csv)
            if not p.is_absolute() and self.base_dir is not None:
                p = self.base_dir / p
            rows = _read_accuracy_csv(p)
        else:
            rows = self._measure_digits(out_dir, log)
        for i, r in enumerate(rows):
            if "accuracy" not in r:
                raise InputError(f"accuracy.table[{i}]: row has no 'accuracy' value; add it")
            if not any(k in self.names for k in r if k not in _META):
                raise InputError(
                    f"accuracy.table[{i}]: row names no knob of the space "
                    f"({', '.join(self.names)}); key rows by knob values"
                )
        return rows

    def _measure_digits(
        self, out_dir: Path | None, log: Callable[[str], None] | None
    ) -> list[dict[str, Scalar]]:
        from codesign_playground.explore.digits import measure_digits_accuracy

        acc = self.space.accuracy
        assert acc is not None
        m = self.space.model
        if m.name != DIGITS_CNN:
            raise InputError(
                f"accuracy.measure: digits measures the digits_cnn model; set model.name to "
                f"digits_cnn (got {m.name!r}) or give an accuracy table"
            )
        if m.weight_bits is not None or m.act_bits is not None or m.groups or m.prune:
            raise InputError(
                "accuracy.measure: digits trains with one bit width for weights and "
                "activations; use model.bits (not weight_bits/act_bits/groups/prune)"
            )
        by = {k.name: k.values for k in self.knobs}
        widths = [float(w) for w in by.get("width", (1.0,))]
        bits = [PRECISION_BITS[bits_to_precision(b, "model.bits")] for b in by.get("bits", (32,))]
        cache: Path | None
        if acc.cache is not None:
            cache = Path(acc.cache)
            if not cache.is_absolute() and self.base_dir is not None:
                cache = self.base_dir / cache
        else:
            cache = None if out_dir is None else out_dir / "digits_accuracy.csv"
        rows = measure_digits_accuracy(
            widths, bits, epochs=acc.epochs, seed=self.space.search.seed, cache=cache, log=log
        )
        return [{"width": r["width"], "bits": r["bits"], "accuracy": r["accuracy"]} for r in rows]

    def _lookup_accuracy(self, knobs: Mapping[str, Scalar]) -> float:
        if self.accuracy_table is None:
            return math.nan
        for row in self.accuracy_table:
            keys = [k for k in row if k in self.names]
            if all(_same(row[k], knobs[k], k) for k in keys):
                a = float(row["accuracy"])
                return a / 100.0 if a > 1.0 else a
        return math.nan

    # ------------------------------------------------------------------ grid
    def _alt_shape(self, a: int) -> tuple[list[int], tuple[int, ...]]:
        order = self.model_cols + self.alt_cols[a]
        return order, tuple(int(self.sizes[c]) for c in order)

    @property
    def grid_total(self) -> int:
        """Points of the grid: the model knobs times, summed over alternatives, theirs."""
        return sum(int(np.prod(self._alt_shape(a)[1])) for a in range(len(self.alternatives)))

    def grid_rows(self, start: int, stop: int) -> IntArray:
        """Rows ``start:stop`` of the grid: alternatives one after another, model knobs
        varying slowest within each (so that a chunk holds few model variants)."""
        return self.grid_rows_at(np.arange(start, max(stop, start), dtype=np.int64))

    def grid_rows_at(self, positions: IntArray) -> IntArray:
        """The grid rows at ``positions`` (flat indices into the grid, any order)."""
        positions = np.asarray(positions, dtype=np.int64)
        out = np.zeros((len(positions), len(self.knobs)), dtype=np.int64)
        base = 0
        for a in range(len(self.alternatives)):
            order, shape = self._alt_shape(a)
            size = int(np.prod(shape))
            rows = np.flatnonzero((positions >= base) & (positions < base + size))
            if len(rows):
                flat = positions[rows] - base
                parts = np.unravel_index(flat, shape) if shape else ()
                for j, c in enumerate(order):
                    out[rows, c] = parts[j]
                if self.design_col is not None:
                    out[rows, self.design_col] = a
            base += size
        return out

    def alternative_of(self, idx: IntArray) -> IntArray:
        """The alternative of every row of ``idx``."""
        if self.design_col is None:
            return np.zeros(len(idx), dtype=np.int64)
        return np.asarray(idx[:, self.design_col], dtype=np.int64)

    def canonical(self, idx: IntArray) -> IntArray:
        """``idx`` with the knobs of other alternatives than a row's own set to 0."""
        if self.design_col is None:
            return idx
        idx = idx.copy()
        alt = self.alternative_of(idx)
        for a, cols in enumerate(self.alt_cols):
            if cols:
                idx[np.ix_(alt != a, cols)] = 0
        return idx

    # ------------------------------------------------------------------ evaluation
    def decode(self, idx: IntArray) -> dict[str, list[Scalar | None]]:
        """Knob values of index rows ``idx`` (shape ``(P, K)``) as columns (``None`` for
        the knobs of another alternative than the row's)."""
        alt = self.alternative_of(idx)
        out: dict[str, list[Scalar | None]] = {}
        for j, k in enumerate(self.knobs):
            out[k.name] = [
                None if k.alternative is not None and k.alternative != a else k.values[i]
                for i, a in zip(idx[:, j], alt, strict=True)
            ]
        return out

    def _precision(self, a: int, row: IntArray) -> Precision | None:
        for c in self.alt_cols[a]:
            if self.knobs[c].knob == "precision":
                return str(self.knobs[c].values[int(row[c])])  # type: ignore[return-value]
        return None

    def variant(self, model_key: tuple[int, ...], precision: Precision | None) -> Workload:
        """The network of model knob indices ``model_key`` at ``precision`` (the hardware
        datapath; ``None``: int8 where the model knobs give no bit width)."""
        key = (*model_key, precision)
        w = self._variants.get(key)
        if w is None:
            knobs = {
                self.knobs[c].name: self.knobs[c].values[i]
                for c, i in zip(self.model_cols, model_key, strict=True)
            }
            net = build_variant(
                self.space.model,
                knobs,
                default_precision=precision or "int8",
                base_dir=self.base_dir,
            )
            w = Workload.of(net)
            self._variants[key] = w
        return w

    def _group_keys(self, idx: IntArray) -> npt.NDArray[np.int64]:
        alt = self.alternative_of(idx)
        cols = [*self.model_cols]
        extra = []
        for a, acols in enumerate(self.alt_cols):
            for c in acols:
                if self.knobs[c].knob in ("precision", "chip"):
                    extra.append(np.where(alt == a, idx[:, c], -1))
        parts = [idx[:, cols], alt[:, None], *(e[:, None] for e in extra)]
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(idx), 0), np.int64)

    def evaluate(self, idx: IntArray) -> pd.DataFrame:
        """Knobs, metrics, accuracy, violation and feasibility of every row of ``idx``."""
        idx = self.canonical(np.asarray(idx, dtype=np.int64).reshape(-1, len(self.knobs)))
        n = idx.shape[0]
        cols: dict[str, Any] = {}
        if self.space.mixed:
            alt = self.alternative_of(idx)
            cols["template"] = [self.alternatives[a].template for a in alt]
        cols.update(self.decode(idx))
        metrics: dict[str, npt.NDArray[np.float64]] = {}
        extra = {
            "macs": np.zeros(n),
            "params": np.zeros(n),
            "weight_bytes": np.zeros(n),
            "accuracy": np.full(n, np.nan),
        }
        if n:
            uniq, inverse = np.unique(self._group_keys(idx), axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            n_model = len(self.model_cols)
            for gi, key_arr in enumerate(uniq):
                rows = np.flatnonzero(inverse == gi)
                model_key = tuple(int(x) for x in key_arr[:n_model])
                a = int(key_arr[n_model])
                first = idx[rows[0]]
                work = self.variant(model_key, self._precision(a, first))
                hw = self.alternatives[a]
                hw_cols = {
                    self.knobs[c].knob: [self.knobs[c].values[i] for i in idx[rows, c]]
                    for c in self.alt_cols[a]
                }
                designs = design_batch(hw.design_template, hw_cols, work.precisions)
                out = evaluate_totals(work, designs, choose_model("auto", designs))
                for name, arr in out.items():
                    metrics.setdefault(name, np.zeros(n))[rows] = arr
                extra["macs"][rows] = float(work.la.macs.sum())
                extra["params"][rows] = float(work.net.params)
                extra["weight_bytes"][rows] = float(work.net.weight_bytes)
                mk = {
                    self.knobs[c].name: self.knobs[c].values[i]
                    for c, i in zip(self.model_cols, model_key, strict=True)
                }
                extra["accuracy"][rows] = self._lookup_accuracy(mk)
        if n == 0:  # no rows (a run stopped before its first batch): the columns still exist
            for column, _goal in METRICS.values():
                metrics.setdefault(column, np.zeros(0))
        cols.update(metrics)
        cols.update(extra)
        for name in self.names:  # knobs of other alternatives are None: keep ints as ints
            if any(v is None for v in cols[name]):
                cols[name] = pd.Series(cols[name], dtype=object)
        df = pd.DataFrame(cols)
        viol = self._violation(df)
        df["violation"] = viol
        df["feasible"] = viol <= 0
        return df

    def _violation(self, df: pd.DataFrame) -> npt.NDArray[np.float64]:
        c = self.space.constraints
        n = len(df)
        v = np.zeros(n)
        if n == 0:
            return v

        def over(col: str, limit: float | None) -> None:
            nonlocal v
            if limit is not None:
                v = v + np.maximum(df[col].to_numpy(dtype=float) / limit - 1.0, 0.0)

        def under(col: str, limit: float | None) -> None:
            nonlocal v
            if limit is not None:
                vals = df[col].to_numpy(dtype=float)
                v = v + np.where(np.isnan(vals), 1.0, np.maximum(1.0 - vals / limit, 0.0))

        over("area_mm2", c.max_area_mm2)
        over("power_w", c.max_power_w)
        over("latency_s", c.max_latency_s)
        over("energy_j", c.max_energy_j)
        over("sram_kb", c.max_sram_kb)
        under("fps", c.min_fps)
        under("accuracy", c.min_accuracy)
        if c.weights_on_chip:
            cap = df["weight_capacity_bytes"].to_numpy(float)
            with np.errstate(divide="ignore"):
                ratio = df["weight_bytes"].to_numpy(float) / cap
            v = v + np.maximum(ratio - 1.0, 0.0)
        return v

    def objective_matrix(self, df: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Objectives of ``df`` as a minimization matrix ``(n, m)`` (maximized ones negated)."""
        cols = [df[o.column].to_numpy(dtype=float) for o in self.objectives]
        sign = np.array([-1.0 if o.direction == "max" else 1.0 for o in self.objectives])
        return np.stack(cols, axis=1) * sign if cols else np.zeros((len(df), 0))
