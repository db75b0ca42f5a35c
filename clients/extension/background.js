// The service worker: asks the agentgauge server for pending refreshes (a long poll every alarm),
// fetches the providers in the browser when asked and pushes the raw answers. The server decides
// when a provider may be asked again (its minimum interval): the popup's Refresh, the dashboard
// and agents all go through it. No state is kept in memory: MV3 stops idle workers.
import { enabledProviders, load, save } from "./lib/settings.js";
import { FETCHERS, RequestFailed } from "./lib/providers.js";
import * as server from "./lib/server.js";

const ALARM = "agentgauge-poll";
const ALARM_MINUTES = 0.5; // Chrome's shortest period
const POLL_SECONDS = 25; // one long poll ends before the next alarm
const MIN_GAP_MS = 5_000; // a last guard: never ask one provider twice within this

chrome.runtime.onInstalled.addListener(() => startPolling());
chrome.runtime.onStartup.addListener(() => startPolling());
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARM) pollFor(POLL_SECONDS);
});

function startPolling() {
  chrome.alarms.create(ALARM, { periodInMinutes: ALARM_MINUTES });
  pollFor(POLL_SECONDS);
}

let polling = null; // one polling loop per worker life

function pollFor(seconds) {
  polling ||= (async () => {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until - 1000) {
      const settings = await load();
      const providers = enabledProviders(settings);
      if (!settings.token || !providers.length) return;
      const left = Math.max(1, Math.floor((until - Date.now()) / 1000));
      const answer = await server.poll(settings, providers, left);
      const wanted = (answer?.fetch || []).filter((id) => providers.includes(id));
      if (wanted.length) await fetchAndPush(wanted);
    }
  })()
    .catch((error) => console.warn("agentgauge: poll failed:", error.message))
    .finally(() => {
      polling = null;
    });
  return polling;
}

// Fetch each provider in the browser and push what it answered (or how it failed).
async function fetchAndPush(providerIds) {
  const settings = await load();
  const now = Date.now();
  const due = providerIds.filter((id) => FETCHERS[id] && now - (settings.lastFetch[id] || 0) >= MIN_GAP_MS);
  if (!due.length) return [];
  await save({ lastFetch: { ...settings.lastFetch, ...Object.fromEntries(due.map((id) => [id, now])) } });
  const outcomes = await Promise.all(due.map((id) => fetchOne(settings, id)));
  const fresh = await load(); // the results of this round, merged into what is stored
  await save({ results: { ...fresh.results, ...Object.fromEntries(outcomes) } });
  return outcomes;
}

async function fetchOne(settings, id) {
  let body;
  try {
    body = await FETCHERS[id](settings);
  } catch (error) {
    if (!(error instanceof RequestFailed)) throw error;
    body = { error: error.report() };
  }
  try {
    const answer = await server.push(settings, id, body);
    const message = answer.error ? answer.error.message : answer.accepted ? "pushed" : answer.reason;
    return [id, { at: Date.now(), ok: Boolean(answer.accepted), message }];
  } catch (error) {
    return [id, { at: Date.now(), ok: false, message: error.message }];
  }
}

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  if (sender.id !== chrome.runtime.id) return false;
  if (message?.type === "zai-token") {
    captureZai(message.token, sender).then(() => reply({ ok: true }), () => reply({ ok: false }));
    return true;
  }
  if (message?.type === "wake") {
    // The popup or the options page opened: be polling while they ask the server for a refresh.
    startPolling();
    reply({ ok: true });
    return false;
  }
  return false;
});

// The z.ai login token, as chat.z.ai (or z.ai) keeps it in localStorage; only from those pages.
async function captureZai(token, sender) {
  const host = sender.tab?.url ? new URL(sender.tab.url).hostname : "";
  if (!(host === "z.ai" || host.endsWith(".z.ai"))) return;
  if (typeof token !== "string" || token.length < 16 || token.length > 8192 || /\s/.test(token)) return;
  const settings = await load();
  if (settings.zaiToken === token) return;
  await save({ zaiToken: token, zaiTokenAt: Date.now() });
  if (settings.token && settings.enabled.zai) await fetchAndPush(["zai"]);
}

// Every wake-up (the alarm, a message, the browser starting) also checks for pending work.
pollFor(POLL_SECONDS);
