"""ZigZag 3.x accelerator, mapping and workload files read into specs, constraints, networks."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.foreign import foreign_format, read_foreign_hardware
from codesign_playground.hardware.zigzag import ZigZagAccelerator, ZigZagWarning, read_zigzag
from codesign_playground.perf.mapped import estimate_mapped
from codesign_playground.workload.load import load_workload

DATA = Path(__file__).resolve().parents[1] / "data" / "zigzag"
PAIRS = {
    "tpu_like": "tpu_like",
    "eyeriss_like": "default",
    "edge_tpu_like": "edge_tpu_like",
    "meta_prototype": "meta_prototype_like",
}


def _read(acc: str) -> tuple[ZigZagAccelerator, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        z = read_zigzag(DATA / "hardware" / f"{acc}.yaml", DATA / "mapping" / f"{PAIRS[acc]}.yaml")
    return z, [str(w.message) for w in caught if issubclass(w.category, ZigZagWarning)]


def test_tpu_like_fields_land_on_the_spec() -> None:
    z, notes = _read("tpu_like")
    spec = z.spec
    assert (spec.compute.rows, spec.compute.cols) == (32, 32)
    assert spec.compute.mac_energy_pj == {"int8": 0.04}
    levels = {lv.name: lv for lv in spec.memory}
    assert [lv.name for lv in spec.memory] == ["rf_128B", "rf_2B", "sram_2MB", "dram"]
    # rf_128B: 1024 bits, per PE (served_dimensions []), holds I2 = weights
    assert levels["rf_128B"].capacity_bytes == 128
    assert levels["rf_128B"].instances == 1024
    assert levels["rf_128B"].holds == ("weights",)
    # sram_2MB: r_cost per 2048-bit word, read + write port of 2048 bits each
    assert levels["sram_2MB"].read_energy_pj == pytest.approx(416.16)
    assert levels["sram_2MB"].write_energy_pj == pytest.approx(378.4)
    assert levels["sram_2MB"].access_width_bits == 2048
    assert levels["sram_2MB"].bytes_per_cycle == pytest.approx(2 * 2048 / 8)
    assert levels["sram_2MB"].instances == 1
    assert set(levels["sram_2MB"].holds) == {"inputs", "outputs"}
    assert levels["dram"].bytes_per_cycle == pytest.approx(8.0)
    # the mapping's default entry: D1 K 32 -> M, D2 C 32 -> C
    assert z.constraints is not None and z.constraints.spatial_for("any", "Conv") == (
        1,
        32,
        32,
        1,
        1,
        1,
        1,
    )
    # fields the model cannot honour are named
    assert any("temporal_ordering" in n for n in notes)
    assert any("bandwidth_min" in n for n in notes)


def test_served_dimension_subsets_and_array_caps_are_warned() -> None:
    z, notes = _read("edge_tpu_like")
    assert z.spec.compute.num_pes == 8 * 8 * 4 * 4
    assert any("rf_1B.served_dimensions" in n for n in notes)
    ey, _ = _read("eyeriss_like")
    # default.yaml unrolls K 32 x C 32; the 14 x 12 array caps it (as ZigZag does)
    assert ey.constraints is not None and ey.constraints.spatial_for("x", "Conv") == (
        1,
        14,
        12,
        1,
        1,
        1,
        1,
    )


@pytest.mark.parametrize("acc", sorted(PAIRS))
def test_every_example_accelerator_is_detected_and_read(acc: str) -> None:
    path = DATA / "hardware" / f"{acc}.yaml"
    assert foreign_format(path) == "zigzag"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZigZagWarning)
        fh = read_foreign_hardware(path, mapping=DATA / "mapping" / f"{PAIRS[acc]}.yaml")
    assert fh is not None and fh.spec.kind == "spatial" and fh.warnings


def test_bad_fields_are_one_line_errors(tmp_path: Path) -> None:
    text = (
        (DATA / "hardware" / "tpu_like.yaml").read_text().replace("sizes: [32, 32]", "sizes: [32]")
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(HardwareSpecError, match=r"operational_array\.sizes"):
        read_zigzag(bad)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("- name: default\n  spatial_mapping:\n    D7:\n      - K, 4\n")
    with pytest.raises(HardwareSpecError, match="D7"):
        read_zigzag(DATA / "hardware" / "tpu_like.yaml", mapping)


def test_yaml_workload_layers() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = load_workload(DATA / "workload" / "resnet18.yaml")
    first = y.ops[0]
    # conv1: K 64, C 3, OY = OX = 112, FY = FX = 7, ix = 2*ox + 1*fx (stride 2)
    assert first.macs == 64 * 3 * 112 * 112 * 7 * 7
    assert first.attrs["strides"] == (2, 2)
    assert first.act_precision == "int8"
    # pooling layers have no weight operand (W: 0): left out, each named in a warning
    assert sum("Pooling" in str(w.message) for w in caught) == 2


def test_mapping_honours_the_spatial_unrolling() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZigZagWarning)
        z = read_zigzag(DATA / "hardware" / "tpu_like.yaml", DATA / "mapping" / "tpu_like.yaml")
    net = load_workload(DATA / "workload" / "transformer_block.onnx", precision="int8")
    est = estimate_mapped(net, z.spec, objective="latency", constraints=z.constraints)
    mapped = [la for la in est.layers if la.mapped]
    assert {la.name for la in mapped} == {
        "proj_q",
        "proj_k",
        "proj_v",
        "attn_scores",
        "attn_context",
        "proj_o",
        "ffn_up",
        "ffn_down",
    }
    for la in mapped:
        # K (columns, M here) x 32 and C x 32: every product of this block fills 1024 PEs
        # except the attention products, whose reduction is 64 / 128 deep
        assert "Spatial" in la.mapping
        assert la.cycles >= la.macs / 1024
    ffn = next(la for la in mapped if la.name == "ffn_up")
    assert ffn.compute_cycles == pytest.approx(ffn.macs / 1024)
