// Explorations: create one from a form (any template) or a YAML document (checked as typed),
// follow it live (points per second, best so far, ETA), then look at the Pareto front
// (hover shows the design, click opens its estimate), parallel coordinates over the knobs, and
// compare designs side by side; download CSV, Parquet and the HTML report; cancel and resume.
import { api, post, q, download, watchJob } from "../api.js";
import { h, show, loading, empty, problem, field, select, input, button, sortableTable, facts, si, num, pct, setFieldError } from "../dom.js";
import { chartBox, plot, parallel, COLORS } from "../charts.js";
import * as store from "../store.js";

export const TITLE = "Explorations";
const PAGE = 20;
const TERMINAL = ["succeeded", "failed", "cancelled"];
export const METRIC_COLUMN = { latency: "latency_s", energy: "energy_j", area: "area_mm2", power: "power_w", edp: "edp_js",
  fps: "fps", throughput_per_watt: "inferences_per_j", accuracy: "accuracy" };
const METRICS = Object.keys(METRIC_COLUMN);
const UNITS = { latency_s: "s", energy_j: "J", area_mm2: "mm²", power_w: "W", edp_js: "J·s", fps: "/s", inferences_per_j: "/J" };
const SKIP_KNOBS = new Set(["name", "also_computes"]);
const EXAMPLE_YAML = `name: resnet18-systolic
model:
  name: resnet18
hardware:
  template: systolic
  rows: [8, 16, 32]
  cols: [8, 16, 32]
  dataflow: [ws, os]
objectives: [latency, energy]
search: {strategy: grid}
`;

export async function render(root, ctx) {
  if (ctx.parts[0]) return renderDetail(root, ctx.parts[0], ctx);
  const [templates, modelChoices, catalog] = await Promise.all([store.templates(), store.modelChoices(), store.catalog()]);
  const listBox = h("div", { id: "exploration-list" });
  const formBox = h("div", { id: "exploration-form" });
  const yamlBox = h("div", { id: "exploration-yaml", hidden: true });
  const tabForm = h("button", { type: "button", role: "tab", id: "tab-form", "aria-selected": "true", "aria-controls": "exploration-form" }, "Form");
  const tabYaml = h("button", { type: "button", role: "tab", id: "tab-yaml", "aria-selected": "false", "aria-controls": "exploration-yaml" }, "YAML");
  const select_ = (which) => {
    tabForm.setAttribute("aria-selected", String(which === "form"));
    tabYaml.setAttribute("aria-selected", String(which === "yaml"));
    formBox.hidden = which !== "form";
    yamlBox.hidden = which !== "yaml";
  };
  tabForm.addEventListener("click", () => select_("form"));
  tabYaml.addEventListener("click", () => select_("yaml"));
  buildForm(formBox, templates, modelChoices, catalog, "systolic");
  buildYaml(yamlBox, modelChoices);
  show(root, h("h1", {}, "Explorations"),
    h("section", { class: "card" }, h("h2", {}, "New exploration"),
      h("div", { role: "tablist", class: "tabs", "aria-label": "how to describe the space" }, tabForm, tabYaml), formBox, yamlBox),
    h("section", { class: "card" }, h("h2", {}, "Explorations"), listBox));
  await listJobs(listBox, 0);
}

function knobValue(text) {
  const parts = String(text).split(",").map((s) => s.trim()).filter(Boolean);
  const conv = parts.map((p) => (p !== "" && !Number.isNaN(Number(p)) ? Number(p) : p));
  return conv.length === 1 ? conv[0] : conv;
}

async function startJob(out, space, modelId, extra = {}) {
  show(out, loading("Checking the space…"));
  try {
    const checked = await post("explorations/validate", { space, model_id: modelId });
    show(out, loading(`Starting: ${checked.grid_points} grid points…`));
    const job = await post("explorations", { space: checked.space, model_id: modelId, ...extra });
    location.hash = `#/explorations/${job.id}`;
  } catch (err) { show(out, problem(err, "Starting the exploration")); return err; }
  return null;
}

function buildForm(box, templates, modelChoices, catalog, kind) {
  const all = [...templates.map((t) => t.kind), "catalog"];
  const tplSel = select("template", all, kind);
  const tpl = templates.find((t) => t.kind === kind);
  const name = input("name", `${kind}-exploration`, { required: true, maxlength: 100 });
  const model = select("model", modelChoices.filter(([v]) => !v.startsWith("zoo:") || true), "zoo:resnet18");
  const knobInputs = {};
  const knobFields = [];
  if (kind === "catalog") {
    const chips = h("select", { name: "chip", multiple: true, size: 6 });
    for (const c of catalog) chips.append(h("option", { value: c.id, selected: /a100|h100/.test(c.id) ? true : undefined }, c.name));
    knobInputs.chip = chips;
    knobFields.push(field("chips (several: Ctrl/Cmd-click)", chips));
  } else {
    const DEFAULTS = { rows: "8,16,32", cols: "8,16,32", dataflow: "ws,os" };
    for (const [k, p] of Object.entries(tpl.parameters)) {
      if (SKIP_KNOBS.has(k)) continue;
      const v = kind === "systolic" && DEFAULTS[k] ? DEFAULTS[k] : Array.isArray(p.default) ? p.default.join(",") : p.default ?? "";
      knobInputs[k] = input(k, v, { "data-knob": k });
      knobFields.push(field(k, knobInputs[k], p.required ? "required; one value or a comma list" : "one value or a comma list; empty: default"));
    }
  }
  const objectives = h("fieldset", { class: "checks objectives" }, h("legend", {}, "Objectives"),
    METRICS.map((m) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "objective", value: m, checked: m === "latency" || m === "energy" }), ` ${m}`)));
  const strategy = select("strategy", ["grid", "random", "nsga2", "tpe"], "grid");
  const budget = input("budget", "", { type: "number", min: 1, placeholder: "all grid points" });
  const seed = input("seed", "0", { type: "number", min: 0 });
  const out = h("div", { class: "form-msg", "aria-live": "polite" });
  tplSel.addEventListener("change", () => buildForm(box, templates, modelChoices, catalog, tplSel.value));
  const form = h("form", { id: "explore-form", class: "grid-form", onsubmit: async (e) => {
    e.preventDefault();
    Object.values(knobInputs).forEach((el) => setFieldError(el, ""));
    const hardware = { template: kind };
    for (const [k, el] of Object.entries(knobInputs)) {
      if (el.multiple) hardware[k] = [...el.selectedOptions].map((o) => o.value);
      else if (String(el.value).trim() !== "") hardware[k] = knobValue(el.value);
    }
    const objs = [...objectives.querySelectorAll("input:checked")].map((c) => c.value);
    const [mk, mref] = model.value.split(/:(.*)/s);
    const space = { name: name.value, model: { name: mk === "zoo" ? mref : "stored" }, hardware, objectives: objs, search: { strategy: strategy.value, seed: Number(seed.value) || 0 } };
    if (budget.value) space.search.budget = Number(budget.value);
    const err = await startJob(out, space, mk === "id" ? mref : null);
    if (err) {
      const m = /hardware\.([A-Za-z_]+)/.exec(err.detail || "") || /^([A-Za-z_]+):/.exec(err.detail || "");
      if (m && knobInputs[m[1]]) setFieldError(knobInputs[m[1]], err.detail);
    }
  } },
  field("Name", name), field("Model", model), field("Hardware template", tplSel, tpl ? tpl.doc : "catalog chips as the choices"),
  h("div", { class: "knob-grid" }, knobFields), objectives, field("Strategy", strategy), field("Budget (evaluations)", budget), field("Seed", seed),
  h("div", { class: "actions" }, h("button", { type: "submit", id: "explore-start" }, "Start exploration")));
  show(box, form, out);
}

function buildYaml(box, modelChoices) {
  const text = h("textarea", { name: "yaml", rows: 14, spellcheck: "false", id: "yaml-text" });
  text.value = EXAMPLE_YAML;
  const uploaded = select("model_id", [["", "model.name above (a zoo model)"], ...modelChoices.filter(([v]) => v.startsWith("id:")).map(([v, l]) => [v.slice(3), l])], "");
  const status = h("div", { class: "form-msg", "aria-live": "polite", id: "yaml-status" });
  let timer = null;
  // Each check is a request within the rate limits: one at a time, and none for a document
  // (and model) the API has already answered for (moving the cursor, undoing an edit).
  let answered = { key: null, result: null };
  let running = null;
  const check = async () => {
    const key = JSON.stringify([text.value, uploaded.value]);
    if (key === answered.key) return answered.result;
    if (running) { await running.catch(() => null); return check(); }
    running = post("explorations/validate", { yaml: text.value, model_id: uploaded.value || null });
    try {
      const r = await running;
      answered = { key, result: r };
      setFieldError(text, "");
      show(status, h("p", { class: "ok" }, `Valid: ${r.grid_points} grid points; knobs ${r.knobs.filter((k) => k.values.length > 1).map((k) => `${k.name} (${k.values.length})`).join(", ") || "none varying"}; objectives ${r.objectives.join(", ")}.`));
      return r;
    } catch (err) {
      if (err.status === 422) answered = { key, result: null }; // the document's own problem
      setFieldError(text, err.detail || err.message); show(status); return null;
    } finally { running = null; }
  };
  text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 400); });
  const form = h("form", { class: "yaml-form", onsubmit: async (e) => {
    e.preventDefault();
    const r = await check();
    if (r) await startJob(status, r.space, uploaded.value || null);
  } }, field("Design-space document (YAML, see docs/explore.md)", text), field("Uploaded model (replaces model.name)", uploaded), status,
  h("div", { class: "actions" }, button("Check", check), h("button", { type: "submit" }, "Start from YAML")));
  show(box, form);
}

async function listJobs(box, offset) {
  show(box, loading("Loading explorations…"));
  try {
    const page = await api(`explorations${q({ limit: PAGE, offset })}`);
    if (!page.items.length && offset === 0) { show(box, empty("No explorations yet: start one above.")); return; }
    show(box, sortableTable([
      { key: "name", label: "name", sort: (j) => j.params.space?.name, cell: (j) => h("a", { href: `#/explorations/${j.id}` }, j.params.space?.name || j.id.slice(0, 8)) },
      { key: "status", label: "status", cell: (j) => h("span", { class: `badge ${j.status}` }, j.status) },
      { key: "progress", label: "points", num: true, sort: (j) => j.progress.evaluated, cell: (j) => `${j.progress.evaluated}/${j.progress.total ?? "?"}` },
      { key: "created_at", label: "created", fmt: (v) => new Date(v).toLocaleString() },
      { key: "duration_s", label: "took", num: true, fmt: (v) => (v === null ? "–" : si(v, "s")) },
    ], page.items, { caption: `explorations ${offset + 1}–${offset + page.items.length}, newest first` }),
    h("div", { class: "pager" },
      offset > 0 ? button("Newer", () => listJobs(box, Math.max(0, offset - PAGE))) : null,
      page.items.length === PAGE ? button("Older", () => listJobs(box, offset + PAGE)) : null));
  } catch (err) { show(box, problem(err, "Listing explorations")); }
}

// ------------------------------------------------------------------------------ one job
async function renderDetail(root, id, ctx) {
  const job = await api(`explorations/${encodeURIComponent(id)}`);
  const head = h("div", { id: "job-head" });
  const results = h("div", { id: "results" });
  show(root, h("p", {}, h("a", { href: "#/explorations" }, "← all explorations")),
    h("h1", {}, job.params.space?.name || "exploration", h("small", { class: "muted" }, ` ${id.slice(0, 8)}`)), head, results);
  const templates = await store.templates();
  let token = 0; // a newer follow (after Resume) retires the one before it
  const follow = async () => {
    const mine = ++token;
    const alive = () => ctx.alive() && mine === token;
    show(results, loading("Results appear when the job finishes."));
    try {
      const last = await watchJob(id, (j) => { if (alive()) drawHead(head, j, follow); }, alive);
      if (last && alive()) await drawResults(results, last, templates, ctx);
    } catch (err) { if (alive()) show(head, problem(err, "Following the job")); }
  };
  drawHead(head, job, follow);
  if (TERMINAL.includes(job.status)) drawResults(results, job, templates, ctx); else follow();
}

function bestText(best, objectives) {
  if (!best) return "–";
  const cols = (objectives || ["latency", "energy"]).map((o) => METRIC_COLUMN[typeof o === "string" ? o : o.metric]).filter(Boolean);
  const knobs = [best.rows && best.cols ? `${best.rows}×${best.cols}` : "", best.dataflow || "", best.chip || "", best.design || ""].filter(Boolean).join(" ");
  return `${knobs ? `${knobs}: ` : ""}${cols.map((c) => `${c.replace(/_.*/, "")} ${si(best[c], UNITS[c] || "")}`).join(", ")}`;
}

function drawHead(box, j, follow) {
  const p = j.progress || {};
  const bar = h("progress", { max: p.total || 1, value: p.evaluated || 0, id: "job-progress", "aria-label": "points evaluated" });
  const cancel = button("Cancel", async () => {
    try { drawHead(box, await post(`explorations/${j.id}/cancel`), follow); } catch (err) { box.append(problem(err, "Cancel")); }
  }, { id: "job-cancel", disabled: TERMINAL.includes(j.status) });
  const resume = button("Resume", async () => {
    try { drawHead(box, await post(`explorations/${j.id}/resume`), follow); follow(); } catch (err) { box.append(problem(err, "Resume")); }
  }, { id: "job-resume", hidden: !["cancelled", "failed"].includes(j.status) });
  show(box, h("section", { class: "card" },
    h("div", { class: "job-status" }, h("span", { class: `badge ${j.status}`, id: "job-status" }, j.status), bar,
      h("span", { id: "job-count" }, `${p.evaluated || 0} of ${p.total ?? "?"} points`), cancel, resume),
    facts([["points per second", p.points_per_second ? num(p.points_per_second, 3) : "–"],
      ["ETA", TERMINAL.includes(j.status) ? "–" : p.eta_s !== null && p.eta_s !== undefined ? si(p.eta_s, "s") : "estimating…"],
      ["best so far", bestText(p.best_so_far, j.params.space?.objectives), "knee of the front"],
      ["strategy", j.params.strategy || j.params.space?.search?.strategy || "grid"], ["started", j.started_at ? new Date(j.started_at).toLocaleString() : "queued"],
      ["took", j.duration_s !== null ? si(j.duration_s, "s") : "–"]]),
    j.error ? problem(new Error(j.error), "The job") : null));
}

export function pointLinks(point, result, job, templates) {
  const space = result.space_document || job.params.space || {};
  const alts = Array.isArray(space.hardware) ? space.hardware : [space.hardware || {}];
  let alt = alts[0];
  let prefix = "";
  if (alts.length > 1) {
    alt = alts.find((a) => (a.label || a.template || "systolic") === point.design) || alts[0];
    prefix = `${alt.label || alt.template || "systolic"}.`;
  }
  const template = alt.template || "systolic";
  const modelValue = job.params.model_id ? `id:${job.params.model_id}` : `zoo:${space.model?.name}`;
  const knobs = {};
  for (const k of ["resolution", "seq_len", "width"]) if (point[k] !== undefined && point[k] !== null) knobs[k] = point[k];
  let hw;
  if (template === "catalog") hw = `chip:${point[`${prefix}chip`] ?? point.chip}`;
  else {
    const tpl = templates.find((t) => t.kind === template);
    const params = {};
    for (const name of Object.keys(tpl ? tpl.parameters : {})) {
      const v = point[`${prefix}${name}`];
      if (v !== undefined && v !== null && v !== "") params[name] = v;
    }
    hw = `tpl:${template}:${JSON.stringify(params)}`;
  }
  const est = new URLSearchParams({ model: modelValue, hw, run: "1" });
  if (Object.keys(knobs).length && modelValue.startsWith("zoo:")) est.set("knobs", JSON.stringify(knobs));
  const rows = point[`${prefix}rows`], cols = point[`${prefix}cols`];
  const rtl = template === "systolic" && rows && cols ? `#/rtl?${new URLSearchParams({ rows, cols, dataflow: point[`${prefix}dataflow`] || "ws", from: `${job.id.slice(0, 8)} point ${point.point}` })}` : null;
  return { estimate: `#/estimate?${est}`, rtl };
}

function designLabel(p, knobs) {
  return knobs.map((k) => `${k}=${typeof p[k] === "number" ? num(p[k], 4) : p[k]}`).join(", ");
}

async function drawResults(box, job, templates, ctx) {
  show(box, loading("Loading the results…"));
  let result;
  try { result = await api(`explorations/${job.id}/results`); } catch (err) {
    show(box, job.status === "succeeded" ? problem(err, "Loading the results") : empty(`No results: the job ${job.status}.${job.status === "cancelled" ? " Resume continues where it stopped." : ""}`));
    return;
  }
  if (!ctx.alive()) return;
  const points = result.points || [];
  const objectives = (result.objectives || []).map((o) => (typeof o === "string" ? { metric: o, goal: "min" } : o));
  const objCols = objectives.map((o) => METRIC_COLUMN[o.metric]).filter(Boolean);
  const knobNames = (result.knobs || []).filter((k) => points.some((p) => p[k] !== points[0][k]));
  const shownKnobs = knobNames.length ? knobNames : (result.knobs || []).slice(0, 3);
  const selected = new Set();
  const compareBox = h("div", { id: "compare-designs" });
  const compareBtn = button("Compare selected designs", () => drawCompare(compareBox, points.filter((p) => selected.has(p.point)), shownKnobs, objCols, job, result, templates), { id: "compare-selected", disabled: true });
  const updateBtn = () => { compareBtn.disabled = selected.size < 2; compareBtn.textContent = `Compare selected designs (${selected.size})`; };
  const scatter = chartBox("Pareto front: every evaluated design; the front in green", 380);
  scatter.id = "pareto";
  const par = chartBox("parallel coordinates over the knobs and objectives", 340);
  par.id = "parallel";
  const hover = h("p", { id: "pareto-hover", class: "muted", "aria-live": "polite" }, "Hover a point to see its design; click it to open its estimate.");
  const dl = (name, label) => button(label, () => download(`explorations/${job.id}/files/${name}`, `${job.id.slice(0, 8)}-${name}`).catch((err) => downloads.append(problem(err, `Downloading ${name}`))), { "data-file": name });
  const downloads = h("div", { class: "actions downloads" }, dl("points.csv", "Download CSV"), dl("points.parquet", "Download Parquet"), dl("report.html", "Download HTML report"), dl("front.csv", "Front CSV"));
  const axisChoices = [...new Set([...objCols, "latency_s", "energy_j", "area_mm2", "power_w", "edp_js", "fps", "inferences_per_j"])];
  const xSel = select("x", axisChoices, objCols[0] || "latency_s");
  const ySel = select("y", axisChoices, objCols[1] || objCols[0] || "energy_j");
  const table = sortableTable([
    { key: "pick", label: "compare", sortable: false, cell: (p) => h("input", { type: "checkbox", "aria-label": `compare point ${p.point}`, "data-point": p.point, checked: selected.has(p.point),
      onchange: (e) => { if (e.target.checked) selected.add(p.point); else selected.delete(p.point); updateBtn(); } }) },
    { key: "point", label: "point", num: true },
    { key: "on_front", label: "front", sort: (p) => (p.on_front ? 0 : 1), fmt: (v) => (v ? "yes" : "") },
    ...shownKnobs.map((k) => ({ key: k, label: k, num: typeof points[0]?.[k] === "number", fmt: (v) => (typeof v === "number" ? num(v, 4) : v ?? "") })),
    ...objCols.map((c) => ({ key: c, label: c, num: true, fmt: (v) => si(v, UNITS[c] || "") })),
    { key: "feasible", label: "feasible", fmt: (v) => (v ? "yes" : "no") },
    { key: "act", label: "", sortable: false, cell: (p) => { const l = pointLinks(p, result, job, templates); return h("span", { class: "row-actions" }, h("a", { href: l.estimate, class: "button-link" }, "Estimate"), l.rtl ? h("a", { href: l.rtl, class: "button-link" }, "RTL") : null); } },
  ], points.slice().sort((a, b) => (a.on_front === b.on_front ? a.point - b.point : a.on_front ? -1 : 1)), { caption: `${points.length} of ${result.points_total ?? points.length} stored points, front first`, limit: 300 });
  show(box,
    h("section", { class: "card" }, h("h2", {}, "Summary"),
      facts([["evaluations", `${result.evaluations} of ${result.planned} planned`], ["feasible", num(result.feasible)], ["Pareto front", `${(result.front || []).length} designs`],
        ["hypervolume", num(result.hypervolume, 4), "normalised objectives, reference 1.1 × nadir"], ["search time", si(result.elapsed_s, "s")],
        ["objectives", objectives.map((o) => `${o.metric} (${o.goal})`).join(", ")], ["notes", (result.notes || []).join("; ") || "–"]]),
      downloads),
    h("section", { class: "card" }, h("h2", {}, "Pareto front"), h("div", { class: "inline-form" }, field("x axis", xSel), field("y axis", ySel)), scatter, hover),
    h("section", { class: "card" }, h("h2", {}, "Parallel coordinates"), par),
    h("section", { class: "card" }, h("h2", {}, "Designs"), h("div", { class: "actions" }, compareBtn), table, compareBox));
  updateBtn();
  const drawScatter = async () => {
    const x = xSel.value, y = ySel.value;
    const ok = points.filter((p) => typeof p[x] === "number" && typeof p[y] === "number");
    const rest = ok.filter((p) => !p.on_front);
    const front = ok.filter((p) => p.on_front).sort((a, b) => a[x] - b[x]);
    const trace = (ps, name, color, mode, size) => ({ type: "scatter", mode, name, x: ps.map((p) => p[x]), y: ps.map((p) => p[y]),
      customdata: ps.map((p) => p.point), text: ps.map((p) => `point ${p.point}: ${designLabel(p, shownKnobs)}`),
      marker: { color, size, line: { color: "#fff", width: 1 } }, line: { color, width: 1.5 },
      hovertemplate: `%{text}<br>${x} %{x:.4g}<br>${y} %{y:.4g}<extra>${name}</extra>` });
    await plot(scatter, [trace(rest, "other designs", COLORS.rest, "markers", 7), trace(front, "Pareto front", COLORS.front, "lines+markers", 11)], {
      xaxis: { title: { text: `${x} (${UNITS[x] || ""})` }, type: "log" }, yaxis: { title: { text: `${y} (${UNITS[y] || ""})` }, type: "log" },
      legend: { orientation: "h", y: 1.1 }, hovermode: "closest" });
    scatter.removeAllListeners?.("plotly_hover");
    scatter.removeAllListeners?.("plotly_click");
    scatter.on("plotly_hover", (ev) => { const pt = ev.points[0]; const p = points.find((q2) => q2.point === pt.customdata); if (p) hover.textContent = `Point ${p.point}: ${designLabel(p, shownKnobs)} — ${objCols.map((c) => `${c} ${si(p[c], UNITS[c] || "")}`).join(", ")}`; });
    scatter.on("plotly_click", (ev) => { const p = points.find((q2) => q2.point === ev.points[0].customdata); if (p) location.hash = pointLinks(p, result, job, templates).estimate; });
  };
  xSel.addEventListener("change", drawScatter);
  ySel.addEventListener("change", drawScatter);
  if (!points.length) { show(scatter, empty("No points were evaluated.")); return; }
  await drawScatter();
  await parallel(par, points, [...shownKnobs, ...objCols], { highlight: (p) => p.on_front, label: (p) => `point ${p.point}: ${designLabel(p, shownKnobs)}` });
}

function drawCompare(box, chosen, knobs, objCols, job, result, templates) {
  if (chosen.length < 2) { show(box, empty("Tick two or more designs to compare them.")); return; }
  const metrics = [...new Set([...objCols, "latency_s", "energy_j", "area_mm2", "power_w", "utilization", "fps"])];
  const best = (c) => {
    const vals = chosen.map((p) => p[c]).filter((v) => typeof v === "number");
    const goalMax = ["fps", "inferences_per_j", "utilization", "accuracy"].includes(c);
    return goalMax ? Math.max(...vals) : Math.min(...vals);
  };
  show(box, h("section", { class: "card", id: "design-compare" }, h("h3", {}, `${chosen.length} designs side by side`),
    h("div", { class: "table-wrap" }, h("table", { class: "data compare" },
      h("caption", {}, "knobs, then metrics (best in bold)"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), chosen.map((p) => h("th", { scope: "col" }, `point ${p.point}${p.on_front ? " (front)" : ""}`)))),
      h("tbody", {},
        knobs.map((k) => h("tr", {}, h("th", { scope: "row" }, k), chosen.map((p) => h("td", {}, typeof p[k] === "number" ? num(p[k], 4) : String(p[k] ?? ""))))),
        metrics.map((c) => { const b = best(c); return h("tr", {}, h("th", { scope: "row" }, c), chosen.map((p) => h("td", { class: p[c] === b ? "num best" : "num" }, c === "utilization" ? pct(p[c]) : si(p[c], UNITS[c] || "")))); }),
        h("tr", {}, h("th", { scope: "row" }, "open"), chosen.map((p) => { const l = pointLinks(p, result, job, templates); return h("td", {}, h("a", { href: l.estimate }, "estimate"), l.rtl ? [" · ", h("a", { href: l.rtl }, "RTL")] : null); })))))));
  box.scrollIntoView({ block: "nearest" });
}
