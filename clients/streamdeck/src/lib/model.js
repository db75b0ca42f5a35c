// What the plugin knows about each agent, read from either answer the server gives: the snapshot
// (GET /api/usage, docs/snapshot.md) or seed 000's object (GET /api/data, docs/api.md). Everything
// past this module sees only this shape. Times become epoch milliseconds here, once.

import { ShapeError } from "./errors.js";
import { isNumber, isObject } from "./levels.js";
import { shortLabel } from "./format.js";

/**
 * @typedef {object} Forecast
 * @property {string} verdict will_run_out | watch | surplus | learning | ok
 * @property {number | null} expectedPct p50 of the usage at the reset
 * @property {number | null} highPct p90
 * @property {number | null} runsOutAt epoch ms of reaching 100 %, when before the reset
 * @property {number | null} pace used % / linear pace
 */

/**
 * @typedef {object} Window
 * @property {string} id
 * @property {string} label
 * @property {string} short the dial's label: "5h", "7d", "Mo", "Ses"
 * @property {number | null} pct percent used; null when the server gave none
 * @property {number | null} resetAt epoch ms
 * @property {number | null} lengthSeconds
 * @property {number | null} used
 * @property {number | null} limit
 * @property {string | null} unit
 * @property {boolean} unlimited
 * @property {boolean} resetPending the reset passed and no fetch has confirmed the new cycle
 * @property {Forecast | null} forecast
 */

/** @typedef {"ok" | "stale" | "error" | "unconfigured" | "waiting" | "disabled"} AgentStatus */

/**
 * @typedef {object} Agent
 * @property {string} key "codex", or "codex:work" for an extra account (the /api/data keys)
 * @property {string} provider
 * @property {string} account
 * @property {string} name
 * @property {AgentStatus} status
 * @property {string | null} plan
 * @property {string | null} error the server's message (never a secret)
 * @property {number | null} lastSuccessAt epoch ms
 * @property {string | null} note
 * @property {Window[]} windows
 * @property {Window | null} primary the session, else the shortest window with a known length
 * @property {Window | null} secondary the weekly window, else the next one
 * @property {Window | null} weekly the weekly window only
 */

/**
 * @typedef {object} Model
 * @property {"usage" | "data"} shape which answer it was read from
 * @property {number} receivedAt epoch ms when the plugin got it
 * @property {number | null} nextRefreshAt the server's next scheduled refresh (/api/data only)
 * @property {Agent[]} agents in the server's order
 */

export const SNAPSHOT_SCHEMA_PREFIX = "agentgauge.snapshot.";

// Seed 000's four agents by their display names; any other key is title-cased.
/** @type {Record<string, string>} */
const SEED_NAMES = { claude: "Claude", codex: "Codex", kimi: "Kimi", zai: "Z.AI" };

/**
 * @param {string} provider
 * @param {string} account
 */
export function agentKey(provider, account) {
  return !account || account === "default" ? provider : `${provider}:${account}`;
}

/**
 * @param {unknown} value
 * @returns {number | null}
 */
function epochMs(value) {
  if (typeof value !== "string" || !value) return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

/**
 * @param {unknown} value
 * @returns {number | null}
 */
const num = (value) => (isNumber(value) ? value : null);

/**
 * @param {unknown} value
 * @returns {string | null}
 */
const str = (value) => (typeof value === "string" && value ? value : null);

/**
 * Which answer this is, or null for neither.
 * @param {unknown} body
 * @returns {"usage" | "data" | null}
 */
export function shapeOf(body) {
  if (!isObject(body)) return null;
  if (
    typeof body.schema === "string" &&
    body.schema.startsWith(SNAPSHOT_SCHEMA_PREFIX) &&
    Array.isArray(body.providers)
  ) {
    return "usage";
  }
  const entries = Object.entries(body).filter(([key]) => key !== "last_fetch" && key !== "next_refresh_at");
  if (entries.every(([, value]) => isObject(value) && typeof value.status === "string")) return "data";
  return null;
}

/**
 * Read either answer.
 * @param {unknown} body
 * @param {number} receivedAt epoch ms
 * @returns {Model}
 */
export function readModel(body, receivedAt) {
  const shape = shapeOf(body);
  if (shape === "usage") return fromSnapshot(/** @type {Record<string, any>} */ (body), receivedAt);
  if (shape === "data") return fromData(/** @type {Record<string, any>} */ (body), receivedAt);
  throw new ShapeError("the server's answer is neither an agentgauge snapshot nor an /api/data object");
}

// -- the snapshot (/api/usage) -------------------------------------------------------------------

/**
 * @param {Record<string, any>} body
 * @param {number} receivedAt
 * @returns {Model}
 */
function fromSnapshot(body, receivedAt) {
  /** @type {Agent[]} */
  const agents = [];
  for (const p of body.providers) {
    if (!isObject(p) || typeof p.provider !== "string") continue;
    const account = str(p.account) ?? "default";
    const windows = (Array.isArray(p.windows) ? p.windows : []).filter(isObject).map(snapshotWindow);
    const lastSuccessAt = epochMs(p.last_success_at);
    const error = isObject(p.error) ? str(p.error.message) : null;
    agents.push(
      withRows({
        key: agentKey(p.provider, account),
        provider: p.provider,
        account,
        name: displayName(str(p.name) ?? titleCase(p.provider), account),
        status: snapshotStatus(str(p.status), lastSuccessAt, error),
        plan: str(p.plan),
        error,
        lastSuccessAt,
        note: str(p.note),
        windows,
      }),
    );
  }
  return { shape: "usage", receivedAt, nextRefreshAt: null, agents };
}

/**
 * @param {Record<string, any>} w
 * @returns {Window}
 */
function snapshotWindow(w) {
  const id = str(w.id) ?? "window";
  const label = str(w.label) ?? id;
  const lengthSeconds = num(w.window_seconds);
  const resetPending = w.reset_pending === true;
  const f = isObject(w.forecast) ? w.forecast : null;
  return {
    id,
    label,
    short: shortLabel({ id, label, lengthSeconds }),
    // A passed reset that no fetch confirmed yet reads 0 %, as on the dashboard.
    pct: resetPending ? 0 : num(w.used_pct),
    resetAt: epochMs(w.resets_at),
    lengthSeconds,
    used: num(w.used),
    limit: num(w.limit),
    unit: str(w.unit),
    unlimited: w.unlimited === true,
    resetPending,
    forecast:
      f && !resetPending && typeof f.verdict === "string"
        ? {
            verdict: f.verdict,
            expectedPct: num(f.expected_pct),
            highPct: num(f.high_pct),
            runsOutAt: epochMs(f.runs_out_at),
            pace: num(f.pace),
          }
        : null,
  };
}

/**
 * @param {string | null} status
 * @param {number | null} lastSuccessAt
 * @param {string | null} error
 * @returns {AgentStatus}
 */
function snapshotStatus(status, lastSuccessAt, error) {
  // Configured but never fetched: the server's placeholder is "stale" with nothing behind it.
  if (status === "stale" && lastSuccessAt === null && error === null) return "waiting";
  if (status === "ok" || status === "stale" || status === "error" || status === "unconfigured") return status;
  if (status === "disabled") return "disabled";
  return "error";
}

// -- seed 000's object (/api/data) ----------------------------------------------------------------

/**
 * @param {Record<string, any>} body
 * @param {number} receivedAt
 * @returns {Model}
 */
function fromData(body, receivedAt) {
  /** @type {Agent[]} */
  const agents = [];
  for (const [key, entry] of Object.entries(body)) {
    if (key === "last_fetch" || key === "next_refresh_at" || !isObject(entry)) continue;
    const [provider, account = "default"] = key.split(":", 2);
    /** @type {Window[]} */
    const windows = [];
    for (const id of /** @type {const} */ (["session", "weekly"])) {
      if (isObject(entry[id])) windows.push(dataWindow(id, entry[id], receivedAt));
    }
    const error = str(entry.error);
    const lastSuccessAt = epochMs(entry.last_success);
    agents.push(
      withRows({
        key,
        provider,
        account,
        name: displayName(SEED_NAMES[provider] ?? titleCase(provider), account),
        status: dataStatus(str(entry.status), error),
        plan: str(entry.plan),
        error,
        lastSuccessAt,
        note: null,
        windows,
      }),
    );
  }
  return { shape: "data", receivedAt, nextRefreshAt: epochMs(body.next_refresh_at), agents };
}

/**
 * @param {"session" | "weekly"} id
 * @param {Record<string, any>} w
 * @param {number} receivedAt
 * @returns {Window}
 */
function dataWindow(id, w, receivedAt) {
  const label = id === "session" ? "Session" : "Weekly";
  const remaining = num(w.remaining_seconds);
  // Seed 000's own backend sends only remaining_seconds, counted from when it answered.
  let resetAt = epochMs(w.reset_at);
  if (resetAt === null && remaining !== null && remaining > 0) resetAt = receivedAt + remaining * 1000;
  return {
    id,
    label,
    // /api/data's "session" may be a stand-in (the shortest window) of unknown length.
    short: id === "session" ? "Ses" : shortLabel({ id, label, lengthSeconds: null }),
    pct: num(w.usage_pct),
    resetAt,
    lengthSeconds: null,
    used: num(w.used),
    limit: num(w.limit),
    unit: null,
    unlimited: false,
    resetPending: false,
    forecast: null,
  };
}

/**
 * @param {string | null} status
 * @param {string | null} error
 * @returns {AgentStatus}
 */
function dataStatus(status, error) {
  if (status === "ok" || status === "stale" || status === "error") return status;
  // "offline" in /api/data: no credentials found, or waiting for the first fetch.
  if (status === "offline") return error ? "unconfigured" : "waiting";
  return "error";
}

// -- shared ---------------------------------------------------------------------------------------

/**
 * @param {Omit<Agent, "primary" | "secondary" | "weekly">} agent
 * @returns {Agent}
 */
function withRows(agent) {
  const limited = agent.windows.filter((w) => !w.unlimited);
  const session = agent.windows.find((w) => w.id === "session") ?? null;
  const shortest = agent.windows
    .filter((w) => w.lengthSeconds !== null)
    .reduce(
      (/** @type {Window | null} */ best, w) =>
        best && (best.lengthSeconds ?? 0) <= (w.lengthSeconds ?? 0) ? best : w,
      null,
    );
  const primary = session ?? shortest ?? limited[0] ?? agent.windows[0] ?? null;
  const weekly = agent.windows.find((w) => w.id === "weekly") ?? null;
  const secondary =
    (weekly !== primary ? weekly : null) ??
    limited.find((w) => w !== primary) ??
    agent.windows.find((w) => w !== primary) ??
    null;
  return { ...agent, primary, secondary, weekly };
}

/**
 * @param {string} name
 * @param {string} account
 */
function displayName(name, account) {
  return account && account !== "default" ? `${name} · ${account}` : name;
}

/** @param {string} id */
function titleCase(id) {
  return id ? id[0].toUpperCase() + id.slice(1) : id;
}

/**
 * The window closest to its limit among those that can run out (the key's ring): the dashboard's
 * "tightest" rule. A window whose reset time has passed reads 0 % until the server confirms.
 * @param {Agent} agent
 * @param {number} now epoch ms
 * @returns {Window | null}
 */
export function tightestWindow(agent, now) {
  /** @type {Window | null} */
  let best = null;
  for (const w of agent.windows) {
    if (w.unlimited) continue;
    const pct = shownPct(w, now);
    if (pct === null) continue;
    if (best === null || pct > /** @type {number} */ (shownPct(best, now))) best = w;
  }
  return best;
}

/**
 * The percent a window shows at `now`: 0 once its reset time has passed (the server's rule, applied
 * between polls too), else what the server said.
 * @param {Window} w
 * @param {number} now epoch ms
 * @returns {number | null}
 */
export function shownPct(w, now) {
  if (w.pct === null) return null;
  if (w.resetPending || (w.resetAt !== null && w.resetAt <= now)) return 0;
  return w.pct;
}

/**
 * The agents a settings page offers, in the server's order.
 * @param {Model} model
 * @returns {{key: string, name: string, status: AgentStatus}[]}
 */
export function agentChoices(model) {
  return model.agents.map((a) => ({ key: a.key, name: a.name, status: a.status }));
}
