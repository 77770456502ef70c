"""Validation, error messages and YAML/JSON round trips of hardware descriptions."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware import (
    dump_hardware,
    hardware_from_dict,
    hardware_to_dict,
    load_hardware,
    parse_hardware,
    save_hardware,
    systolic,
)

BASE: dict[str, Any] = {
    "name": "tiny",
    "kind": "systolic",
    "compute": {"rows": 4, "cols": 4, "macs_per_pe_per_cycle": {"int8": 1}, "clock_hz": 1e9},
    "memory": [
        {
            "name": "sram",
            "capacity_bytes": 1024,
            "holds": ["weights", "inputs", "outputs"],
            "bytes_per_cycle": 8,
        },
        {
            "name": "dram",
            "capacity_bytes": 1 << 30,
            "holds": ["weights", "inputs", "outputs"],
            "bandwidth_bytes_per_s": 1e9,
        },
    ],
    "dataflow": "ws",
    "tech_node_nm": 45,
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


_DELETE = object()


def error_of(data: Any) -> str:
    with pytest.raises(HardwareSpecError) as info:
        hardware_from_dict(data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_base_is_valid() -> None:
    spec = hardware_from_dict(BASE)
    assert spec.compute.num_pes == 16
    assert spec.peak_ops_per_s("int8") == 2 * 16 * 1e9


def test_negative_rows_message_matches_issue() -> None:
    assert error_of(with_change("compute.rows", -4)) == (
        "hardware field 'compute.rows': must be > 0 (got -4)"
    )


@pytest.mark.parametrize(
    ("path", "value", "field", "fragment"),
    [
        ("compute.clock_hz", 0, "compute.clock_hz", "must be > 0"),
        (
            "compute.macs_per_pe_per_cycle",
            {"int8": -1},
            "compute.macs_per_pe_per_cycle.int8",
            "must be > 0",
        ),
        ("compute.macs_per_pe_per_cycle", {"int9": 1}, "compute.macs_per_pe_per_cycle.int9", ""),
        ("compute.macs_per_pe_per_cycle", {}, "compute.macs_per_pe_per_cycle", "at least one"),
        ("memory.0.capacity_bytes", 0, "memory[0].capacity_bytes", "must be > 0"),
        ("memory.0.capacity_bytes", 10**12, "memory[0].capacity_bytes", "larger than outer"),
        ("memory.0.holds", ["weights", "weights"], "memory[0].holds", "twice"),
        ("memory.0.holds", [], "memory[0].holds", "must not be empty"),
        ("memory.0.bandwidth_bytes_per_s", 5.0, "memory[0].bytes_per_cycle", "not both"),
        ("memory.0.read_energy_pj", 5.0, "memory[0].access_width_bits", "is required"),
        ("memory.0.name", "dram", "memory[1].name", "used twice"),
        ("memory.0.name", "9bad", "memory[0].name", "must start with a letter"),
        ("memory.0.bogus", 1, "memory[0].bogus", "not a known field"),
        ("dataflow", "simt", "dataflow", "does not fit kind 'systolic'"),
        ("dataflow", "zz", "dataflow", "must be"),
        ("kind", "fpga", "kind", "must be"),
        ("tech_node_nm", -7, "tech_node_nm", "must be > 0"),
        ("compute.rows", _DELETE, "compute.rows", "is required"),
        ("compute.rows", "four", "compute.rows", "got 'four'"),
        ("sources", {"compute.clok_hz": "x"}, "sources", "names no field"),
        (
            "published_peak_ops_per_s",
            {"int8": 1e12},
            "published_peak_ops_per_s.int8",
            "differs from the computed peak",
        ),
        (
            "published_peak_ops_per_s",
            {"fp16": 32e9},
            "published_peak_ops_per_s.fp16",
            "not in compute.macs_per_pe_per_cycle",
        ),
    ],
)
def test_errors_name_the_field(path: str, value: Any, field: str, fragment: str) -> None:
    message = error_of(with_change(path, value))
    assert message.startswith(f"hardware field '{field}': "), message
    assert fragment in message


def test_operand_without_level() -> None:
    data = copy.deepcopy(BASE)
    for level in data["memory"]:
        level["holds"] = ["inputs", "outputs"]
    assert error_of(data) == (
        "hardware field 'memory': no level holds 'weights'; add it to the 'holds' of some level"
    )


def test_dram_may_be_unbounded() -> None:
    spec = hardware_from_dict(with_change("memory.1.capacity_bytes", _DELETE))
    assert spec.dram.capacity_bytes is None
    assert spec.dram.total_capacity_bytes is None


def test_only_outermost_level_may_be_unbounded() -> None:
    data = with_change("memory.0.capacity_bytes", _DELETE)
    assert error_of(data).startswith("hardware field 'memory[0].capacity_bytes': is required")


def test_capacity_order_uses_total_over_instances() -> None:
    data = copy.deepcopy(BASE)
    data["memory"].insert(
        0, {"name": "rf", "capacity_bytes": 128, "instances": 16, "holds": ["weights"]}
    )
    message = error_of(data)
    assert message.startswith("hardware field 'memory[0].capacity_bytes'")
    assert "2048 bytes" in message


def test_sourced_value_sugar_moves_sources() -> None:
    data = with_change("compute.rows", {"value": 4, "source": "paper, Table 1"})
    data["memory"][1]["bandwidth_bytes_per_s"] = {"value": 1e9, "source": "datasheet p. 2"}
    spec = hardware_from_dict(data)
    assert spec.compute.rows == 4
    assert spec.sources == {
        "compute.rows": "paper, Table 1",
        "memory.dram.bandwidth_bytes_per_s": "datasheet p. 2",
    }


def test_models_are_frozen() -> None:
    spec = hardware_from_dict(BASE)
    with pytest.raises(Exception):  # noqa: B017, PT011 - pydantic raises ValidationError
        spec.compute.rows = 8  # type: ignore[misc]


def test_bad_yaml_and_json_are_one_line_errors(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("name: [unclosed\n")
    with pytest.raises(HardwareSpecError, match=r"is not valid YAML") as info:
        load_hardware(bad_yaml)
    assert "\n" not in str(info.value)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    with pytest.raises(HardwareSpecError, match=r"is not valid JSON"):
        load_hardware(str(bad_json))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(HardwareSpecError, match="is empty"):
        load_hardware(empty)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n")
    with pytest.raises(HardwareSpecError, match="must be a mapping"):
        load_hardware(listy)


def test_invalid_field_in_file_names_field_and_file(tmp_path: Path) -> None:
    path = tmp_path / "hw.yaml"
    path.write_text(
        dump_hardware(hardware_from_dict(with_change("compute.rows", 4))).replace(
            "rows: 4", "rows: -4"
        )
    )
    with pytest.raises(HardwareSpecError) as info:
        load_hardware(path)
    assert str(info.value).startswith("hardware field 'compute.rows': must be > 0 (got -4)")
    assert str(path) in str(info.value)


def test_missing_file_and_wrong_extension(tmp_path: Path) -> None:
    with pytest.raises(HardwareSpecError, match="not found"):
        load_hardware(tmp_path / "nope.yaml")
    with pytest.raises(HardwareSpecError, match="not found"):
        load_hardware("no/such/file.yaml")
    txt = tmp_path / "hw.txt"
    txt.write_text("x")
    with pytest.raises(HardwareSpecError, match="unknown extension"):
        load_hardware(txt)


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_save_load_round_trip(tmp_path: Path, suffix: str) -> None:
    spec = systolic(rows=8, cols=16)
    path = save_hardware(spec, tmp_path / f"hw{suffix}")
    assert load_hardware(path) == spec
    assert load_hardware(str(path)) == spec


def test_json_dump_is_json() -> None:
    spec = hardware_from_dict(BASE)
    assert json.loads(dump_hardware(spec, "json")) == hardware_to_dict(spec)
    assert parse_hardware(dump_hardware(spec, "json"), "json") == spec


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 512),
    cols=st.integers(1, 512),
    clock=st.floats(1e6, 5e9),
    sram=st.integers(1, 1 << 24),
    fmt=st.sampled_from(["yaml", "json"]),
)
def test_round_trip_property(rows: int, cols: int, clock: float, sram: int, fmt: str) -> None:
    data = copy.deepcopy(BASE)
    data["compute"].update(rows=rows, cols=cols, clock_hz=clock)
    data["memory"][0]["capacity_bytes"] = sram
    spec = hardware_from_dict(data)
    assert parse_hardware(dump_hardware(spec, fmt), fmt) == spec  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(value=st.one_of(st.integers(-(10**6), 0), st.floats(max_value=0.0, allow_nan=False)))
def test_non_positive_values_are_refused(value: float) -> None:
    message = error_of(with_change("compute.clock_hz", value))
    assert message.startswith("hardware field 'compute.clock_hz': must be ")


def test_exported_schema_is_current() -> None:
    import runpy

    root = Path(__file__).resolve().parents[2]
    module = runpy.run_path(str(root / "scripts" / "export_hardware_schema.py"))
    assert module["main"](["--check"]) == 0


def test_default_precision() -> None:
    from codesign_playground.hardware import get_chip

    assert get_chip("tpu-v1").default_precision == "int8"
    assert get_chip("h100").default_precision == "fp32"
    assert get_chip("eyeriss-v1").default_precision == "int16"
