"""Time and peak memory of Yosys ``generic`` synthesis (what the service's RTL jobs run) by
array size: the measurement behind ``CODESIGN_SYNTH_MAX_PES`` (docs/rtl.md, "Synthesis").

Run: ``.venv/bin/python benchmarks/bench_synth.py [--sizes 8 16 32] [--data-width 8]
[--memory-mb 8192] [--timeout-s 1800]`` (needs yosys on PATH). Each size is a square
weight-stationary array (int8 by default) with the service's default buffers (512 words),
synthesized once by
:func:`codesign_playground.rtl.synthesize` in a child process of its own, under the given
limits. Printed per size:

* ``wall_s``: the synthesis call, generation excluded;
* ``max_rss_mb``: the largest resident set of any one process of the run (Yosys or an ABC it
  started): ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of the child, which covers its waited-for
  descendants;
* ``vm_peak_mb``: the largest address space (``VmPeak``) seen of any one process of the run,
  sampled from ``/proc`` every 0.1 s (what ``ulimit -v``, i.e. ``memory_mb``, bounds; a
  process living less than a sample may be missed);
* ``total_rss_mb``: the largest sum of the resident sets of the run's processes at one sample
  (Yosys stays resident while its ABC runs): what one synthesis takes of a worker pod's memory;
* ``cells``: the generic cell count, or the one-line error when a limit stopped it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def _session_memory_kb(sid: int) -> tuple[int, int]:
    """The largest VmPeak and the sum of VmRSS (kB) over the live processes of session
    ``sid``."""
    peak = total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != sid:
                continue
            for line in Path(entry.path, "status").read_text().splitlines():
                if line.startswith("VmPeak:"):
                    peak = max(peak, int(line.split()[1]))
                elif line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return peak, total


def _ppid(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])


def _child(size: int, width: int, memory_mb: int, timeout_s: float, conn: Any) -> None:
    from codesign_playground.errors import CodesignError
    from codesign_playground.rtl import SystolicDesign, synthesize, write_design

    with tempfile.TemporaryDirectory() as tmp:
        generated = write_design(
            SystolicDesign(size, size, "ws", data_width=width), Path(tmp) / "rtl"
        )
        before = set(os.listdir("/proc"))
        peak = [0, 0]
        done = threading.Event()

        def sample() -> None:
            # Yosys runs in a session of its own (start_new_session): find it among the new pids
            sids: set[int] = set()
            while not done.wait(0.1):
                for name in set(os.listdir("/proc")) - before - {str(s) for s in sids}:
                    if name.isdigit() and _ppid(int(name)) == os.getpid():
                        try:
                            if os.getsid(int(name)) == int(name):
                                sids.add(int(name))
                        except OSError:
                            pass
                for sid in sids:
                    vm, rss = _session_memory_kb(sid)
                    peak[0] = max(peak[0], vm)
                    peak[1] = max(peak[1], rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.perf_counter()
        try:
            report = synthesize(
                generated, "generic", Path(tmp) / "synth", timeout_s=timeout_s, memory_mb=memory_mb
            )
            outcome: Any = report.summary["cells"]
        except CodesignError as exc:
            outcome = str(exc).split(";")[0]
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    conn.send(
        {
            "size": f"{size}x{size}",
            "data_width": width,
            "pes": size * size,
            "wall_s": round(wall, 1),
            "max_rss_mb": round(rss_kb / 1024),
            "vm_peak_mb": round(peak[0] / 1024),
            "total_rss_mb": round(peak[1] / 1024),
            "cells": outcome,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--data-width", type=int, default=8)
    parser.add_argument("--memory-mb", type=int, default=8192)
    parser.add_argument("--timeout-s", type=float, default=1800)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    for size in args.sizes:
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_child, args=(size, args.data_width, args.memory_mb, args.timeout_s, child)
        )
        proc.start()
        row = parent.recv()
        proc.join()
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
