// What the page knows, shared by its modules, and the rules that read it (levels, urgency).

export const state = {
  thresholds: { warn: 40, crit: 70 },
  accounts: new Map(), // key -> ProviderSnapshot, in the server's (= config) order
  cards: new Map(), // key -> {el, parts, chart, range, history, loading}
  order: "config", // or "urgency"; remembered in localStorage
  sawSnapshot: false,
};

export const keyOf = (p) => `${p.provider}/${p.account}`;
export const displayName = (p) => (p.account && p.account !== "default" ? `${p.name} (${p.account})` : p.name);

export function level(pct) {
  if (pct > state.thresholds.crit) return "crit";
  return pct >= state.thresholds.warn ? "warn" : "ok";
}

// The percent a window shows: a passed reset that no fetch confirmed yet counts as 0 %.
export const shownPct = (w) => (w.reset_pending ? 0 : w.used_pct);

// Windows that can run out: unlimited ones never do.
export const limitedWindows = (p) => (p.windows || []).filter((w) => !w.unlimited);

// Configured but never fetched yet (the server's placeholder), which is not a failure.
export const isWaiting = (p) => p.status === "stale" && !p.last_success_at && !p.error;

export const staleSince = (p) => p.failing_since || p.last_success_at || null;

export function tightestPct(p) {
  const windows = limitedWindows(p);
  return windows.length ? Math.max(...windows.map(shownPct)) : null;
}

// Most urgent first: accounts in error (no numbers at all), then by tightest window, stale before ok on
// a tie, disabled last; the config order breaks the remaining ties (Array.sort is stable).
const STATUS_RANK = { error: 0, stale: 1, ok: 2, disabled: 3, unconfigured: 4 };

export function byUrgency(a, b) {
  const group = (p) => (p.status === "error" ? 0 : p.status === "disabled" ? 2 : 1);
  if (group(a) !== group(b)) return group(a) - group(b);
  const pa = tightestPct(a) ?? -1;
  const pb = tightestPct(b) ?? -1;
  if (pa !== pb) return pb - pa;
  return (STATUS_RANK[a.status] ?? 9) - (STATUS_RANK[b.status] ?? 9);
}

export async function api(path, options = {}) {
  const resp = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  // A server started with a token answers 401 once the login cookie is gone: sign in again.
  if (resp.status === 401) location.assign("login");
  if (!resp.ok) {
    let detail = "";
    try {
      const body = await resp.json();
      detail = body.detail || body.message || body.error || "";
    } catch {
      // The body was not JSON; the status code alone is reported.
    }
    throw new Error(`${path.split("?")[0]}: HTTP ${resp.status}${detail ? ` (${detail})` : ""}`);
  }
  return resp.json();
}
