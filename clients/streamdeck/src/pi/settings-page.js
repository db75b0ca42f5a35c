// The settings page (property inspector) of both actions: server URL and token (global: every dial
// and key share them) and this action's agent. It talks to the Stream Deck app over the WebSocket
// the app opens for it; the agent list comes from the plugin, which can reach the server.

import { agentOptions } from "../lib/choices.js";
import { normaliseServerUrl, readActionSettings, readGlobalSettings, tokenInClear } from "../lib/settings.js";

const KEY_ACTION = "dev.agentgauge.streamdeck.key";

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const urlField = /** @type {HTMLInputElement} */ ($("serverUrl"));
const tokenField = /** @type {HTMLInputElement} */ ($("token"));
const agentField = /** @type {HTMLSelectElement} */ ($("agent"));

/** @type {WebSocket | null} */
let socket = null;
let context = "";
let actionId = "";
/** @type {Record<string, unknown>} */
let settings = {};
/** @type {{key: string, name: string, status: string}[]} */
let agents = [];

/** @param {Record<string, unknown>} message */
function send(message) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

/**
 * @param {string} text
 * @param {"info" | "error"} [tone]
 */
function say(text, tone = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.tone = tone;
}

function fillAgents() {
  const selected = readActionSettings(settings).agent;
  agentField.replaceChildren(
    ...agentOptions(agents, { allowAll: actionId === KEY_ACTION, selected }).map(({ value, label }) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      option.selected = value === selected;
      return option;
    }),
  );
}

/** The typed URL, checked; null (and a message) when it cannot work. */
function typedSettings() {
  try {
    const serverUrl = normaliseServerUrl(urlField.value);
    $("clearWarning").hidden = !tokenInClear(serverUrl, tokenField.value.trim());
    return { serverUrl, token: tokenField.value.trim() };
  } catch (error) {
    say(error instanceof Error ? error.message : String(error), "error");
    return null;
  }
}

function requestAgents() {
  const typed = typedSettings();
  if (typed === null) return;
  say("Asking the server for its agents…");
  send({ event: "sendToPlugin", action: actionId, context, payload: { request: "agents", ...typed } });
}

function saveGlobal() {
  const typed = typedSettings();
  if (typed === null) return;
  send({ event: "setGlobalSettings", context, payload: typed });
  requestAgents();
}

urlField.addEventListener("change", saveGlobal);
tokenField.addEventListener("change", saveGlobal);
$("reload").addEventListener("click", requestAgents);
agentField.addEventListener("change", () => {
  settings = { ...settings, agent: agentField.value };
  send({ event: "setSettings", context, payload: settings });
});

/**
 * @param {{event?: string, payload?: any}} message
 */
function receive(message) {
  if (message.event === "didReceiveGlobalSettings") {
    const globals = readGlobalSettings(message.payload?.settings);
    urlField.value = globals.serverUrl;
    tokenField.value = globals.token;
    requestAgents();
  } else if (message.event === "didReceiveSettings") {
    settings = message.payload?.settings ?? {};
    fillAgents();
  } else if (message.event === "sendToPropertyInspector" && message.payload?.event === "agents") {
    agents = Array.isArray(message.payload.agents) ? message.payload.agents : [];
    fillAgents();
    if (message.payload.error) say(message.payload.error, "error");
    else say(`${agents.length} agent${agents.length === 1 ? "" : "s"} on this server`);
  }
}

/**
 * Called by the Stream Deck app once the page has loaded.
 * @param {string | number} port
 * @param {string} uuid this page's context
 * @param {string} registerEvent
 * @param {string} _info
 * @param {string} actionInfo
 */
function connectElgatoStreamDeckSocket(port, uuid, registerEvent, _info, actionInfo) {
  context = uuid;
  const action = JSON.parse(actionInfo);
  actionId = action.action;
  settings = action.payload?.settings ?? {};
  fillAgents();
  socket = new WebSocket(`ws://127.0.0.1:${port}`);
  socket.addEventListener("open", () => {
    send({ event: registerEvent, uuid });
    send({ event: "getGlobalSettings", context });
  });
  socket.addEventListener("message", (ev) => receive(JSON.parse(String(ev.data))));
}

Object.assign(window, { connectElgatoStreamDeckSocket });
