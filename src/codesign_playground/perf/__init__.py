"""Performance, energy and area models: one cost pipeline for one design or thousands.

    from codesign_playground.perf import estimate            # one network on one spec
    from codesign_playground.perf import Workload, design_batch, choose_model, evaluate_totals

Every timing model implements :class:`CostModel` and registers by name
(:func:`register`); :func:`evaluate` prices a batch of designs, :func:`estimate` is its
one-design case. See ``docs/models.md``.
"""

from __future__ import annotations

from codesign_playground.perf.batch import BatchTiming, DesignBatch, Workload
from codesign_playground.perf.design_batch import design_batch
from codesign_playground.perf.engine import (
    BatchCost,
    CostModel,
    available_models,
    choose_model,
    evaluate,
    evaluate_totals,
    get_model,
    register,
    totals,
)
from codesign_playground.perf.estimate import MODES, Estimate, estimate

__all__ = [
    "MODES",
    "BatchCost",
    "BatchTiming",
    "CostModel",
    "DesignBatch",
    "Estimate",
    "Workload",
    "available_models",
    "choose_model",
    "design_batch",
    "estimate",
    "evaluate",
    "evaluate_totals",
    "get_model",
    "register",
    "totals",
]
