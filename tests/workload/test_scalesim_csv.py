"""SCALE-Sim topology CSV import, both forms, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesign_playground.errors import ModelFormatError, ModelNotFoundError
from codesign_playground.workload import load_workload
from codesign_playground.workload.importers.scalesim_csv import (
    network_from_scalesim_csv,
    read_topology,
)

HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
    "Num Filter, Strides,"
)
CONV = (
    HEADER
    + """
Conv1, 230, 230, 7, 7, 3, 64, 2,
CB2a_1, 56, 56, 1, 1, 64, 64, 1,
NoTrailingComma, 15, 15, 3, 3, 8, 10, 2
"""
)
GEMM = """Layer, M, N, K,
QKT, 1024, 1024, 64,
FF1, 1000, 3072, 769,
"""


def test_conv_form(tmp_path: Path) -> None:
    p = tmp_path / "resnet_part.csv"
    p.write_text(CONV)
    rows = read_topology(p)
    assert [r.name for r in rows] == ["Conv1", "CB2a_1", "NoTrailingComma"]
    # SCALE-Sim's ceil((230 - 7 + 2) / 2) = 113 output rows, not PyTorch's floor (112)
    assert rows[0].ofmap_h == 113 and rows[0].mnk == (113 * 113, 64, 147)
    assert rows[2].stride_h == rows[2].stride_w == 2 and rows[2].ofmap_h == 7
    net = network_from_scalesim_csv(p)
    assert net.ops[0].macs == 113 * 113 * 64 * 147
    assert net.ops[0].weight_precision == "int8"
    assert net.ops[2].outputs[0].shape == (1, 10, 7, 7)


def test_gemm_form_maps_like_scalesim(tmp_path: Path) -> None:
    p = tmp_path / "gemm.csv"
    p.write_text(GEMM)
    rows = read_topology(p)
    assert rows[1].mnk == (1000, 3072, 769)  # SCALE-Sim: IFMAP M x K, filter 1 x K, N filters
    net = load_workload(p)
    assert net.ops[0].kind == "gemm" and net.ops[0].macs == 1024 * 1024 * 64
    assert load_workload(p, batch=2).ops[1].macs == 2 * 1000 * 3072 * 769


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("a,b,c\n1,2,3\n", "header"),
        ("Layer, M, N, K,\nL1, 10, x, 3,\n", "row 2, column 'N': must be an integer"),
        ("Layer, M, N, K,\nL1, 10, 0, 3,\n", "must be > 0"),
        ("Layer, M, N, K,\n", "no layer rows"),
        (CONV.splitlines()[0] + "\nC, 5, 5, 7, 7, 3, 4, 1,\n", "larger than IFMAP"),
        (CONV.splitlines()[0] + "\nC, 5, 5, 3, 3,\n", "expected 8 fields"),
    ],
)
def test_errors_name_row_and_column(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "t.csv"
    p.write_text(text)
    with pytest.raises(ModelFormatError, match=match):
        read_topology(p)


def test_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        read_topology(tmp_path / "nope.csv")


def test_scalesim_rules_trailing_comma_sparsity_and_depthwise(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text(HEADER + "\nc1, 14, 14, 3, 3, 16, 32, 2, 2:4,\nDPw, 8, 8, 3, 3, 3, 1, 1, 7\n")
    # Lenient (default): every field, an integer ninth field is the column stride.
    lenient = read_topology(p)
    assert (lenient[0].sparsity_n, lenient[0].sparsity_m) == (2, 4)
    assert lenient[1].stride_w == 7 and lenient[1].channels == 3 and lenient[1].row == 3
    # SCALE-Sim's exact behaviour: the last field of a row without trailing comma is dropped.
    dropped = read_topology(p, trailing_comma="drop", expand_depthwise=True)
    assert [r.name for r in dropped[1:]] == ["DPwChannel_0", "DPwChannel_1", "DPwChannel_2"]
    assert all(r.channels == 1 and r.stride_w == 1 for r in dropped[1:])
    with pytest.raises(ModelFormatError, match="row 3: no trailing comma"):
        read_topology(p, trailing_comma="require")
    p.write_text(HEADER + "\nc1, 14, 14, 3, 3, 16, 32, 2,\nc2, 9, 9, 3, 3, 1, 1\n")
    with pytest.raises(ModelFormatError, match="row 3, column 'Num Filter': missing"):
        read_topology(p, trailing_comma="drop")


def test_forced_form_skips_header_check(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("whatever,\ng1, 100, 37, 50,\n")
    (row,) = read_topology(p, gemm=True)
    assert row.gemm and row.mnk == (100, 37, 50)
