from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codesign_playground.errors import InputError
from codesign_playground.explore import (
    hypervolume_with_bounds,
    load_space,
    run_exploration,
    space_from_dict,
    space_json_schema,
)

REPO = Path(__file__).resolve().parents[2]


def small_space(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "small",
        "model": {"name": "digits_cnn", "width": [0.5, 1.0, 2.0], "bits": [8, 16]},
        "hardware": {
            "rows": [2, 4, 8, 16, 32],
            "cols": [2, 4, 8, 16, 32],
            "dataflow": ["ws", "os", "is"],
            "ifmap_sram_kb": [4, 16],
            "filter_sram_kb": [4, 16],
        },
        "objectives": ["latency", "energy", "area"],
        "search": {"batch_size": 40},
    }
    data.update(over)
    return data


def test_grid_evaluates_every_point() -> None:
    space = space_from_dict(small_space())
    res = run_exploration(space, strategy="grid")
    assert res.evaluations == 3 * 2 * 5 * 5 * 3 * 2 * 2
    assert len(res.front) > 0 and res.knee is not None
    assert res.points["on_front"].sum() >= len(res.front)
    d = res.to_dict()
    json.dumps(d)
    assert d["evaluations"] == res.evaluations


def test_nsga2_reaches_95_percent_of_exhaustive_hypervolume() -> None:
    space = space_from_dict(small_space())
    grid = run_exploration(space, strategy="grid")
    budget = grid.evaluations // 10
    ga = run_exploration(space, strategy="nsga2", budget=budget, seed=0)
    assert ga.evaluations <= budget
    ratio = hypervolume_with_bounds(ga, grid.hv_ideal, grid.hv_nadir) / grid.hypervolume
    assert ratio >= 0.95


@pytest.mark.parametrize("strategy", ["nsga2", "grid"])
def test_resume_gives_the_same_front(strategy: str, tmp_path: Path) -> None:
    space = space_from_dict(small_space(search={"batch_size": 20}))
    budget = 60 if strategy != "grid" else None
    full = run_exploration(space, strategy=strategy, budget=budget, seed=3, out_dir=tmp_path / "a")
    calls = {"n": 0}

    def stop_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    part = run_exploration(
        space,
        strategy=strategy,
        budget=budget,
        seed=3,
        out_dir=tmp_path / "b",
        should_stop=stop_after_two,
    )
    if strategy != "grid":
        assert not part.completed and part.evaluations == 20
    resumed = run_exploration(
        space, strategy=strategy, budget=budget, seed=3, out_dir=tmp_path / "b", resume=True
    )
    assert resumed.completed
    assert resumed.evaluations == full.evaluations
    cols = [*full.knob_names, "latency_s", "energy_j", "area_mm2"]
    a = full.front[cols].sort_values(cols).reset_index(drop=True)
    b = resumed.front[cols].sort_values(cols).reset_index(drop=True)
    assert a.equals(b)
    assert resumed.hypervolume == pytest.approx(full.hypervolume, rel=1e-12)


def test_resume_refuses_another_seed(tmp_path: Path) -> None:
    space = space_from_dict(small_space())
    run_exploration(space, strategy="random", budget=10, seed=1, out_dir=tmp_path)
    with pytest.raises(InputError, match="resume"):
        run_exploration(space, strategy="random", budget=10, seed=2, out_dir=tmp_path, resume=True)


def test_progress_and_constraints() -> None:
    space = space_from_dict(small_space(constraints={"max_area_mm2": 0.01, "max_power_w": 1.0}))
    seen: list[tuple[int, int]] = []
    res = run_exploration(
        space,
        strategy="random",
        budget=80,
        seed=0,
        progress=lambda d, t, best, eta: seen.append((d, t)),
    )
    assert seen[-1] == (80, 80)
    feas = res.points["feasible"].to_numpy()
    assert np.all(res.points.loc[feas, "area_mm2"] <= 0.01)
    assert res.points.sort_values("rank")["feasible"].is_monotonic_decreasing


def test_accuracy_table_and_missing_accuracy() -> None:
    acc = {
        "table": [
            {"width": 1.0, "bits": 8, "accuracy": 97.0},
            {"width": 2.0, "bits": 8, "accuracy": 0.98},
        ]
    }
    space = space_from_dict(small_space(accuracy=acc, objectives=["accuracy", "latency"]))
    res = run_exploration(space, strategy="grid")
    assert set(res.front["width"]) <= {1.0, 2.0}
    assert set(res.front["accuracy"]) <= {0.97, 0.98}
    assert any("no measured accuracy" in n for n in res.notes)


def test_bad_space_messages() -> None:
    with pytest.raises(InputError, match="objectives"):
        space_from_dict(small_space(objectives=["accuracy"]))
    with pytest.raises(InputError, match=r"hardware.dataflow"):
        space_from_dict(small_space(hardware={"dataflow": ["xx"]}))
    with pytest.raises(InputError, match="bits"):
        space_from_dict(small_space(model={"name": "digits_cnn", "bits": [3]}))
    with pytest.raises(InputError, match="budget"):
        run_exploration(space_from_dict(small_space()), strategy="grid", budget=0)


def test_examples_load_and_schema_is_current() -> None:
    for p in (REPO / "examples").glob("*.yaml"):
        load_space(p)
    schema = json.loads((REPO / "docs" / "explore-space-schema.json").read_text())
    assert schema == space_json_schema()


def test_pruning_knob_in_a_space() -> None:
    space = space_from_dict(
        {
            "model": {"name": "resnet18", "prune": [0.0, 0.5], "bits": 8},
            "hardware": {"rows": [16, 32], "cols": 32, "precision": "int8"},
            "objectives": ["latency", "energy"],
        }
    )
    res = run_exploration(space, strategy="grid")
    pts = res.points.set_index(["prune", "rows"])
    assert pts.loc[(0.5, 16), "macs"] < 0.4 * pts.loc[(0.0, 16), "macs"]


def test_a_grid_larger_than_the_budget_is_sampled_with_a_note() -> None:
    from codesign_playground.explore.space import space_from_dict

    space = space_from_dict(
        {
            "name": "sampled",
            "model": {"name": "resnet18", "bits": 8, "resolution": 64},
            "hardware": {"rows": [4, 8, 16, 32], "cols": [4, 8, 16, 32], "dataflow": ["ws", "os"]},
            "objectives": ["latency", "energy"],
        }
    )
    a = run_exploration(space, strategy="grid", budget=10, seed=3)
    b = run_exploration(space, strategy="grid", budget=10, seed=3)
    assert a.evaluations == 10 and len(a.points) == 10
    assert a.points.drop(columns=["point"]).equals(b.points.drop(columns=["point"]))
    assert any("the grid has 32 points, more than the budget of 10" in n for n in a.notes)
    keys = a.points[["rows", "cols", "dataflow"]].astype(str).agg("-".join, axis=1)
    assert keys.is_unique
    full = run_exploration(space, strategy="grid")
    assert full.evaluations == 32 and not any("budget" in n for n in full.notes)
