// The plugin's HTTP client for an agentgauge server (or seed 000's own backend). It reads the
// snapshot from GET /api/usage and falls back to GET /api/data when the server has no snapshot.
// The token goes only into the Authorization header: never into a URL, a message or a log.

import { AuthError, HttpError, OfflineError, ShapeError } from "./errors.js";
import { DEFAULT_THRESHOLDS, thresholdsFrom } from "./levels.js";
import { readModel, shapeOf } from "./model.js";
import { normaliseServerUrl } from "./settings.js";

/** @typedef {import("./model.js").Model} Model */
/** @typedef {import("./levels.js").Thresholds} Thresholds */

export const REQUEST_TIMEOUT_MS = 10_000;
export const MAX_WAIT_SECONDS = 75; // the server clamps ?wait= to 0-75 s

/**
 * @typedef {object} ClientOptions
 * @property {string} serverUrl
 * @property {string} [token]
 * @property {typeof fetch} [fetch]
 * @property {() => number} [now] epoch ms
 * @property {number} [timeoutMs]
 */

export class GaugeClient {
  /** @type {"usage" | "data" | null} which answer this server gives, once known */
  shape = null;

  /** @param {ClientOptions} options */
  constructor(options) {
    this.serverUrl = normaliseServerUrl(options.serverUrl);
    this.token = options.token ?? "";
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /** The dashboard a touch opens. */
  dashboardUrl() {
    return `${this.serverUrl}/`;
  }

  /**
   * The server's current numbers.
   * @returns {Promise<Model>}
   */
  async snapshot() {
    if (this.shape !== "data") {
      const answer = await this.request("GET", "/api/usage", { allowMissing: true });
      if (answer !== null && shapeOf(answer.body) === "usage") {
        this.shape = "usage";
        return readModel(answer.body, answer.receivedAt);
      }
    }
    const answer = await this.request("GET", "/api/data");
    const model = readModel(answer?.body, answer?.receivedAt ?? this.now());
    this.shape = model.shape;
    return model;
  }

  /**
   * Ask the server to fetch now and wait (up to `waitSeconds`) for the result. agentgauge narrows the
   * refresh to one account and gates it by the provider's minimum interval; seed 000's backend has
   * only GET /api/refresh, which refreshes everything.
   * @param {{agentKey?: string, waitSeconds?: number}} [options]
   * @returns {Promise<Model>}
   */
  async refresh(options = {}) {
    const wait = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.round(options.waitSeconds ?? 30)));
    const timeoutMs = this.timeoutMs + wait * 1000;
    if (this.shape === null) await this.snapshot();
    if (this.shape === "data") {
      const answer = await this.request("GET", "/api/refresh", { timeoutMs });
      return readModel(answer?.body, answer?.receivedAt ?? this.now());
    }
    const params = new URLSearchParams({ wait: String(wait) });
    if (options.agentKey) {
      const [provider, account] = options.agentKey.split(":", 2);
      params.set("provider", provider);
      if (account) params.set("account", account);
    }
    const answer = await this.request("POST", `/api/refresh?${params}`, { timeoutMs });
    return readModel(answer?.body, answer?.receivedAt ?? this.now());
  }

  /**
   * The colour thresholds the dashboard uses (its /api/config), the defaults where there is none.
   * @returns {Promise<Thresholds>}
   */
  async thresholds() {
    try {
      const answer = await this.request("GET", "/api/config", { allowMissing: true });
      return answer === null ? { ...DEFAULT_THRESHOLDS } : thresholdsFrom(answer.body);
    } catch (error) {
      if (error instanceof ShapeError || error instanceof HttpError) return { ...DEFAULT_THRESHOLDS };
      throw error;
    }
  }

  /**
   * @param {"GET" | "POST"} method
   * @param {string} path
   * @param {{allowMissing?: boolean, timeoutMs?: number}} [options] allowMissing: a 404 answers null
   * @returns {Promise<{body: unknown, receivedAt: number} | null>}
   */
  async request(method, path, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const where = `${this.serverUrl}${path.split("?")[0]}`;
    let response;
    try {
      response = await this.fetch(`${this.serverUrl}${path}`, {
        method,
        headers,
        redirect: "error", // a redirect to a login page is not an answer
        signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      throw new OfflineError(timedOut ? `${where} did not answer in time` : `cannot reach ${where}`);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new AuthError(
        this.token ? `${this.serverUrl} refused the access token` : `${this.serverUrl} needs an access token`,
        Boolean(this.token),
      );
    }
    if (response.status === 404 && options.allowMissing) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new HttpError(`${where} answered HTTP ${response.status}`, response.status);
    }
    const receivedAt = this.now();
    let body;
    try {
      body = await response.json();
    } catch {
      if (options.allowMissing) return null; // another program's page: try the next endpoint
      throw new ShapeError(`${where} did not answer JSON`);
    }
    return { body, receivedAt };
  }
}
