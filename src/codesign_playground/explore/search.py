"""Search strategies, checkpointing and the exploration result.

* ``grid``: every point, in chunks; each chunk's hardware points of one model variant go
  through the vectorized evaluator in one NumPy call.
* ``random``, ``nsga2``, ``tpe``: optuna's ``RandomSampler``, ``NSGAIISampler`` and
  ``TPESampler`` driven by ask/tell in batches (each batch evaluated in one vectorized call).
  The sampler of batch ``b`` is seeded with ``(seed, b)`` and all its state lives in optuna's
  ``JournalStorage`` file, so a run stopped between batches and resumed proposes exactly the
  points the uninterrupted run would have.

Checkpoint (``out_dir``): ``checkpoint.jsonl`` (a header naming the space digest, strategy
and seed, then fsync'd lines: a batch begun, with the journal's size, and a batch finished)
and, for the optuna strategies, ``optuna_journal.log`` (every ask and tell, fsync'd by
optuna, locked with ``flock`` so a killed process leaves no stale lock). A batch cut short by
a kill is rewound (the journal truncated to its start) and asked again, so a resumed run gives
exactly the uninterrupted run's points, each once. Evaluation is deterministic, so resuming
recomputes the metrics of the recorded points in one vectorized call.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from codesign_playground.errors import InputError
from codesign_playground.explore.evaluator import Evaluator
from codesign_playground.explore.pareto import (
    constrained_order,
    hypervolume,
    knee_index,
    nondominated_mask,
    normalize,
)
from codesign_playground.explore.space import STRATEGIES, Objective, Space, space_digest
from codesign_playground.units import FloatArray, IntArray

__all__ = [
    "STRATEGIES",
    "ExplorationResult",
    "ProgressCallback",
    "hypervolume_with_bounds",
    "run_exploration",
]

ProgressCallback = Callable[[int, int, dict[str, float], float], None]
_GRID_CHUNK = 8192
_HV_MARGIN = 1.1  # reference point in normalized objectives


@dataclass
class ExplorationResult:
    """All evaluated points, the feasible Pareto front, its hypervolume and knee."""

    space: Space
    strategy: str
    seed: int
    objectives: list[Objective]
    knob_names: list[str]
    points: pd.DataFrame
    front: pd.DataFrame
    hypervolume: float
    hv_ideal: list[float]
    hv_nadir: list[float]
    knee: dict[str, Any] | None
    evaluations: int
    planned: int
    elapsed_s: float
    completed: bool
    notes: list[str] = field(default_factory=list)
    base_dir: Path | None = None

    def objective_matrix(self, df: pd.DataFrame) -> FloatArray:
        cols = [df[o.column].to_numpy(dtype=float) for o in self.objectives]
        sign = np.array([-1.0 if o.direction == "max" else 1.0 for o in self.objectives])
        return np.asarray(np.stack(cols, axis=1) * sign, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = json.loads(df.to_json(orient="records"))
            return out

        return {
            "space": self.space.name,
            "strategy": self.strategy,
            "seed": self.seed,
            "objectives": [{"metric": o.metric, "goal": o.direction} for o in self.objectives],
            "knobs": self.knob_names,
            "evaluations": self.evaluations,
            "planned": self.planned,
            "completed": self.completed,
            "elapsed_s": self.elapsed_s,
            "hypervolume": self.hypervolume,
            "hypervolume_reference": {
                "ideal": self.hv_ideal,
                "nadir": self.hv_nadir,
                "normalized_reference_point": _HV_MARGIN,
            },
            "knee": self.knee,
            "front": records(self.front),
            "feasible": int(self.points["feasible"].sum()) if len(self.points) else 0,
            "notes": self.notes,
        }


def hypervolume_with_bounds(
    result: ExplorationResult, ideal: list[float], nadir: list[float]
) -> float:
    """Hypervolume of ``result``'s front normalized with another run's ``ideal``/``nadir``
    (to compare strategies on one scale)."""
    if len(result.front) == 0:
        return 0.0
    F = normalize(result.objective_matrix(result.front), np.array(ideal), np.array(nadir))
    return hypervolume(F, np.full(F.shape[1], _HV_MARGIN))


# ----------------------------------------------------------------------- checkpoint
class _Checkpoint:
    """``checkpoint.jsonl``: a header, then durable (fsync'd) records, one line each.

    A line cut short by a kill is dropped on reading (it was never acknowledged)."""

    def __init__(self, out_dir: Path | None, header: dict[str, Any], resume: bool) -> None:
        self.path = None if out_dir is None else out_dir / "checkpoint.jsonl"
        self.records: list[dict[str, Any]] = []
        if self.path is None:
            return
        assert out_dir is not None
        out_dir.mkdir(parents=True, exist_ok=True)
        if resume and self.path.is_file():
            lines = []
            for text in self.path.read_text().splitlines():
                try:
                    lines.append(json.loads(text))
                except json.JSONDecodeError:
                    break  # a record torn by a kill, and nothing after it
            if lines:  # rewrite without a torn tail so appends start on a fresh line
                self.path.write_text("".join(json.dumps(x) + "\n" for x in lines))
            if not lines or lines[0].get("header") != header:
                raise InputError(
                    f"resume: {self.path} was written for another space, strategy or seed; "
                    "use a fresh --out directory or drop --resume"
                )
            self.records = lines[1:]
        else:
            for stale in ("checkpoint.jsonl", "optuna_journal.log"):
                (out_dir / stale).unlink(missing_ok=True)
            self.path.write_text(json.dumps({"header": header}) + "\n")

    def append(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if self.path is not None:
            with self.path.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
                fh.flush()
                os.fsync(fh.fileno())


class _FlockLock:
    """Lock of optuna's journal file taken with ``flock``: the kernel releases it when its
    process dies, so a SIGKILLed run leaves no stale lock (optuna's own file locks wait out
    a 30 s grace period)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _rewind_journal(journal: Path, ckpt: _Checkpoint) -> None:
    """Cut the journal back to where the last unfinished batch began.

    Each batch is recorded as begun (with the journal's size) before its first ``ask``, and
    as finished after its last ``tell``. A batch cut short by a kill is undone entirely, so
    the resumed run asks it again from the same study state with the same seed: the points
    equal the uninterrupted run's, and no trial is lost or counted twice."""
    finished = {int(r["batch"]) for r in ckpt.records if "trials" in r}
    begun = [r for r in ckpt.records if "begin" in r and int(r["begin"]) not in finished]
    if begun and journal.is_file():
        size = int(begun[0]["journal_bytes"])
        if journal.stat().st_size > size:
            with journal.open("r+b") as fh:
                fh.truncate(size)
                os.fsync(fh.fileno())


# ----------------------------------------------------------------------- strategies
class _Run:
    def __init__(
        self,
        ev: Evaluator,
        planned: int,
        progress: ProgressCallback | None,
        should_stop: Callable[[], bool] | None,
        time_budget_s: float | None,
    ) -> None:
        self.ev = ev
        self.planned = planned
        self.progress = progress
        self.should_stop = should_stop
        self.time_budget_s = time_budget_s
        self.frames: list[pd.DataFrame] = []
        self.count = 0
        self.t0 = time.perf_counter()
        self.best: dict[str, float] = {}
        self.stopped = False

    def add(self, df: pd.DataFrame) -> None:
        self.frames.append(df)
        self.count += len(df)
        feas = df[df["feasible"]]
        for o in self.ev.objectives:
            vals = feas[o.column].to_numpy(dtype=float)
            vals = vals[np.isfinite(vals)]
            if vals.size:
                b = float(vals.max() if o.direction == "max" else vals.min())
                old = self.best.get(o.metric)
                if old is None or (b > old if o.direction == "max" else b < old):
                    self.best[o.metric] = b

    def report(self) -> None:
        if self.progress is not None:
            el = time.perf_counter() - self.t0
            rate = self.count / el if el > 0 else 0.0
            eta = (self.planned - self.count) / rate if rate > 0 else math.inf
            self.progress(self.count, self.planned, dict(self.best), eta)

    def halt(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
        if self.time_budget_s is not None and time.perf_counter() - self.t0 > self.time_budget_s:
            self.stopped = True
        return self.stopped


def _grid(
    ev: Evaluator, run: _Run, ckpt: _Checkpoint, total: int, positions: IntArray | None = None
) -> None:
    """Every grid point, or only those at ``positions`` (a sample), in checkpointed chunks."""

    def rows(start: int, stop: int) -> IntArray:
        if positions is None:
            return ev.grid_rows(start, stop)
        return ev.grid_rows_at(positions[start:stop])

    n = total if positions is None else len(positions)
    done = {int(r["start"]) for r in ckpt.records}
    for r in ckpt.records:
        run.add(ev.evaluate(rows(int(r["start"]), int(r["stop"]))))
    run.report()
    for start in range(0, n, _GRID_CHUNK):
        if start in done:
            continue
        if run.halt():
            return
        stop = min(start + _GRID_CHUNK, n)
        run.add(ev.evaluate(rows(start, stop)))
        ckpt.append({"batch": start // _GRID_CHUNK, "start": start, "stop": stop})
        run.report()


def grid_sample(total: int, budget: int, seed: int) -> IntArray:
    """``budget`` distinct grid positions of ``total``, drawn with ``seed``, in grid order."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=budget, replace=False)).astype(np.int64)


def _make_sampler(strategy: str, seed: int, batch: int) -> Any:
    """A fresh sampler for one batch; constraints reach it through ``Trial.set_constraint``."""
    import optuna

    if strategy == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if strategy == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=batch, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=batch, multivariate=True, constant_liar=True
        )


def _optuna(
    ev: Evaluator,
    run: _Run,
    ckpt: _Checkpoint,
    strategy: str,
    seed: int,
    budget: int,
    batch: int,
    out_dir: Path | None,
) -> None:
    try:
        import optuna
    except ImportError:
        raise InputError(
            f"strategy: {strategy} needs optuna (pip install optuna), or use --strategy grid"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    storage: Any
    if out_dir is None:
        storage = optuna.storages.InMemoryStorage()
    else:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        journal = out_dir / "optuna_journal.log"
        _rewind_journal(journal, ckpt)
        lock = _FlockLock(out_dir / "optuna_journal.flock")
        storage = JournalStorage(JournalFileBackend(str(journal), lock_obj=lock))  # type: ignore[arg-type]
    directions: list[Any] = [
        "maximize" if o.direction == "max" else "minimize" for o in ev.objectives
    ]
    study = optuna.create_study(
        storage=storage,
        study_name="explore",
        directions=directions,
        sampler=_make_sampler(strategy, seed, batch),
        load_if_exists=True,
    )
    varying = [i for i, k in enumerate(ev.knobs) if len(k.values) > 1]
    TS = optuna.trial.TrialState

    def params_to_idx(params: dict[str, Any]) -> IntArray | None:
        row = np.zeros(len(ev.knobs), dtype=np.int64)
        alt = ev.labels.index(params["design"]) if "design" in params else 0
        for i in varying:
            k = ev.knobs[i]
            if k.alternative is not None and k.alternative != alt:
                continue  # a knob of another alternative: not asked
            if k.name not in params:
                return None
            p = params[k.name]
            row[i] = int(p) if k.ordered else k.values.index(p)
        return row

    def tell(trials: list[Any], idx: IntArray) -> pd.DataFrame:
        return _evaluate_and_tell(study, ev, trials, idx)

    # previous run: finish a batch cut short, then rebuild the points
    existing = study.get_trials(deepcopy=False)
    running = [t for t in existing if t.state == TS.RUNNING]
    if running:
        rows, live = [], []
        for ft in running:
            r = params_to_idx(ft.params)
            trial = optuna.trial.Trial(study, ft._trial_id)
            if r is None:
                study.tell(trial, state=TS.FAIL)
            else:
                rows.append(r)
                live.append(trial)
        if live:
            tell(live, np.stack(rows))
        existing = study.get_trials(deepcopy=False)
    prev = [(t.number, params_to_idx(t.params)) for t in existing]
    prev_ok = [(n, r) for n, r in prev if r is not None]
    if prev_ok:
        df = ev.evaluate(np.stack([r for _, r in prev_ok]))
        df["trial"] = [n for n, _ in prev_ok]
        run.add(df)
    run.report()
    n_done = len(existing)
    b = math.ceil(n_done / batch)
    while n_done < budget:
        if run.halt():
            return
        study.sampler = _make_sampler(strategy, (seed * 1_000_003 + b) % (2**32), batch)
        n = min(batch, budget - n_done)
        if out_dir is not None:
            size = (out_dir / "optuna_journal.log").stat().st_size
            ckpt.append({"begin": b, "journal_bytes": size})
        trials, rows = [], []
        for _ in range(n):
            t = study.ask()
            for i in varying:
                k = ev.knobs[i]
                chosen = t.params.get("design")
                if k.alternative is not None and chosen not in (None, ev.labels[k.alternative]):
                    continue  # a mixed space asks only the chosen alternative's knobs
                if k.ordered:
                    t.suggest_int(k.name, 0, len(k.values) - 1)
                else:
                    t.suggest_categorical(k.name, list(k.values))
            r = params_to_idx(t.params)
            assert r is not None
            trials.append(t)
            rows.append(r)
        run.add(tell(trials, np.stack(rows)))
        ckpt.append({"batch": b, "trials": [t.number for t in trials]})
        n_done += n
        b += 1
        run.report()


# ----------------------------------------------------------------------- entry point
def _evaluate_and_tell(study: Any, ev: Evaluator, trials: list[Any], idx: IntArray) -> pd.DataFrame:
    """Evaluate one asked batch and tell the study its objectives (and constraint violation);
    a point with a non-finite objective is a failed trial. The rows gain a ``trial`` column."""
    import optuna

    constrained = bool(ev.space.constraints.model_dump(exclude_defaults=True))
    df = ev.evaluate(idx)
    F = df[[o.column for o in ev.objectives]].to_numpy(dtype=float)
    for t, vals, viol in zip(trials, F, df["violation"].to_numpy(float), strict=True):
        if constrained:
            t.set_constraint("violation", float(viol))
        if np.all(np.isfinite(vals)):
            study.tell(t, [float(x) for x in vals])
        else:  # e.g. no measured accuracy for these knobs
            study.tell(t, state=optuna.trial.TrialState.FAIL)
    df["trial"] = [t.number for t in trials]
    return df


def sort_front(ev: Evaluator, front: pd.DataFrame) -> pd.DataFrame:
    """The front best-first on the first objective, ties by the next ones: the same order
    whatever order its rows were found in (one process, or chunks merged)."""
    return front.sort_values(
        [o.column for o in ev.objectives],
        ascending=[o.direction == "min" for o in ev.objectives],
        kind="stable",
    )


def run_exploration(
    space: Space,
    *,
    strategy: str | None = None,
    budget: int | None = None,
    seed: int | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    base_dir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> ExplorationResult:
    """Explore ``space``; arguments left ``None`` take the space's ``search`` settings.

    ``progress(evaluated, total, best_so_far, eta_s)`` is called after every batch;
    ``should_stop()`` is polled between batches (a stopped run can be resumed with
    ``resume=True`` and the same ``out_dir``). ``base_dir`` resolves relative paths in the
    space (model files, accuracy CSV).
    """
    s = space.search
    strategy = strategy or s.strategy
    if strategy not in STRATEGIES:
        raise InputError(f"strategy: unknown {strategy!r}; use one of {', '.join(STRATEGIES)}")
    seed = s.seed if seed is None else seed
    out = None if out_dir is None else Path(out_dir)
    if resume and out is None:
        raise InputError("resume: needs the --out directory of the run to resume")
    base = None if base_dir is None else Path(base_dir)
    budget = budget if budget is not None else s.budget
    # everything the arguments decide is checked before any work (the evaluator may train
    # networks for an accuracy table first)
    if budget is not None and budget < 1:
        raise InputError("budget: must be >= 1")
    t0 = time.perf_counter()
    ev = Evaluator(space, base_dir=base, out_dir=out, log=log)
    total = ev.grid_total
    sample: IntArray | None = None
    if strategy == "grid":
        planned = total
        if budget is not None and budget < total:  # a sample of the grid, said in a note
            sample = grid_sample(total, budget, seed)
            planned = budget
    else:
        if budget is None:
            budget = min(total, 500)
        planned = budget
    header = {
        "space": space_digest(space),
        "strategy": strategy,
        "seed": seed,
        "budget": planned,
        "batch_size": s.batch_size,
    }
    ckpt = _Checkpoint(out, header, resume)
    run = _Run(ev, planned, progress, should_stop, s.time_budget_s)
    if strategy == "grid":
        _grid(ev, run, ckpt, total, sample)
    else:
        _optuna(ev, run, ckpt, strategy, seed, planned, s.batch_size, out)
    result = _finish(ev, run, strategy, seed, planned, time.perf_counter() - t0, base)
    if sample is not None:
        result.notes.append(
            f"the grid has {total} points, more than the budget of {budget}: evaluated a "
            f"random sample of {budget} grid points (seed {seed}); raise --budget to {total} "
            "to evaluate them all"
        )
    return result


def _finish(
    ev: Evaluator,
    run: _Run,
    strategy: str,
    seed: int,
    planned: int,
    elapsed: float,
    base: Path | None,
) -> ExplorationResult:
    points = (
        pd.concat(run.frames, ignore_index=True)
        if run.frames
        else ev.evaluate(np.zeros((0, len(ev.knobs)), dtype=np.int64))
    )
    points.insert(0, "point", np.arange(len(points)))
    F = ev.objective_matrix(points)
    finite = np.all(np.isfinite(F), axis=1) if len(points) else np.zeros(0, bool)
    feas = points["feasible"].to_numpy(bool) & finite
    order = constrained_order(F, points["violation"].to_numpy(float))
    rank = np.empty(len(points), dtype=np.int64)
    rank[order] = np.arange(len(points))
    points["rank"] = rank
    on_front = np.zeros(len(points), dtype=bool)
    notes: list[str] = []
    if feas.any():
        on_front[np.flatnonzero(feas)[nondominated_mask(F[feas])]] = True
    points["on_front"] = on_front
    front = sort_front(ev, points[on_front].drop_duplicates(subset=ev.names))
    hv = 0.0
    ideal = nadir = [math.nan] * len(ev.objectives)
    knee: dict[str, Any] | None = None
    if feas.any():
        Ff = F[feas]
        ideal_a, nadir_a = Ff.min(axis=0), Ff.max(axis=0)
        ideal, nadir = ideal_a.tolist(), nadir_a.tolist()
        Z = normalize(ev.objective_matrix(front), ideal_a, nadir_a)
        hv = hypervolume(Z, np.full(Z.shape[1], _HV_MARGIN))
        k = knee_index(ev.objective_matrix(front))
        knee = json.loads(front.iloc[[k]].to_json(orient="records"))[0]
    missing = int((~np.isfinite(points["accuracy"].to_numpy(float))).sum())
    if ev.space.accuracy is not None and missing:
        notes.append(
            f"{missing} of {len(points)} points have no measured accuracy (their knobs are not "
            "in the accuracy table): they get no accuracy and cannot be ranked on accuracy"
            + (
                " (left out of the front)"
                if any(o.metric == "accuracy" for o in ev.objectives)
                else ""
            )
        )
    if not feas.any():
        notes.append("no feasible point: relax the constraints or widen the space")
    if run.stopped:
        notes.append(
            f"stopped after {run.count} of {planned} evaluations; rerun with --resume to continue"
        )
    return ExplorationResult(
        space=ev.space,
        strategy=strategy,
        seed=seed,
        objectives=ev.objectives,
        knob_names=ev.names,
        points=points,
        front=front,
        hypervolume=hv,
        hv_ideal=ideal,
        hv_nadir=nadir,
        knee=knee,
        evaluations=run.count,
        planned=planned,
        elapsed_s=elapsed,
        completed=not run.stopped,
        notes=notes,
        base_dir=base,
    )
