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

export async function api(path, options = {}) {
  let response;
  try {
    response = await request(path, options);
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
