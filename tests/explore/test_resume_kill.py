"""A search SIGKILLed at random moments and resumed gives exactly the uninterrupted points."""

from __future__ import annotations

import fcntl
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

SPACE: dict[str, Any] = {
    "name": "resume",
    "model": {"name": "resnet18"},
    "hardware": {
        "rows": {"min": 4, "max": 128, "factor": 2},
        "cols": {"min": 4, "max": 128, "factor": 2},
        "ifmap_sram_kb": [32, 64, 128, 256],
        "dataflow": ["ws", "os"],
    },
    "objectives": ["latency", "energy", "area"],
    "search": {"batch_size": 8},
}

CHILD = """
import json, sys
from codesign_playground.explore import run_exploration, space_from_dict
space, strategy, budget, out = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
r = run_exploration(space_from_dict(space), strategy=strategy, budget=budget, seed=7,
                    out_dir=out, resume=True)
cols = ["trial", *r.knob_names]
r.points[cols].to_json(out + "/points.json", orient="values")
print("done", r.evaluations)
"""


def _run(out: Path, strategy: str, budget: int, kill_after_s: float | None) -> bool:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(SPACE), strategy, str(budget), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if kill_after_s is not None:
        try:
            proc.wait(kill_after_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return False
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-2000:]
    return True


@pytest.mark.parametrize("strategy", ["tpe", "nsga2"])
def test_sigkill_and_resume_equals_uninterrupted(tmp_path: Path, strategy: str) -> None:
    budget = 120
    ref = tmp_path / "ref"
    started = time.monotonic()
    _run(ref, strategy, budget, None)
    ref_s = time.monotonic() - started  # kills are placed within a whole run, however fast
    expected = json.loads((ref / "points.json").read_text())
    rng = random.Random(strategy)
    out = tmp_path / "killed"
    kills = mid_batch = 0
    span_s = ref_s
    # kills land anywhere: start-up, between batches, inside a batch's asks and tells
    while True:
        if _run(out, strategy, budget, rng.uniform(0.3, 0.95) * span_s if kills < 5 else None):
            if kills:
                break
            # the run beat the reference's time (a load change) before any kill landed:
            # start over with kills placed sooner (start-up alone outlasts a tiny span)
            shutil.rmtree(out)
            span_s /= 2
            continue
        kills += 1
        records = [json.loads(x) for x in (out / "checkpoint.jsonl").read_text().splitlines()[1:]]
        if records and "begin" in records[-1]:
            mid_batch += 1
    got = json.loads((out / "points.json").read_text())
    print(f"{strategy}: {kills} kills ({mid_batch} inside a batch), {len(got)} points")
    assert kills >= 1
    assert len(got) == budget
    assert len({row[0] for row in got}) == budget  # every trial counted once
    assert got == expected
    # no stale lock (optuna's own file lock outlived a kill by 30 s): the journal's lock is a
    # flock the kernel dropped with the killed process, and a further resume changes nothing
    assert not (out / "optuna_journal.log.lock").exists()
    with (out / "optuna_journal.flock").open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    _run(out, strategy, budget, None)
    assert json.loads((out / "points.json").read_text()) == expected
