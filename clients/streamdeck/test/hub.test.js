// The shared poller against the real server (and real HTTP servers in front of it), on a fake
// clock: one request per poll for all dials, the last answer kept while the server is away, retry
// pacing, and seed 000's next_refresh_at.
import assert from "node:assert/strict";
import { test } from "node:test";

import { GaugeClient } from "../src/lib/client.js";
import { Hub, POLL_MS, RETRY_MS, TICK_MS } from "../src/lib/hub.js";
import { FakeTimers } from "./support/timers.js";
import { deadUrl, proxyServer, seedBackend, serverJson, testServer } from "./support/server.js";

const server = testServer();

/**
 * @param {FakeTimers} timers
 * @param {number} [tickMs]
 */
function hubOn(timers, tickMs = TICK_MS) {
  const clientFor = (/** @type {{serverUrl: string, token: string}} */ s) => new GaugeClient({ ...s, now: timers.now });
  return new Hub({ now: timers.now, timers, tickMs, clientFor });
}

/**
 * Run the soonest timer (the poll) and wait for its answer.
 * @param {Hub} hub
 * @param {FakeTimers} timers
 */
async function runPoll(hub, timers) {
  timers.runNext();
  await hub.poll();
}

test("polling starts with the first dial: one request for every dial, then every minute", async () => {
  const timers = new FakeTimers();
  const proxy = await proxyServer(server.url);
  const hub = hubOn(timers);
  try {
    hub.configure({ serverUrl: proxy.url, token: server.token });
    assert.deepEqual(timers.pending(), [], "nothing polls while nothing is on screen");
    let calls = 0;
    const unsubscribers = [1, 2, 3, 4, 5].map(() => hub.subscribe(() => (calls += 1)));
    assert.deepEqual(timers.pending(), [0, TICK_MS]);
    await runPoll(hub, timers);
    const usage = await serverJson("/api/usage");
    const config = await serverJson("/api/config");
    assert.equal(hub.state.connection.status, "ok");
    assert.equal(hub.state.model?.agents.length, usage.providers.length);
    assert.deepEqual(hub.state.thresholds, config.thresholds);
    assert.ok(calls >= 5);
    assert.deepEqual(
      proxy.requests.map((r) => r.path),
      ["/api/usage", "/api/config"],
    );
    assert.deepEqual(timers.pending(), [TICK_MS, POLL_MS]);

    const before = calls;
    timers.runNext(); // the tick: countdowns re-render without a request
    assert.equal(calls, before + 5);
    assert.equal(proxy.requests.length, 2);

    unsubscribers.forEach((off) => off());
    assert.deepEqual(timers.pending(), [], "the last dial gone, every timer stops");
  } finally {
    hub.dispose();
    await proxy.close();
  }
});

test("the server goes away: the last answer stays, marked offline, retried at 5, 15, then 30 s", async () => {
  const timers = new FakeTimers();
  const proxy = await proxyServer(server.url);
  const tick = 3_600_000; // out of the way: only polls are run here
  const hub = hubOn(timers, tick);
  try {
    hub.configure({ serverUrl: proxy.url, token: server.token });
    hub.subscribe(() => {});
    await runPoll(hub, timers);
    const model = hub.state.model;
    const okAt = hub.state.connection.lastOkAt;
    assert.ok(model);
    await proxy.close();
    const retries = [];
    for (let i = 0; i < 4; i += 1) {
      await runPoll(hub, timers);
      retries.push(timers.pending()[0]);
    }
    assert.equal(hub.state.connection.status, "offline");
    assert.equal(hub.state.model, model, "the last good answer is kept");
    assert.equal(hub.state.connection.lastOkAt, okAt);
    assert.deepEqual(retries, [...RETRY_MS, RETRY_MS.at(-1)]);
  } finally {
    hub.dispose();
  }
});

test("another server replaces the answer: nothing of the old server is shown as the new one's", async () => {
  const timers = new FakeTimers();
  const hub = hubOn(timers);
  try {
    hub.configure({ serverUrl: server.url, token: server.token });
    hub.subscribe(() => {});
    await runPoll(hub, timers);
    assert.ok(hub.state.model);
    hub.configure({ serverUrl: await deadUrl(), token: "" });
    assert.equal(hub.state.model, null);
    assert.equal(hub.state.connection.status, "connecting");
    await runPoll(hub, timers);
    assert.equal(hub.state.connection.status, "offline");
    assert.equal(hub.state.connection.lastOkAt, null);
    hub.configure({ serverUrl: "ftp://nowhere", token: "" });
    assert.equal(hub.state.connection.status, "failed");
    assert.equal(hub.state.connection.message, "check the server URL");
    assert.equal(hub.dashboardUrl(), null);
  } finally {
    hub.dispose();
  }
});

test("a refresh is marked while under way and its answer replaces the model", async () => {
  const timers = new FakeTimers();
  const hub = hubOn(timers);
  try {
    hub.configure({ serverUrl: server.url, token: server.token });
    /** @type {boolean[]} */
    const seen = [];
    hub.subscribe(() => seen.push(hub.state.refreshing.has("claude")));
    const done = hub.refresh("claude", 0);
    assert.equal(hub.state.refreshing.has("claude"), true);
    assert.equal(await done, true);
    assert.equal(hub.state.refreshing.size, 0);
    assert.equal(hub.state.connection.status, "ok");
    assert.ok(seen.includes(true) && seen.at(-1) === false);
  } finally {
    hub.dispose();
  }
});

test("seed 000's backend says when it refreshes next: the hub polls just after that", async () => {
  const timers = new FakeTimers();
  const seed = await seedBackend(server.url);
  const hub = new Hub({ now: timers.now, timers, pollMs: 3_600_000 });
  try {
    hub.configure({ serverUrl: seed.url, token: server.token });
    hub.subscribe(() => {});
    await runPoll(hub, timers);
    const next = hub.state.model?.nextRefreshAt;
    assert.equal(typeof next, "number");
    const expected = Math.max(5_000, /** @type {number} */ (next) - timers.time + 2_000);
    assert.ok(timers.pending().includes(expected), `${timers.pending()} lacks ${expected}`);
  } finally {
    hub.dispose();
    await seed.close();
  }
});

test("a server that answers something else: short words on the dial, the whole story in the log", async () => {
  const timers = new FakeTimers();
  const broken = await proxyServer(server.url, (req, res) => {
    if (req.url === "/api/usage") res.writeHead(500).end();
    else res.writeHead(200, { "Content-Type": "application/json" }).end('{"hello": "world"}');
    return true;
  });
  /** @type {string[]} */
  const logged = [];
  const hub = new Hub({ now: timers.now, timers, onStatus: (c) => logged.push(`${c.status} ${c.detail ?? ""}`) });
  try {
    hub.configure({ serverUrl: broken.url, token: "" });
    hub.subscribe(() => {});
    await runPoll(hub, timers);
    assert.equal(hub.state.connection.status, "failed");
    assert.equal(hub.state.connection.message, "server error (HTTP 500)");
    assert.deepEqual(logged, ["connecting ", `failed ${broken.url}/api/usage answered HTTP 500`]);
  } finally {
    hub.dispose();
    await broken.close();
  }
});

test("the settings page's agent list uses the typed URL and token", async () => {
  const hub = new Hub();
  const listed = await hub.listAgents({ serverUrl: server.url, token: server.token });
  const usage = await serverJson("/api/usage");
  assert.equal(listed.error, null);
  assert.equal(listed.agents.length, usage.providers.length);
  assert.deepEqual(listed.agents[0], {
    key:
      usage.providers[0].account === "default"
        ? usage.providers[0].provider
        : `${usage.providers[0].provider}:${usage.providers[0].account}`,
    name: usage.providers[0].name,
    status: usage.providers[0].status,
  });
  const refused = await hub.listAgents({ serverUrl: server.url, token: "" });
  assert.deepEqual(refused.agents, []);
  assert.match(refused.error ?? "", /needs an access token/);
});
