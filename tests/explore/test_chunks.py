"""Chunks of an exploration: the union of chunks evaluated anywhere is the single-process run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from codesign_playground.errors import InputError
from codesign_playground.explore import load_space, run_exploration
from codesign_playground.explore.chunks import (
    assemble,
    evaluate_chunk,
    evaluate_plan,
    frame_from_json,
    frame_to_json,
    grid_size,
    merge_front,
    plan_chunks,
)
from codesign_playground.explore.evaluator import Evaluator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("example", "kw", "chunk_points"),
    [
        ("resnet50_systolic.yaml", {"strategy": "random", "budget": 300, "seed": 3}, 0),
        ("gpu_vs_accelerators.yaml", {"strategy": "random", "budget": 150, "seed": 1}, 0),
        ("resnet50_systolic.yaml", {"strategy": "grid", "budget": 1000, "seed": 3}, 37),
        ("gpu_vs_accelerators.yaml", {"strategy": "grid"}, 37),
    ],
)
def test_chunks_in_any_order_equal_the_single_process_run(
    example: str, kw: dict[str, object], chunk_points: int
) -> None:
    space = load_space(EXAMPLES / example)
    ref = run_exploration(space, **kw)  # type: ignore[arg-type]
    ev = Evaluator(space)
    plan = plan_chunks(ev, chunk_points=chunk_points, **kw)  # type: ignore[arg-type]
    assert plan.ranges[0][0] == 0 and plan.ranges[-1][1] == plan.planned
    # evaluated backwards, each through the JSON form a worker stores
    docs = {
        i: frame_to_json(evaluate_chunk(ev, plan, a, b)) for i, (a, b) in enumerate(plan.ranges)
    }
    frames = [frame_from_json(docs[i]) for i in sorted(docs, reverse=True)][::-1]
    got = assemble(ev, plan, frames, elapsed_s=0.0, stopped=False)
    pd.testing.assert_frame_equal(got.points, ref.points)
    pd.testing.assert_frame_equal(got.front, ref.front)
    assert got.hypervolume == ref.hypervolume
    assert got.notes == ref.notes
    # the front of the chunks' own fronts (what progress shows while running) is the front
    running = merge_front(ev, [merge_front(ev, [f]) for f in frames])
    cols = [*ref.knob_names, *[o.column for o in ref.objectives]]
    pd.testing.assert_frame_equal(
        running[cols].reset_index(drop=True), ref.front[cols].reset_index(drop=True)
    )


def test_frame_json_keeps_dtypes_nan_and_infinities() -> None:
    df = pd.DataFrame(
        {
            "a": [1.5, float("nan"), float("inf"), -float("inf")],
            "b": [1, 2, 3, 4],
            "c": [True, False, True, False],
            "d": ["x", "y", "z", "w"],
            "e": pd.Series([32, None, "ws", 1.5], dtype=object),
        }
    )
    back = frame_from_json(frame_to_json(df))
    pd.testing.assert_frame_equal(back, df)


def test_grid_size_matches_the_evaluator_without_loading_the_model() -> None:
    for name in ("resnet50_systolic.yaml", "gpu_vs_accelerators.yaml", "mobilenet_v2_joint.yaml"):
        space = load_space(EXAMPLES / name)
        assert grid_size(space) == Evaluator(space).grid_total


def test_unknown_strategy_is_refused_naming_the_field() -> None:
    ev = Evaluator(load_space(EXAMPLES / "resnet50_systolic.yaml"))
    with pytest.raises(InputError, match="strategy: 'annealing' does not split into chunks"):
        plan_chunks(ev, strategy="annealing")


def test_evaluate_plan_stops_when_asked() -> None:
    ev = Evaluator(load_space(EXAMPLES / "resnet50_systolic.yaml"))
    plan = plan_chunks(ev, strategy="grid", chunk_points=1000)
    calls = iter([False, False, True])
    frames = evaluate_plan(ev, plan, should_stop=lambda: next(calls))
    assert [len(f) for f in frames] == [1000, 1000]


def test_study_batches_share_one_study_and_a_lost_attempt_is_failed(tmp_path: Path) -> None:
    """NSGA-II batches tell into one shared study; a batch asked again (its first worker was
    lost after asking) fails the earlier attempt's trials, so each batch is told once."""
    import optuna

    space = load_space(EXAMPLES / "resnet50_systolic.yaml")
    ev = Evaluator(space)
    plan = plan_chunks(ev, strategy="nsga2", budget=48, seed=5)
    batch = space.search.batch_size
    assert plan.ranges == tuple((a, min(a + batch, 48)) for a in range(0, 48, batch))
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}")
    directions = ["minimize"] * len(ev.objectives)
    study = optuna.create_study(storage=storage, study_name="s", directions=directions)
    lost = study.ask()  # a worker asked a trial of batch 0, then died
    lost.set_user_attr("batch", 0)
    frames = [
        evaluate_chunk(ev, plan, a, b, storage=storage, study_name="s") for a, b in plan.ranges
    ]
    TS = optuna.trial.TrialState
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TS.COMPLETE]
    assert [t.state for t in trials if t.number == lost.number] == [TS.FAIL]
    assert len(complete) == sum(len(f) for f in frames) == 48
    assert sorted(int(x) for f in frames for x in f["trial"]) == sorted(t.number for t in complete)
    with pytest.raises(InputError, match="strategy: nsga2 batches share one optuna study"):
        evaluate_chunk(ev, plan, 0, batch)
