"""A design space with several mistakes reports all of them at once, each with its path."""

from __future__ import annotations

import pytest

from codesign_playground.errors import InputError
from codesign_playground.explore.space import space_from_dict


def _error(doc: dict[str, object]) -> str:
    with pytest.raises(InputError) as info:
        space_from_dict(doc)
    return str(info.value)


def test_three_mistakes_one_run() -> None:
    msg = _error(
        {
            "name": "x",
            "model": {"name": "resnet18"},
            "hardware": {"rows": [8], "bogus": 3, "cols": {"min": 1, "max": 2}},
            "objectives": ["latency"],
            "search": {"seed": -1},
        }
    )
    assert msg.startswith("space: ")
    assert "hardware.bogus: not a knob of the systolic template" in msg
    assert "hardware.cols: range: give exactly one of step, factor or num" in msg
    assert "search.seed: Input should be greater than or equal to 0" in msg
    assert "\n" not in msg
    assert "HardwareSpace" not in msg and "space field" not in msg


def test_range_problems_name_the_knob_and_the_alternative() -> None:
    msg = _error(
        {
            "name": "x",
            "model": {"name": "resnet18"},
            "hardware": [
                {"template": "systolic", "rows": {"min": 0, "max": 1, "step": 0}},
                {"template": "spatial", "glb_kb": [64]},
            ],
            "objectives": ["latency"],
        }
    )
    assert msg == "space: hardware[0].rows.step: Input should be greater than 0"


def test_a_huge_range_is_refused_naming_the_knob() -> None:
    msg = _error(
        {
            "name": "x",
            "model": {"name": "resnet18"},
            "hardware": {"rows": {"min": 1, "max": 10, "num": 10**9}},
            "objectives": ["latency"],
        }
    )
    assert msg == "space: hardware.rows.num: Input should be less than or equal to 1000000"
