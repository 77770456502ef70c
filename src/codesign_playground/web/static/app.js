// codesign-playground dashboard: talks only to the HTTP API under /api/v1.
// Every value from the API reaches the page through textContent or DOM attributes, never
// innerHTML, so a stored name cannot run a script. With AUTH_MODE=api-key the key typed in the
// header is kept in this tab's sessionStorage and sent as "Authorization: Bearer <key>".
"use strict";
const API = "/api/v1";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
let currentJob = null;

const apiKey = () => sessionStorage.getItem("codesign-api-key") || "";

function authHeaders(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, authorization: `Bearer ${key}` } : headers;
}

async function request(path, options = {}) {
  const url = path.startsWith("/") ? path : `${API}/${path}`;
  return fetch(url, { ...options, headers: authHeaders(options.headers || {}) });
}

async function api(path, options = {}) {
  const response = await request(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (response.status === 401) askForKey();
  if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
  return body;
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function showError(target, message) {
  target.replaceChildren(el("span", message, { class: "error" }));
}

function rows(tbody, items, cells) {
  tbody.replaceChildren();
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
  select.replaceChildren();
  for (const [value, label] of items) {
    const o = document.createElement("option");
    o.value = value; o.textContent = label; select.appendChild(o);
  }
}

function askForKey() {
  $("key-form").hidden = false;
  $("who").textContent = "API key needed";
}

async function refreshWho() {
  const r = await request("me");
  if (r.status === 401) { askForKey(); return false; }
  if (!r.ok) return false;
  const me = await r.json();
  $("who").textContent = me.auth_mode === "none" ? "" : `${me.owner} (${me.scope})`;
  $("key-form").hidden = me.auth_mode !== "api-key" || Boolean(apiKey());
  return true;
}

async function refreshHealth() {
  const node = $("health");
  try {
    const r = await fetch("/health/ready");
    const body = await r.json();
    node.textContent = `${body.mode}: ${body.status}`;
    node.className = "pill " + (r.ok ? "ok" : "bad");
  } catch (e) { node.textContent = "down"; node.className = "pill bad"; }
}

async function refreshModels() {
  const [stored, zoo] = await Promise.all([api("models"), api("models/zoo")]);
  rows($("models").tBodies[0], stored.items, (m) => [m.id, m.name, m.node_count,
    (m.summary.macs / 1e9).toFixed(2), (m.summary.params / 1e6).toFixed(2)]);
  $("zoo").replaceChildren(...zoo.map((z) => {
    const li = el("li");
    li.append(el("b", z.name), ` — ${z.family}`);
    return li;
  }));
  const choices = [...stored.items.map((m) => [`id:${m.id}`, `${m.name} (${m.id})`]),
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
  return kind === "id" ? { model_id: ref } : { zoo: ref };
}

async function hardwareRef(value) {
  const [kind, ref] = value.split(/:(.*)/s);
  if (kind === "chip") return { chip: ref };
  const spec = await api(`hardware/templates/${encodeURIComponent(ref)}`, {
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
      Object.entries(r.estimate.settings || {})
        .map(([k, v]) => `${k} ${v.value}: ${v.source}`).join("\n") + "\n" +
      JSON.stringify(t, null, 2);
  } catch (e) { showError(out, e.message); }
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
  } catch (e) { showError($("exp-status"), e.message); }
}

async function watch(jobId) {
  currentJob = jobId;
  $("exp-cancel").disabled = false;
  $("front").replaceChildren();
  while (currentJob === jobId) {
    const job = await api(`jobs/${encodeURIComponent(jobId)}`);
    const p = job.progress || {};
    const pct = p.total ? Math.round((100 * p.evaluated) / p.total) : 0;
    $("bar").style.width = `${pct}%`;
    const eta = p.eta_s != null ? ` · ETA ${p.eta_s.toFixed(1)} s` : "";
    const best = p.best_so_far ? ` · best ${JSON.stringify(p.best_so_far)}` : "";
    $("exp-status").textContent = `${job.status}: ${p.evaluated || 0}/${p.total ?? "?"} points${eta}${best}` +
      (job.error ? ` — ${job.error}` : "");
    if (["succeeded", "failed", "cancelled"].includes(job.status)) {
      $("exp-cancel").disabled = true;
      if (job.status === "succeeded") drawFront(await api(`explorations/${encodeURIComponent(jobId)}/front`));
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
  const pts = front.front.map((p) => [Number(p[ox]), Number(p[oy]), p]);
  const W = 460, H = 280, M = 50;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => M + ((x - x0) / ((x1 - x0) || 1)) * (W - 2 * M);
  const sy = (y) => H - M - ((y - y0) / ((y1 - y0) || 1)) * (H - 2 * M);
  const plot = svg("svg", { width: W, height: H, role: "img", "aria-label": "Pareto front" });
  plot.append(
    svg("line", { x1: M, y1: H - M, x2: W - M, y2: H - M, stroke: "#999" }),
    svg("line", { x1: M, y1: M, x2: M, y2: H - M, stroke: "#999" }),
    svg("polyline", { points: pts.slice().sort((a, b) => a[0] - b[0]).map(([x, y]) => `${sx(x)},${sy(y)}`).join(" "),
                      fill: "none", stroke: "#2a7" }));
  for (const [x, y, p] of pts) {
    const dot = svg("circle", { cx: sx(x), cy: sy(y), r: 5, fill: "#1f3a5f" });
    dot.append(svg("title", {}, `${p.rows}x${p.cols} ${p.dataflow}: ${ox}=${x.toPrecision(4)} ${oy}=${y.toPrecision(4)}`));
    plot.append(dot);
  }
  plot.append(
    svg("text", { x: W / 2, y: H - 15, "text-anchor": "middle" }, `${ox} (${x0.toPrecision(3)} – ${x1.toPrecision(3)})`),
    svg("text", { x: 12, y: H / 2, transform: `rotate(-90 12 ${H / 2})`, "text-anchor": "middle" },
        `${oy} (${y0.toPrecision(3)} – ${y1.toPrecision(3)})`));
  $("front").replaceChildren(plot, el("p", `${front.count} Pareto-optimal designs`));
}

async function download(url, name) {
  const r = await request(url);
  if (!r.ok) { alert(`download failed: ${r.status}`); return; }
  const href = URL.createObjectURL(await r.blob());
  const a = el("a", "", { href, download: name });
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

async function refreshJobs() {
  const jobs = await api("jobs?limit=10");
  rows($("jobs").tBodies[0], jobs.items, (j) => {
    if (j.status !== "succeeded" || !j.artifact_name) return [j.id.slice(0, 8), j.kind, j.status,
      `${j.progress.evaluated}/${j.progress.total ?? "?"}`, ""];
    const button = el("button", "download", { type: "button" });
    const url = `${API}/${j.kind === "rtl" ? "rtl" : "explorations"}/${encodeURIComponent(j.id)}/artifact`;
    button.addEventListener("click", () => download(url, j.artifact_name));
    return [j.id.slice(0, 8), j.kind, j.status, `${j.progress.evaluated}/${j.progress.total ?? "?"}`, button];
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

async function loadAll() {
  if (!(await refreshWho())) return;
  await Promise.allSettled([refreshModels(), refreshHardware(), refreshJobs()]);
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("codesign-api-key", $("key-input").value.trim());
  $("key-input").value = "";
  loadAll();
});
$("upload-form").addEventListener("submit", upload);
$("estimate-form").addEventListener("submit", runEstimate);
$("explore-form").addEventListener("submit", startExploration);
$("exp-cancel").addEventListener("click", () => currentJob && api(`jobs/${encodeURIComponent(currentJob)}/cancel`, { method: "POST" }));
refreshHealth(); loadAll();
setInterval(refreshHealth, 10000);
