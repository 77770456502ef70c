// RTL: generate Verilog for a systolic design (from an exploration's point, or typed in),
// optionally simulate it (GEMM test bench on Icarus Verilog) and synthesize it (Yosys generic
// cells), show the results and download the Verilog.
import { api, post, q, download, watchJob } from "../api.js";
import { h, show, loading, empty, problem, field, select, input, button, sortableTable, facts, si, num, setFieldError } from "../dom.js";

export const TITLE = "RTL";
const TERMINAL = ["succeeded", "failed", "cancelled"];

export async function render(root, ctx) {
  const p = ctx.params;
  const rows = input("rows", p.get("rows") || "4", { type: "number", min: 2, max: 64, required: true });
  const cols = input("cols", p.get("cols") || "4", { type: "number", min: 2, max: 64, required: true });
  const wantedFlow = p.get("dataflow") || "ws";
  const dataflow = select("dataflow", [["ws", "weight stationary (ws)"], ["os", "output stationary (os)"]], ["ws", "os"].includes(wantedFlow) ? wantedFlow : "ws");
  const dataWidth = input("data_width", p.get("data_width") || "8", { type: "number", min: 4, max: 16 });
  const depth = input("buffer_depth", p.get("buffer_depth") || "512", { type: "number", min: 16, max: 65536 });
  const name = input("name", "systolic_top", { pattern: "[A-Za-z_][A-Za-z0-9_]{0,62}" });
  const simulate = h("input", { type: "checkbox", name: "simulate", id: "rtl-simulate", checked: true });
  const synth = h("input", { type: "checkbox", name: "synthesize", id: "rtl-synthesize", checked: true });
  const out = h("div", { id: "rtl-out" });
  const recent = h("div", { id: "rtl-recent" });
  const inputs = { rows, cols, dataflow, data_width: dataWidth, buffer_depth: depth, name };
  const form = h("form", { id: "rtl-form", class: "grid-form", onsubmit: async (e) => {
    e.preventDefault();
    Object.values(inputs).forEach((el) => setFieldError(el, ""));
    const body = { rows: Number(rows.value), cols: Number(cols.value), dataflow: dataflow.value, data_width: Number(dataWidth.value),
      buffer_depth: Number(depth.value), name: name.value, simulate: simulate.checked, synthesize: synth.checked };
    show(out, loading("Queueing the RTL job…"));
    try {
      const job = await post("rtl", body);
      follow(out, job.id, ctx, () => listRecent(recent, out, ctx));
    } catch (err) {
      const m = /^(?:body\.)?([a-z_]+)[:\s]/.exec(err.detail || "");
      if (m && inputs[m[1]]) setFieldError(inputs[m[1]], err.detail);
      show(out, problem(err, "Generating RTL"));
    }
  } },
  p.get("from") ? h("p", { class: "muted" }, `From exploration ${p.get("from")}${wantedFlow !== dataflow.value ? ` (its ${wantedFlow} dataflow has no RTL; ws used)` : ""}.`) : null,
  field("Rows", rows, "2–64 PEs"), field("Columns", cols, "2–64 PEs"), field("Dataflow", dataflow), field("Data width (bits)", dataWidth),
  field("Buffer depth (words)", depth), field("Top module name", name),
  h("label", { class: "check", for: "rtl-simulate" }, simulate, " simulate (8 GEMM cases, Icarus Verilog)"),
  h("label", { class: "check", for: "rtl-synthesize" }, synth, " synthesize (Yosys, generic cells)"),
  h("div", { class: "actions" }, h("button", { type: "submit", id: "rtl-generate" }, "Generate RTL")));
  show(root, h("h1", {}, "RTL"), h("div", { class: "two-col" }, h("section", { class: "card" }, h("h2", {}, "Design"), form),
    h("section", { class: "card" }, h("h2", {}, "Recent RTL jobs"), recent)), out);
  show(out, empty("Set the array and Generate; simulation and synthesis results appear here."));
  await listRecent(recent, out, ctx);
  if (ctx.parts[0]) follow(out, ctx.parts[0], ctx, () => listRecent(recent, out, ctx));
}

async function listRecent(box, out, ctx) {
  try {
    const page = await api(`rtl${q({ limit: 8 })}`);
    if (!page.items.length) { show(box, empty("No RTL jobs yet.")); return; }
    show(box, sortableTable([
      { key: "design", label: "design", sort: (j) => j.params.rows * j.params.cols, cell: (j) => `${j.params.rows}×${j.params.cols} ${j.params.dataflow}` },
      { key: "status", label: "status", cell: (j) => h("span", { class: `badge ${j.status}` }, j.status) },
      { key: "created_at", label: "created", fmt: (v) => new Date(v).toLocaleString() },
      { key: "open", label: "", sortable: false, cell: (j) => button("Open", () => follow(out, j.id, ctx, () => {}), { "aria-label": `open RTL job ${j.id.slice(0, 8)}` }) },
    ], page.items, { caption: "newest 8" }));
  } catch (err) { show(box, problem(err, "Listing RTL jobs")); }
}

async function follow(out, id, ctx, onDone) {
  const status = h("p", { id: "rtl-status", role: "status" }, "queued…");
  show(out, h("section", { class: "card" }, h("h2", {}, `RTL job ${id.slice(0, 8)}`), status));
  let last;
  try {
    last = await watchJob(id, (j) => {
      status.textContent = `${j.status}${j.progress.message ? `: ${j.progress.message}` : ""} (${j.progress.evaluated}/${j.progress.total ?? "?"} steps)`;
    }, ctx.alive);
  } catch (err) { show(out, problem(err, "Reading the RTL job")); return; }
  if (!last) return;
  if (last.status !== "succeeded") { out.append(problem(new Error(last.error || last.status), "The RTL job")); onDone(); return; }
  try {
    const j = last;
    const res = await api(`rtl/${encodeURIComponent(id)}/result`);
    const d = res.design;
    const dl = button(`Download Verilog (${j.artifact_name})`, () => download(`rtl/${id}/artifact`, j.artifact_name).catch((err) => out.append(problem(err, "Download"))), { id: "rtl-download" });
    const parts = [h("h2", {}, `${res.label}: top module ${res.top}`),
      facts([["array", `${d.rows}×${d.cols} PEs, ${d.dataflow}`], ["data / accumulator", `${d.data_width} / ${d.acc_width} bits`], ["buffer depth", `${d.buffer_depth} words`],
        ["files", res.files.join(", ")]]), h("div", { class: "actions" }, dl)];
    const sim = res.simulation;
    if (sim) {
      parts.push(h("h3", {}, "Simulation"), h("p", { id: "rtl-sim-verdict", class: sim.ok ? "ok" : "bad" },
        `${sim.ok ? "PASS" : "FAIL"}: ${sim.cases.filter((c) => c.ok).length} of ${sim.cases.length} GEMM cases match the NumPy reference (${sim.simulator_version}; build ${si(sim.build_s, "s")}, run ${si(sim.run_s, "s")})`),
      sortableTable([
        { key: "index", label: "#", num: true },
        ...["m", "n", "k"].filter((k) => sim.cases[0] && k in sim.cases[0]).map((k) => ({ key: k, label: k.toUpperCase(), num: true })),
        { key: "kind", label: "kind" }, { key: "cycles", label: "cycles (design's CSR)", num: true, fmt: (v) => num(v) },
        { key: "cycles_measured", label: "cycles (bench clock)", num: true, fmt: (v) => num(v) }, { key: "mismatches", label: "mismatches", num: true },
        { key: "ok", label: "result", fmt: (v) => (v ? "ok" : "FAIL") },
      ], sim.cases.map((c, i) => ({ ...c, index: i + 1 })), { caption: "test bench cases" }));
    }
    const syn = res.synthesis;
    if (syn) {
      parts.push(h("h3", {}, `Synthesis (Yosys, ${syn.target})`),
        facts(Object.entries(syn.summary || {}).map(([k, v]) => [k, num(v)]).concat([["runtime", si(syn.runtime_s, "s")]])),
        sortableTable([{ key: "cell", label: "cell" }, { key: "count", label: "count", num: true }],
          Object.entries(syn.cells || {}).map(([cell, count]) => ({ cell, count })), { caption: "cells by type", limit: 40 }));
    }
    if (!sim && !syn) parts.push(h("p", { class: "muted" }, "Not simulated or synthesized: tick those boxes to get results."));
    show(out, h("section", { class: "card", id: "rtl-result" }, parts));
    onDone();
  } catch (err) { out.append(problem(err, "Reading the RTL result")); }
}
