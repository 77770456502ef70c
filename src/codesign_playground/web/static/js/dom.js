// DOM helpers. Every value from the API reaches the page through text nodes or attributes,
// never as markup, so a stored name cannot run a script.
export const $ = (id) => document.getElementById(id);

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "value") node.value = v;
    else if (k === "checked") node.checked = Boolean(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

// designed states
export const loading = (text = "Loading…") => h("p", { class: "state loading", role: "status" }, text);
export const empty = (text, ...extra) => h("div", { class: "state empty" }, h("p", {}, text), ...extra);
export function problem(err, what = "") {
  const detail = err && (err.detail || err.message) ? err.detail || err.message : String(err);
  return h("div", { class: "state error", role: "alert" },
    h("strong", {}, what ? `${what} failed: ` : "Error: "), h("span", { class: "detail" }, detail));
}
export function show(target, ...nodes) {
  target.replaceChildren(...nodes.flat());
  return target;
}

// a labelled form field; `error` slot beside it for validation messages
export function field(label, input, hint = "") {
  if (!input.id) input.id = nextId("f");
  const err = h("span", { class: "field-error", id: `${input.id}-error`, "aria-live": "polite" });
  input.setAttribute("aria-describedby", `${input.id}-error`);
  return h("div", { class: "field", "data-name": input.name || "" },
    h("label", { for: input.id }, label), input, hint ? h("small", { class: "hint" }, hint) : null, err);
}
export function setFieldError(input, message) {
  const slot = document.getElementById(`${input.id}-error`);
  if (slot) slot.textContent = message || "";
  input.setAttribute("aria-invalid", message ? "true" : "false");
}
export function select(name, options, value) {
  const node = h("select", { name });
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    node.append(h("option", { value: v }, text));
  }
  if (value !== undefined && value !== null) node.value = String(value);
  return node;
}
export const input = (name, value = "", attrs = {}) => h("input", { name, value: value ?? "", ...attrs });
export const button = (text, onclick, attrs = {}) => h("button", { type: "button", onclick, ...attrs }, text);

// numbers: engineering notation with SI prefixes and the unit, or plain counts
const PREFIX = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""], [1e-3, "m"], [1e-6, "µ"], [1e-9, "n"], [1e-12, "p"]];
export function si(value, unit = "", digits = 3) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  const x = Number(value);
  if (x === 0) return `0 ${unit}`.trim();
  const a = Math.abs(x);
  for (const [scale, p] of PREFIX) {
    if (a >= scale * 0.9995) return `${(x / scale).toPrecision(digits)} ${p}${unit}`.trim();
  }
  return `${x.toExponential(digits - 1)} ${unit}`.trim();
}
export const num = (x, digits = 4) =>
  x === null || x === undefined ? "–" : typeof x === "number" ? (Number.isInteger(x) ? x.toLocaleString("en") : x.toPrecision(digits)) : String(x);
export const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)} %`);

// a table whose headers are buttons that sort it (keyboard: Tab to a header, Enter/Space)
export function sortableTable(columns, rows, { caption = "", rowAttrs = null, limit = 0 } = {}) {
  const table = h("table", { class: "data" });
  if (caption) table.append(h("caption", {}, caption));
  const thead = h("thead");
  const tr = h("tr");
  const tbody = h("tbody");
  let sortKey = null;
  let dir = 1;
  const render = () => {
    let data = rows.slice();
    if (sortKey !== null) {
      const col = columns.find((c) => c.key === sortKey);
      const val = col.sort || ((r) => r[col.key]);
      data.sort((a, b) => {
        const x = val(a), y = val(b);
        if (typeof x === "number" && typeof y === "number") return dir * (x - y);
        return dir * String(x ?? "").localeCompare(String(y ?? ""), "en", { numeric: true });
      });
    }
    if (limit) data = data.slice(0, limit);
    tbody.replaceChildren(...data.map((r) => {
      const row = h("tr", rowAttrs ? rowAttrs(r) : {});
      for (const c of columns) {
        const v = c.cell ? c.cell(r) : c.fmt ? c.fmt(r[c.key], r) : r[c.key];
        row.append(h("td", { class: c.num ? "num" : "" }, v instanceof Node ? v : v ?? ""));
      }
      return row;
    }));
    for (const th of tr.children) {
      const k = th.dataset.key;
      th.setAttribute("aria-sort", k === sortKey ? (dir > 0 ? "ascending" : "descending") : "none");
    }
  };
  for (const c of columns) {
    const th = h("th", { scope: "col", "data-key": c.key, class: c.num ? "num" : "" });
    if (c.sortable === false) th.append(c.label);
    else th.append(h("button", { type: "button", class: "sort", onclick: () => {
      dir = sortKey === c.key ? -dir : c.num ? -1 : 1;
      sortKey = c.key;
      render();
    } }, c.label));
    tr.append(th);
  }
  thead.append(tr);
  table.append(thead, tbody);
  render();
  return h("div", { class: "table-wrap" }, table);
}

// a definition list of label/value pairs
export function facts(pairs) {
  const dl = h("dl", { class: "facts" });
  for (const [k, v, note] of pairs) {
    dl.append(h("dt", {}, k), h("dd", {}, v instanceof Node ? v : String(v ?? "–"), note ? h("small", { class: "source" }, ` ${note}`) : null));
  }
  return dl;
}

export const card = (title, ...children) => h("section", { class: "card" }, title ? h("h3", {}, title) : null, ...children);
