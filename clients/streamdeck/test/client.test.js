// The HTTP client against the real server: the token in the header only, typed errors for every
// way a server can fail, seed 000's backend through /api/data, refreshes narrowed to one account.
import assert from "node:assert/strict";
import { test } from "node:test";

import { GaugeClient } from "../src/lib/client.js";
import { AuthError, OfflineError, SettingsError } from "../src/lib/errors.js";
import { normaliseServerUrl, isLoopback, tokenInClear } from "../src/lib/settings.js";
import { deadUrl, proxyServer, seedBackend, serverJson, silentServer, testServer } from "./support/server.js";

const server = testServer();

test("the snapshot with the token: every account, read from /api/usage", async () => {
  const client = new GaugeClient({ serverUrl: server.url, token: server.token });
  const model = await client.snapshot();
  const usage = await serverJson("/api/usage");
  assert.equal(client.shape, "usage");
  assert.equal(model.agents.length, usage.providers.length);
});

test("no token or a wrong one: an auth error that never repeats the token", async () => {
  await assert.rejects(new GaugeClient({ serverUrl: server.url }).snapshot(), (error) => {
    assert.ok(error instanceof AuthError);
    assert.equal(error.tokenSent, false);
    assert.match(error.message, /needs an access token/);
    return true;
  });
  const wrong = "wrong-token-0123456789";
  await assert.rejects(new GaugeClient({ serverUrl: server.url, token: wrong }).snapshot(), (error) => {
    assert.ok(error instanceof AuthError);
    assert.equal(error.tokenSent, true);
    assert.ok(!error.message.includes(wrong) && !String(error.stack).includes(wrong));
    return true;
  });
});

test("the token travels only as 'Authorization: Bearer', never in the URL", async () => {
  const proxy = await proxyServer(server.url);
  try {
    await new GaugeClient({ serverUrl: proxy.url, token: server.token }).snapshot();
    assert.ok(proxy.requests.length > 0);
    for (const request of proxy.requests) {
      assert.equal(request.authorization, `Bearer ${server.token}`);
      assert.ok(!request.path.includes(server.token));
    }
    await new GaugeClient({ serverUrl: proxy.url }).snapshot().catch(() => {});
    assert.equal(proxy.requests.at(-1)?.authorization, undefined, "no token set, no header");
  } finally {
    await proxy.close();
  }
});

test("nothing listening, or a server that never answers: offline errors", async () => {
  await assert.rejects(new GaugeClient({ serverUrl: await deadUrl() }).snapshot(), OfflineError);
  const silent = await silentServer();
  try {
    await assert.rejects(new GaugeClient({ serverUrl: silent.url, timeoutMs: 300 }).snapshot(), (error) => {
      assert.ok(error instanceof OfflineError);
      assert.match(error.message, /did not answer in time/);
      return true;
    });
  } finally {
    await silent.close();
  }
});

test("seed 000's backend (no /api/usage): the client reads /api/data and refreshes with GET /api/refresh", async () => {
  const seed = await seedBackend(server.url);
  try {
    const client = new GaugeClient({ serverUrl: seed.url, token: server.token });
    const model = await client.snapshot();
    const data = await serverJson("/api/data");
    assert.equal(client.shape, "data");
    assert.deepEqual(
      model.agents.map((a) => a.key),
      Object.keys(data).filter((k) => typeof data[k] === "object"),
    );
    assert.equal(model.nextRefreshAt, Date.parse(data.next_refresh_at));
    const refreshed = await client.refresh({ agentKey: "codex", waitSeconds: 0 });
    assert.equal(refreshed.shape, "data");
    assert.deepEqual(
      seed.requests.map((r) => `${r.method} ${r.path.split("?")[0]}`),
      ["GET /api/usage", "GET /api/data", "GET /api/refresh"],
    );
  } finally {
    await seed.close();
  }
});

test("a push refreshes one account: POST /api/refresh with provider, account and wait", async () => {
  const proxy = await proxyServer(server.url);
  try {
    const client = new GaugeClient({ serverUrl: proxy.url, token: server.token });
    const model = await client.refresh({ agentKey: "codex:work", waitSeconds: 5 });
    assert.equal(model.shape, "usage");
    const post = proxy.requests.find((r) => r.method === "POST");
    assert.ok(post);
    const url = new URL(post.path, proxy.url);
    assert.equal(url.pathname, "/api/refresh");
    assert.deepEqual(Object.fromEntries(url.searchParams), { wait: "5", provider: "codex", account: "work" });
    await client.refresh({ agentKey: "claude", waitSeconds: 500 });
    const clamped = new URL(proxy.requests.at(-1)?.path ?? "", proxy.url);
    assert.deepEqual(Object.fromEntries(clamped.searchParams), { wait: "75", provider: "claude" });
  } finally {
    await proxy.close();
  }
});

test("server URLs: a scheme added, the trailing slash and query dropped, a root path kept", () => {
  assert.equal(normaliseServerUrl(""), "http://127.0.0.1:8777");
  assert.equal(normaliseServerUrl("  localhost:8777/ "), "http://localhost:8777");
  assert.equal(normaliseServerUrl("https://gauge.example.com/gauge/?x=1#y"), "https://gauge.example.com/gauge");
  assert.throws(() => normaliseServerUrl("ftp://host"), SettingsError);
  assert.throws(
    () => normaliseServerUrl("http://user:secret@host"),
    (error) => {
      assert.ok(error instanceof SettingsError);
      assert.ok(!error.message.includes("secret"));
      return true;
    },
  );
  assert.equal(
    new GaugeClient({ serverUrl: "http://127.0.0.1:8777/gauge/" }).dashboardUrl(),
    "http://127.0.0.1:8777/gauge/",
  );
});

test("loopback needs no token; a token over plain http to another machine is flagged", () => {
  for (const url of ["http://127.0.0.1:8777", "http://localhost:1", "http://[::1]:8777", "http://127.1.2.3"]) {
    assert.equal(isLoopback(url), true, url);
  }
  assert.equal(isLoopback("http://192.168.1.20:8777"), false);
  assert.equal(tokenInClear("http://192.168.1.20:8777", "t"), true);
  assert.equal(tokenInClear("https://gauge.example.com", "t"), false);
  assert.equal(tokenInClear("http://127.0.0.1:8777", "t"), false);
  assert.equal(tokenInClear("http://192.168.1.20:8777", ""), false);
});
