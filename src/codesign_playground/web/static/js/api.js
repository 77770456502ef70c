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

export async function request(path, options = {}) {
  return fetch(url(path), { ...options, headers: authHeaders(options.headers || {}) });
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    const body = await response.json();
    return new ApiError(response.status, body.detail || `${response.status} ${response.statusText}`, body);
  }
  return new ApiError(response.status, `${response.status} ${response.statusText}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function api(path, options = {}) {
  let response;
  for (let attempt = 0; ; attempt++) {
    try {
      response = await request(path, options);
    } catch (e) {
      throw new ApiError(0, `the server did not answer (${e.message})`);
    }
    // a read refused by the rate limit is retried once after Retry-After (at most 30 s)
    const method = (options.method || "GET").toUpperCase();
    if (response.status !== 429 || method !== "GET" || attempt >= 1) break;
    const wait = Number(response.headers.get("retry-after") || 5);
    if (!(wait <= 30)) break;
    await sleep(wait * 1000);
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
  const response = await request(path);
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
      const response = await request(`jobs/${encodeURIComponent(id)}/events`);
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
