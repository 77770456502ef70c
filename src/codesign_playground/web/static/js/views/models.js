// Models: upload an ONNX graph, pick a zoo model with its knobs, and read a sortable per-layer
// profile (MACs, parameters, bytes moved, arithmetic intensity).
import { api, q } from "../api.js";
import { h, show, loading, empty, problem, field, select, input, button, sortableTable, facts, si, num, setFieldError } from "../dom.js";
import * as store from "../store.js";

export const TITLE = "Models";
const PAGE = 20;
const KNOB_HELP = { resolution: "input pixels", seq_len: "tokens", kv_len: "cached tokens", width: "width multiplier" };

export async function render(root, { params }) {
  const [zoo] = await Promise.all([store.zoo()]);
  const profileBox = h("div", { id: "profile", class: "profile" });
  const listBox = h("div", { id: "model-list" });

  // upload: the graph, sizes for its named symbolic input dimensions (the CLI's --dim) and
  // whether ops whose shapes cannot be resolved may be left out (--allow-unresolved)
  const file = h("input", { type: "file", name: "file", accept: ".onnx", required: true });
  const dims = input("dims", "", { placeholder: "batch=1, seq=128", autocomplete: "off", spellcheck: "false" });
  const allow = h("input", { type: "checkbox", name: "allow_unresolved", id: "upload-allow-unresolved", "aria-describedby": "upload-allow-unresolved-error" });
  const allowField = h("div", { class: "field", "data-name": "allow_unresolved" },
    h("label", { class: "check", for: allow.id }, allow, " Allow unresolved shapes"),
    h("small", { class: "hint" }, "count the graph without ops whose shapes no inference resolves (the totals say how many)"),
    h("span", { class: "field-error", id: "upload-allow-unresolved-error", "aria-live": "polite" }));
  const uploadMsg = h("div", { class: "form-msg", "aria-live": "polite" });
  const blame = (err) => {
    // the problem beside the field it is about: "dims: ..." (a missing or bad size), the
    // unresolved op (its message names allow_unresolved), else the file
    const detail = err.detail || err.message;
    const target = detail.startsWith("dims:") ? dims : /allow_unresolved/.test(detail) ? allow : file;
    setFieldError(target, detail);
  };
  const upload = h("form", { id: "upload-form", class: "inline-form", onsubmit: async (e) => {
    e.preventDefault();
    if (!file.files[0]) return;
    for (const el of [file, dims, allow]) setFieldError(el, "");
    const form = new FormData();
    form.append("file", file.files[0]);
    for (const binding of dims.value.split(",").map((d) => d.trim()).filter(Boolean)) form.append("dims", binding);
    if (allow.checked) form.append("allow_unresolved", "true");
    show(uploadMsg, loading("Uploading and checking the graph…"));
    try {
      const m = await api("models", { method: "POST", body: form });
      store.forget("models");
      const bound = Object.entries(m.summary.dims || {}).map(([k, v]) => `${k}=${v}`).join(", ");
      const left = m.summary.unresolved ? ` ${m.summary.unresolved} arithmetic op${m.summary.unresolved > 1 ? "s" : ""} left out (unresolved shapes).` : "";
      show(uploadMsg, h("p", { class: "ok" }, `Stored ${m.name} as ${m.id}: ${m.node_count} nodes, ${si(m.summary.macs, "MAC")}${bound ? ` with ${bound}` : ""}.${left}`));
      await listModels(listBox, 0, profileBox);
      showProfile(profileBox, { id: m.id, label: m.name });
    } catch (err) { blame(err); show(uploadMsg, problem(err, "Upload")); }
  } }, field("ONNX file", file, "an .onnx graph; size and node limits apply"),
  field("Symbolic dimensions", dims, "NAME=SIZE, comma-separated: sizes of named input dimensions (a leading batch axis defaults to 1)"),
  allowField, h("button", { type: "submit" }, "Upload ONNX"), uploadMsg);

  // zoo with knobs
  const zooSel = select("zoo", zoo.map((z) => [z.name, `${z.name} (${z.family})`]), params.get("zoo") || "resnet18");
  const knobBox = h("div", { class: "knobs" });
  const batch = input("batch", params.get("batch") || "1", { type: "number", min: 1, max: 65536 });
  const precision = select("precision", [["", "model's"], "fp32", "fp16", "bf16", "int8", "int4"], params.get("precision") || "");
  const zooInfo = h("p", { class: "muted" });
  const knobInputs = {};
  const fillKnobs = () => {
    const entry = zoo.find((z) => z.name === zooSel.value);
    zooInfo.textContent = entry ? entry.description : "";
    for (const k of Object.keys(knobInputs)) delete knobInputs[k];
    const fields = [];
    for (const [k, v] of Object.entries(entry ? entry.knobs : {})) {
      if (k === "batch" || k === "precision") continue;
      knobInputs[k] = input(k, params.get(k) || v, { type: "number", step: k === "width" ? "0.05" : "1", min: k === "width" ? "0.05" : "1" });
      fields.push(field(k, knobInputs[k], `${KNOB_HELP[k] || ""}, default ${v}`));
    }
    show(knobBox, fields);
  };
  zooSel.addEventListener("change", fillKnobs);
  fillKnobs();
  const zooForm = h("form", { id: "zoo-form", class: "grid-form", onsubmit: (e) => {
    e.preventDefault();
    const knobs = {};
    for (const [k, el] of Object.entries(knobInputs)) if (el.value !== "") knobs[k] = Number(el.value);
    showProfile(profileBox, { zoo: zooSel.value, label: zooSel.value, knobs, batch: batch.value, precision: precision.value });
  } }, field("Zoo model", zooSel), knobBox, field("Batch", batch), field("Precision", precision),
  h("div", { class: "actions" }, h("button", { type: "submit" }, "Profile")), zooInfo);

  show(root,
    h("h1", {}, "Models"),
    h("div", { class: "two-col" },
      h("section", { class: "card" }, h("h2", {}, "Upload an ONNX model"), upload, h("h2", {}, "Uploaded models"), listBox),
      h("section", { class: "card" }, h("h2", {}, "Zoo model and knobs"), zooForm)),
    h("section", { class: "card" }, h("h2", {}, "Per-layer profile"), profileBox));
  show(profileBox, empty("Pick a model above to see its layers."));
  await listModels(listBox, 0, profileBox);
  if (params.get("model")) showProfile(profileBox, { id: params.get("model"), label: params.get("model") });
  else if (params.get("zoo")) zooForm.requestSubmit();
}

async function listModels(box, offset, profileBox) {
  show(box, loading("Loading uploaded models…"));
  try {
    const page = await api(`models${q({ limit: PAGE, offset })}`);
    if (!page.items.length && offset === 0) {
      show(box, empty("No uploaded models yet: upload an ONNX file above, or use a zoo model."));
      return;
    }
    const table = sortableTable([
      { key: "name", label: "name" },
      { key: "id", label: "id", fmt: (v) => v.slice(0, 8) },
      { key: "node_count", label: "nodes", num: true },
      { key: "macs", label: "MACs", num: true, sort: (m) => m.summary.macs, cell: (m) => si(m.summary.macs) },
      { key: "params", label: "params", num: true, sort: (m) => m.summary.params, cell: (m) => si(m.summary.params) },
      { key: "act", label: "", sortable: false, cell: (m) => h("span", { class: "row-actions" },
        button("Profile", () => showProfile(profileBox, { id: m.id, label: m.name }), { "aria-label": `profile ${m.name}` }),
        h("a", { href: `#/estimate?model=id:${m.id}`, class: "button-link" }, "Estimate")) },
    ], page.items, { caption: `uploaded models ${offset + 1}–${offset + page.items.length}` });
    const nav = h("div", { class: "pager" },
      offset > 0 ? button("Newer", () => listModels(box, Math.max(0, offset - PAGE), profileBox)) : null,
      page.items.length === PAGE ? button("Older", () => listModels(box, offset + PAGE, profileBox)) : null);
    show(box, table, nav);
  } catch (err) { show(box, problem(err, "Listing models")); }
}

async function showProfile(box, ref) {
  show(box, loading(`Profiling ${ref.label}…`));
  try {
    const query = q({ batch: ref.batch, precision: ref.precision, ...(ref.knobs || {}) });
    const p = ref.id ? await api(`models/${encodeURIComponent(ref.id)}/profile${query}`)
      : await api(`models/zoo/${encodeURIComponent(ref.zoo)}/profile${query}`);
    const t = p.totals;
    const layers = p.layers.map((l, i) => ({ ...l, index: i, bytes: l.weight_bytes + l.input_bytes + l.output_bytes }));
    show(box,
      h("h3", {}, `${p.model}`, h("small", { class: "muted" }, ` — ${p.source || ""}`)),
      facts([["layers", num(t.layers)], ["MACs", si(t.macs, "MAC")], ["FLOPs", si(t.flops, "FLOP")],
        ["parameters", si(t.params)], ["weight bytes", si(t.weight_bytes, "B")], ["activation bytes", si(t.activation_bytes, "B")],
        ["inputs", (p.inputs || []).map((i) => `${i.name} ${JSON.stringify(i.shape)} ${i.dtype}`).join(", ")]]),
      h("p", { class: "muted" }, "Bytes are weights + inputs + outputs of each layer at its precision; arithmetic intensity = FLOPs / bytes. Click a header to sort."),
      sortableTable([
        { key: "index", label: "#", num: true },
        { key: "name", label: "layer" },
        { key: "op", label: "op" },
        { key: "output_shape", label: "output", fmt: (v) => (v ? v.join("×") : "") },
        { key: "macs", label: "MACs", num: true, fmt: (v) => si(v) },
        { key: "params", label: "params", num: true, fmt: (v) => si(v) },
        { key: "bytes", label: "bytes", num: true, fmt: (v) => si(v, "B") },
        { key: "arithmetic_intensity", label: "FLOP/B", num: true, fmt: (v) => num(v, 3) },
      ], layers, { caption: `${layers.length} layers of ${p.model}` }));
  } catch (err) { show(box, problem(err, "Profile")); }
}
