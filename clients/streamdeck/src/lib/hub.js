// One poller for the whole plugin: every dial and key reads the same answer, so four dials and a
// key make one request per poll, not five. It polls while anything is on screen, keeps the last good
// answer when the server goes away (shown as offline, never as 0 %), and ticks so countdowns move.

import { AuthError, GaugeError, OfflineError } from "./errors.js";
import { GaugeClient } from "./client.js";
import { DEFAULT_THRESHOLDS } from "./levels.js";
import { agentChoices } from "./model.js";

/** @typedef {import("./model.js").Model} Model */
/** @typedef {import("./views.js").Connection} Connection */
/** @typedef {import("./levels.js").Thresholds} Thresholds */
/** @typedef {import("./settings.js").GlobalSettings} GlobalSettings */

export const POLL_MS = 60_000;
export const TICK_MS = 30_000; // countdowns show minutes: twice a minute keeps them right
export const MIN_POLL_MS = 5_000;
export const RETRY_MS = [5_000, 15_000, 30_000]; // after failures 1, 2, 3 and on

/**
 * @typedef {object} Timers
 * @property {(fn: () => void, ms: number) => any} setTimeout
 * @property {(handle: any) => void} clearTimeout
 */

/**
 * @typedef {object} HubState
 * @property {Model | null} model
 * @property {Connection} connection
 * @property {Thresholds} thresholds
 * @property {ReadonlySet<string>} refreshing agent keys whose push-refresh is under way ("*" for all)
 */

/**
 * @typedef {object} HubOptions
 * @property {(settings: GlobalSettings) => GaugeClient} [clientFor]
 * @property {() => number} [now]
 * @property {Timers} [timers]
 * @property {number} [pollMs]
 * @property {number} [tickMs]
 * @property {(connection: Connection) => void} [onStatus] called when the connection's status changes
 */

export class Hub {
  /** @type {Set<() => void>} */
  #listeners = new Set();
  /** @type {GaugeClient | null} */
  #client = null;
  /** @type {Promise<void> | null} */
  #inFlight = null;
  #generation = 0;
  #failures = 0;
  /** @type {any} */
  #pollTimer = null;
  /** @type {any} */
  #tickTimer = null;
  /** @type {Set<string>} */
  #refreshing = new Set();
  /** @type {GlobalSettings | null} */
  #settings = null;
  #lastStatus = "";

  /** @param {HubOptions} [options] */
  constructor(options = {}) {
    this.clientFor =
      options.clientFor ??
      ((/** @type {GlobalSettings} */ s) => new GaugeClient({ serverUrl: s.serverUrl, token: s.token }));
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle),
    };
    this.pollMs = options.pollMs ?? POLL_MS;
    this.tickMs = options.tickMs ?? TICK_MS;
    this.onStatus = options.onStatus ?? (() => {});
    /** @type {Model | null} */
    this.model = null;
    /** @type {Connection} */
    this.connection = { status: "connecting", message: null, lastOkAt: null, tokenSent: false };
    /** @type {Thresholds} */
    this.thresholds = { ...DEFAULT_THRESHOLDS };
  }

  /** @returns {HubState} */
  get state() {
    return {
      model: this.model,
      connection: this.connection,
      thresholds: this.thresholds,
      refreshing: this.#refreshing,
    };
  }

  /**
   * Point the hub at a server (the global settings). A different server starts from nothing: its
   * answer replaces the old one, which must not be shown as this server's.
   * @param {GlobalSettings} settings
   */
  configure(settings) {
    if (this.#settings && this.#settings.serverUrl === settings.serverUrl && this.#settings.token === settings.token)
      return;
    this.#settings = { ...settings };
    this.#generation += 1;
    this.#inFlight = null;
    this.#failures = 0;
    try {
      this.#client = this.clientFor(settings);
      this.connection = { status: "connecting", message: null, lastOkAt: null, tokenSent: Boolean(settings.token) };
    } catch (error) {
      this.#client = null;
      this.connection = {
        status: "failed",
        message: shortOf(error),
        detail: messageOf(error),
        lastOkAt: null,
        tokenSent: false,
      };
    }
    this.model = null;
    this.thresholds = { ...DEFAULT_THRESHOLDS };
    this.#notify();
    if (this.#listeners.size) this.#schedule(0);
  }

  /** The dashboard a touch opens, or null when the server URL is unusable. */
  dashboardUrl() {
    return this.#client?.dashboardUrl() ?? null;
  }

  /**
   * Call `listener` on every change and tick; polling runs while anyone listens.
   * @param {() => void} listener
   * @returns {() => void} unsubscribe
   */
  subscribe(listener) {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      this.#schedule(0);
      this.#tick();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /**
   * Poll now (a poll already under way is shared, not doubled).
   * @returns {Promise<void>}
   */
  poll() {
    if (this.#inFlight) return this.#inFlight;
    const generation = this.#generation;
    const client = this.#client;
    if (client === null) return Promise.resolve();
    this.#inFlight = (async () => {
      try {
        const firstOfServer = this.connection.lastOkAt === null;
        const model = await client.snapshot();
        if (firstOfServer) this.thresholds = await client.thresholds();
        if (generation !== this.#generation) return;
        this.#accept(model);
      } catch (error) {
        if (generation !== this.#generation) return;
        this.#reject(error, client);
      } finally {
        if (generation === this.#generation) {
          this.#inFlight = null;
          if (this.#listeners.size) this.#schedule(this.#nextDelay());
        }
      }
    })();
    return this.#inFlight;
  }

  /**
   * A push: ask the server to fetch `agentKey` now and show the result when it is in.
   * @param {string} agentKey "" refreshes every account
   * @param {number} [waitSeconds]
   * @returns {Promise<boolean>} whether the server answered
   */
  async refresh(agentKey, waitSeconds = 30) {
    const client = this.#client;
    if (client === null) return false;
    const generation = this.#generation;
    const mark = agentKey || "*";
    this.#refreshing.add(mark);
    this.#notify();
    try {
      const model = await client.refresh({ agentKey, waitSeconds });
      if (generation === this.#generation) this.#accept(model);
      return true;
    } catch (error) {
      if (generation === this.#generation) this.#reject(error, client);
      return false;
    } finally {
      this.#refreshing.delete(mark);
      if (generation === this.#generation) this.#notify();
    }
  }

  /**
   * The agents a settings page offers, from the given settings (typed but maybe not saved yet).
   * @param {GlobalSettings} settings
   * @returns {Promise<{agents: {key: string, name: string, status: string}[], error: string | null}>}
   */
  async listAgents(settings) {
    try {
      const model = await this.clientFor(settings).snapshot();
      return { agents: agentChoices(model), error: null };
    } catch (error) {
      return { agents: [], error: messageOf(error) };
    }
  }

  /** Stop every timer (the plugin is shutting down, or nothing is on screen). */
  dispose() {
    this.#listeners.clear();
    this.#stop();
  }

  /** @param {Model} model */
  #accept(model) {
    this.model = model;
    this.#failures = 0;
    this.connection = { status: "ok", message: null, lastOkAt: this.now(), tokenSent: Boolean(this.#settings?.token) };
    this.#notify();
  }

  /**
   * @param {unknown} error
   * @param {GaugeClient} client
   */
  #reject(error, client) {
    this.#failures += 1;
    /** @type {Connection["status"]} */
    let status = "failed";
    if (error instanceof OfflineError) status = "offline";
    else if (error instanceof AuthError) status = "unauthorized";
    // The last good answer stays: views show it as offline, with its age.
    this.connection = {
      status,
      message: shortOf(error),
      detail: messageOf(error),
      lastOkAt: this.connection.lastOkAt,
      tokenSent: Boolean(client.token),
    };
    this.#notify();
  }

  #nextDelay() {
    if (this.connection.status !== "ok") return RETRY_MS[Math.min(this.#failures, RETRY_MS.length) - 1];
    // Seed 000's backend says when its next refresh is: poll just after it, as its page does.
    const next = this.model?.nextRefreshAt;
    if (typeof next === "number") {
      const until = next - this.now() + 2_000;
      if (until < this.pollMs) return Math.max(MIN_POLL_MS, until);
    }
    return this.pollMs;
  }

  /** @param {number} ms */
  #schedule(ms) {
    if (this.#pollTimer !== null) this.timers.clearTimeout(this.#pollTimer);
    this.#pollTimer = this.timers.setTimeout(() => {
      this.#pollTimer = null;
      void this.poll();
    }, ms);
  }

  #tick() {
    this.#tickTimer = this.timers.setTimeout(() => {
      this.#notify();
      this.#tick();
    }, this.tickMs);
  }

  #stop() {
    if (this.#pollTimer !== null) this.timers.clearTimeout(this.#pollTimer);
    if (this.#tickTimer !== null) this.timers.clearTimeout(this.#tickTimer);
    this.#pollTimer = null;
    this.#tickTimer = null;
  }

  #notify() {
    if (this.connection.status !== this.#lastStatus) {
      this.#lastStatus = this.connection.status;
      this.onStatus(this.connection);
    }
    for (const listener of [...this.#listeners]) listener();
  }
}

/**
 * @param {unknown} error
 * @returns {string}
 */
function shortOf(error) {
  return error instanceof GaugeError ? error.short : "plugin error (see its log)";
}

/**
 * @param {unknown} error
 * @returns {string}
 */
function messageOf(error) {
  if (error instanceof GaugeError) return error.message;
  return "unexpected error (see the plugin log)";
}
