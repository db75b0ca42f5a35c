// The requests each provider's own usage page makes, made from inside the browser where its login
// cookies are first-party: the same URLs, headers and bodies as the agentgauge adapters' cookie
// sources (src/agentgauge/providers/<id>). Nothing here reads usage: each fetcher returns the raw
// answers ({parts}) for the server to parse with the adapter's own parser, or throws RequestFailed
// (pushed as {error}). It reads only what the next request needs (an organization id, a token).

// Paths as the adapters name them (tests/test_extension_protocol.py checks they still match).
export const CLAUDE_WEB = "https://claude.ai";
export const CLAUDE_BOOTSTRAP_PATH = "/api/bootstrap";
export const CLAUDE_ORGS_PATH = "/api/organizations";
export const CODEX_WEB = "https://chatgpt.com";
export const CODEX_SESSION_PATH = "/api/auth/session";
export const CODEX_USAGE_PATH = "/backend-api/wham/usage";
export const CODEX_DAILY_PATH = "/backend-api/wham/usage/daily-token-usage-breakdown";
export const CODEX_SPEND_PATH = "/backend-api/accounts/{account}/spend-controls/current-user/monthly-usage";
export const KIMI_WEB = "https://www.kimi.com";
export const KIMI_USAGES_PATH = "/apiv2/kimi.gateway.billing.v1.BillingService/GetUsages";
export const KIMI_SUBSCRIPTION_PATH = "/apiv2/kimi.gateway.order.v1.SubscriptionService/GetSubscription";
export const KIMI_STATS_PATH = "/apiv2/kimi.gateway.membership.v2.MembershipService/GetSubscriptionStats";
export const KIMI_CODING_SCOPE = "FEATURE_CODING";
export const KIMI_COOKIE = "kimi-auth";
export const OLLAMA_WEB = "https://ollama.com";
export const OLLAMA_SETTINGS_PATH = "/settings";
export const ZAI_QUOTA_URL = "https://api.z.ai/api/monitor/usage/quota/limit";
export const ZAI_SUBSCRIPTIONS_URL = "https://api.z.ai/api/biz/subscription/list";

const TIMEOUT = 30_000;
const KIMI_AUTH_CODES = new Set(["unauthenticated", "permission_denied"]);

export class RequestFailed extends Error {
  constructor(status, what, retryAfter = null) {
    super(`${what}: ${status ? `HTTP ${status}` : "no answer"}`);
    this.status = status; // 0: no answer (network, timeout)
    this.what = what;
    this.retryAfter = retryAfter;
  }

  report() {
    const retry = Number(this.retryAfter);
    return { status: this.status, what: this.what, ...(retry > 0 ? { retry_after: retry } : {}) };
  }
}

async function request(url, what, { okStatuses = [], ...init } = {}) {
  let response;
  try {
    const signal = AbortSignal.timeout(TIMEOUT);
    response = await fetch(url, { credentials: "include", cache: "no-store", signal, ...init });
  } catch {
    throw new RequestFailed(0, what);
  }
  // redirect: "manual" hides where a redirect goes: on these pages it is always the sign-in page.
  if (response.type === "opaqueredirect") throw new RequestFailed(302, what);
  if (!response.ok && !okStatuses.includes(response.status)) {
    throw new RequestFailed(response.status, what, response.headers.get("retry-after"));
  }
  return response;
}

async function json(url, what, init = {}) {
  const response = await request(url, what, init);
  try {
    return { status: response.status, body: await response.json() };
  } catch {
    throw new RequestFailed(response.status, `${what} (not JSON)`);
  }
}

async function getJson(url, what, init = {}) {
  return (await json(url, what, init)).body;
}

// Best effort, like the adapters' optional calls: a failure leaves the part out.
async function optional(url, what, init = {}) {
  try {
    return await getJson(url, what, init);
  } catch {
    return null;
  }
}

// -- Claude: bootstrap (the account's organizations and the last active one), else the list; then usage.
function chatOrg(orgs, preferred) {
  const chat = orgs.filter((o) => Array.isArray(o.capabilities) && o.capabilities.includes("chat"));
  const candidates = chat.length ? chat : orgs;
  return (candidates.find((o) => preferred && o.uuid === preferred) || candidates[0])?.uuid || null;
}

function withUuid(list) {
  return (Array.isArray(list) ? list : []).filter((o) => o && typeof o === "object" && typeof o.uuid === "string" && o.uuid);
}

async function claude() {
  const headers = { Accept: "application/json", "anthropic-client-platform": "web_claude.ai" };
  const parts = {};
  let orgId = null;
  try {
    const bootstrap = await getJson(CLAUDE_WEB + CLAUDE_BOOTSTRAP_PATH, "bootstrap request", { headers });
    parts.bootstrap = bootstrap;
    if (bootstrap && bootstrap.account === null) return { parts }; // signed out: the server's parser says so
    const account = bootstrap?.account || {};
    const memberships = "memberships" in account ? account.memberships : bootstrap?.memberships;
    const orgs = withUuid((Array.isArray(memberships) ? memberships : []).map((m) => m?.organization));
    orgId = chatOrg(orgs, account.lastActiveOrgId || account.last_active_org_id);
  } catch (error) {
    if (!(error instanceof RequestFailed) || [401, 403, 429].includes(error.status)) throw error;
  }
  if (!orgId) {
    parts.organizations = await getJson(CLAUDE_WEB + CLAUDE_ORGS_PATH, "organizations request", { headers });
    orgId = chatOrg(withUuid(parts.organizations));
    if (!orgId) return { parts };
  }
  parts.org_id = orgId;
  const usageUrl = `${CLAUDE_WEB}${CLAUDE_ORGS_PATH}/${encodeURIComponent(orgId)}/usage`;
  parts.usage = await getJson(usageUrl, "usage request", { headers });
  return { parts };
}

// -- Codex: the chatgpt.com session gives an access token (kept here, never pushed), then wham/usage.
async function codex() {
  const session = await getJson(CODEX_WEB + CODEX_SESSION_PATH, "session request", { headers: { Accept: "application/json" } });
  const token = session && typeof session.accessToken === "string" ? session.accessToken : "";
  if (!token) throw new RequestFailed(401, "session request (signed out)");
  const account = typeof session.account?.id === "string" ? session.account.id : "";
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (account) headers["ChatGPT-Account-Id"] = account;
  const bearer = { headers, credentials: "omit" };
  const parts = { usage: await getJson(CODEX_WEB + CODEX_USAGE_PATH, "usage request", bearer) };
  parts.daily = await optional(CODEX_WEB + CODEX_DAILY_PATH, "daily breakdown request", bearer);
  const usage = parts.usage || {};
  if (account && ("spend_control" in usage || "spendControl" in usage)) {
    const path = CODEX_SPEND_PATH.replace("{account}", encodeURIComponent(account));
    parts.spend = await optional(CODEX_WEB + path, "spend-controls request", bearer);
  }
  return { parts };
}

// -- Kimi Code: the ConnectRPC gateway with the kimi-auth cookie as a Bearer token.
async function kimi() {
  const cookie = await chrome.cookies.get({ url: `${KIMI_WEB}/`, name: KIMI_COOKIE });
  if (!cookie?.value) throw new RequestFailed(401, "kimi-auth cookie (not logged in)");
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/json",
    "connect-protocol-version": "1",
    "x-msh-platform": "web",
    Authorization: `Bearer ${cookie.value}`,
  };
  const connect = async (path, body, what) => {
    const answer = await json(KIMI_WEB + path, what, { method: "POST", headers, body: JSON.stringify(body), okStatuses: [400] });
    if (answer.status === 400) {
      // A ConnectRPC error: "unauthenticated" and "permission_denied" mean a lapsed login.
      throw new RequestFailed(KIMI_AUTH_CODES.has(answer.body?.code) ? 401 : 400, what);
    }
    return answer.body;
  };
  const web = await connect(KIMI_USAGES_PATH, { scope: [KIMI_CODING_SCOPE] }, "GetUsages request");
  const quiet = (path, what) => connect(path, {}, what).catch(() => null);
  const [subscription, stats] = await Promise.all([
    quiet(KIMI_SUBSCRIPTION_PATH, "GetSubscription request"),
    quiet(KIMI_STATS_PATH, "GetSubscriptionStats request"),
  ]);
  return { parts: { web, subscription, stats } };
}

// -- Ollama: the settings page itself (HTML); a redirect means the session is gone.
async function ollama() {
  const response = await request(OLLAMA_WEB + OLLAMA_SETTINGS_PATH, "settings page", {
    headers: { Accept: "text/html,application/xhtml+xml" },
    redirect: "manual",
  });
  return { parts: { settings_html: await response.text() } };
}

// -- z.ai: the quota API with the login token chat.z.ai keeps (captured by content-zai.js), then the
// active subscriptions with the same headers (optional: a failure leaves them out).
async function zai(settings) {
  if (!settings.zaiToken) throw new RequestFailed(401, "z.ai login (open chat.z.ai once)");
  const init = { headers: { Authorization: `Bearer ${settings.zaiToken}`, Accept: "application/json" }, credentials: "omit" };
  const quota = await getJson(ZAI_QUOTA_URL, "quota request", init);
  return { parts: { quota, subscriptions: await optional(ZAI_SUBSCRIPTIONS_URL, "subscription list", init) } };
}

export const FETCHERS = { claude, codex, kimi, ollama, zai };
