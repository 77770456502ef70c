// Charts drawn with the vendored Plotly.js (/static/vendor/plotly.min.js, see VERSIONS there),
// loaded on first use so the first render of a page does not wait for it.
import { h } from "./dom.js";

let loader = null;
export function plotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loader) {
    loader = maplibreRules().then(() => new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/static/vendor/plotly.min.js";
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { loader = null; reject(new Error("could not load /static/vendor/plotly.min.js")); };
      document.head.append(s);
    }));
  }
  return loader;
}

// Plotly's bundle injects MapLibre's rules in an inline <style> (refused by the CSP) unless an
// element with their id exists: link the same rules as a file under that id first
// (scripts/vendor_web.sh wrote both).
async function maplibreRules() {
  const r = await fetch("/static/vendor/plotly-maplibre.id");
  if (!r.ok) return;
  const id = (await r.text()).trim();
  if (!id || document.getElementById(id)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/vendor/plotly-maplibre.css";
  link.id = id;
  document.head.append(link);
}

const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12 };
export const COLORS = { compute: "#1f77b4", memory: "#d62728", dram: "#d62728", bandwidth: "#d62728", other: "#7f7f7f",
  front: "#0b6e4f", rest: "#b8c2cc", accent: "#e07a1f" };
// compute-bound blue, any memory level red, no bound (no work) grey
export const boundColor = (b) => COLORS[b] || (String(b).includes("compute") ? COLORS.compute : b === "none" ? COLORS.other : COLORS.memory);

// a chart container: a figure with an accessible name and a text fallback
export function chartBox(label, height = 320) {
  const div = h("div", { class: "chart", role: "img", "aria-label": label, style: undefined });
  div.dataset.height = String(height);
  return div;
}

export async function plot(div, data, layout = {}, config = {}) {
  const P = await plotly();
  const height = Number(div.dataset.height || 320);
  await P.newPlot(div, data, {
    height, font: FONT, margin: { l: 60, r: 20, t: 30, b: 50 }, paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff", hoverlabel: { namelength: -1 }, ...layout,
  }, { displayModeBar: false, responsive: true, ...config });
  return div;
}

// parallel coordinates over knobs and metrics, as SVG lines (no WebGL, so it draws anywhere)
export async function parallel(div, rows, dims, { highlight = () => false, label = () => "" } = {}) {
  const axes = dims.map((d) => {
    const vals = rows.map((r) => r[d]);
    const numeric = vals.every((v) => typeof v === "number" || v === null);
    if (numeric) {
      const finite = vals.filter((v) => v !== null && Number.isFinite(v));
      const lo = Math.min(...finite), hi = Math.max(...finite);
      const log = lo > 0 && hi / lo > 50;
      const f = (v) => (log ? Math.log10(v) : v);
      const span = f(hi) - f(lo) || 1;
      return { d, pos: (v) => (v === null ? null : (f(v) - f(lo)) / span), ticks: [[0, lo], [1, hi]], log };
    }
    const cats = [...new Set(vals.map(String))];
    const n = Math.max(cats.length - 1, 1);
    return { d, pos: (v) => cats.indexOf(String(v)) / n, ticks: cats.map((c, i) => [i / n, c]) };
  });
  const traces = [false, true].map((hi) => {
    const x = [], y = [], text = [];
    for (const r of rows) {
      if (Boolean(highlight(r)) !== hi) continue;
      axes.forEach((a, i) => { x.push(i); y.push(a.pos(r[a.d])); text.push(label(r)); });
      x.push(null); y.push(null); text.push("");
    }
    return { x, y, text, type: "scatter", mode: "lines", hoverinfo: "text", name: hi ? "Pareto front" : "other points",
      line: { color: hi ? COLORS.front : COLORS.rest, width: hi ? 2 : 1 }, opacity: hi ? 0.95 : 0.6 };
  });
  const annotations = [];
  axes.forEach((a, i) => {
    for (const [p, v] of a.ticks) {
      annotations.push({ x: i, y: p, xref: "x", yref: "y", text: typeof v === "number" ? Number(v).toPrecision(3) : String(v),
        showarrow: false, xanchor: "left", xshift: 4, font: { size: 10, color: "#333" } });
    }
  });
  const shapes = axes.map((_, i) => ({ type: "line", x0: i, x1: i, y0: 0, y1: 1, line: { color: "#444", width: 1 } }));
  return plot(div, traces, {
    xaxis: { tickvals: axes.map((_, i) => i), ticktext: axes.map((a) => a.d + (a.log ? " (log)" : "")), zeroline: false, showgrid: false },
    yaxis: { visible: false, range: [-0.05, 1.05] }, annotations, shapes, showlegend: true,
    legend: { orientation: "h", y: -0.2 }, margin: { l: 30, r: 60, t: 20, b: 70 },
  });
}
