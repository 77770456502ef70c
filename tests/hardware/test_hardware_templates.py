"""Templates: sourced defaults, overrides, validation and round trips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware import (
    HardwareSpec,
    gpu,
    load_hardware,
    save_hardware,
    spatial,
    systolic,
    vector,
)

TEMPLATES: list[Callable[[], HardwareSpec]] = [
    systolic,
    spatial,
    gpu,
    lambda: vector(16, 64),
]


@pytest.mark.parametrize("make", TEMPLATES)
def test_template_defaults_are_sourced(make: Callable[[], HardwareSpec]) -> None:
    spec = make()
    assert spec.unsourced_fields() == []


@pytest.mark.parametrize("make", TEMPLATES)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_templates_round_trip(
    make: Callable[[], HardwareSpec], suffix: str, tmp_path: Path
) -> None:
    spec = make()
    assert load_hardware(save_hardware(spec, tmp_path / f"t{suffix}")) == spec


def test_systolic_defaults() -> None:
    spec = systolic()
    assert (spec.compute.rows, spec.compute.cols) == (32, 32)
    assert spec.level("ifmap_sram").capacity_bytes == 64 * 1024
    assert spec.compute.clock_hz == 700e6
    assert spec.dataflow == "ws"
    assert "scale.cfg" in spec.sources["compute.rows"]
    assert spec.level("filter_sram").double_buffered


def test_overrides_are_recorded() -> None:
    spec = systolic(rows=128, cols=128, dataflow="os", clock_hz=1e9)
    assert spec.sources["compute.rows"] == "given to systolic()"
    assert spec.sources["compute.clock_hz"] == "given to systolic()"
    assert spec.peak_ops_per_s("int8") == 2 * 128 * 128 * 1e9


def test_template_without_node_drops_energy() -> None:
    spec = systolic(tech_node_nm=None)
    assert spec.tech_node_nm is None
    assert spec.level("ifmap_sram").read_energy_pj is None
    assert spec.unsourced_fields() == []


def test_spatial_defaults_are_eyeriss() -> None:
    spec = spatial()
    assert spec.compute.num_pes == 168
    assert spec.level("glb").capacity_bytes == 108 * 1024
    assert spec.level("filter_spad").instances == 168
    assert spec.dataflow == "rs"


def test_vector_register_file_size() -> None:
    spec = vector(8, 128)
    assert spec.level("vrf").capacity_bytes == 32 * 128 * 4
    assert spec.compute.cols == 8
    assert spec.dram.bytes_per_cycle == 32


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: systolic(rows=-4), "compute.rows"),
        (lambda: systolic(ifmap_sram_kb=0), "ifmap_sram_kb"),
        (lambda: systolic(dataflow="rs"), "dataflow"),
        (lambda: systolic(clock_hz=0), "compute.clock_hz"),
        (lambda: spatial(glb_kb=-1), "glb_kb"),
        (lambda: spatial(glb_kb=1), "memory[1].capacity_bytes"),
        (lambda: vector(0, 8), "compute.cols"),
        (lambda: vector(4, 0), "vector_length"),
        (lambda: gpu(sms=0), "compute.cores"),
        (lambda: systolic(precision="int3"), "compute.macs_per_pe_per_cycle"),  # type: ignore[arg-type]
    ],
)
def test_template_errors_name_field(call: Callable[[], HardwareSpec], field: str) -> None:
    with pytest.raises(HardwareSpecError) as info:
        call()
    assert str(info.value).startswith(f"hardware field '{field}'"), str(info.value)


def test_design_templates_round_trip_through_specs() -> None:
    """Every design template rebuilds the spec its knobs describe (no dict round trips)."""
    from codesign_playground.hardware import get_template, gpu, spatial, vector

    cases = [
        ("systolic", systolic(rows=16, cols=64, dataflow="os", ifmap_sram_kb=32, cores=2)),
        ("spatial", spatial(rows=16, cols=16, glb_kb=64, psum_spad_bytes=64)),
        ("vector", vector(8, 64, clock_hz=1e9)),
        ("gpu", gpu(sms=54, l2_mb=20)),
    ]
    for name, spec in cases:
        template = get_template(name)
        knobs = template.from_spec(spec)
        again = template.to_spec(knobs, name=spec.name)
        # equal but for sources: a knob read back is "given", a default cites its source
        assert again.model_dump(exclude={"sources"}) == spec.model_dump(exclude={"sources"}), name
        assert set(knobs) <= set(template.knob_names)


def test_design_template_defaults_come_from_the_template_function() -> None:
    import inspect

    from codesign_playground.hardware import get_template

    t = get_template("systolic")
    sig = inspect.signature(systolic).parameters
    for knob in ("rows", "cols", "ifmap_sram_kb", "dram_bandwidth_bytes_per_s", "clock_hz"):
        assert t.defaults()[knob] == sig[knob].default
    assert t.defaults()["precision"] is None  # sized for the model
