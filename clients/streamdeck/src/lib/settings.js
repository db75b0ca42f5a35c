// The plugin's settings: global ones shared by every dial and key (server URL, access token) and
// each action's own (which agent, which view). Read defensively: the Stream Deck app hands back
// whatever was stored, including settings from an older version of the plugin.

import { SettingsError } from "./errors.js";

export const DEFAULT_SERVER_URL = "http://127.0.0.1:8777";
export const VIEW_COUNT = 3;

/** @typedef {{serverUrl: string, token: string}} GlobalSettings */
/** @typedef {{agent: string, view: number}} ActionSettings */

/**
 * The server URL as the client uses it: trimmed, with a scheme (http:// when none is typed), without
 * a trailing slash, query or fragment; a root path such as /gauge is kept.
 * @param {unknown} value
 * @returns {string}
 */
export function normaliseServerUrl(value) {
  let text = typeof value === "string" ? value.trim() : "";
  if (!text) return DEFAULT_SERVER_URL;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError("the server URL is not a URL (example: http://127.0.0.1:8777)");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SettingsError("the server URL must start with http:// or https://");
  }
  if (url.username || url.password) {
    throw new SettingsError("the server URL must not hold credentials: put the access token in its own field");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * Whether the URL names this machine (127.0.0.0/8, ::1 or localhost): a token is optional there.
 * @param {string} serverUrl
 */
export function isLoopback(serverUrl) {
  let host;
  try {
    host = new URL(serverUrl).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * A token sent over plain http to another machine can be read on the way: the settings page warns.
 * @param {string} serverUrl
 * @param {string} token
 */
export function tokenInClear(serverUrl, token) {
  return Boolean(token) && serverUrl.startsWith("http:") && !isLoopback(serverUrl);
}

/**
 * @param {unknown} raw
 * @returns {GlobalSettings}
 */
export function readGlobalSettings(raw) {
  const s = typeof raw === "object" && raw !== null ? /** @type {Record<string, unknown>} */ (raw) : {};
  return {
    serverUrl: typeof s.serverUrl === "string" && s.serverUrl.trim() ? s.serverUrl.trim() : DEFAULT_SERVER_URL,
    token: typeof s.token === "string" ? s.token.trim() : "",
  };
}

/**
 * @param {unknown} raw
 * @returns {ActionSettings}
 */
export function readActionSettings(raw) {
  const s = typeof raw === "object" && raw !== null ? /** @type {Record<string, unknown>} */ (raw) : {};
  const view = typeof s.view === "number" && Number.isInteger(s.view) ? s.view : 0;
  return {
    agent: typeof s.agent === "string" ? s.agent : "",
    view: ((view % VIEW_COUNT) + VIEW_COUNT) % VIEW_COUNT,
  };
}
