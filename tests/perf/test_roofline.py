"""Multi-level roofline: ceilings, binding level, traffic bounds, and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec, hardware_from_dict
from codesign_playground.perf.roofline import operand_traffic_bytes, roofline
from codesign_playground.workload import ops
from codesign_playground.workload.arrays import layer_arrays
from codesign_playground.workload.ir import Network, TensorSpec


def machine(dram_bw: float = 10e9, sram_kb: int = 256, clock: float = 1e9) -> HardwareSpec:
    return hardware_from_dict(
        {
            "name": "m",
            "kind": "systolic",
            "dataflow": "ws",
            "compute": {
                "rows": 16,
                "cols": 16,
                "macs_per_pe_per_cycle": {"int8": 1, "fp32": 1},
                "clock_hz": clock,
            },
            "memory": [
                {
                    "name": "sram",
                    "capacity_bytes": sram_kb * 1024,
                    "holds": ["inputs", "weights", "outputs"],
                    "bytes_per_cycle": 64,
                },
                {
                    "name": "dram",
                    "holds": ["inputs", "weights", "outputs"],
                    "bandwidth_bytes_per_s": dram_bw,
                },
            ],
        }
    )


def gemm_net(m: int, k: int, n: int, prec: str = "int8") -> Network:
    op = ops.gemm("fc", TensorSpec("x", (m, k)), n, bias=False, precision=prec)  # type: ignore[arg-type]
    return Network("g", (op,))


def test_compute_bound_large_gemm() -> None:
    r = roofline(gemm_net(1024, 1024, 1024), machine(dram_bw=1e12))
    assert r.bound == ("compute",)
    assert r.compute_s[0] == pytest.approx(2 * 1024**3 / (2 * 256 * 1e9))
    assert r.latency_s[0] == r.compute_s[0]
    assert r.utilization[0] == pytest.approx(1.0)


def test_memory_bound_vector_and_binding_level() -> None:
    x = TensorSpec("x", (1, 1 << 20))
    net = Network("e", (ops.activation("relu", "Relu", x, precision="int8"),))
    r = roofline(net, machine(dram_bw=1e9))
    assert r.bound == ("dram",)
    assert r.traffic_bytes[1, 0] == 2 * (1 << 20)  # read once, written once
    assert r.latency_s[0] == pytest.approx(2 * (1 << 20) / 1e9)


def test_gemm_traffic_lower_bound() -> None:
    """Inputs cross a level at least max(m k, m n k / sqrt(S)) times."""
    la = layer_arrays(gemm_net(512, 512, 512))
    s = 4096.0
    t = operand_traffic_bytes(la, s)
    bound = 512**3 / math.sqrt(s)
    assert t[0, 0] == pytest.approx(bound)  # inputs, 1 byte each
    assert t[1, 0] == pytest.approx(bound)  # weights
    assert t[2, 0] == 512 * 512  # outputs once
    big = operand_traffic_bytes(la, 1e12)
    assert big[0, 0] == 512 * 512  # capacity beyond the bound: compulsory


def test_unsupported_precision_names_the_fix() -> None:
    with pytest.raises(HardwareSpecError, match="set precision"):
        roofline(gemm_net(8, 8, 8, "bf16"), machine())


def test_chart_data() -> None:
    chart = roofline(gemm_net(64, 64, 64), machine()).chart()
    assert chart["peak_ops_per_s"] == 2 * 256 * 1e9
    assert [c["level"] for c in chart["ceilings"]] == ["sram", "dram"]
    assert chart["points"][0]["bound"] in {"compute", "sram", "dram"}


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 300),
    k=st.integers(1, 300),
    n=st.integers(1, 300),
    bw=st.floats(1e8, 1e11),
    factor=st.floats(1.0, 100.0),
)
def test_more_bandwidth_never_slower(m: int, k: int, n: int, bw: float, factor: float) -> None:
    net = gemm_net(m, k, n)
    slow = roofline(net, machine(dram_bw=bw)).latency_s
    fast = roofline(net, machine(dram_bw=bw * factor)).latency_s
    assert np.all(fast <= slow * (1 + 1e-12))
    assert np.all(slow >= 0)
