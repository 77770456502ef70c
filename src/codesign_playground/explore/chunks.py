"""An exploration cut into chunks of design points that any process can evaluate.

A grid search (all of it, or its seeded sample) is split into ranges of grid positions; a
random search into its ask batches. A chunk's points depend only on the space, the strategy,
the seed and the chunk's range, never on which process evaluates it or in which order, so

* chunks can run on many workers at once and the union of their points is the single-process
  run's points (same seed, same points, same front);
* a chunk evaluated twice (its worker was presumed dead) gives the same rows, so keeping the
  first committed copy loses nothing and counts nothing twice.

The random strategy's chunk ``b`` asks optuna's ``RandomSampler`` seeded as
:func:`~codesign_playground.explore.search.run_exploration` seeds its batch ``b``; the random
sampler keeps no state between trials, so the chunk's points equal that batch's.

This module knows nothing of where chunks are stored or sent (the service keeps them in its
database and sends them through Celery); :func:`frame_to_json` and :func:`frame_from_json`
give a chunk's rows a lossless JSON form for that.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from codesign_playground.errors import InputError
from codesign_playground.explore.evaluator import Evaluator
from codesign_playground.explore.pareto import nondominated_mask
from codesign_playground.explore.search import (
    _GRID_CHUNK,
    ExplorationResult,
    _evaluate_and_tell,
    _finish,
    _make_sampler,
    _Run,
    grid_sample,
    sort_front,
)
from codesign_playground.explore.space import Space, space_knobs
from codesign_playground.units import IntArray

__all__ = [
    "CHUNKED_STRATEGIES",
    "STUDY_STRATEGIES",
    "ChunkPlan",
    "assemble",
    "evaluate_chunk",
    "evaluate_plan",
    "frame_from_json",
    "frame_to_json",
    "merge_front",
    "plan_chunks",
]

CHUNKED_STRATEGIES = ("grid", "random")
"""Strategies whose points split into independent chunks."""

STUDY_STRATEGIES = ("nsga2", "tpe")
"""Strategies whose batches share one optuna study (``evaluate_chunk(..., storage=...)``):
parallel workers ask and tell through a shared storage, so their points depend on timing."""


@dataclass(frozen=True)
class ChunkPlan:
    """How one exploration is cut: ``ranges[i]`` is chunk ``i``'s ``[start, stop)``.

    For ``grid`` a range indexes grid positions (or, when ``sample``, positions of the seeded
    sample); for ``random`` it numbers trials (chunk ``i`` is ask batch ``i``)."""

    strategy: str
    seed: int
    planned: int
    grid_total: int
    sample: bool
    ranges: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "seed": self.seed,
            "planned": self.planned,
            "grid_total": self.grid_total,
            "sample": self.sample,
            "chunks": len(self.ranges),
        }


def _resolve(space: Space, strategy: str | None, budget: int | None, seed: int | None) -> Any:
    s = space.search
    strategy = strategy or s.strategy
    if strategy not in (*CHUNKED_STRATEGIES, *STUDY_STRATEGIES):
        raise InputError(
            f"strategy: {strategy!r} does not split into chunks; use one of "
            f"{', '.join((*CHUNKED_STRATEGIES, *STUDY_STRATEGIES))}"
        )
    budget = budget if budget is not None else s.budget
    if budget is not None and budget < 1:
        raise InputError("budget: must be >= 1")
    return strategy, (s.seed if seed is None else seed), budget


def grid_size(space: Space) -> int:
    """Points of the grid of ``space``, without building an evaluator (no model is loaded)."""
    knobs = space_knobs(space)
    model = math.prod(len(k.values) for k in knobs if k.section == "model")
    hardware = [k for k in knobs if k.section == "hardware" and k.name != "design"]
    per_alternative = [
        math.prod(len(k.values) for k in hardware if k.alternative in (a, None))
        for a in range(len(space.alternatives()))
    ]
    return model * sum(per_alternative)


def planned_points(space: Space, strategy: str | None = None, budget: int | None = None) -> int:
    """How many points an exploration of ``space`` evaluates (the grid, or the budget)."""
    s = space.search
    strategy = strategy or s.strategy
    budget = budget if budget is not None else s.budget
    total = grid_size(space)
    if strategy == "grid":
        return total if budget is None else min(total, budget)
    return min(total, 500) if budget is None else budget


def plan_header(
    ev: Evaluator,
    *,
    strategy: str | None = None,
    budget: int | None = None,
    seed: int | None = None,
) -> ChunkPlan:
    """What every chunk of an exploration needs to know (strategy, seed, sample), no ranges."""
    strategy, seed, budget = _resolve(ev.space, strategy, budget, seed)
    total = ev.grid_total
    sample = False
    if strategy == "grid":
        planned = total
        if budget is not None and budget < total:
            planned, sample = budget, True
    else:
        planned = min(total, 500) if budget is None else budget
    return ChunkPlan(strategy, seed, planned, total, sample, ())


def plan_chunks(
    ev: Evaluator,
    *,
    strategy: str | None = None,
    budget: int | None = None,
    seed: int | None = None,
    chunk_points: int = 0,
    chunk_seconds: float = 10.0,
) -> ChunkPlan:
    """The chunks of an exploration of ``ev.space``.

    ``grid``: ``chunk_points`` points a chunk, or, when 0, as many as take about
    ``chunk_seconds`` to evaluate (measured on the first four points, between 1 and 8192);
    ``random``, ``nsga2``, ``tpe``: the space's ``search.batch_size`` (the batches of the
    single-process run)."""
    head = plan_header(ev, strategy=strategy, budget=budget, seed=seed)
    if head.strategy == "grid":
        size = int(chunk_points)
        if size <= 0:
            probe = min(4, head.planned)
            if head.sample:
                first = grid_sample(head.grid_total, head.planned, head.seed)[:probe]
                rows = ev.grid_rows_at(first)
            else:
                rows = ev.grid_rows(0, probe)
            t0 = time.perf_counter()
            ev.evaluate(rows)
            per_point_s = max((time.perf_counter() - t0) / max(probe, 1), 1e-9)
            size = int(min(_GRID_CHUNK, max(1, math.floor(chunk_seconds / per_point_s))))
    else:
        size = ev.space.search.batch_size
    n = head.planned
    ranges = tuple((a, min(a + size, n)) for a in range(0, n, size))
    return ChunkPlan(head.strategy, head.seed, n, head.grid_total, head.sample, ranges)


def _directions(ev: Evaluator) -> list[Any]:
    return ["maximize" if o.direction == "max" else "minimize" for o in ev.objectives]


def _ask(study: Any, ev: Evaluator, n: int, attrs: dict[str, Any] | None = None) -> Any:
    """Ask ``n`` trials the way the single-process run does: the trials and their rows."""
    varying = [i for i, k in enumerate(ev.knobs) if len(k.values) > 1]
    out = np.zeros((n, len(ev.knobs)), dtype=np.int64)
    trials = []
    for j in range(n):
        t = study.ask()
        for key, value in (attrs or {}).items():
            t.set_user_attr(key, value)
        for i in varying:
            k = ev.knobs[i]
            chosen = t.params.get("design")
            if k.alternative is not None and chosen not in (None, ev.labels[k.alternative]):
                continue  # a mixed space asks only the chosen alternative's knobs
            if k.ordered:
                out[j, i] = t.suggest_int(k.name, 0, len(k.values) - 1)
            else:
                value = t.suggest_categorical(k.name, list(k.values))
                out[j, i] = k.values.index(value)
        trials.append(t)
    return trials, out


def _quiet_optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def _random_rows(ev: Evaluator, seed: int, batch: int, start: int, stop: int) -> IntArray:
    """The points of trials ``start:stop`` (one ask batch) of the random strategy."""
    optuna = _quiet_optuna()
    b = start // batch
    study = optuna.create_study(
        directions=_directions(ev),
        sampler=_make_sampler("random", (seed * 1_000_003 + b) % (2**32), batch),
    )
    return np.asarray(_ask(study, ev, stop - start)[1], dtype=np.int64)


def _study_batch(
    ev: Evaluator, plan: ChunkPlan, start: int, stop: int, storage: Any, study_name: str
) -> pd.DataFrame:
    """One ask/tell batch of an NSGA-II or TPE study shared through ``storage``.

    The batch's trials carry a ``batch`` attribute; trials of an earlier attempt at the same
    batch still running (their worker was lost) are failed first, so the study keeps one
    told set per batch (a presumed-dead worker that was only slow finds its tell refused)."""
    optuna = _quiet_optuna()
    batch = ev.space.search.batch_size
    b = start // batch
    TS = optuna.trial.TrialState
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        directions=_directions(ev),
        sampler=_make_sampler(plan.strategy, (plan.seed * 1_000_003 + b) % (2**32), batch),
        load_if_exists=True,
    )
    for old in study.get_trials(deepcopy=False, states=(TS.RUNNING,)):
        if old.user_attrs.get("batch") == b:
            study.tell(old.number, state=TS.FAIL, skip_if_finished=True)
    trials, rows = _ask(study, ev, stop - start, {"batch": b})
    return _evaluate_and_tell(study, ev, trials, rows)


def evaluate_chunk(
    ev: Evaluator,
    plan: ChunkPlan,
    start: int,
    stop: int,
    *,
    storage: Any = None,
    study_name: str = "explore",
) -> pd.DataFrame:
    """The evaluated rows of the chunk ``[start, stop)`` of ``plan``.

    NSGA-II and TPE need ``storage``: the optuna storage (an ``RDBStorage`` that every worker
    reaches) of the study ``study_name`` that all the run's batches share."""
    if plan.strategy in STUDY_STRATEGIES:
        if storage is None:
            raise InputError(
                f"strategy: {plan.strategy} batches share one optuna study; give a storage"
            )
        return _study_batch(ev, plan, start, stop, storage, study_name)
    if plan.strategy == "grid":
        if plan.sample:
            positions = grid_sample(plan.grid_total, plan.planned, plan.seed)[start:stop]
            return ev.evaluate(ev.grid_rows_at(positions))
        return ev.evaluate(ev.grid_rows(start, stop))
    batch = ev.space.search.batch_size
    df = ev.evaluate(_random_rows(ev, plan.seed, batch, start, stop))
    df["trial"] = np.arange(start, stop, dtype=np.int64)
    return df


def _front_mask(ev: Evaluator, df: pd.DataFrame) -> np.ndarray:
    if len(df) == 0:
        return np.zeros(0, dtype=bool)
    F = ev.objective_matrix(df)
    feas = df["feasible"].to_numpy(bool) & np.all(np.isfinite(F), axis=1)
    mask = np.zeros(len(df), dtype=bool)
    if feas.any():
        mask[np.flatnonzero(feas)[nondominated_mask(F[feas])]] = True
    return mask


def merge_front(ev: Evaluator, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The feasible Pareto front of the union of ``frames`` (a chunk's rows, or fronts)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=[*ev.names])
    df = pd.concat(frames, ignore_index=True)
    front = df[_front_mask(ev, df)].drop_duplicates(subset=ev.names)
    return sort_front(ev, front)


def assemble(
    ev: Evaluator,
    plan: ChunkPlan,
    frames: list[pd.DataFrame],
    *,
    elapsed_s: float,
    stopped: bool,
) -> ExplorationResult:
    """The exploration result from the chunks' rows (``frames`` in chunk order)."""
    run = _Run(ev, plan.planned, None, None, None)
    for df in frames:
        run.add(df)
    run.stopped = stopped
    result = _finish(ev, run, plan.strategy, plan.seed, plan.planned, elapsed_s, ev.base_dir)
    if plan.sample:
        result.notes.append(
            f"the grid has {plan.grid_total} points, more than the budget of {plan.planned}: "
            f"evaluated a random sample of {plan.planned} grid points (seed {plan.seed}); "
            f"raise --budget to {plan.grid_total} to evaluate them all"
        )
    return result


def _float_json(v: float) -> float | str | None:
    if math.isnan(v):
        return None
    return float(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")


def _scalar_json(v: Any) -> Any:
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()  # a NumPy scalar
    if isinstance(v, float):
        return _float_json(v)
    if v is None or isinstance(v, bool | int | str):
        return v
    return str(v)


def frame_to_json(df: pd.DataFrame) -> dict[str, Any]:
    """``df`` as JSON-safe columns (NaN as ``None``, infinities as strings), with dtypes."""
    columns: dict[str, list[Any]] = {}
    for name in df.columns:
        col = df[name]
        if col.dtype.kind == "f":
            values = col.to_numpy(dtype=float)
            columns[str(name)] = [_float_json(v) for v in values]
        elif col.dtype.kind in "iub":
            columns[str(name)] = col.to_numpy().tolist()
        else:
            columns[str(name)] = [_scalar_json(v) for v in col.tolist()]
    return {
        "columns": list(columns),
        "dtypes": [str(df[c].dtype) for c in df.columns],
        "data": columns,
        "rows": len(df),
    }


def frame_from_json(doc: dict[str, Any]) -> pd.DataFrame:
    """The frame :func:`frame_to_json` wrote, dtypes and all."""
    data: dict[str, Any] = {}
    for name, dtype in zip(doc["columns"], doc["dtypes"], strict=True):
        values = doc["data"][name]
        if dtype.startswith("float"):
            data[name] = np.array([np.nan if v is None else float(v) for v in values])
        elif dtype.startswith(("int", "uint", "bool")):
            data[name] = np.array(values, dtype=dtype)
        else:
            data[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data, columns=doc["columns"])


def evaluate_plan(
    ev: Evaluator, plan: ChunkPlan, should_stop: Callable[[], bool] | None = None
) -> list[pd.DataFrame]:
    """Every chunk of ``plan`` in this process, in order (stops early when asked)."""
    frames = []
    for start, stop in plan.ranges:
        if should_stop is not None and should_stop():
            break
        frames.append(evaluate_chunk(ev, plan, start, stop))
    return frames
