// Hardware: the catalog with every number's source, a form that builds (or edits) a
// description from any template with validation messages beside the fields, and the saved
// descriptions, reusable on the Estimate page.
import { api, post } from "../api.js";
import { h, show, loading, empty, problem, field, select, input, button, sortableTable, si, setFieldError } from "../dom.js";
import * as store from "../store.js";

export const TITLE = "Hardware";
const SKIP = new Set(["also_computes"]);

export async function render(root, { params }) {
  const [catalog, templates] = await Promise.all([store.catalog(), store.templates()]);
  const detail = h("div", { id: "chip-detail" });
  const saved = h("div", { id: "saved-hardware" });
  const builder = h("div", { id: "builder" });
  show(detail, empty("Choose a chip to see its description and the source of every number."));
  show(root,
    h("h1", {}, "Hardware"),
    h("section", { class: "card" }, h("h2", {}, "Catalog"),
      sortableTable([
        { key: "name", label: "name" },
        { key: "kind", label: "kind" },
        { key: "clock_hz", label: "clock", num: true, fmt: (v) => si(v, "Hz") },
        { key: "power_w", label: "power", num: true, fmt: (v) => si(v, "W") },
        { key: "tech_node_nm", label: "node", num: true, fmt: (v) => (v ? `${v} nm` : "unpublished") },
        { key: "act", label: "", sortable: false, cell: (c) => h("span", { class: "row-actions" },
          button("Details", () => showChip(detail, c.id), { "aria-label": `details of ${c.name}` }),
          h("a", { class: "button-link", href: `#/estimate?hw=chip:${c.id}` }, "Estimate")) },
      ], catalog, { caption: `${catalog.length} catalog chips (sources: datasheets and papers, per field)` }),
      detail),
    h("div", { class: "two-col" },
      h("section", { class: "card" }, h("h2", {}, "Build or edit a description"), builder),
      h("section", { class: "card" }, h("h2", {}, "Saved descriptions"), saved)));
  buildForm(builder, templates, params.get("template") || "systolic", {}, () => listSaved(saved, builder, templates));
  await listSaved(saved, builder, templates);
  if (params.get("chip")) showChip(detail, params.get("chip"));
}

async function showChip(box, id) {
  show(box, loading("Loading the description…"));
  try {
    const c = await api(`hardware/catalog/${encodeURIComponent(id)}`);
    const sources = Object.entries(c.sources || {}).map(([k, v]) => ({ field: k, value: valueAt(c, k), source: v }));
    show(box, h("h3", {}, c.name), h("p", {}, c.description || ""),
      sortableTable([
        { key: "field", label: "field" },
        { key: "value", label: "value", fmt: (v) => (typeof v === "number" ? si(v) : JSON.stringify(v)) },
        { key: "source", label: "source" },
      ], sources, { caption: `every sourced number of ${c.name} (DS: datasheet, WP: white paper)` }));
    box.scrollIntoView({ block: "nearest" });
  } catch (err) { show(box, problem(err, "Loading the chip")); }
}

function valueAt(obj, path) {
  let cur = obj;
  for (const part of path.split(".")) {
    if (cur === undefined || cur === null) return null;
    if (Array.isArray(cur)) cur = cur.find((m) => m.name === part);
    else cur = cur[part];
  }
  return cur ?? null;
}

function parseValue(text, def) {
  const t = String(text).trim();
  if (t === "") return undefined;
  if (Array.isArray(def)) return t.split(",").map((s) => s.trim()).filter(Boolean);
  if (typeof def === "number" || def === null) {
    const n = Number(t);
    return Number.isNaN(n) ? t : n;
  }
  return t;
}

function buildForm(box, templates, kind, values, onSaved) {
  const tplSel = select("template", templates.map((t) => t.kind), kind);
  const tpl = templates.find((t) => t.kind === kind) || templates[0];
  const inputs = {};
  const fields = [];
  for (const [name, p] of Object.entries(tpl.parameters)) {
    if (SKIP.has(name)) continue;
    const v = values[name] ?? p.default;
    inputs[name] = input(name, Array.isArray(v) ? v.join(",") : v ?? "", { required: p.required || undefined });
    fields.push(field(name + (p.required ? " *" : ""), inputs[name], p.default === null ? "required" : `default ${Array.isArray(p.default) ? p.default.join(",") || "none" : p.default}`));
  }
  const out = h("div", { class: "form-msg", "aria-live": "polite" });
  const specText = h("textarea", { name: "spec", rows: 10, spellcheck: "false" });
  const collect = () => {
    const params = {};
    for (const [name, el] of Object.entries(inputs)) {
      const v = parseValue(el.value, tpl.parameters[name].default);
      if (v !== undefined) params[name] = v;
    }
    return params;
  };
  const clearErrors = () => Object.values(inputs).forEach((el) => setFieldError(el, ""));
  const blame = (err) => {
    // put the problem beside the field it names ("hardware field 'compute.rows': ..." or "rows: ...")
    const detail = err.detail || err.message;
    let placed = false;
    for (const [name, el] of Object.entries(inputs)) {
      const re = new RegExp(`(^|[.'" ])${name}(['":]|$)`);
      if (re.test(detail.split(/:\s/)[0]) || detail.startsWith(`${name}:`)) { setFieldError(el, detail); placed = true; }
    }
    if (!placed && /rows|cols/.test(detail)) for (const n of ["rows", "cols"]) if (inputs[n] && detail.includes(n)) { setFieldError(inputs[n], detail); placed = true; }
    show(out, problem(err, "Checking the description"));
    return placed;
  };
  const check = async () => {
    clearErrors();
    show(out, loading("Checking…"));
    try {
      const spec = await post(`hardware/templates/${encodeURIComponent(tpl.kind)}`, { params: collect() });
      specText.value = JSON.stringify(spec, null, 2);
      show(out, h("p", { class: "ok" }, `Valid: ${spec.name}, ${spec.kind}, ${spec.compute.rows}×${spec.compute.cols} PEs × ${spec.compute.cores} cores at ${si(spec.compute.clock_hz, "Hz")}.`));
      return spec;
    } catch (err) { blame(err); return null; }
  };
  const save = async () => {
    let spec;
    try { spec = specText.value.trim() ? JSON.parse(specText.value) : await check(); }
    catch (e) { show(out, problem(new Error(`spec: not valid JSON (${e.message})`))); return; }
    if (!spec) return;
    try {
      await post("hardware/validate", { spec });
      const row = await post("hardware", { spec });
      store.forget("hardware");
      show(out, h("p", { class: "ok" }, `Saved as ${row.name} (${row.id}). `, h("a", { href: `#/estimate?hw=hw:${row.id}` }, "Estimate with it")));
      onSaved();
    } catch (err) { show(out, problem(err, "Saving")); }
  };
  tplSel.addEventListener("change", () => buildForm(box, templates, tplSel.value, {}, onSaved));
  show(box,
    h("form", { id: "hw-form", class: "grid-form", onsubmit: (e) => { e.preventDefault(); check(); } },
      field("Template", tplSel, tpl.doc), ...fields,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Check"), button("Save", save, { id: "hw-save" }))),
    out,
    field("Description (JSON; edit it and Save to store your own)", specText));
  box.editSpec = (spec) => { specText.value = JSON.stringify(spec, null, 2); show(out, h("p", {}, `Editing ${spec.name}: change the JSON and Save (a new description is stored).`)); specText.focus(); };
}

async function listSaved(box, builder, templates) {
  show(box, loading("Loading saved descriptions…"));
  try {
    store.forget("hardware");
    const rows = await store.storedHardware();
    if (!rows.length) { show(box, empty("Nothing saved yet: build a description and Save it.")); return; }
    show(box, sortableTable([
      { key: "name", label: "name" },
      { key: "kind", label: "kind" },
      { key: "created_at", label: "saved", fmt: (v) => new Date(v).toLocaleString() },
      { key: "act", label: "", sortable: false, cell: (r) => h("span", { class: "row-actions" },
        button("Edit", () => builder.editSpec(r.spec), { "aria-label": `edit ${r.name}` }),
        h("a", { class: "button-link", href: `#/estimate?hw=hw:${r.id}` }, "Estimate")) },
    ], rows, { caption: `newest ${store.PICK_LIMIT} saved descriptions` }));
  } catch (err) { show(box, problem(err, "Listing saved descriptions")); }
}
