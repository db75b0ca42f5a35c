// The plugin's entry point: binds the Stream Deck SDK's events to the controllers in lib/. This is
// the only module that imports the SDK; everything it calls is plain code tested without it.

import streamDeck, { SingletonAction } from "@elgato/streamdeck";

import { DialController, KeyController } from "./lib/controllers.js";
import { Hub } from "./lib/hub.js";
import { isObject } from "./lib/levels.js";
import { readGlobalSettings } from "./lib/settings.js";

export const PLUGIN_UUID = "dev.agentgauge.streamdeck";
export const DIAL_UUID = `${PLUGIN_UUID}.dial`;
export const KEY_UUID = `${PLUGIN_UUID}.key`;

// One log line per change of connection state, in our own words (no token, no numbers).
const hub = new Hub({
  onStatus: ({ status, message }) =>
    streamDeck.logger.info(`server connection: ${status}${message ? ` (${message})` : ""}`),
});

/** @typedef {import("@elgato/utils").JsonObject} JsonObject */

/** The touch-strip action: one agent per dial. */
class AgentDial extends SingletonAction {
  manifestId = DIAL_UUID;
  /** @type {Map<string, DialController>} */
  dials = new Map();

  /** @param {import("@elgato/streamdeck").WillAppearEvent<JsonObject>} ev */
  onWillAppear(ev) {
    const action = ev.action;
    if (!action.isDial()) return;
    const dial = new DialController(hub, {
      setFeedback: (payload) => action.setFeedback(payload),
      openUrl: (url) => streamDeck.system.openUrl(url),
      showAlert: () => action.showAlert(),
      setSettings: (settings) => action.setSettings(settings),
    });
    this.dials.set(action.id, dial);
    dial.appear(ev.payload.settings);
  }

  /** @param {import("@elgato/streamdeck").WillDisappearEvent<JsonObject>} ev */
  onWillDisappear(ev) {
    this.dials.get(ev.action.id)?.disappear();
    this.dials.delete(ev.action.id);
  }

  /** @param {import("@elgato/streamdeck").DidReceiveSettingsEvent<JsonObject>} ev */
  onDidReceiveSettings(ev) {
    this.dials.get(ev.action.id)?.appear(ev.payload.settings);
  }

  /** @param {import("@elgato/streamdeck").DialRotateEvent<JsonObject>} ev */
  async onDialRotate(ev) {
    await this.dials.get(ev.action.id)?.rotate(ev.payload.ticks);
  }

  /** @param {import("@elgato/streamdeck").DialDownEvent<JsonObject>} ev */
  async onDialDown(ev) {
    await this.dials.get(ev.action.id)?.push();
  }

  /** @param {import("@elgato/streamdeck").TouchTapEvent<JsonObject>} ev */
  async onTouchTap(ev) {
    await this.dials.get(ev.action.id)?.touch();
  }
}

/** The keypad action: the tightest window as a ring; a press refreshes. */
class AgentKey extends SingletonAction {
  manifestId = KEY_UUID;
  /** @type {Map<string, KeyController>} */
  keys = new Map();

  /** @param {import("@elgato/streamdeck").WillAppearEvent<JsonObject>} ev */
  onWillAppear(ev) {
    const action = ev.action;
    if (!action.isKey()) return;
    const key = new KeyController(hub, {
      setImage: (image) => action.setImage(image),
      showAlert: () => action.showAlert(),
    });
    this.keys.set(action.id, key);
    key.appear(ev.payload.settings);
  }

  /** @param {import("@elgato/streamdeck").WillDisappearEvent<JsonObject>} ev */
  onWillDisappear(ev) {
    this.keys.get(ev.action.id)?.disappear();
    this.keys.delete(ev.action.id);
  }

  /** @param {import("@elgato/streamdeck").DidReceiveSettingsEvent<JsonObject>} ev */
  onDidReceiveSettings(ev) {
    this.keys.get(ev.action.id)?.appear(ev.payload.settings);
  }

  /** @param {import("@elgato/streamdeck").KeyDownEvent<JsonObject>} ev */
  async onKeyDown(ev) {
    await this.keys.get(ev.action.id)?.press();
  }
}

// The settings page asks for the server's agents with the URL and token typed there (maybe not
// saved yet): the plugin fetches them, since the page itself may not reach the server (CORS).
streamDeck.ui.onSendToPlugin(async (ev) => {
  const payload = /** @type {unknown} */ (ev.payload);
  if (!isObject(payload) || payload.request !== "agents") return;
  const answer = await hub.listAgents(readGlobalSettings(payload));
  await streamDeck.ui.sendToPropertyInspector({ event: "agents", ...answer });
});

streamDeck.settings.onDidReceiveGlobalSettings((ev) => hub.configure(readGlobalSettings(ev.settings)));
// After sleep the last answer is old: ask again at once rather than at the next scheduled poll.
streamDeck.system.onSystemDidWakeUp(() => void hub.poll());

streamDeck.actions.registerAction(new AgentDial());
streamDeck.actions.registerAction(new AgentKey());
await streamDeck.connect();
hub.configure(readGlobalSettings(await streamDeck.settings.getGlobalSettings()));
