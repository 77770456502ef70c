// Lists most pages need (catalog, zoo, templates, stored models and descriptions), fetched
// once per visit and refreshed after a change. Stored lists are paginated by the API; the
// pickers show the newest PICK_LIMIT.
import { api, post } from "./api.js";

export const PICK_LIMIT = 50;
const cache = new Map();

export function cached(key, load) {
  if (!cache.has(key)) cache.set(key, load().catch((e) => { cache.delete(key); throw e; }));
  return cache.get(key);
}
export const forget = (key) => cache.delete(key);

export const catalog = () => cached("catalog", () => api("hardware/catalog"));
export const zoo = () => cached("zoo", () => api("models/zoo"));
export const templates = () => cached("templates", () => api("hardware/templates"));
export const storedModels = () => cached("models", () => api(`models?limit=${PICK_LIMIT}`));
export const storedHardware = () => cached("hardware", () => api(`hardware?limit=${PICK_LIMIT}`));

// model choice values: "zoo:NAME" or "id:MODEL_ID"
export async function modelChoices() {
  const [stored, z] = await Promise.all([storedModels(), zoo()]);
  return [
    ...stored.items.map((m) => [`id:${m.id}`, `${m.name} (uploaded ${m.id.slice(0, 8)})`]),
    ...z.map((m) => [`zoo:${m.name}`, `zoo: ${m.name}`]),
  ];
}
export function modelRef(value, knobs = null) {
  const [kind, ref] = value.split(/:(.*)/s);
  if (kind === "id") return { model_id: ref };
  return knobs && Object.keys(knobs).length ? { zoo: ref, knobs } : { zoo: ref };
}

// hardware choice values: "chip:ID", "hw:STORED_ID", "tpl:KIND:JSON_PARAMS"
export async function hardwareChoices() {
  const [chips, stored] = await Promise.all([catalog(), storedHardware()]);
  return [
    ...chips.map((c) => [`chip:${c.id}`, `${c.name}`]),
    ...stored.map((s) => [`hw:${s.id}`, `${s.name} (saved ${s.id.slice(0, 8)})`]),
    ["tpl:systolic:{}", "systolic template (defaults)"],
  ];
}
export async function hardwareRef(value) {
  const [kind, rest] = value.split(/:(.*)/s);
  if (kind === "chip") return { chip: rest };
  if (kind === "hw") return { hardware_id: rest };
  const [template, params] = rest.split(/:(.*)/s);
  const spec = await post(`hardware/templates/${encodeURIComponent(template)}`, { params: JSON.parse(params || "{}") });
  return { spec };
}
export function hardwareLabel(value, choices) {
  const found = choices.find(([v]) => v === value);
  if (found) return found[1];
  const [kind, rest] = value.split(/:(.*)/s);
  if (kind === "tpl") {
    const [template, params] = rest.split(/:(.*)/s);
    const p = JSON.parse(params || "{}");
    const dims = p.rows && p.cols ? ` ${p.rows}x${p.cols}` : "";
    return `${template}${dims}${p.dataflow ? ` ${p.dataflow}` : ""}`;
  }
  return value;
}
