// The built plugin (bin/plugin.js, the real SDK inside) under a stand-in Stream Deck app, reading
// the real server: registration, a dial's face, rotate, push, touch, a key's image, the settings
// page's agent list; and no token in what it logs.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { PUSH_WAIT_SECONDS } from "../src/lib/controllers.js";
import { FakeStreamDeck } from "./support/fakehost.js";
import { serverJson, testServer } from "./support/server.js";

const DIAL = "dev.agentgauge.streamdeck.dial";
const KEY = "dev.agentgauge.streamdeck.key";
const server = testServer();
const host = new FakeStreamDeck({ serverUrl: server.url, token: server.token });
const dial = { action: DIAL, context: "dial-1", controller: /** @type {const} */ ("Encoder") };

/**
 * The next message for `context` with `event` (after those already seen).
 * @param {string} event
 * @param {string} context
 * @param {(m: any) => boolean} [test]
 */
function next(event, context, test = () => true, timeoutMs = 30_000) {
  return host.waitFor((m) => m.event === event && m.context === context && test(m), host.received.length, timeoutMs);
}

before(async () => {
  const registration = await host.start();
  assert.deepEqual(registration, { event: "registerPlugin", uuid: host.pluginUUID });
});

after(async () => {
  await host.stop();
});

test("a dial that appears shows its agent from the server", async () => {
  const usage = await serverJson("/api/usage");
  const claude = usage.providers.find((/** @type {any} */ p) => p.provider === "claude" && p.account === "default");
  const shown = next(
    "setFeedback",
    dial.context,
    (m) => m.payload.name?.value === claude.name && m.payload.footer.value !== "connecting…",
  );
  host.actionEvent("willAppear", { ...dial, settings: { agent: "claude" } });
  const feedback = (await shown).payload;
  assert.match(feedback.label1.value, /^\S+ [\d.]+%$/);
  assert.ok(feedback.icon.value.startsWith("data:image/svg+xml;base64,"));
});

test("rotating changes the view and saves it in the action's settings", async () => {
  const saved = next("setSettings", dial.context);
  const changed = next("setFeedback", dial.context, (m) => m.payload.bar1?.opacity === 0);
  host.actionEvent("dialRotate", { ...dial, settings: { agent: "claude" }, extra: { ticks: 1, pressed: false } });
  assert.deepEqual((await saved).payload, { agent: "claude", view: 1 });
  assert.match((await changed).payload.value1.value, /^↻ |reset, confirming/);
});

test("touching opens the dashboard; pushing asks the server to refresh", async () => {
  const opened = host.waitFor((m) => m.event === "openUrl", host.received.length);
  host.actionEvent("touchTap", { ...dial, extra: { tapPos: [100, 50], hold: false } });
  assert.equal((await opened).payload.url, `${server.url}/`);
  const refreshing = next("setFeedback", dial.context, (m) => m.payload.footer?.value === "refreshing…");
  host.actionEvent("dialDown", { ...dial, settings: { agent: "claude", view: 1 } });
  await refreshing;
  // The plugin asks the server to wait up to PUSH_WAIT_SECONDS for the fetch, so on a loaded machine
  // the answer may come just after that: wait longer than the plugin does.
  const settled = (/** @type {any} */ m) => m.payload.footer?.value !== "refreshing…";
  await next("setFeedback", dial.context, settled, (PUSH_WAIT_SECONDS + 30) * 1000);
});

test("a key shows the tightest window as an SVG ring", async () => {
  const image = next("setImage", "key-1");
  host.actionEvent("willAppear", { action: KEY, context: "key-1", controller: "Keypad", settings: {} });
  const svg = Buffer.from((await image).payload.image.split(",")[1], "base64").toString("utf8");
  assert.match(svg, /stroke-dasharray="[\d.]+ [\d.]+"/);
  assert.match(svg, />[\d.]+%</);
});

test("the settings page gets the server's agents from the plugin", async () => {
  host.send({ event: "propertyInspectorDidAppear", action: DIAL, context: dial.context, device: "FAKE-DEVICE-1" });
  const answer = host.waitFor((m) => m.event === "sendToPropertyInspector", host.received.length);
  host.send({
    event: "sendToPlugin",
    action: DIAL,
    context: dial.context,
    payload: { request: "agents", serverUrl: server.url, token: server.token },
  });
  const { payload } = await answer;
  const usage = await serverJson("/api/usage");
  assert.equal(payload.event, "agents");
  assert.equal(payload.error, null);
  assert.equal(payload.agents.length, usage.providers.length);
});

test("the plugin's log never holds the token", async () => {
  host.actionEvent("willDisappear", dial);
  const logs = join(host.pluginDir, "logs");
  const text = readdirSync(logs)
    .map((name) => readFileSync(join(logs, name), "utf8"))
    .join("\n");
  assert.match(text, /server connection: ok/);
  assert.ok(!text.includes(server.token), "the token is in the plugin's log");
  assert.ok(!host.stderr.includes(server.token));
});
