"""Exploration over any registered hardware template, and over mixed spaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codesign_playground.errors import InputError
from codesign_playground.explore import run_exploration, space_from_dict
from codesign_playground.explore.evaluator import Evaluator
from codesign_playground.hardware import get_template
from codesign_playground.perf import estimate

MODEL = {"name": "resnet18", "resolution": 64}
MIXED: dict[str, Any] = {
    "name": "mixed",
    "model": MODEL,
    "hardware": [  # each alternative at its own precision (GPUs: floating point)
        {"template": "systolic", "rows": [16, 32, 64], "cols": [16, 32], "precision": "int8"},
        {"template": "spatial", "label": "eyeriss", "glb_kb": [64, 108], "precision": "int8"},
        {"template": "catalog", "label": "gpu", "chip": ["a100", "h100"], "precision": "fp16"},
    ],
    "objectives": ["latency", "energy"],
}


def test_mixed_grid_adds_up_the_alternatives() -> None:
    space = space_from_dict(MIXED)
    ev = Evaluator(space)
    assert ev.grid_total == 6 + 2 + 2
    df = ev.evaluate(ev.grid_rows(0, ev.grid_total))
    assert list(df["design"]) == ["systolic"] * 6 + ["eyeriss"] * 2 + ["gpu"] * 2
    assert set(df["template"]) == {"systolic", "spatial", "catalog"}
    # knobs of another alternative are empty, a row's own are set
    assert df.loc[df["design"] == "gpu", "systolic.rows"].isna().all()
    assert df.loc[df["design"] == "systolic", "systolic.rows"].notna().all()
    assert np.all(df["latency_s"] > 0) and np.all(df["energy_j"] > 0)


def test_each_alternative_prices_like_estimate_on_its_spec() -> None:
    space = space_from_dict(MIXED)
    ev = Evaluator(space)
    df = ev.evaluate(ev.grid_rows(0, ev.grid_total))
    checks = [
        (0, "systolic", {"rows": 16, "cols": 16, "precision": "int8"}),
        (6, "spatial", {"glb_kb": 64, "precision": "int8"}),
        (9, "catalog", {"chip": "h100", "precision": "fp16"}),
    ]
    for row, template, knobs in checks:
        work = ev.variant(tuple(0 for _ in ev.model_cols), knobs["precision"])  # type: ignore[arg-type]
        spec = get_template(template).to_spec(knobs, precisions=work.precisions)
        ref = estimate(work.net, spec).totals()
        assert df["latency_s"][row] == pytest.approx(ref["latency_s"], rel=1e-9)
        assert df["energy_j"][row] == pytest.approx(ref["energy_j"], rel=1e-9)


@pytest.mark.parametrize("strategy", ["random", "nsga2", "tpe"])
def test_optuna_strategies_search_mixed_spaces(strategy: str) -> None:
    space = space_from_dict({**MIXED, "search": {"batch_size": 8}})
    result = run_exploration(space, strategy=strategy, budget=16, seed=0)
    assert result.evaluations == 16
    pts = result.points
    for label, prefix in (("systolic", "systolic."), ("eyeriss", "eyeriss."), ("gpu", "gpu.")):
        own = [c for c in pts.columns if c.startswith(prefix)]
        mine = pts[pts["design"] == label]
        others = pts[pts["design"] != label]
        assert mine[own].notna().all().all()
        assert others[own].isna().all().all()


def test_mixed_report_colours_each_alternative(tmp_path: Path) -> None:
    from codesign_playground.explore.report import write_report

    result = run_exploration(space_from_dict(MIXED))
    paths = write_report(result, tmp_path)
    html = paths["html"].read_text()
    for label in ("systolic", "eyeriss", "gpu"):  # each alternative in its own colour
        assert f"{label}: feasible" in html or f"{label}: Pareto front" in html
    assert paths["pareto_png"].is_file()


def test_spatial_template_space_runs() -> None:
    space = space_from_dict(
        {
            "model": MODEL,
            "hardware": {
                "template": "spatial",
                "rows": [12, 16],
                "clock_hz": [100e6, 200e6, 400e6],
            },
            "objectives": ["latency", "energy", "area"],
        }
    )
    result = run_exploration(space)
    assert result.evaluations == 6
    lat = result.points.sort_values("clock_hz").groupby("rows")["latency_s"].apply(list)
    for series in lat:  # a faster clock never slows the same geometry
        assert series == sorted(series, reverse=True)


def test_unknown_template_and_knob_are_one_line_errors() -> None:
    with pytest.raises(InputError, match="unknown template 'tpu'"):
        space_from_dict({"model": MODEL, "hardware": {"template": "tpu"}, "objectives": ["area"]})
    with pytest.raises(InputError, match="glb_kb: not a knob of the systolic template"):
        space_from_dict({"model": MODEL, "hardware": {"glb_kb": 64}, "objectives": ["area"]})
    with pytest.raises(InputError, match="chip"):
        space_from_dict(
            {"model": MODEL, "hardware": {"template": "catalog"}, "objectives": ["area"]}
        )
    with pytest.raises(InputError, match="distinct label"):
        space_from_dict(
            {
                "model": MODEL,
                "hardware": [{"template": "systolic"}, {"template": "systolic"}],
                "objectives": ["area"],
            }
        )
