"""Reports of an exploration: interactive HTML (Plotly), PNG figures (matplotlib), CSV,
Parquet and JSON.

``report.html`` loads Plotly's JavaScript with one ``<script src>`` instead of inlining it
(about 4.8 MB each time): by default from ``plotly.min.js``, copied once beside the report from
the installed plotly package, so a report folder opens offline; a server passes the URL where
it serves that same file (:func:`use_plotly_bundle`).

The chosen design is the knee of the front; its roofline and per-layer breakdown come from
:func:`codesign_playground.perf.estimate` on the same network and the hardware spec its
design template builds (the one-design case of the pipeline the search ran). In a mixed
space every alternative's points get their own colour.
"""

from __future__ import annotations

import html
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np

from codesign_playground.errors import InputError
from codesign_playground.explore.search import ExplorationResult
from codesign_playground.explore.space import space_knobs
from codesign_playground.explore.variants import build_variant
from codesign_playground.perf import Estimate, estimate
from codesign_playground.units import widest_precision

#: One colour per hardware alternative (Plotly's qualitative "D3" palette).
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
)

PLOTLY_BUNDLE = "plotly.min.js"
"""File name of Plotly's JavaScript bundle beside a report."""

__all__ = [
    "PLOTLY_BUNDLE",
    "chosen_estimate",
    "plotly_bundle_path",
    "use_plotly_bundle",
    "write_report",
]


def plotly_bundle_path() -> Path:
    """The ``plotly.min.js`` shipped inside the installed plotly package."""
    try:
        import plotly
    except ImportError:
        raise InputError("report: the HTML report needs plotly (pip install plotly)") from None
    return Path(plotly.__file__).parent / "package_data" / PLOTLY_BUNDLE


def _plotly_script(src: str) -> str:
    return f'<script charset="utf-8" src="{html.escape(src, quote=True)}"></script>'


def use_plotly_bundle(report_html: str, src: str) -> str:
    """``report_html`` (written by :func:`write_report`) loading Plotly from ``src`` instead
    of the ``plotly.min.js`` beside it (the one script tag in its head)."""
    return report_html.replace(_plotly_script(PLOTLY_BUNDLE), _plotly_script(src), 1)


def chosen_estimate(result: ExplorationResult) -> Estimate | None:
    """The full estimate of the knee design (``None`` when there is no feasible point)."""
    if result.knee is None:
        return None
    knee = result.knee
    space = result.space
    knobs = space_knobs(space)
    alts = space.alternatives()
    a = alts[[x.display_label() for x in alts].index(knee["design"])] if space.mixed else alts[0]
    a_index = alts.index(a)
    model_knobs = {k.name: knee[k.name] for k in knobs if k.section == "model"}
    hw = {k.knob: knee[k.name] for k in knobs if k.alternative == a_index}
    hw_prec = hw.get("precision")
    net = build_variant(
        space.model, model_knobs, default_precision=hw_prec or "int8", base_dir=result.base_dir
    )
    precisions = tuple(sorted({o.act_precision for o in net.ops}))
    if hw_prec is None and a.design_template.sized_precision:
        hw["precision"] = widest_precision(precisions)
    spec = a.design_template.to_spec(hw, precisions=precisions, name="design")
    return estimate(net, spec)


def _groups(pts: Any, result: ExplorationResult) -> list[tuple[str, Any, str]]:
    """(label, row mask, colour) per hardware alternative; one group when not mixed."""
    if not result.space.mixed:
        return [("", np.ones(len(pts), dtype=bool), "#7fa7d9")]
    labels = [a.display_label() for a in result.space.alternatives()]
    return [
        (lab, (pts["design"] == lab).to_numpy(), PALETTE[i % len(PALETTE)])
        for i, lab in enumerate(labels)
    ]


def _label(value: Any) -> str:
    """A category label; a knob of another alternative (None/NaN) shows as '-'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return str(value)


def _hover(df: Any, knobs: list[str], metrics: list[str]) -> list[str]:
    cols = [*knobs, *metrics]
    rows = df[cols].to_dict(orient="records")
    return [
        "<br>".join(
            f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {html.escape(str(v))}"
            for k, v in r.items()
        )
        for r in rows
    ]


def _plotly_html(result: ExplorationResult, est: Estimate | None, plotly_src: str) -> str:
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:
        raise InputError("report: the HTML report needs plotly (pip install plotly)") from None
    pts = result.points
    objs = result.objectives
    knobs = [k for k in result.knob_names if pts[k].nunique() > 1] or result.knob_names
    metrics = [o.column for o in objs] + ["area_mm2", "power_w", "accuracy"]
    metrics = list(dict.fromkeys(m for m in metrics if m in pts))
    figs: list[str] = []
    xcol = objs[0].column
    ycol = objs[1].column if len(objs) > 1 else "area_mm2"
    scatter = go.Figure()
    infeasible = pts[~pts["feasible"]]
    if len(infeasible):
        scatter.add_trace(
            go.Scattergl(
                x=infeasible[xcol],
                y=infeasible[ycol],
                mode="markers",
                name="infeasible",
                marker={"color": "#cccccc", "size": 5},
                text=_hover(infeasible, knobs, metrics),
                hoverinfo="text",
            )
        )
    for group, mask, color in _groups(pts, result):
        for label, sub_mask, size, line in (
            ("feasible", pts["feasible"] & ~pts["on_front"], 5, None),
            ("Pareto front", pts["on_front"], 9, {"color": "#d62728", "width": 1.5}),
        ):
            sub = pts[mask & sub_mask]
            if len(sub) == 0:
                continue
            name = f"{group}: {label}" if group else label
            marker: dict[str, Any] = {"color": color if group else "#7fa7d9", "size": size}
            if not group and label == "Pareto front":
                marker["color"] = "#d62728"
            elif line is not None:
                marker["line"] = line
            scatter.add_trace(
                go.Scattergl(
                    x=sub[xcol],
                    y=sub[ycol],
                    mode="markers",
                    name=name,
                    marker=marker,
                    text=_hover(sub, knobs, metrics),
                    hoverinfo="text",
                )
            )
    if result.knee is not None:
        scatter.add_trace(
            go.Scatter(
                x=[result.knee[xcol]],
                y=[result.knee[ycol]],
                mode="markers",
                name="knee (chosen)",
                marker={"symbol": "star", "size": 16, "color": "black"},
            )
        )
    scatter.update_layout(
        title=f"{html.escape(str(result.space.name))}: {xcol} vs {ycol} "
        f"({result.evaluations} points, {result.strategy})",
        xaxis_title=xcol,
        yaxis_title=ycol,
    )
    if xcol != "accuracy":
        scatter.update_xaxes(type="log")
    if ycol != "accuracy":
        scatter.update_yaxes(type="log")
    figs.append(scatter.to_html(full_html=False, include_plotlyjs=False))
    # parallel coordinates over knobs and metrics (numeric or encoded)
    dims = []
    feas = pts[pts["feasible"]] if pts["feasible"].any() else pts
    for c in [*knobs, *metrics]:
        col = feas[c]
        if col.dtype.kind in "if":
            vals = col.to_numpy(float)
            dims.append({"label": c, "values": np.nan_to_num(vals, nan=-1.0)})
        else:
            text = [_label(v) for v in col]
            cats = sorted(set(text))
            dims.append(
                {
                    "label": c,
                    "values": [cats.index(v) for v in text],
                    "tickvals": list(range(len(cats))),
                    "ticktext": cats,
                }
            )
    par = go.Figure(
        go.Parcoords(
            line={
                "color": feas["on_front"].astype(int),
                "colorscale": [[0, "#7fa7d9"], [1, "#d62728"]],
            },
            dimensions=dims,
        )
    )
    par.update_layout(title="Parallel coordinates of feasible points (red: Pareto front)")
    figs.append(par.to_html(full_html=False, include_plotlyjs=False))
    if est is not None:
        chart = est.roofline.chart()
        roof = go.Figure()
        pts_r = chart["points"]
        xs_all: list[float] = []
        for level in est.level_names:
            x = [p["intensity_ops_per_byte"][level] for p in pts_r]
            y = [p["attained_ops_per_s"] for p in pts_r]
            keep = [(a, b, p["op"]) for a, b, p in zip(x, y, pts_r, strict=True) if a > 0 and b > 0]
            if keep:
                xs_all += [a for a, _, _ in keep]
                roof.add_trace(
                    go.Scatter(
                        x=[a for a, _, _ in keep],
                        y=[b for _, b, _ in keep],
                        mode="markers",
                        name=f"ops vs {level}",
                        text=[n for _, _, n in keep],
                    )
                )
        if xs_all:
            xr = np.logspace(np.log10(min(xs_all)) - 0.5, np.log10(max(xs_all)) + 0.5, 50)
            peak = chart["peak_ops_per_s"]
            for c in chart["ceilings"]:
                roof.add_trace(
                    go.Scatter(
                        x=xr,
                        y=np.minimum(peak, xr * c["bandwidth_bytes_per_s"]),
                        mode="lines",
                        name=f"ceiling {c['level']}",
                    )
                )
        roof.update_layout(
            title="Roofline of the chosen (knee) design",
            xaxis_title="ops/byte",
            yaxis_title="ops/s",
        )
        roof.update_xaxes(type="log")
        roof.update_yaxes(type="log")
        figs.append(roof.to_html(full_html=False, include_plotlyjs=False))
        recs = est.layer_records()
        names = [r["name"] for r in recs]
        bars = make_subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            subplot_titles=("latency per layer (s)", "energy per layer (J)"),
        )
        bars.add_trace(go.Bar(x=names, y=[r["latency_s"] for r in recs], name="latency"), 1, 1)
        bars.add_trace(go.Bar(x=names, y=[r["energy_j"] for r in recs], name="energy"), 2, 1)
        bars.update_layout(title="Per-layer breakdown of the chosen design", height=700)
        figs.append(bars.to_html(full_html=False, include_plotlyjs=False))
    # every string that came from the space document is escaped: the report is served by the
    # API and must not run a script named in an exploration's name, notes or knob values
    esc = html.escape
    notes = "".join(f"<li>{esc(str(n))}</li>" for n in result.notes)
    knee = json.dumps(result.knee, indent=1) if result.knee else "none (no feasible point)"
    name = esc(str(result.space.name))
    head = (
        f"<h1>Design-space exploration: {name}</h1>"
        f"<p>strategy {esc(str(result.strategy))}, seed {result.seed}, "
        f"{result.evaluations} evaluations "
        f"in {result.elapsed_s:.2f} s; {len(result.front)} points on the feasible front; "
        f"hypervolume {result.hypervolume:.4f} (normalized objectives, reference 1.1)</p>"
        f"<ul>{notes}</ul><h2>Chosen design (knee)</h2><pre>{esc(knee)}</pre>"
    )
    body = "".join(f"<div>{f}</div>" for f in figs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}</title>"
        f"{_plotly_script(plotly_src)}</head><body>{head}{body}</body></html>"
    )


_MPL_LOCK = threading.Lock()
"""Held while matplotlib draws: its mathtext parser (log-axis tick labels) and font cache are
shared by the whole process and not thread-safe, and the embedded service renders reports
from several worker threads at once."""


def _pngs(result: ExplorationResult, est: Estimate | None, out: Path) -> list[Path]:
    # the object-oriented API (no pyplot): no global current figure, no backend switch
    from matplotlib.figure import Figure

    with _MPL_LOCK:
        return _draw_pngs(Figure, result, est, out)


def _draw_pngs(
    Figure: Any, result: ExplorationResult, est: Estimate | None, out: Path
) -> list[Path]:
    pts = result.points
    objs = result.objectives
    written = []
    cols = [o.column for o in objs] if len(objs) > 1 else [objs[0].column, "area_mm2"]
    pairs = [(cols[i], cols[j]) for i in range(len(cols)) for j in range(i + 1, len(cols))]
    fig = Figure(figsize=(5 * len(pairs), 4.2))
    axes = fig.subplots(1, len(pairs), squeeze=False)
    for ax, (x, y) in zip(axes[0], pairs, strict=True):
        ax.scatter(pts[x], pts[y], s=4, c="#cccccc", label="all")
        for group, mask, color in _groups(pts, result):
            feas = pts[mask & pts["feasible"].to_numpy()]
            front = result.front[result.front["design"] == group] if group else result.front
            ax.scatter(feas[x], feas[y], s=4, c=color, label=f"{group} feasible".strip())
            if len(front) == 0:
                continue
            ax.scatter(
                front[x],
                front[y],
                s=16,
                c=color if group else "#d62728",
                edgecolors="#d62728",
                label=f"{group} front".strip(),
            )
        if result.knee is not None:
            ax.scatter([result.knee[x]], [result.knee[y]], s=120, marker="*", c="k", label="knee")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        # log axes need positive data (a run cancelled before its first batch has none)
        if x != "accuracy" and (pts[x] > 0).any():
            ax.set_xscale("log")
        if y != "accuracy" and (pts[y] > 0).any():
            ax.set_yscale("log")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{result.space.name}: Pareto front ({result.strategy})")
    fig.tight_layout()
    p = out / "pareto.png"
    fig.savefig(p, dpi=110)
    written.append(p)
    if est is not None:
        recs = est.layer_records()
        fig = Figure(figsize=(max(6, len(recs) * 0.12), 6))
        a1, a2 = fig.subplots(2, 1, sharex=True)
        xs = np.arange(len(recs))
        a1.bar(xs, [r["latency_s"] for r in recs])
        a1.set_ylabel("latency (s)")
        a2.bar(xs, [r["energy_j"] for r in recs], color="tab:orange")
        a2.set_ylabel("energy (J)")
        a2.set_xlabel("layer index")
        fig.suptitle("Per-layer breakdown of the chosen (knee) design")
        fig.tight_layout()
        p = out / "layers.png"
        fig.savefig(p, dpi=110)
        written.append(p)
    return written


def write_tables(
    result: ExplorationResult, out_dir: str | Path, est: Estimate | None = None
) -> dict[str, Path]:
    """Write the tables: ``points.csv``, ``points.parquet``, ``front.csv`` and
    ``summary.json`` (with the chosen design's totals when ``est`` is given)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    paths["points_csv"] = out / "points.csv"
    result.points.to_csv(paths["points_csv"], index=False)
    try:
        paths["points_parquet"] = out / "points.parquet"
        result.points.to_parquet(paths["points_parquet"], index=False)
    except ImportError:
        del paths["points_parquet"]
        result.notes.append("points.parquet not written: install pyarrow")
    paths["front_csv"] = out / "front.csv"
    result.front.to_csv(paths["front_csv"], index=False)
    summary = result.to_dict()
    if est is not None:
        summary["chosen_design_totals"] = est.totals()
    paths["summary"] = out / "summary.json"
    paths["summary"].write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return paths


def _copy_bundle(out: Path) -> Path:
    """``plotly.min.js`` in ``out``, copied from the plotly package unless already there."""
    source = plotly_bundle_path()
    target = out / PLOTLY_BUNDLE
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        partial = out / f".{PLOTLY_BUNDLE}.{threading.get_ident()}.partial"
        shutil.copyfile(source, partial)
        partial.replace(target)  # reports written at once into one folder never see half
    return target


def write_report(result: ExplorationResult, out_dir: str | Path) -> dict[str, Path]:
    """Write the tables (:func:`write_tables`), ``report.html`` with ``plotly.min.js`` beside
    it, and PNG figures to ``out_dir``; return the paths by kind."""
    out = Path(out_dir)
    est = chosen_estimate(result)
    paths = write_tables(result, out, est)
    paths["plotly_js"] = _copy_bundle(out)
    paths["html"] = out / "report.html"
    paths["html"].write_text(_plotly_html(result, est, PLOTLY_BUNDLE), encoding="utf-8")
    for p in _pngs(result, est, out):
        paths[p.stem + "_png"] = p
    return paths
