from __future__ import annotations

from pathlib import Path

import pytest

from codesign_playground.explore import run_exploration, space_from_dict

pytest.importorskip("torch")
pytest.importorskip("sklearn")


@pytest.mark.torch
def test_tiny_digits_codesign(tmp_path: Path) -> None:
    space = space_from_dict(
        {
            "name": "tiny-digits",
            "model": {"name": "digits_cnn", "width": [0.5], "bits": [4, 32]},
            "hardware": {"rows": [4, 8], "cols": [4, 8]},
            "accuracy": {"measure": "digits", "epochs": 2},
            "objectives": ["accuracy", "latency", "energy"],
        }
    )
    res = run_exploration(space, strategy="grid", out_dir=tmp_path)
    cache = tmp_path / "digits_accuracy.csv"
    assert cache.is_file() and len(cache.read_text().splitlines()) == 3
    acc = res.points["accuracy"]
    assert acc.notna().all() and (acc > 0.1).all()  # better than chance after 2 epochs
    # int4 is cheaper than fp32 on the same hardware
    p = res.points.set_index(["bits", "rows", "cols"])
    assert p.loc[(4, 4, 4), "energy_j"] < p.loc[(32, 4, 4), "energy_j"]
    # cached: a second run trains nothing and gets the same numbers
    res2 = run_exploration(space, strategy="grid", out_dir=tmp_path)
    assert (res2.points["accuracy"] == acc).all()
    from codesign_playground.explore.report import write_report

    paths = write_report(res, tmp_path)
    html = paths["html"].read_text()
    assert "Parallel coordinates" in html and "Roofline" in html
    assert paths["points_parquet"].stat().st_size > 0
