// codesign-playground workbench: a small multi-view front end in plain ES modules that talks
// only to the public HTTP API under /api/v1 (see docs/web.md). Pages are chosen by the URL
// hash (#/models, #/hardware, #/estimate, #/explorations[/ID], #/rtl), so every view has a
// link that can be bookmarked or shared. Values from the API reach the page as text nodes
// (js/dom.js), never as markup.
import { apiKey, request, setApiKey } from "./js/api.js";
import { $, h, problem, show, loading } from "./js/dom.js";
import * as models from "./js/views/models.js";
import * as hardware from "./js/views/hardware.js";
import * as estimate from "./js/views/estimate.js";
import * as explorations from "./js/views/explorations.js";
import * as rtl from "./js/views/rtl.js";

const VIEWS = { models, hardware, estimate, explorations, rtl };
let generation = 0;

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split(/\?(.*)/s);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || "models", parts: parts.slice(1), params: new URLSearchParams(query) };
}

function askForKey() {
  $("key-form").hidden = false;
  $("who").textContent = "API key needed";
}

let known = false; // who we are, asked once per key (each page would otherwise ask again)
async function refreshWho() {
  if (known) return true;
  let r;
  try { r = await request("me"); } catch { return false; }
  if (r.status === 401) { askForKey(); return false; }
  if (!r.ok) return false;
  const me = await r.json();
  $("who").textContent = me.auth_mode === "none" ? "" : `${me.owner} (${me.scope})`;
  $("key-form").hidden = me.auth_mode !== "api-key" || Boolean(apiKey());
  known = true;
  return true;
}

async function refreshHealth() {
  const node = $("health");
  try {
    const r = await fetch("/health/ready");
    const body = await r.json();
    node.textContent = `${body.mode}: ${body.status}`;
    node.className = "pill " + (r.ok ? "ok" : "bad");
  } catch { node.textContent = "server down"; node.className = "pill bad"; }
}

async function route() {
  const mine = ++generation;
  const { view, parts, params } = parseHash();
  const page = VIEWS[view];
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const main = $("view");
  if (!page) {
    show(main, h("h1", {}, "Not found"), problem(new Error(`no page called ${view}; pick one above`)));
    return;
  }
  document.title = `${page.TITLE} · codesign-playground`;
  show(main, loading(`Loading ${page.TITLE.toLowerCase()}…`));
  if (!(await refreshWho())) {
    if (mine === generation) show(main, h("h1", {}, page.TITLE), problem(new Error("this server needs an API key: type it above")));
    return;
  }
  // the page is in the document while it renders (forms it submits must be connected)
  const container = h("div", { class: "page", "data-page": view }, loading(`Loading ${page.TITLE.toLowerCase()}…`));
  show(main, container);
  try {
    await page.render(container, { parts, params, alive: () => mine === generation });
  } catch (e) {
    if (mine === generation) show(main, h("h1", {}, page.TITLE), problem(e));
  }
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setApiKey($("key-input").value.trim());
  known = false;
  $("key-input").value = "";
  route();
});
window.addEventListener("codesign:need-key", () => { known = false; askForKey(); });
window.addEventListener("hashchange", route);
refreshHealth();
setInterval(refreshHealth, 15000);
route();
