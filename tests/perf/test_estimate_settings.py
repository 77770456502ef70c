"""Every estimate says what it ran with (precision, batch, timing model, GPU launch) and
where each value came from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from codesign_playground import estimate, get_chip, load_workload
from codesign_playground.hardware import systolic


def test_library_records_the_settings_and_their_sources() -> None:
    net = load_workload("resnet18", batch=2, precision="int8")
    e = estimate(net, systolic(rows=16, cols=16), sources={"precision": "asked"})
    s = e.settings
    assert s["precision"] == {"value": "int8", "source": "asked"}
    assert s["batch"] == {"value": 2, "source": "the network's input"}
    assert s["timing_model"] == {
        "value": "systolic",
        "source": "auto: the systolic model for systolic hardware",
    }
    assert "launch" not in s
    assert e.to_dict()["settings"] == {k: dict(v) for k, v in s.items()}


def test_gpu_estimate_states_launch_and_tf32_defaults() -> None:
    chip = get_chip("h100")
    net = load_workload("resnet18", precision="fp16")
    s = estimate(net, chip, mode="gpu").settings
    assert s["timing_model"]["source"] == "asked"
    assert s["launch"] == {
        "value": "graph",
        "source": "default: graph (kernel time, as CUDA graphs run)",
    }
    assert s["tf32"]["value"] is None and "PyTorch" in s["tf32"]["source"]
    assert estimate(net, chip, launch="eager").settings["launch"]["source"] == "asked"


def test_hardware_says_where_its_default_precision_comes_from() -> None:
    assert get_chip("tpu-v1").precision_source(None).startswith("default: int8")
    assert get_chip("h100").precision_source(None) == "default: fp32, which the hardware computes"
    assert get_chip("h100").precision_source("fp16") == "asked"


def test_cli_table_title_and_json_state_the_settings() -> None:
    codesign = str(Path(sys.executable).with_name("codesign"))
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}
    args = [codesign, "estimate", "-m", "resnet18", "-H", "tpu-v1"]
    table = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
    assert "resnet18 on Google TPU v1: int8, batch 1, systolic model" in table
    assert "precision int8: default: int8, the hardware's first precision (no fp32)" in table
    doc = json.loads(
        subprocess.run(
            [*args, "--json", "--batch", "4"], capture_output=True, text=True, env=env, check=True
        ).stdout
    )
    assert doc["settings"]["batch"] == {"value": 4, "source": "asked (--batch)"}
    assert doc["settings"]["precision"]["value"] == "int8"
