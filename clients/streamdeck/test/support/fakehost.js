// A stand-in for the Stream Deck app (which runs only on macOS and Windows): the WebSocket server
// the app would be, starting the built plugin as the app does (cwd = the .sdPlugin folder, the four
// launch arguments). The plugin, its SDK and the agentgauge server are all real.

import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";

const SD_PLUGIN = fileURLToPath(new URL("../../dev.agentgauge.streamdeck.sdPlugin", import.meta.url));
export const DEVICE = "FAKE-DEVICE-1";

/** @typedef {{event: string, context?: string, [key: string]: any}} Message */

export class FakeStreamDeck {
  /** @type {Message[]} */
  received = [];
  /** @type {{test: (m: Message) => boolean, resolve: (m: Message) => void}[]} */
  #waiters = [];
  /** @type {import("ws").WebSocket | null} */
  #socket = null;
  /** @type {import("node:child_process").ChildProcess | null} */
  #child = null;
  stderr = "";

  /**
   * @param {Record<string, any>} globalSettings what the app answers to getGlobalSettings
   */
  constructor(globalSettings) {
    this.globalSettings = globalSettings;
    this.pluginUUID = `test-${process.pid}`;
    // A copy: the SDK writes its logs/ beside the manifest, which must not end up in the package.
    this.dir = mkdtempSync(join(tmpdir(), "agentgauge-sd-"));
    cpSync(SD_PLUGIN, join(this.dir, "plugin.sdPlugin"), { recursive: true });
    this.pluginDir = join(this.dir, "plugin.sdPlugin");
  }

  /** Start the WebSocket server and the plugin; resolves when the plugin has registered. */
  async start() {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    this.wss = wss;
    await new Promise((resolve) => wss.once("listening", resolve));
    const address = wss.address();
    const port = address !== null && typeof address === "object" ? address.port : 0;
    wss.on("connection", (socket) => {
      this.#socket = socket;
      socket.on("message", (raw) => this.#receive(JSON.parse(String(raw))));
    });
    const info = {
      application: { font: "Arial", language: "en", platform: "mac", platformVersion: "14.0", version: "6.9.0.20000" },
      colors: {},
      devicePixelRatio: 2,
      devices: [{ id: DEVICE, name: "Stream Deck +", size: { columns: 4, rows: 2 }, type: 7 }],
      plugin: { uuid: "dev.agentgauge.streamdeck", version: "0.1.0.0" },
    };
    this.#child = spawn(
      process.execPath,
      [
        "bin/plugin.js",
        "-port",
        String(port),
        "-pluginUUID",
        this.pluginUUID,
        "-registerEvent",
        "registerPlugin",
        "-info",
        JSON.stringify(info),
      ],
      { cwd: this.pluginDir, stdio: ["ignore", "ignore", "pipe"] },
    );
    this.#child.stderr?.on("data", (chunk) => (this.stderr += chunk));
    return this.waitFor((m) => m.event === "registerPlugin");
  }

  /** @param {Message} message */
  #receive(message) {
    this.received.push(message);
    if (message.event === "getGlobalSettings") {
      this.send({ event: "didReceiveGlobalSettings", id: message.id, payload: { settings: this.globalSettings } });
    }
    for (const waiter of [...this.#waiters]) {
      if (waiter.test(message)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  }

  /** @param {Record<string, any>} message */
  send(message) {
    this.#socket?.send(JSON.stringify(message));
  }

  /**
   * The first message (already received or still to come) that passes `test`.
   * @param {(m: Message) => boolean} test
   * @param {number} [from] index in `received` to search from
   * @param {number} [timeoutMs]
   * @returns {Promise<Message>}
   */
  waitFor(test, from = 0, timeoutMs = 30_000) {
    const found = this.received.slice(from).find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no such message in ${timeoutMs} ms; plugin stderr:\n${this.stderr}`)),
        timeoutMs,
      );
      this.#waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /**
   * An action event as the app sends it.
   * @param {string} event
   * @param {{action: string, context: string, controller: "Encoder" | "Keypad", settings?: Record<string, any>, extra?: Record<string, any>}} a
   */
  actionEvent(event, a) {
    this.send({
      event,
      action: a.action,
      context: a.context,
      device: DEVICE,
      payload: {
        controller: a.controller,
        coordinates: { column: 0, row: 0 },
        isInMultiAction: false,
        settings: a.settings ?? {},
        resources: {},
        ...a.extra,
      },
    });
  }

  async stop() {
    if (this.#child && this.#child.exitCode === null) {
      const exited = new Promise((resolve) => this.#child?.once("exit", resolve));
      this.#child.kill("SIGTERM");
      await exited;
    }
    await new Promise((resolve) => this.wss?.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
