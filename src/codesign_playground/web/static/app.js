// codesign-playground workbench: a small multi-view front end in plain ES modules that talks
// only to the public HTTP API under /api/v1 (see docs/web.md). Pages are chosen by the URL
// hash (#/models, #/hardware, #/estimate, #/explorations[/ID], #/rtl), so every view has a
// link that can be bookmarked or shared. Values from the API reach the page as text nodes
// (js/dom.js), never as markup.
import { ApiError, apiKey, send, setApiKey } from "./js/api.js";
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
// true: known; false: a key is needed; anything else the server says is thrown as a problem
async function refreshWho() {
  if (known) return true;
  let r;
  try { r = await send("me"); } catch (e) { throw new ApiError(0, `the server did not answer (${e.message})`); }
  if (r.status === 401) { askForKey(); return false; }
  if (!r.ok) {
    let detail = `${r.status} ${r.statusText}`;
    try { detail = (await r.json()).detail || detail; } catch { /* not a problem body */ }
    throw new ApiError(r.status, detail);
  }
  const me = await r.json();
  $("who").textContent = me.auth_mode === "none" ? "" : `${me.owner} (${me.scope})`;
  $("key-form").hidden = me.auth_mode !== "api-key" || Boolean(apiKey());
  known = true;
  return true;
}

// a request refused by the rate limit: say so, and count down to when it is sent again
let limitedUntil = 0;
let limitedText = "";
let limitedTimer = null;
function showLimited() {
  clearTimeout(limitedTimer);
  const node = $("rate-notice");
  const left = Math.ceil((limitedUntil - Date.now()) / 1000);
  if (left <= 0) { node.hidden = true; node.textContent = ""; return; }
  node.textContent = limitedText.replace("{s}", String(left));
  node.hidden = false;
  limitedTimer = setTimeout(showLimited, 1000);
}
window.addEventListener("codesign:rate-limited", (event) => {
  const { seconds, detail, retrying } = event.detail;
  // the server's detail without its own "retry in N s" (the notice counts down instead)
  const what = (detail || "the server's rate limit was reached").replace(/;\s*retry in \d+ s$/, "");
  limitedText = retrying ? `Rate limited: ${what}. The workbench sends the request again in {s} s.`
    : `Rate limited: ${what}. Try again in {s} s.`;
  limitedUntil = Math.max(limitedUntil, Date.now() + (seconds || 0) * 1000);
  showLimited();
});

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
  let who;
  try { who = await refreshWho(); } catch (e) {
    if (mine === generation) show(main, h("h1", {}, page.TITLE), problem(e));
    return;
  }
  if (!who) {
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
