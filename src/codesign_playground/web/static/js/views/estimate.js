// Estimate: a model on one or more chips. Totals with the settings used (precision, batch,
// timing model, launch) and where each came from; per-layer latency and energy bars coloured by
// the binding bound; a roofline with every layer placed; energy and area by component; several
// chips side by side.
import { post } from "../api.js";
import { h, show, loading, empty, problem, field, select, input, facts, card, si, pct, num } from "../dom.js";
import { chartBox, plot, boundColor } from "../charts.js";
import * as store from "../store.js";

export const TITLE = "Estimate";
const MODES = [["auto", "auto (by hardware kind)"], "roofline", "systolic", "spatial", "gpu"];

export async function render(root, { params }) {
  const [modelChoices, hwChoices] = await Promise.all([store.modelChoices(), store.hardwareChoices()]);
  const wanted = params.getAll("hw").flatMap((v) => v.split("|")).filter(Boolean);
  for (const v of wanted) if (!hwChoices.some(([c]) => c === v)) hwChoices.unshift([v, store.hardwareLabel(v, hwChoices)]);
  const model = select("model", modelChoices, params.get("model") || "zoo:resnet18");
  const checks = hwChoices.map(([v, label], i) => {
    const box = h("input", { type: "checkbox", name: "hw", value: v, id: `hw-${i}`, checked: wanted.includes(v) });
    return h("label", { class: "check", for: `hw-${i}` }, box, ` ${label}`);
  });
  if (!wanted.length) checks.find((c) => c.textContent.includes("H100"))?.querySelector("input")?.setAttribute("checked", "");
  const hwFilter = input("hw-filter", "", { type: "search", placeholder: "filter chips" });
  hwFilter.addEventListener("input", () => {
    const t = hwFilter.value.toLowerCase();
    for (const c of checks) c.hidden = t && !c.textContent.toLowerCase().includes(t);
  });
  const precision = select("precision", [["", "hardware default"], "fp32", "fp16", "bf16", "int8", "int16", "int4"], params.get("precision") || "");
  const batch = input("batch", params.get("batch") || "1", { type: "number", min: 1, max: 65536 });
  const mode = select("mode", MODES, params.get("mode") || "auto");
  const launch = select("launch", [["graph", "graph (kernel time)"], ["eager", "eager (+ launch cost)"]], params.get("launch") || "graph");
  const knobs = params.get("knobs") ? JSON.parse(params.get("knobs")) : null;
  const out = h("div", { id: "estimate-out" });
  const form = h("form", { id: "estimate-form", class: "grid-form", onsubmit: (e) => {
    e.preventDefault();
    const hw = checks.map((c) => c.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
    if (!hw.length) { show(out, problem(new Error("hardware: tick at least one chip or description"))); return; }
    const settings = { batch: Number(batch.value) || 1, precision: precision.value || null, mode: mode.value, launch: launch.value };
    run(out, model.value, knobs, hw, hwChoices, settings);
  } },
  field("Model", model, knobs ? `knobs ${JSON.stringify(knobs)}` : ""),
  h("fieldset", { class: "hw-pick" }, h("legend", {}, "Hardware (tick two or more to compare)"), hwFilter, h("div", { class: "checks" }, checks)),
  field("Precision", precision), field("Batch", batch), field("Timing model", mode), field("Launch (GPUs)", launch),
  h("div", { class: "actions" }, h("button", { type: "submit", id: "estimate-run" }, "Estimate")));
  show(root, h("h1", {}, "Estimate"), h("section", { class: "card" }, form), out);
  show(out, empty("Choose a model and one or more chips, then Estimate."));
  if (params.get("run")) form.requestSubmit();
}

async function run(out, modelValue, knobs, hw, hwChoices, settings) {
  show(out, loading(`Estimating on ${hw.length} hardware target${hw.length > 1 ? "s" : ""}…`));
  const results = await Promise.all(hw.map(async (v) => {
    const label = store.hardwareLabel(v, hwChoices);
    try {
      const body = { model: store.modelRef(modelValue, knobs), hardware: await store.hardwareRef(v), batch: settings.batch,
        mode: settings.mode, include_layers: true };
      if (settings.precision) body.precision = settings.precision;
      if (settings.launch !== "graph") body.launch = settings.launch;
      const r = await post("estimates", body);
      return { label, value: v, estimate: r.estimate, cached: r.cached };
    } catch (err) { return { label, value: v, error: err }; }
  }));
  const ok = results.filter((r) => r.estimate);
  const parts = [];
  if (ok.length >= 2) parts.push(compare(ok));
  const grid = h("div", { class: ok.length >= 2 ? "side-by-side" : "single" });
  for (const r of results) grid.append(r.error ? card(r.label, problem(r.error, "Estimate")) : chipCard(r));
  parts.push(grid);
  show(out, parts);
  for (const r of ok) await drawCharts(r);
  if (ok.length >= 2) await drawCompare(ok);
}

function compare(rows) {
  const metrics = [["latency_s", "latency", "s", "min"], ["energy_j", "energy", "J", "min"], ["average_power_w", "power", "W", "min"],
    ["area_mm2", "area (modelled)", "mm²", "min"], ["inferences_per_s", "throughput", "inf/s", "max"], ["utilization", "utilization", "", "max"],
    ["dram_bytes", "DRAM traffic", "B", "min"]];
  const table = h("table", { class: "data compare", id: "compare-table" },
    h("caption", {}, `${rows[0].estimate.model} on ${rows.length} chips (best in bold)`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "metric"), rows.map((r) => h("th", { scope: "col" }, r.estimate.hardware)))),
    h("tbody", {}, metrics.map(([key, label, unit, goal]) => {
      const vals = rows.map((r) => r.estimate.totals[key]);
      const best = goal === "min" ? Math.min(...vals) : Math.max(...vals);
      return h("tr", {}, h("th", { scope: "row" }, label), vals.map((v) =>
        h("td", { class: v === best ? "num best" : "num" }, key === "utilization" ? pct(v) : si(v, unit))));
    }), h("tr", {}, h("th", { scope: "row" }, "timing model"), rows.map((r) => h("td", {}, r.estimate.timing_model))),
    h("tr", {}, h("th", { scope: "row" }, "precision"), rows.map((r) => h("td", {}, r.estimate.settings?.precision?.value ?? "–")))));
  const lat = chartBox("latency per chip", 260);
  const en = chartBox("energy per chip", 260);
  lat.id = "compare-latency"; en.id = "compare-energy";
  return h("section", { class: "card", id: "compare" }, h("h2", {}, "Side by side"), h("div", { class: "table-wrap" }, table),
    h("div", { class: "two-col" }, lat, en));
}

async function drawCompare(rows) {
  const names = rows.map((r) => r.estimate.hardware);
  await plot(document.getElementById("compare-latency"), [{ type: "bar", x: names, y: rows.map((r) => r.estimate.totals.latency_s * 1e3), marker: { color: "#1f77b4" }, hovertemplate: "%{x}: %{y:.4g} ms<extra></extra>" }],
    { title: { text: "latency (ms)" }, yaxis: { rangemode: "tozero" } });
  await plot(document.getElementById("compare-energy"), [{ type: "bar", x: names, y: rows.map((r) => r.estimate.totals.energy_j * 1e3), marker: { color: "#e07a1f" }, hovertemplate: "%{x}: %{y:.4g} mJ<extra></extra>" }],
    { title: { text: "energy (mJ)" }, yaxis: { rangemode: "tozero" } });
}

function chipCard(r) {
  const e = r.estimate;
  const t = e.totals;
  const s = e.settings || {};
  const src = (k) => (s[k] ? s[k].source : "");
  r.charts = { layers: chartBox(`per-layer latency on ${e.hardware}`, 300), energy: chartBox(`per-layer energy on ${e.hardware}`, 260),
    roofline: chartBox(`roofline of ${e.model} on ${e.hardware}`, 340), breakdown: chartBox(`energy by component on ${e.hardware}`, 260),
    area: chartBox(`area by component on ${e.hardware}`, 260) };
  const bounds = {};
  for (const l of e.layers || []) bounds[l.bound] = (bounds[l.bound] || 0) + l.latency_s;
  return h("section", { class: "card chip-result", "data-hw": r.value },
    h("h2", {}, e.hardware, h("small", { class: "muted" }, ` ${e.model}${r.cached ? " (cached)" : ""}`)),
    facts([
      ["latency", si(t.latency_s, "s")], ["energy", si(t.energy_j, "J")], ["average power", si(t.average_power_w, "W")],
      ["area (modelled)", si(t.area_mm2, "mm²"), e.published_die_area_mm2 ? `published die ${e.published_die_area_mm2} mm²` : ""],
      ["throughput", si(t.inferences_per_s, "inf/s")], ["utilization", pct(t.utilization)], ["MACs", si(t.macs, "MAC")],
      ["DRAM traffic", si(t.dram_bytes, "B")],
      ["precision", s.precision?.value ?? "–", src("precision")], ["batch", s.batch?.value ?? "–", src("batch")],
      ["timing model", e.timing_model, src("timing_model")], ["launch", s.launch?.value ?? "–", src("launch")],
      ["time by bound", Object.entries(bounds).map(([b, v]) => `${b} ${pct(v / (t.latency_s || 1))}`).join(", ") || "–"],
    ]),
    h("h3", {}, "Per-layer latency (colour: binding bound)"), r.charts.layers,
    h("h3", {}, "Per-layer energy"), r.charts.energy,
    h("h3", {}, "Roofline"), r.charts.roofline,
    h("div", { class: "two-col" }, h("div", {}, h("h3", {}, "Energy by component"), r.charts.breakdown),
      h("div", {}, h("h3", {}, "Area by component"), r.charts.area)));
}

async function drawCharts(r) {
  const e = r.estimate;
  const layers = e.layers || [];
  const names = layers.map((l, i) => `${i}:${l.name}`);
  const byBound = {};
  layers.forEach((l, i) => { (byBound[l.bound] ||= []).push(i); });
  const barTraces = (key, scale, unit) => Object.entries(byBound).map(([bound, idx]) => ({
    type: "bar", name: `${bound}-bound`, x: idx.map((i) => names[i]), y: idx.map((i) => layers[i][key] * scale),
    marker: { color: boundColor(bound) }, customdata: idx.map((i) => [layers[i].op, layers[i].bound, si(layers[i].macs, "MAC")]),
    hovertemplate: `%{x}<br>%{customdata[0]}: %{y:.4g} ${unit}<br>%{customdata[1]}-bound, %{customdata[2]}<extra></extra>`,
  }));
  const xaxis = { categoryorder: "array", categoryarray: names, showticklabels: layers.length <= 40, tickangle: -60, title: { text: "layer (in order)" } };
  await plot(r.charts.layers, barTraces("latency_s", 1e6, "µs"), { barmode: "stack", xaxis, yaxis: { title: { text: "latency (µs)" } }, legend: { orientation: "h", y: 1.12 } });
  await plot(r.charts.energy, barTraces("energy_j", 1e6, "µJ"), { barmode: "stack", xaxis, yaxis: { title: { text: "energy (µJ)" } }, legend: { orientation: "h", y: 1.12 } });
  await roofline(r.charts.roofline, e);
  const eb = Object.entries(e.energy_breakdown_j || {});
  if (eb.length) await plot(r.charts.breakdown, [{ type: "bar", x: eb.map(([k]) => k), y: eb.map(([, v]) => v * 1e3), marker: { color: "#e07a1f" }, hovertemplate: "%{x}: %{y:.4g} mJ<extra></extra>" }], { yaxis: { title: { text: "energy (mJ)" } } });
  else show(r.charts.breakdown, empty("This timing model gives no energy breakdown."));
  const ab = Object.entries(e.area_breakdown_mm2 || {});
  if (ab.length) await plot(r.charts.area, [{ type: "bar", x: ab.map(([k]) => k), y: ab.map(([, v]) => v), marker: { color: "#6a4c93" }, hovertemplate: "%{x}: %{y:.4g} mm²<extra></extra>" }], { yaxis: { title: { text: "area (mm²)" } } });
  else show(r.charts.area, empty("This timing model gives no area breakdown."));
}

async function roofline(div, e) {
  const rf = e.roofline;
  if (!rf || !rf.points || !rf.points.length) { show(div, empty("No roofline for this estimate.")); return; }
  const level = rf.ceilings.length ? rf.ceilings[rf.ceilings.length - 1].level : Object.keys(rf.points[0].intensity_ops_per_byte)[0];
  const pts = rf.points.map((p, i) => ({ ...p, i, x: p.intensity_ops_per_byte[level] })).filter((p) => p.x > 0 && p.attained_ops_per_s > 0);
  const skipped = rf.points.length - pts.length;
  const xs = pts.map((p) => p.x);
  const lo = Math.min(...xs, 0.01) / 2, hi = Math.max(...xs, 1e4) * 2;
  const grid = Array.from({ length: 60 }, (_, k) => lo * (hi / lo) ** (k / 59));
  const traces = rf.ceilings.map((c) => ({ type: "scatter", mode: "lines", name: `${c.level} ${si(c.bandwidth_bytes_per_s, "B/s")}`,
    x: grid, y: grid.map((x) => Math.min(rf.peak_ops_per_s, x * c.bandwidth_bytes_per_s)), line: { color: "#555", dash: "dot" }, hoverinfo: "name" }));
  traces.push({ type: "scatter", mode: "lines", name: `peak ${si(rf.peak_ops_per_s, "op/s")}`, x: [lo, hi], y: [rf.peak_ops_per_s, rf.peak_ops_per_s], line: { color: "#222" }, hoverinfo: "name" });
  const groups = {};
  for (const p of pts) (groups[p.bound] ||= []).push(p);
  for (const [bound, ps] of Object.entries(groups)) traces.push({ type: "scatter", mode: "markers", name: `${bound}-bound layers`,
    x: ps.map((p) => p.x), y: ps.map((p) => p.attained_ops_per_s), text: ps.map((p) => `${p.i}:${p.op}`), marker: { color: boundColor(bound), size: 8, opacity: 0.8 },
    hovertemplate: "%{text}<br>%{x:.3g} op/B, %{y:.3g} op/s<extra></extra>" });
  await plot(div, traces, { xaxis: { type: "log", title: { text: `arithmetic intensity at ${level} (op/B)` } },
    yaxis: { type: "log", title: { text: "attained (op/s)" } }, legend: { orientation: "h", y: -0.25 }, margin: { l: 60, r: 20, t: 20, b: 90 } });
  if (skipped) div.after(h("p", { class: "muted" }, `${skipped} layer(s) with no ${level} traffic or no arithmetic are not placed (zero on a log axis).`));
}
