"""The job kinds: each a thin call into the library plus packing of what it produced.

* ``exploration``: :func:`codesign_playground.explore.run_exploration` over a design-space
  document, checkpointing into the job's work folder (so an interrupted job resumes), with
  progress and cancellation wired to the job row; the report folder becomes the artifact;
* ``rtl``: :func:`codesign_playground.rtl.write_design` into a temporary folder, tarred.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codesign_playground.config import Settings
from codesign_playground.errors import InputError, ToolError
from codesign_playground.service.jobs.runner import JobContext, JobOutcome
from codesign_playground.service.schemas import synthesis_size_error

MAX_STORED_POINTS = 20_000
"""Points kept in the job's result document; the artifact's points.csv has all of them."""

__all__ = [
    "KINDS",
    "MAX_STORED_POINTS",
    "job_model_path",
    "prepare_space",
    "run_exploration_job",
    "run_rtl_job",
    "tar_folder",
]


def tar_folder(folder: Path, arcname: str) -> bytes:
    """``folder`` as a gzipped tarball whose entries sit under ``arcname/``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=f"{arcname}/{path.relative_to(folder).as_posix()}")
    return buf.getvalue()


def run_rtl_job(ctx: JobContext) -> JobOutcome:
    from codesign_playground.rtl import SystolicDesign, write_design

    p = ctx.params
    design = SystolicDesign(
        rows=int(p["rows"]),
        cols=int(p["cols"]),
        dataflow=p.get("dataflow", "ws"),
        data_width=int(p.get("data_width", 8)),
        acc_width=int(p.get("acc_width") or 32),
        buffer_depth=int(p.get("buffer_depth", 512)),
        name=str(p.get("name", "systolic_top")),
    )
    simulate, synth = bool(p.get("simulate")), bool(p.get("synthesize"))
    settings = ctx.settings or Settings.model_construct()  # the defaults
    too_large = synth and synthesis_size_error(
        design.rows, design.cols, settings.codesign_synth_max_pes
    )
    if too_large:  # again in the worker: the limit may have been lowered since submission
        raise InputError(too_large)
    steps = 1 + simulate + synth
    ctx.report(0, steps, message="generating Verilog", force=True)
    result: dict[str, Any] = {"design": design.to_dict(), "label": design.label}
    with tempfile.TemporaryDirectory() as tmp:
        generated = write_design(design, Path(tmp) / design.label)
        files = sorted(
            path.relative_to(generated.directory).as_posix()
            for path in generated.directory.rglob("*")
            if path.is_file()
        )
        data = tar_folder(generated.directory, design.label)
        result |= {"top": generated.top, "files": files}
        done = 1
        if simulate:
            ctx.report(done, steps, message="simulating (Icarus Verilog)", force=True)
            result["simulation"] = _simulate(generated, Path(tmp) / "sim")
            done += 1
        if synth:
            ctx.report(done, steps, message="synthesizing (Yosys)", force=True)
            result["synthesis"] = _synthesize(generated, Path(tmp) / "synth", settings)
    ctx.report(steps, steps, message="done", force=True)
    return JobOutcome(result=result, artifact=(f"{design.label}.tar.gz", data))


def _simulate(generated: Any, work_dir: Path) -> dict[str, Any]:
    """The GEMM test bench's result on Icarus Verilog (8 cases, seed 0)."""
    from codesign_playground.rtl import get_simulator, sample_cases

    simulator = get_simulator("icarus")
    if not simulator.available():
        raise InputError("simulate: Icarus Verilog (iverilog) is not installed on the worker")
    report = simulator.run(generated, sample_cases(generated.design, 8, seed=0), work_dir)
    out = report.to_dict()
    out.pop("waves", None)  # a worker path, meaningless to the client
    return dict(_jsonable(out))


def _synthesize(generated: Any, work_dir: Path, settings: Settings) -> dict[str, Any]:
    """Yosys's generic-cell counts of the design, within ``CODESIGN_SYNTH_TIMEOUT_SECONDS``
    and ``CODESIGN_SYNTH_MEMORY_MB``."""
    from codesign_playground.rtl import synthesize, yosys_available

    if not yosys_available():
        raise InputError("synthesize: Yosys is not installed on the worker")
    timeout_s, memory_mb = (
        settings.codesign_synth_timeout_seconds,
        settings.codesign_synth_memory_mb,
    )
    try:
        report = synthesize(
            generated, "generic", work_dir, timeout_s=timeout_s, memory_mb=memory_mb
        )
    except ToolError as exc:  # the operator's knobs, for a job that ran into them
        raise ToolError(
            f"{exc.summary} (worker limits: "
            f"CODESIGN_SYNTH_TIMEOUT_SECONDS = {timeout_s:g}, CODESIGN_SYNTH_MEMORY_MB = "
            f"{memory_mb})"
        ) from None
    out = report.to_dict()
    out.pop("netlist", None)  # a worker path
    return dict(_jsonable(out))


def prepare_space(params: dict[str, Any], model_path: Path | None) -> Any:
    """The validated ``Space`` of a job, with an uploaded model's file put in ``model.name``."""
    from codesign_playground.explore.space import space_from_dict
    from codesign_playground.service.space_policy import server_space

    # again in the worker: a job stored by an older version may still name a path
    document = server_space(params["space"], model_id=params.get("model_id"))
    if model_path is not None:
        model = dict(document.get("model") or {})
        model["name"] = str(model_path)
        document["model"] = model
    return space_from_dict(document)


def job_model_path(db: Any, data_dir: Path, params: dict[str, Any]) -> Path | None:
    """The file of the stored model a job names (written to the data folder), or None."""
    model_id = params.get("model_id")
    if model_id is None:
        return None
    from codesign_playground.service import crud
    from codesign_playground.service.analysis import model_file

    with db.session() as s:
        # the owner was checked when the job was submitted
        found = crud.get_model_content(s, model_id=str(model_id), owner=None)
        if found is None:
            raise InputError(f"model_id: the stored model {model_id} no longer exists")
        row, content = found
        return model_file(data_dir, row.sha256, content, row.name)


def _model_path(ctx: JobContext) -> Path | None:
    return job_model_path(ctx.db, ctx.data_dir, ctx.params)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, float | int):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # PostgreSQL's JSON has no NaN
    if isinstance(value, int | str | bool) or value is None:
        return value
    return str(value)


def run_exploration_job(ctx: JobContext) -> JobOutcome:
    from codesign_playground.explore import run_exploration
    from codesign_playground.explore.chunks import CHUNKED_STRATEGIES, STUDY_STRATEGIES
    from codesign_playground.explore.report import use_plotly_bundle, write_report
    from codesign_playground.service.core.headers import PLOTLY_BUNDLE_URL

    space = prepare_space(ctx.params, _model_path(ctx))
    out_dir = ctx.work_dir / "run"
    out_dir.mkdir(parents=True, exist_ok=True)

    def progress(evaluated: int, total: int | None, best_so_far: Any, eta_s: float | None) -> None:
        ctx.report(evaluated, total, _jsonable(best_so_far), eta_s)

    overrides = {
        k: ctx.params[k] for k in ("strategy", "budget", "seed") if ctx.params.get(k) is not None
    }
    strategy = overrides.get("strategy") or space.search.strategy
    # NSGA-II and TPE: by default one sequential study checkpointed in the work folder (a
    # resumed run proposes exactly the uninterrupted run's points); with
    # CODESIGN_SHARED_STUDIES their batches share one optuna study in PostgreSQL between
    # workers (faster on many workers, but the proposals then depend on timing)
    shared = (
        strategy in STUDY_STRATEGIES
        and ctx.settings is not None
        and ctx.settings.codesign_shared_studies
        and ctx.dispatch is not None
        and ctx.db.engine.dialect.name == "postgresql"
    )
    if ctx.settings is not None and (strategy in CHUNKED_STRATEGIES or shared):
        result = _run_chunked(ctx, space, overrides, out_dir)
    else:
        result = run_exploration(
            space,
            **overrides,
            out_dir=out_dir,
            resume=True,
            progress=progress,
            should_stop=ctx.should_stop,
        )
    document = result.to_dict()
    points = result.points
    document["points_total"] = len(points)
    document["points"] = json.loads(points.head(MAX_STORED_POINTS).to_json(orient="records"))
    document = _jsonable(document)
    report_dir = ctx.work_dir / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    written = write_report(result, report_dir)  # the tarball's report opens offline
    report_text = _report_text(report_dir, written)
    if report_text is not None:  # the served one loads Plotly from this server
        report_text = use_plotly_bundle(report_text, PLOTLY_BUNDLE_URL)
    evaluated = int(result.evaluations)
    best = document.get("knee") if isinstance(document, dict) else None
    ctx.report(evaluated, int(result.planned), best, 0.0, message="done", force=True)
    return JobOutcome(
        result=document,
        artifact=("exploration-report.tar.gz", tar_folder(report_dir, "report")),
        report=report_text,
        points_evaluated=evaluated,
    )


def _run_chunked(ctx: JobContext, space: Any, overrides: dict[str, Any], out_dir: Path) -> Any:
    """A search as chunks that any number of workers evaluate (grid ranges, random batches, or
    NSGA-II/TPE batches of one shared study; see :mod:`codesign_playground.service.jobs.chunked`);
    this process is the planner."""
    from codesign_playground.explore.chunks import assemble, plan_chunks, plan_header
    from codesign_playground.explore.evaluator import Evaluator
    from codesign_playground.service.jobs import chunked

    settings = ctx.settings
    assert settings is not None
    ev = Evaluator(space, out_dir=out_dir)
    stored = chunked.stored_ranges(ctx.db, ctx.job_id)
    if stored:  # resumed: the stored plan stands, its cancelled chunks are due again
        plan = plan_header(ev, **overrides)
        chunked.ensure_chunks(ctx.db, ctx.job_id, stored)
        chunked.reopen_cancelled(ctx.db, ctx.job_id)
    else:
        plan = plan_chunks(
            ev,
            **overrides,
            chunk_points=settings.codesign_chunk_points,
            chunk_seconds=settings.codesign_chunk_seconds,
        )
        chunked.ensure_chunks(ctx.db, ctx.job_id, plan.ranges)
    frames, stopped, elapsed_s = chunked.run_planned(
        ctx, ev, plan, settings=settings, worker=ctx.worker, dispatch=ctx.dispatch
    )
    return assemble(ev, plan, frames, elapsed_s=elapsed_s, stopped=stopped)


def _report_text(report_dir: Path, written: Any) -> str | None:
    """The main report file's text (HTML, else Markdown), to serve at ``.../report``."""
    candidates: list[Path] = []
    if isinstance(written, str | Path):
        candidates.append(Path(written))
    elif isinstance(written, dict):
        candidates += [Path(v) for v in written.values() if isinstance(v, str | Path)]
    elif isinstance(written, list | tuple):
        candidates += [Path(v) for v in written if isinstance(v, str | Path)]
    candidates += sorted(report_dir.rglob("*.html")) + sorted(report_dir.rglob("*.md"))
    for path in candidates:
        if path.is_file() and path.suffix in (".html", ".md"):
            return path.read_text(encoding="utf-8", errors="replace")
    return None


KINDS: dict[str, Callable[[JobContext], JobOutcome]] = {
    "exploration": run_exploration_job,
    "rtl": run_rtl_job,
}
