from __future__ import annotations

import warnings

import pytest


@pytest.fixture(autouse=True)
def _quiet_optuna() -> None:
    warnings.filterwarnings("ignore", module="optuna")
