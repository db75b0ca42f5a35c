// One dial or key on the device: its settings, its view, and what its gestures do. The Stream Deck
// SDK reaches these only through a small "port" (setFeedback, setImage, openUrl...), so the same
// code runs in the plugin and, with a stub port, in the tests.

import { svgDataUrl } from "./icons.js";
import { keyFace, keySvg } from "./keyimage.js";
import { readActionSettings, VIEW_COUNT } from "./settings.js";
import { dialFeedback } from "./views.js";

/** @typedef {import("./hub.js").Hub} Hub */
/** @typedef {import("./settings.js").ActionSettings} ActionSettings */
/** @typedef {import("./views.js").DialInput} DialInput */

/**
 * @typedef {object} DialPort
 * @property {(payload: Record<string, any>) => Promise<void> | void} setFeedback
 * @property {(url: string) => Promise<void> | void} openUrl
 * @property {() => Promise<void> | void} showAlert
 * @property {(settings: ActionSettings) => Promise<void> | void} setSettings
 */

/**
 * @typedef {object} KeyPort
 * @property {(image: string) => Promise<void> | void} setImage
 * @property {() => Promise<void> | void} showAlert
 */

export const PUSH_WAIT_SECONDS = 30;

class Controller {
  /** @type {(() => void) | null} */
  #unsubscribe = null;

  /**
   * @param {Hub} hub
   * @param {() => number} [now]
   */
  constructor(hub, now = Date.now) {
    this.hub = hub;
    this.now = now;
    /** @type {ActionSettings} */
    this.settings = readActionSettings({});
    /** @type {string | null} what was last sent, so an unchanged face is not sent again */
    this.lastSent = null;
  }

  /**
   * The action appeared on the device (or its settings changed).
   * @param {unknown} rawSettings
   */
  appear(rawSettings) {
    this.settings = readActionSettings(rawSettings);
    if (this.#unsubscribe === null) this.#unsubscribe = this.hub.subscribe(() => this.render());
    this.render();
  }

  disappear() {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.lastSent = null;
  }

  /** @returns {DialInput} */
  input() {
    const state = this.hub.state;
    return {
      agentKey: this.settings.agent,
      model: state.model,
      connection: state.connection,
      view: this.settings.view,
      now: this.now(),
      thresholds: state.thresholds,
      refreshing: state.refreshing.has(this.settings.agent || "*") || state.refreshing.has("*"),
    };
  }

  /** A push: refresh this agent on the server; an alert when the server did not answer. */
  async refresh() {
    return this.hub.refresh(this.settings.agent, PUSH_WAIT_SECONDS);
  }

  render() {}
}

export class DialController extends Controller {
  /**
   * @param {Hub} hub
   * @param {DialPort} port
   * @param {() => number} [now]
   */
  constructor(hub, port, now) {
    super(hub, now);
    this.port = port;
  }

  /**
   * Rotating cycles the views, one per tick, either way round; the view is kept in the settings.
   * @param {number} ticks
   */
  async rotate(ticks) {
    if (!ticks) return;
    const view = (((this.settings.view + Math.trunc(ticks)) % VIEW_COUNT) + VIEW_COUNT) % VIEW_COUNT;
    this.settings = { ...this.settings, view };
    this.render();
    await this.port.setSettings(this.settings);
  }

  async push() {
    if (!(await this.refresh())) await this.port.showAlert();
  }

  /** A touch opens the dashboard in the browser. */
  async touch() {
    const url = this.hub.dashboardUrl();
    if (url === null) await this.port.showAlert();
    else await this.port.openUrl(url);
  }

  render() {
    const payload = dialFeedback(this.input());
    const text = JSON.stringify(payload);
    if (text === this.lastSent) return;
    this.lastSent = text;
    void this.port.setFeedback(payload);
  }
}

export class KeyController extends Controller {
  /**
   * @param {Hub} hub
   * @param {KeyPort} port
   * @param {() => number} [now]
   */
  constructor(hub, port, now) {
    super(hub, now);
    this.port = port;
  }

  async press() {
    if (!(await this.refresh())) await this.port.showAlert();
  }

  render() {
    const image = svgDataUrl(keySvg(keyFace(this.input())));
    if (image === this.lastSent) return;
    this.lastSent = image;
    void this.port.setImage(image);
  }
}
