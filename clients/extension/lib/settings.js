// Settings and small state in chrome.storage.local: this browser only, never synced (the token
// and the z.ai login are secrets). Shared by the service worker, the popup and the options page.

export const DEFAULT_SERVER = "http://127.0.0.1:8777";

// The providers the extension reads in the browser: where you log in, and their usage pages.
export const PROVIDERS = [
  { id: "claude", name: "Claude", site: "claude.ai", page: "https://claude.ai/settings/usage" },
  { id: "codex", name: "Codex", site: "chatgpt.com", page: "https://chatgpt.com/codex/settings/usage" },
  { id: "kimi", name: "Kimi Code", site: "www.kimi.com", page: "https://www.kimi.com/code" },
  { id: "ollama", name: "Ollama", site: "ollama.com", page: "https://ollama.com/settings" },
  { id: "zai", name: "z.ai", site: "chat.z.ai", page: "https://chat.z.ai/" },
];

const DEFAULTS = {
  server: DEFAULT_SERVER,
  token: "", // agx_<id>_<secret>, from pairing
  pairedId: "",
  pairedName: "",
  account: "default", // the agentgauge account the pushes go to
  enabled: Object.fromEntries(PROVIDERS.map((p) => [p.id, true])),
  zaiToken: "", // the JWT chat.z.ai keeps in localStorage, captured by content-zai.js
  zaiTokenAt: 0,
  results: {}, // provider -> {at, ok, message}: the last push, for the options page and the popup
  lastFetch: {}, // provider -> ms: when the browser last asked the provider
};

export async function load() {
  const stored = await chrome.storage.local.get(Object.keys(DEFAULTS));
  const settings = { ...DEFAULTS, ...stored };
  settings.enabled = { ...DEFAULTS.enabled, ...(stored.enabled || {}) };
  return settings;
}

export async function save(patch) {
  await chrome.storage.local.set(patch);
}

export function enabledProviders(settings) {
  return PROVIDERS.filter((p) => settings.enabled[p.id]).map((p) => p.id);
}

// "http://host:8777/" or "host:8777" -> "http://host:8777"; keeps a sub-path (a reverse proxy).
export function normalizeServer(text) {
  let value = (text || "").trim() || DEFAULT_SERVER;
  if (!/^https?:\/\//i.test(value)) value = `http://${value}`;
  const url = new URL(value);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
