// A dial and a key as the plugin drives them, with the Stream Deck SDK replaced by a recording
// stub (the only stub: the hub, the client and the server are real).
import assert from "node:assert/strict";
import { test } from "node:test";

import { DialController, KeyController, PUSH_WAIT_SECONDS } from "../src/lib/controllers.js";
import { fmtPct } from "../src/lib/format.js";
import { Hub } from "../src/lib/hub.js";
import { keyFace } from "../src/lib/keyimage.js";
import { deadUrl, proxyServer, serverJson, testServer } from "./support/server.js";
import { FakeTimers } from "./support/timers.js";

const server = testServer();

/** What the SDK was asked to do, in order. */
class RecordingPort {
  /** @type {{call: string, arg?: any}[]} */
  calls = [];
  /** @param {Record<string, any>} payload */
  setFeedback(payload) {
    this.calls.push({ call: "setFeedback", arg: payload });
  }
  /** @param {string} url */
  openUrl(url) {
    this.calls.push({ call: "openUrl", arg: url });
  }
  showAlert() {
    this.calls.push({ call: "showAlert" });
  }
  /** @param {any} settings */
  setSettings(settings) {
    this.calls.push({ call: "setSettings", arg: settings });
  }
  /** @param {string} image */
  setImage(image) {
    this.calls.push({ call: "setImage", arg: image });
  }
  /** @param {string} name */
  last(name) {
    return this.calls.filter((c) => c.call === name).at(-1)?.arg;
  }
}

/** @param {string} serverUrl */
async function ready(serverUrl) {
  const timers = new FakeTimers();
  const hub = new Hub({ now: timers.now, timers });
  hub.configure({ serverUrl, token: server.token });
  return { hub, timers };
}

/**
 * @param {Hub} hub
 * @param {FakeTimers} timers
 */
async function firstPoll(hub, timers) {
  timers.runNext();
  await hub.poll();
}

test("a dial shows its agent once the first answer is in, and sends nothing twice", async () => {
  const { hub, timers } = await ready(server.url);
  const port = new RecordingPort();
  const dial = new DialController(hub, port, timers.now);
  try {
    dial.appear({ agent: "claude" });
    assert.equal(port.last("setFeedback").footer.value, "connecting…");
    await firstPoll(hub, timers);
    const usage = await serverJson("/api/usage");
    const claude = usage.providers.find((/** @type {any} */ p) => p.provider === "claude" && p.account === "default");
    const session = claude.windows.find((/** @type {any} */ w) => w.id === "session");
    const shown = port.last("setFeedback");
    assert.equal(shown.name.value, claude.name);
    assert.ok(shown.label1.value.endsWith(fmtPct(session.reset_pending ? 0 : session.used_pct)));
    const sent = port.calls.length;
    dial.render();
    assert.equal(port.calls.length, sent, "an unchanged face is not sent again");
  } finally {
    dial.disappear();
    hub.dispose();
  }
});

test("rotating cycles the three views either way and keeps the view in the action's settings", async () => {
  const { hub, timers } = await ready(server.url);
  const port = new RecordingPort();
  const dial = new DialController(hub, port, timers.now);
  try {
    dial.appear({ agent: "claude", view: 0 });
    await firstPoll(hub, timers);
    await dial.rotate(1);
    assert.deepEqual(port.last("setSettings"), { agent: "claude", view: 1 });
    assert.equal(port.last("setFeedback").bar1.opacity, 0, "the numbers view hides the bars");
    assert.match(port.last("setFeedback").value1.value, /^↻ |reset, confirming/);
    await dial.rotate(1);
    assert.deepEqual(port.last("setSettings"), { agent: "claude", view: 2 });
    await dial.rotate(1);
    assert.deepEqual(port.last("setSettings"), { agent: "claude", view: 0 });
    await dial.rotate(-1);
    assert.deepEqual(port.last("setSettings"), { agent: "claude", view: 2 });
    await dial.rotate(-4);
    assert.deepEqual(port.last("setSettings"), { agent: "claude", view: 1 });
  } finally {
    dial.disappear();
    hub.dispose();
  }
});

test("pushing refreshes the agent on the server (refreshing… meanwhile); touching opens the dashboard", async () => {
  const proxy = await proxyServer(server.url);
  const { hub, timers } = await ready(proxy.url);
  const port = new RecordingPort();
  const dial = new DialController(hub, port, timers.now);
  try {
    dial.appear({ agent: "codex:work" });
    await firstPoll(hub, timers);
    await dial.push();
    const post = proxy.requests.find((r) => r.method === "POST");
    assert.ok(post);
    assert.deepEqual(Object.fromEntries(new URL(post.path, proxy.url).searchParams), {
      wait: String(PUSH_WAIT_SECONDS),
      provider: "codex",
      account: "work",
    });
    const footers = port.calls.filter((c) => c.call === "setFeedback").map((c) => c.arg.footer.value);
    assert.ok(footers.includes("refreshing…"));
    assert.notEqual(footers.at(-1), "refreshing…");
    assert.equal(
      port.calls.some((c) => c.call === "showAlert"),
      false,
    );
    await dial.touch();
    assert.equal(port.last("openUrl"), `${proxy.url}/`);
  } finally {
    dial.disappear();
    hub.dispose();
    await proxy.close();
  }
});

test("a push with the server gone shows an alert; the dial says offline", async () => {
  const { hub, timers } = await ready(await deadUrl());
  const port = new RecordingPort();
  const dial = new DialController(hub, port, timers.now);
  try {
    dial.appear({ agent: "claude" });
    await dial.push();
    assert.equal(port.calls.at(-1)?.call, "showAlert");
    assert.equal(port.last("setFeedback").footer.value, "server offline");
  } finally {
    dial.disappear();
    hub.dispose();
  }
});

test("a key shows the tightest window as a ring image and refreshes on a press", async () => {
  const proxy = await proxyServer(server.url);
  const { hub, timers } = await ready(proxy.url);
  const port = new RecordingPort();
  const key = new KeyController(hub, port, timers.now);
  try {
    key.appear({ agent: "" });
    await firstPoll(hub, timers);
    const image = port.last("setImage");
    assert.match(image, /^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from(image.split(",")[1], "base64").toString("utf8");
    const face = keyFace({
      agentKey: "",
      model: hub.state.model,
      connection: hub.state.connection,
      view: 0,
      now: timers.now(),
      thresholds: hub.state.thresholds,
    });
    assert.ok(svg.includes(`>${face.center}<`) && face.center.endsWith("%"));
    await key.press();
    const post = proxy.requests.find((r) => r.method === "POST");
    assert.deepEqual(Object.fromEntries(new URL(post?.path ?? "", proxy.url).searchParams), {
      wait: String(PUSH_WAIT_SECONDS),
    });
  } finally {
    key.disappear();
    hub.dispose();
    await proxy.close();
  }
});
