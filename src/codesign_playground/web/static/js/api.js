// The workbench's only way to the server: the public HTTP API under /api/v1.
// With AUTH_MODE=api-key the key typed in the header is kept in this tab's sessionStorage and
// sent as "Authorization: Bearer <key>". An API problem (application/problem+json) becomes an
// ApiError whose message is the problem's `detail`.
export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, detail, problem = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.problem = problem;
  }
}

export const apiKey = () => sessionStorage.getItem("codesign-api-key") || "";
export const setApiKey = (key) => sessionStorage.setItem("codesign-api-key", key);

export function authHeaders(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, authorization: `Bearer ${key}` } : headers;
}

export function url(path) {
  return path.startsWith("/") ? path : `${API}/${path}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function request(path, options = {}) {
  return fetch(url(path), { ...options, headers: authHeaders(options.headers || {}) });
}

// Rate limits (RATE_LIMIT_PER_MINUTE / RATE_LIMIT_PER_HOUR on /api/*, docs/service.md). The
// limiter answers 429 before the API runs anything, so a refused request of any method is
// safe to send again. A refusal is announced ("codesign:rate-limited": the page shows a
// notice counting down) and the request is sent again after Retry-After, as long as the waits
// add up to no more than one per-minute window: by then every earlier admission has left it,
// so a refusal after that means others keep the same bucket full (or the hour's limit is
// spent), and the caller gets the problem, whose detail says when to retry.
export const WINDOW_S = 60;

function retryAfter(response) {
  const s = Number(response.headers.get("retry-after"));
  return Number.isFinite(s) && s > 0 ? s : null;
}

async function announce(response, seconds, retrying) {
  let detail = "";
  try { detail = (await response.clone().json()).detail || ""; } catch { /* not a problem body */ }
  window.dispatchEvent(new CustomEvent("codesign:rate-limited", { detail: { seconds, detail, retrying } }));
}

// fetch with the key; a 429 waited out as above. Network errors reject.
export async function send(path, options = {}) {
  let waited = 0;
  for (;;) {
    const response = await request(path, options);
    if (response.status !== 429) return response;
    const wait = retryAfter(response);
    const retrying = wait !== null && waited + wait <= WINDOW_S;
    await announce(response, wait, retrying);
    if (!retrying) return response;
    waited += wait;
    await sleep(wait * 1000);
  }
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    const body = await response.json();
    return new ApiError(response.status, body.detail || `${response.status} ${response.statusText}`, body);
  }
  return new ApiError(response.status, `${response.status} ${response.statusText}`);
}

export async function api(path, options = {}) {
  let response;
  try {
    response = await send(path, options);
  } catch (e) {
    throw new ApiError(0, `the server did not answer (${e.message})`);
  }
  if (response.status === 401) window.dispatchEvent(new CustomEvent("codesign:need-key"));
  if (!response.ok) throw await problemOf(response);
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const post = (path, body) =>
  api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) });

export const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : "";
};

// Save an API answer as a file (the key travels in a header, so a plain link would not do).
export async function download(path, name) {
  const response = await send(path);
  if (!response.ok) throw await problemOf(response);
  const href = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

const TERMINAL = ["succeeded", "failed", "cancelled"];

// Follow a job through GET /jobs/{id}/events (server-sent events read with fetch, so the API
// key header goes along): onJob(job) at every change until the job ends or alive() turns
// false. A dropped stream reconnects; where streams fail, it falls back to polling.
export async function watchJob(id, onJob, alive = () => true) {
  let failures = 0;
  while (alive()) {
    let last = null;
    try {
      const response = await send(`jobs/${encodeURIComponent(id)}/events`);
      if (!response.ok) throw await problemOf(response);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (!data) continue;
          last = JSON.parse(data);
          if (!alive()) { reader.cancel(); return last; }
          await onJob(last);
        }
      }
      failures = 0;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw err;
      failures += 1;
      if (failures > 3) {
        last = await api(`jobs/${encodeURIComponent(id)}`);
        await onJob(last);
      }
    }
    if (last && TERMINAL.includes(last.status)) return last;
    await sleep(Math.min(1000 * failures, 5000) || 200);
  }
  return null;
}
