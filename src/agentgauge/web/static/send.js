// JSON requests of the settings page: the session's CSRF token on every change (the server put it in
// the page), the server's error message (and hint) as the thrown Error's text.
const csrf = document.querySelector('meta[name="agentgauge-csrf"]')?.content ?? "";

export async function send(method, path, body) {
  const headers = { Accept: "application/json", "X-AgentGauge-CSRF": csrf };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body) });
  if (resp.status === 401) location.assign("login");
  let data = null;
  try {
    data = await resp.json();
  } catch {
    // not JSON: the status alone says what happened
  }
  if (!resp.ok) {
    const text = data?.error ? `${data.error}${data.hint ? ` (${data.hint})` : ""}` : `HTTP ${resp.status}`;
    throw new Error(text);
  }
  return data;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "never");
