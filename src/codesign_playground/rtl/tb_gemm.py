"""cocotb testbench for a generated systolic-array design (run by :mod:`.sim`, not by pytest).

One test, :func:`gemm_cases`, runs every case of a job file in one simulation: for each GEMM it
writes A and B through the buffer port, programs M, N, K, starts the run, waits for ``done``,
reads C back and compares it bit-exactly with NumPy (:func:`.host.reference_gemm`; conv cases
also with a direct convolution). It records two cycle counts per case: the ``CYCLES`` register
and the simulation time from the clock edge that samples the start to the edge that raises
``done``, divided by the clock period; both must agree.

The job comes in through plusargs (no environment variables): ``+cg_job=<job.json>`` and
``+cg_result=<result.json>``. The job holds ``design`` (:meth:`SystolicDesign.to_dict`),
``seed`` and ``cases`` (:class:`GemmCase` dicts).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import FallingEdge, RisingEdge, Timer, with_timeout

from codesign_playground.rtl._design import SystolicDesign
from codesign_playground.rtl._host import (
    CSR,
    GemmCase,
    check_gemm_fits,
    make_operands,
    pack_a,
    pack_b,
    reference_gemm,
    unpack_c,
    wrap_signed,
)

CLOCK_NS = 10


class _Host:
    """Drives the design's ports; inputs change on falling edges, the design samples on rising."""

    def __init__(self, dut: Any) -> None:
        self.dut = dut

    async def csr_write(self, addr: int, value: int) -> float:
        """Write a register; returns the time (ns) of the rising edge that samples it."""
        dut = self.dut
        await FallingEdge(dut.clk)
        dut.csr_we.value = 1
        dut.csr_addr.value = addr
        dut.csr_wdata.value = value
        await RisingEdge(dut.clk)
        t = get_sim_time("ns")
        await FallingEdge(dut.clk)
        dut.csr_we.value = 0
        return t

    async def csr_read(self, addr: int) -> int:
        dut = self.dut
        await FallingEdge(dut.clk)
        dut.csr_addr.value = addr
        await Timer(1, unit="ns")
        return int(dut.csr_rdata.value.to_unsigned())

    async def write_words(self, sel: int, words: list[int]) -> None:
        dut = self.dut
        await FallingEdge(dut.clk)
        dut.mem_sel.value = sel
        for addr, word in enumerate(words):
            dut.mem_we.value = 1
            dut.mem_addr.value = addr
            dut.mem_wdata.value = word
            await FallingEdge(dut.clk)
        dut.mem_we.value = 0

    async def read_words(self, count: int) -> list[int]:
        dut = self.dut
        out: list[int] = []
        await FallingEdge(dut.clk)
        for addr in range(count):
            dut.mem_addr.value = addr
            await FallingEdge(dut.clk)  # the rising edge in between reads the buffer
            out.append(int(dut.mem_rdata.value.to_unsigned()))
        return out


def _cycle_bound(design: SystolicDesign, case: GemmCase) -> int:
    """A generous upper bound on a run's cycles (a hang fails instead of running forever)."""
    r, c = design.rows, design.cols
    tiles = -(-case.m // r) * -(-case.k // r) * -(-case.n // c)
    return 2 * tiles * (2 * r + c + case.m + case.k) + 1000


def _load_job() -> tuple[dict[str, Any], Path]:
    args = cocotb.plusargs
    job_path, result_path = args.get("cg_job"), args.get("cg_result")
    if not isinstance(job_path, str) or not isinstance(result_path, str):
        raise RuntimeError("run with +cg_job=<job.json> +cg_result=<result.json>")
    job: dict[str, Any] = json.loads(Path(job_path).read_text())
    return job, Path(result_path)


@cocotb.test()
async def gemm_cases(dut: Any) -> None:
    """Every case of the job: bit-exact C and the cycle count of each run."""
    job, result_path = _load_job()
    design = SystolicDesign.from_dict(job["design"])
    cases = [GemmCase(**c) for c in job["cases"]]
    rng = np.random.default_rng(int(job.get("seed", 0)))
    host = _Host(dut)
    wall0 = time.perf_counter()

    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    for name in ("csr_we", "csr_addr", "csr_wdata", "mem_we", "mem_sel", "mem_addr", "mem_wdata"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    for _ in range(3):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0

    config = await host.csr_read(CSR.CONFIG)
    expected_config = (
        design.rows
        | design.cols << 8
        | design.data_width << 16
        | (1 if design.dataflow == "os" else 0) << 24
    )
    assert config == expected_config, f"CONFIG register {config:#x} != {expected_config:#x}"

    results: list[dict[str, Any]] = []
    for case in cases:
        check_gemm_fits(design, case.m, case.n, case.k)
        a, b, conv = make_operands(case, rng, design.data_width)
        await host.write_words(0, pack_a(design, a))
        await host.write_words(1, pack_b(design, b))
        await host.csr_write(CSR.M, case.m)
        await host.csr_write(CSR.N, case.n)
        await host.csr_write(CSR.K, case.k)
        t_start = await host.csr_write(CSR.CTRL, 1)
        if not int(dut.done.value):
            await with_timeout(RisingEdge(dut.done), _cycle_bound(design, case) * CLOCK_NS, "ns")
        t_done = get_sim_time("ns")
        cycles = await host.csr_read(CSR.CYCLES)
        status = await host.csr_read(CSR.STATUS)
        nf = -(-case.n // design.cols)
        got = unpack_c(design, await host.read_words(nf * case.m), case.m, case.n)
        want = reference_gemm(a, b, design.acc_width)
        mismatches = int(np.count_nonzero(got != want))
        if conv is not None:  # the lowered GEMM must also equal the direct convolution
            direct = wrap_signed(conv.reshape(conv.shape[0], -1).T, design.acc_width)
            mismatches += int(np.count_nonzero(got != direct))
        results.append(
            {
                **case.to_dict(),
                "cycles": cycles,
                "cycles_measured": round((t_done - t_start) / CLOCK_NS),
                "status": status,
                "mismatches": mismatches,
                "ok": mismatches == 0 and status == 1,
            }
        )
        dut._log.info(
            "GEMM %dx%dx%d (%s): %d cycles, %s",
            case.m, case.n, case.k, case.kind, cycles,
            "ok" if mismatches == 0 else f"{mismatches} mismatches",
        )  # fmt: skip

    report = {
        "design": design.to_dict(),
        "simulator": cocotb.SIM_NAME,
        "simulator_version": cocotb.SIM_VERSION,
        "seed": int(job.get("seed", 0)),
        "wall_s": round(time.perf_counter() - wall0, 3),
        "cases": results,
    }
    result_path.write_text(json.dumps(report, indent=2) + "\n")
    bad = [r for r in results if not r["ok"]]
    assert not bad, f"{len(bad)} of {len(results)} GEMMs differ from NumPy, first: {bad[0]}"
