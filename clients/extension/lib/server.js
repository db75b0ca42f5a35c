// The agentgauge server's extension API (docs/extension.md): pairing, the long poll for pending
// refreshes, pushes (gzip JSON) and the snapshot for the popup. Every call but pairing carries the
// extension's own token.

export class ServerError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function url(settings, path) {
  return `${settings.server}/${path}`;
}

async function call(settings, path, { method = "GET", body, gzip = false, timeout = 20_000 } = {}) {
  const headers = { Accept: "application/json" };
  if (settings.token) headers.Authorization = `Bearer ${settings.token}`;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
    if (gzip) {
      headers["Content-Encoding"] = "gzip";
      payload = await gzipped(payload);
    }
  }
  let response;
  try {
    response = await fetch(url(settings, path), {
      method,
      headers,
      body: payload,
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(timeout),
    });
  } catch (error) {
    throw new ServerError(0, `agentgauge server not reachable at ${settings.server}`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ServerError(response.status, data?.error || `HTTP ${response.status}`);
  return data;
}

async function gzipped(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export const ping = (settings) => call({ ...settings, token: "" }, "api/ping", { timeout: 5_000 });

export function pair(settings, code, name) {
  return call({ ...settings, token: "" }, "api/extension/pair", { method: "POST", body: { code, name } });
}

export const hello = (settings) => call(settings, "api/extension/hello");
export const usage = (settings) => call(settings, "api/extension/usage");

// POST /api/refresh for the popup: the server refreshes its own accounts and asks this extension
// (which it now counts as reading ``providers``) for the rest, each behind its minimum interval.
export function refresh(settings, providers, wait = 0) {
  const query = new URLSearchParams({ providers: providers.join(","), pushes_to: settings.account, wait: String(wait) });
  return call(settings, `api/extension/refresh?${query}`, { method: "POST", timeout: (wait + 15) * 1000 });
}

export function poll(settings, providers, wait) {
  const query = new URLSearchParams({ providers: providers.join(","), account: settings.account, wait: String(wait) });
  return call(settings, `api/extension/poll?${query}`, { timeout: (wait + 10) * 1000 });
}

export function push(settings, provider, body) {
  const query = new URLSearchParams({ account: settings.account });
  return call(settings, `api/extension/ingest/${provider}?${query}`, { method: "POST", body, gzip: true });
}
