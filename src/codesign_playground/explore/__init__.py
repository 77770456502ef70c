"""Design-space exploration and model-hardware co-optimization with Pareto reports.

    from codesign_playground.explore import load_space, run_exploration, write_report

    space = load_space("examples/resnet50_systolic.yaml")
    result = run_exploration(space, strategy="nsga2", budget=1000, seed=0, out_dir="runs/r50")
    write_report(result, "runs/r50")

See ``docs/explore.md``.
"""

from __future__ import annotations

from codesign_playground.explore.pareto import (
    constrained_order,
    hypervolume,
    knee_index,
    nondominated_mask,
    nondominated_ranks,
)
from codesign_playground.explore.search import (
    STRATEGIES,
    ExplorationResult,
    hypervolume_with_bounds,
    run_exploration,
)
from codesign_playground.explore.space import Space, load_space, space_from_dict, space_json_schema

__all__ = [
    "STRATEGIES",
    "ExplorationResult",
    "Space",
    "constrained_order",
    "hypervolume",
    "hypervolume_with_bounds",
    "knee_index",
    "load_space",
    "nondominated_mask",
    "nondominated_ranks",
    "run_exploration",
    "space_from_dict",
    "space_json_schema",
    "write_report",
]


def __getattr__(name: str) -> object:
    if name == "write_report":  # plotly/matplotlib load only when a report is written
        from codesign_playground.explore.report import write_report

        return write_report
    raise AttributeError(name)
