"""torch.export import: data-dependent sizes are an error naming the node; einsum counted.

Both ONNX exporters and ``torch.export`` must agree with ``FlopCounterMode`` on einsum too
(it runs as ``bmm``); a dense layer on the rows ``nonzero`` returns cannot be sized
before run time, so importing it is an ``UnresolvedShapeError`` unless allowed.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from codesign_playground.errors import UnresolvedShapeError  # noqa: E402
from codesign_playground.workload import profile  # noqa: E402
from codesign_playground.workload.importers.onnx_graph import network_from_onnx  # noqa: E402
from codesign_playground.workload.importers.torch_export import network_from_torch  # noqa: E402

pytestmark = pytest.mark.torch


class DataDependent(nn.Module):
    """A conv (sized) then a dense layer over the coordinates of nonzero entries."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
        self.fc = nn.Linear(4, 3)

    def forward(self, x: Any) -> Any:
        y = self.conv(x)
        points = torch.nonzero(y > 0).float()  # (rows known only at run time, 4)
        return self.fc(points)


def test_data_dependent_dense_layer_is_an_error_naming_it() -> None:
    x = torch.randn(1, 1, 4, 4)
    with pytest.raises(UnresolvedShapeError) as err:
        network_from_torch(DataDependent(), (x,))
    msg = str(err.value)
    assert "'fc'" in msg and "dimension 0" in msg and "\n" not in msg


def test_data_dependent_allowed_counts_the_rest() -> None:
    net = network_from_torch(DataDependent(), (torch.randn(1, 1, 4, 4),), allow_unresolved=True)
    assert [u.name for u in net.unresolved] == ["fc"]
    assert net.macs == 16 * 9  # the conv
    tot = profile(net)["totals"]
    assert tot["unresolved"] == 1
    assert 0 < tot["unresolved_fraction_of_nodes"] < 1
    assert tot["unresolved_fraction_of_arithmetic"] > 0


def test_pt2_archive_through_the_cli(tmp_path: Path) -> None:
    """A saved ``torch.export`` archive of the same module: ``codesign profile`` exits 2
    with one line naming the node; with ``--allow-unresolved`` the JSON counts it and a
    warning says so. An estimate says how much it left out."""
    import json

    from typer.testing import CliRunner

    from codesign_playground.cli.main import app
    from codesign_playground.cli.status import ExitStatus

    path = tmp_path / "data_dependent.pt2"
    x = torch.randn(1, 1, 4, 4)
    torch.export.save(torch.export.export(DataDependent().eval(), (x,), strict=False), str(path))
    runner = CliRunner()
    res = runner.invoke(app, ["profile", str(path), "--json"])
    assert res.exit_code == ExitStatus.BAD_INPUT, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "'fc'" in lines[0] and "dimension 0" in lines[0], res.stderr
    res = runner.invoke(app, ["profile", str(path), "--json", "--allow-unresolved"])
    assert res.exit_code == 0, res.output
    tot = json.loads(res.stdout)["totals"]
    assert (tot["unresolved"], tot["macs"]) == (1, 16 * 9)
    assert 0 < tot["unresolved_fraction_of_nodes"] < 1
    assert "warning" in res.stderr and "fc" in res.stderr
    args = ["estimate", "-m", str(path), "-H", "tpu-v1", "--json"]
    assert runner.invoke(app, args).exit_code == ExitStatus.BAD_INPUT
    res = runner.invoke(app, [*args, "--allow-unresolved"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["unresolved"]["nodes"] == ["fc"]


class Einsums(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(8, 6))

    def forward(self, q: Any, k: Any) -> Any:
        scores = torch.einsum("bhid,bhjd->bhij", q, k)
        mixed = torch.einsum("...ij,bhjd->...id", scores, k)
        return torch.einsum("bhid,de->bhie", mixed, self.w), torch.einsum("bhij->bh", scores)


@pytest.mark.parametrize("route", ["torch.export", "torchscript"])
def test_einsum_macs_equal_flop_counter(route: str, tmp_path: Path) -> None:
    module = Einsums().eval()
    q, k = torch.randn(2, 3, 4, 8), torch.randn(2, 3, 5, 8)
    with FlopCounterMode(display=False) as fcm:
        module(q, k)
    ref = fcm.get_total_flops() // 2
    if route == "torch.export":
        net = network_from_torch(module, (q, k))
    else:
        path = tmp_path / "einsum.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (q, k), str(path), dynamo=False, opset_version=17)
        net = network_from_onnx(path)
    assert net.macs == ref
    assert net.params == 48
