"""Every catalog entry loads, is sourced and reproduces its published peaks."""

from __future__ import annotations

import pytest

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware import (
    ALIASES,
    catalog_specs,
    dump_hardware,
    get_chip,
    gpu,
    list_catalog,
    load_hardware,
    parse_hardware,
)
from codesign_playground.hardware.spec import PEAK_TOLERANCE

EXPECTED = {
    "a100-sxm4-80gb",
    "h100-sxm5",
    "h200-sxm",
    "tpu-v1",
    "tpu-v4",
    "edge-tpu",
    "jetson-agx-orin-64gb",
    "stm32h743",
    "eyeriss-v1",
    "gemmini-default",
}


def test_catalog_has_the_issue_chips() -> None:
    assert set(list_catalog()) == EXPECTED


@pytest.mark.parametrize("chip_id", sorted(EXPECTED))
def test_every_number_has_a_source(chip_id: str) -> None:
    spec = get_chip(chip_id)
    assert spec.unsourced_fields() == []
    for path, text in spec.sources.items():
        assert text.strip(), path
    assert spec.sources.get("dataflow"), "dataflow choice must be explained"


@pytest.mark.parametrize("chip_id", sorted(EXPECTED))
def test_published_peaks_match_computed(chip_id: str) -> None:
    spec = get_chip(chip_id)
    for precision, published in spec.published_peak_ops_per_s.items():
        computed = spec.peak_ops_per_s(precision)
        assert abs(computed - published) <= PEAK_TOLERANCE * published


@pytest.mark.parametrize("chip_id", sorted(EXPECTED))
def test_catalog_round_trips(chip_id: str) -> None:
    spec = get_chip(chip_id)
    for fmt in ("yaml", "json"):
        assert parse_hardware(dump_hardware(spec, fmt), fmt) == spec  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "chip_id"),
    [
        ("H100", "h100-sxm5"),
        ("a100", "a100-sxm4-80gb"),
        ("TPU v4", "tpu-v4"),
        ("Coral", "edge-tpu"),
        ("cortex_m7", "stm32h743"),
        ("Eyeriss", "eyeriss-v1"),
        ("NVIDIA H200 SXM 141GB", "h200-sxm"),
        ("gemmini", "gemmini-default"),
    ],
)
def test_lookup_is_case_insensitive_with_aliases(name: str, chip_id: str) -> None:
    assert get_chip(name) == get_chip(chip_id)
    assert load_hardware(name) == get_chip(chip_id)


def test_aliases_point_at_entries() -> None:
    assert set(ALIASES.values()) <= EXPECTED


def test_unknown_chip_lists_close_matches() -> None:
    with pytest.raises(HardwareSpecError, match=r"unknown chip 'h10'; did you mean .*'h100'"):
        get_chip("h10")
    with pytest.raises(HardwareSpecError, match="known chips"):
        get_chip("zzzzzzzz")


def test_headline_numbers() -> None:
    assert get_chip("tpu-v1").peak_ops_per_s("int8") == pytest.approx(92e12, rel=0.01)
    assert get_chip("h100").peak_ops_per_s("fp16") == pytest.approx(989.5e12, rel=0.001)
    assert get_chip("eyeriss").compute.num_pes == 168
    assert get_chip("gemmini").compute.num_pes == 256
    assert get_chip("h200").dram.bandwidth_bytes_per_s == 4.8e12


def test_gpu_template_defaults_agree_with_a100_entry() -> None:
    template, entry = gpu(), get_chip("a100")
    assert template.compute == entry.compute
    for precision, peak in entry.published_peak_ops_per_s.items():
        assert template.peak_ops_per_s(precision) == pytest.approx(peak, rel=PEAK_TOLERANCE)
    assert template.dram.bandwidth_bytes_per_s == entry.dram.bandwidth_bytes_per_s


def test_catalog_specs_returns_all() -> None:
    assert set(catalog_specs()) == EXPECTED
