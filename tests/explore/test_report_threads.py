"""Reports render safely from many threads at once (the embedded service's workers do)."""

from __future__ import annotations

import threading
from pathlib import Path

from codesign_playground.explore import run_exploration, space_from_dict
from codesign_playground.explore.report import write_report


def test_reports_render_concurrently(tmp_path: Path) -> None:
    # before: matplotlib's shared mathtext parser failed 9 of 10 threads (log-axis labels)
    space = space_from_dict(
        {
            "name": "threads",
            "model": {"name": "resnet18"},
            "hardware": {"rows": [8, 16, 32], "cols": [8, 16, 32]},
            "objectives": ["latency", "energy", "area"],
        }
    )
    result = run_exploration(space)
    errors: list[str] = []
    start = threading.Barrier(10)

    def render(i: int) -> None:
        start.wait()
        try:
            for j in range(1):
                paths = write_report(result, tmp_path / f"r{i}-{j}")
                assert paths["pareto_png"].stat().st_size > 1000
        except Exception as exc:  # collected: the assertion below shows every failure
            errors.append(f"thread {i}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=render, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
