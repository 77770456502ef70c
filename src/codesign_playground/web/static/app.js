// codesign-playground dashboard: talks only to the HTTP API under /api/v1.
"use strict";
const API = "/api/v1";
const $ = (id) => document.getElementById(id);
let currentJob = null;

async function api(path, options = {}) {
  const response = await fetch(path.startsWith("/") ? path : `${API}/${path}`, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
  return body;
}

function rows(tbody, items, cells) {
  tbody.innerHTML = "";
  for (const item of items) {
    const tr = document.createElement("tr");
    for (const cell of cells(item)) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell;
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
}

function options(select, items) {
  select.innerHTML = "";
  for (const [value, label] of items) {
    const o = document.createElement("option");
    o.value = value; o.textContent = label; select.appendChild(o);
  }
}

async function refreshHealth() {
  const el = $("health");
  try {
    const r = await fetch("/health/ready");
    const body = await r.json();
    el.textContent = `${body.mode}: ${body.status}`;
    el.className = "pill " + (r.ok ? "ok" : "bad");
  } catch (e) { el.textContent = "down"; el.className = "pill bad"; }
}

async function refreshModels() {
  const [stored, zoo] = await Promise.all([api("models"), api("models/zoo")]);
  rows($("models").tBodies[0], stored.items, (m) => [m.id, m.name, m.node_count,
    (m.summary.macs / 1e9).toFixed(2), (m.summary.params / 1e6).toFixed(2)]);
  $("zoo").innerHTML = zoo.map((z) => `<li><b>${z.name}</b> — ${z.family}</li>`).join("");
  const choices = [...stored.items.map((m) => [`id:${m.id}`, `#${m.id} ${m.name}`]),
                   ...zoo.map((z) => [`zoo:${z.name}`, `zoo: ${z.name}`])];
  options($("est-model"), choices);
  options($("exp-model"), choices);
}

async function refreshHardware() {
  const catalog = await api("hardware/catalog");
  rows($("catalog").tBodies[0], catalog, (c) => [c.id, c.name, c.kind, (c.clock_hz / 1e6).toFixed(0)]);
  options($("est-hw"), [["template:systolic", "systolic 32x32 (template)"],
                        ...catalog.map((c) => [`chip:${c.id}`, c.name])]);
}

function modelRef(value) {
  const [kind, ref] = value.split(/:(.*)/s);
  return kind === "id" ? { model_id: Number(ref) } : { zoo: ref };
}

async function hardwareRef(value) {
  const [kind, ref] = value.split(/:(.*)/s);
  if (kind === "chip") return { chip: ref };
  const spec = await api(`hardware/templates/${ref}`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ params: {} }) });
  return { spec };
}

async function runEstimate(event) {
  event.preventDefault();
  const out = $("estimate-out");
  out.textContent = "…";
  try {
    const body = {
      model: modelRef($("est-model").value),
      hardware: await hardwareRef($("est-hw").value),
      batch: Number($("est-batch").value) || 1,
      precision: $("est-prec").value || null,
      include_layers: false,
    };
    const r = await api("estimates", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const t = r.estimate.totals;
    out.textContent = `${r.cached ? "cached" : "computed"} — ${r.estimate.model} on ${r.estimate.hardware} (${r.estimate.timing_model})\n` +
      `latency ${(t.latency_s * 1e3).toFixed(3)} ms · energy ${(t.energy_j * 1e3).toFixed(3)} mJ · ` +
      `area ${t.area_mm2.toFixed(2)} mm² · utilization ${(t.utilization * 100).toFixed(1)} %\n` +
      JSON.stringify(t, null, 2);
  } catch (e) { out.innerHTML = `<span class="error">${e.message}</span>`; }
}

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const numbers = (text) => list(text).map(Number);

async function startExploration(event) {
  event.preventDefault();
  const ref = modelRef($("exp-model").value);
  const space = {
    name: "dashboard",
    model: { name: ref.zoo || "stored" },
    hardware: { rows: numbers($("exp-rows").value), cols: numbers($("exp-cols").value) },
    objectives: list($("exp-obj").value),
  };
  try {
    const job = await api("explorations", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ space, model_id: ref.model_id ?? null }) });
    watch(job.id);
  } catch (e) { $("exp-status").innerHTML = `<span class="error">${e.message}</span>`; }
}

async function watch(jobId) {
  currentJob = jobId;
  $("exp-cancel").disabled = false;
  $("front").innerHTML = "";
  while (currentJob === jobId) {
    const job = await api(`jobs/${jobId}`);
    const p = job.progress || {};
    const pct = p.total ? Math.round((100 * p.evaluated) / p.total) : 0;
    $("bar").style.width = `${pct}%`;
    const eta = p.eta_s != null ? ` · ETA ${p.eta_s.toFixed(1)} s` : "";
    const best = p.best_so_far ? ` · best ${JSON.stringify(p.best_so_far)}` : "";
    $("exp-status").textContent = `${job.status}: ${p.evaluated || 0}/${p.total ?? "?"} points${eta}${best}` +
      (job.error ? ` — ${job.error}` : "");
    if (["succeeded", "failed", "cancelled"].includes(job.status)) {
      $("exp-cancel").disabled = true;
      if (job.status === "succeeded") drawFront(await api(`explorations/${jobId}/front`));
      refreshJobs();
      return;
    }
    await new Promise((r) => setTimeout(r, 700));
  }
}

function drawFront(front) {
  const [ox, oy] = front.objectives.map((o) => ({ latency: "latency_s", energy: "energy_j", area: "area_mm2",
    power: "power_w", edp: "edp_js", throughput_per_watt: "inferences_per_j", fps: "fps", accuracy: "accuracy" })[o.metric]);
  if (!oy) { $("front").textContent = `${front.count} Pareto points`; return; }
  const pts = front.front.map((p) => [p[ox], p[oy], p]);
  const W = 460, H = 280, M = 50;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => M + ((x - x0) / ((x1 - x0) || 1)) * (W - 2 * M);
  const sy = (y) => H - M - ((y - y0) / ((y1 - y0) || 1)) * (H - 2 * M);
  const dots = pts.map(([x, y, p]) => `<circle cx="${sx(x)}" cy="${sy(y)}" r="5" fill="#1f3a5f"><title>` +
    `${p.rows}x${p.cols} ${p.dataflow}: ${ox}=${x.toPrecision(4)} ${oy}=${y.toPrecision(4)}</title></circle>`).join("");
  const line = pts.slice().sort((a, b) => a[0] - b[0]).map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ");
  $("front").innerHTML = `<svg width="${W}" height="${H}" role="img" aria-label="Pareto front">` +
    `<line x1="${M}" y1="${H - M}" x2="${W - M}" y2="${H - M}" stroke="#999"/>` +
    `<line x1="${M}" y1="${M}" x2="${M}" y2="${H - M}" stroke="#999"/>` +
    `<polyline points="${line}" fill="none" stroke="#2a7"/>${dots}` +
    `<text x="${W / 2}" y="${H - 15}" text-anchor="middle">${ox} (${x0.toPrecision(3)} – ${x1.toPrecision(3)})</text>` +
    `<text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${oy} (${y0.toPrecision(3)} – ${y1.toPrecision(3)})</text>` +
    `</svg><p>${front.count} Pareto-optimal designs</p>`;
}

async function refreshJobs() {
  const jobs = await api("jobs?limit=10");
  rows($("jobs").tBodies[0], jobs.items, (j) => {
    const link = document.createElement("a");
    if (j.status === "succeeded" && j.artifact_name) {
      link.href = `${API}/${j.kind === "rtl" ? "rtl" : "explorations"}/${j.id}/artifact`;
      link.textContent = "download";
    }
    return [j.id.slice(0, 8), j.kind, j.status, `${j.progress.evaluated}/${j.progress.total ?? "?"}`, link];
  });
}

async function upload(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  try { await api("models", { method: "POST", body: form }); await refreshModels(); }
  catch (e) { alert(e.message); }
}

$("upload-form").addEventListener("submit", upload);
$("estimate-form").addEventListener("submit", runEstimate);
$("explore-form").addEventListener("submit", startExploration);
$("exp-cancel").addEventListener("click", () => currentJob && api(`jobs/${currentJob}/cancel`, { method: "POST" }));
refreshHealth(); refreshModels(); refreshHardware(); refreshJobs();
setInterval(refreshHealth, 10000);
