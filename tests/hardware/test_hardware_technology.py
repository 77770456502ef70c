"""Technology tables reproduce Horowitz (ISSCC 2014, 45 nm) and scale as documented."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware import technology as tech

EXACT = 1e-12


def test_acceptance_int8_mac_fp32_mult_8kb_sram_at_45nm() -> None:
    # int8 MAC = 8-bit multiply (0.2 pJ) + 32-bit accumulate (0.1 pJ)
    assert tech.mac_energy_pj("int8", 45) == pytest.approx(0.2 + 0.1, abs=EXACT)
    assert tech.mac_energy_pj("int8") == pytest.approx(0.3, abs=EXACT)
    assert tech.op_energy_pj("mult", "fp32", 45) == 3.7
    assert tech.sram_read_energy_pj(8 * 1024, 64, 45) == 10.0


@pytest.mark.parametrize(
    ("op", "precision", "energy", "area"),
    [
        ("add", "int8", 0.03, 36),
        ("add", "int16", 0.05, 67),
        ("add", "int32", 0.1, 137),
        ("add", "fp16", 0.4, 1360),
        ("add", "fp32", 0.9, 4184),
        ("mult", "int8", 0.2, 282),
        ("mult", "int32", 3.1, 3495),
        ("mult", "fp16", 1.1, 1640),
        ("mult", "fp32", 3.7, 7700),
    ],
)
def test_horowitz_operation_table(op: str, precision: str, energy: float, area: float) -> None:
    assert tech.op_energy_pj(op, precision) == energy  # type: ignore[arg-type]
    assert tech.op_area_um2(op, precision) == area  # type: ignore[arg-type]


def test_horowitz_memory_figures() -> None:
    assert tech.sram_read_energy_pj(32 * 1024) == 20.0
    assert tech.sram_read_energy_pj(1024 * 1024) == 100.0
    assert tech.sram_read_energy_pj(8 * 1024, 32) == pytest.approx(5.0, abs=EXACT)
    assert tech.dram_energy_pj_per_byte("low") == 1300 / 8
    assert tech.dram_energy_pj_per_byte("high") == 2600 / 8
    assert tech.dram_energy_pj_per_byte() == pytest.approx((1300 + 2600) / 16)


def test_sram_interpolates_as_power_law_in_log_capacity() -> None:
    # midpoint in log-capacity between 8 KB and 32 KB is 16 KB: geometric mean of energies
    assert tech.sram_read_energy_pj(16 * 1024) == pytest.approx(math.sqrt(10 * 20))
    caps = np.geomspace(256, 64 * 1024 * 1024, 50)
    energies = tech.sram_read_energy_pj(caps)
    assert isinstance(energies, np.ndarray)
    assert np.all(np.diff(energies) > 0)
    assert np.all(energies > 0)


def test_mac_composition_and_derivations() -> None:
    assert tech.mac_energy_pj("fp16") == pytest.approx(1.1 + 0.9)
    assert tech.mac_energy_pj("fp32") == pytest.approx(3.7 + 0.9)
    assert tech.mac_energy_pj("bf16") == tech.mac_energy_pj("fp16")
    assert tech.mac_energy_pj("int8", accumulator="int16") == pytest.approx(0.25)
    k = math.log(3.1 / 0.2) / math.log(4)
    assert tech.op_energy_pj("mult", "int16") == pytest.approx(0.2 * 2**k)
    assert tech.op_energy_pj("mult", "int4") == pytest.approx(0.2 * 0.5**k)
    assert tech.op_energy_pj("add", "int4") == pytest.approx(0.03**2 / 0.05)
    assert tech.pe_area_um2("int8") == 282 + 137


def test_scaling_matches_documented_factors() -> None:
    factors = tech.technology_data()["scaling"]["factors"]
    for node, expected in factors.items():
        assert tech.energy_scale(float(node)) == pytest.approx(expected["energy"], abs=1e-4)
        assert tech.area_scale(float(node)) == pytest.approx(expected["area"], abs=1e-4)
    assert set(factors) >= {45, 28, 16, 7}


# Stillmaker & Baas (Integration 2017) factors from 45 nm, as documented in technology.yaml
SB_FACTORS = {28.0: (0.5132, 0.3767), 16.0: (0.1735, 0.19), 7.0: (0.0943, 0.059)}


@pytest.mark.parametrize("node", [28.0, 16.0, 7.0])
def test_moving_node_scales_energy_and_area(node: float) -> None:
    e, a = tech.energy_scale(node), tech.area_scale(node)
    assert e == pytest.approx(SB_FACTORS[node][0], abs=1e-4)
    assert a == pytest.approx(SB_FACTORS[node][1], abs=1e-4)
    assert tech.mac_energy_pj("int8", node) == pytest.approx(0.3 * e)
    assert tech.op_energy_pj("mult", "fp32", node) == pytest.approx(3.7 * e)
    assert tech.sram_read_energy_pj(8192, 64, node) == pytest.approx(10 * e)
    assert tech.pe_area_um2("int8", node) == pytest.approx(419 * a)
    assert tech.sram_area_mm2(1 << 20, node) == pytest.approx(tech.sram_area_mm2(1 << 20) * a)


def test_vectorised_over_nodes() -> None:
    nodes = np.array([45.0, 28.0, 16.0, 7.0])
    energies = tech.mac_energy_pj("int8", nodes)
    assert isinstance(energies, np.ndarray)
    e = np.array([1.0, *(SB_FACTORS[n][0] for n in (28.0, 16.0, 7.0))])
    a = np.array([1.0, *(SB_FACTORS[n][1] for n in (28.0, 16.0, 7.0))])
    np.testing.assert_allclose(energies, 0.3 * e, rtol=1e-3)
    np.testing.assert_allclose(tech.pe_area_um2("fp16", nodes), (1640 + 4184) * a, rtol=1e-3)
    grid = tech.sram_read_energy_pj(np.array([8192.0, 32768.0]), 64, 45.0)
    np.testing.assert_allclose(grid, [10.0, 20.0])


def test_sram_area_is_bitcell_area() -> None:
    assert tech.sram_area_mm2(1024 * 1024) == pytest.approx(1024 * 1024 * 8 * 0.346e-6)


@given(st.floats(3, 180), st.floats(3, 180))
def test_energy_monotone_in_node(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert tech.mac_energy_pj("int8", lo) <= tech.mac_energy_pj("int8", hi)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: tech.mac_energy_pj("int8", 1.0), "'tech_node_nm'"),
        (lambda: tech.mac_energy_pj("int8", np.array([45.0, float("nan")])), "'tech_node_nm'"),
        (lambda: tech.sram_read_energy_pj(0), "'capacity_bytes'"),
        (lambda: tech.sram_read_energy_pj(1024, 0), "'access_width_bits'"),
        (lambda: tech.mac_energy_pj("int2"), "int2"),
        (lambda: tech.op_energy_pj("div", "fp32"), "div"),  # type: ignore[arg-type]
        (lambda: tech.dram_energy_pj_per_byte("max"), "max"),  # type: ignore[arg-type]
    ],
)
def test_bad_inputs(call: object, fragment: str) -> None:
    with pytest.raises(HardwareSpecError, match=fragment):
        call()  # type: ignore[operator]
