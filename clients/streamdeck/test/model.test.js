// Reading both answers of the real server into the plugin's model: /api/usage (the snapshot) and
// /api/data (seed 000's shape) must give each agent the same session and weekly numbers.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ShapeError } from "../src/lib/errors.js";
import { readModel, shapeOf, shownPct, tightestWindow } from "../src/lib/model.js";
import { serverJson } from "./support/server.js";
import { consistentAnswers, keyOf, windowOf, withAccount } from "./support/snapshots.js";

const { usage, data } = await consistentAnswers();
const now = Date.now();

test("the two answers are told apart", () => {
  assert.equal(shapeOf(usage), "usage");
  assert.equal(shapeOf(data), "data");
});

test("every account of the snapshot is an agent, keyed as /api/data keys it, in the server's order", () => {
  const model = readModel(usage, now);
  assert.equal(model.shape, "usage");
  assert.deepEqual(
    model.agents.map((a) => a.key),
    usage.providers.map(keyOf),
  );
  const enabled = usage.providers.filter((/** @type {any} */ p) => p.status !== "disabled").map(keyOf);
  assert.deepEqual(
    readModel(data, now).agents.map((a) => a.key),
    enabled,
  );
});

test("snapshot windows keep the server's numbers and times", () => {
  const model = readModel(usage, now);
  for (const p of usage.providers) {
    const agent = model.agents.find((a) => a.key === keyOf(p));
    assert.ok(agent);
    assert.equal(agent.windows.length, p.windows.length);
    p.windows.forEach((/** @type {any} */ w, /** @type {number} */ i) => {
      const got = agent.windows[i];
      assert.equal(got.id, w.id);
      assert.equal(got.pct, w.reset_pending ? 0 : w.used_pct);
      assert.equal(got.resetAt, w.resets_at ? Date.parse(w.resets_at) : null);
      assert.equal(got.unlimited, w.unlimited === true);
      assert.equal(got.forecast?.expectedPct ?? null, w.forecast && !w.reset_pending ? w.forecast.expected_pct : null);
    });
  }
});

test("session and weekly agree between /api/usage and /api/data for every agent", () => {
  const fromUsage = readModel(usage, now);
  const fromData = readModel(data, now);
  let compared = 0;
  for (const agent of fromData.agents) {
    const twin = fromUsage.agents.find((a) => a.key === agent.key);
    assert.ok(twin, agent.key);
    const entry = data[agent.key];
    assert.equal(
      agent.status === "unconfigured" || agent.status === "waiting" ? "offline" : agent.status,
      entry.status,
    );
    assert.equal(twin.status === "unconfigured" || twin.status === "waiting" ? "offline" : twin.status, entry.status);
    if (entry.session) {
      assert.equal(agent.primary?.pct, entry.session.usage_pct);
      assert.equal(twin.primary?.pct, entry.session.usage_pct, `${agent.key} session`);
      assert.equal(twin.primary?.resetAt, agent.primary?.resetAt, `${agent.key} session reset`);
      compared += 1;
    }
    if (entry.weekly) {
      assert.equal(agent.weekly?.pct, entry.weekly.usage_pct);
      assert.equal(twin.weekly?.pct, entry.weekly.usage_pct, `${agent.key} weekly`);
      compared += 1;
    } else {
      assert.equal(twin.weekly, null, `${agent.key} has no weekly window`);
    }
  }
  assert.ok(compared >= 10, `only ${compared} windows compared`);
});

test("seed 000's own backend sends no reset_at: the reset is counted from remaining_seconds", () => {
  const key = Object.keys(data).find((k) => data[k]?.session?.remaining_seconds > 0);
  assert.ok(key);
  const seedShaped = structuredClone(data);
  delete seedShaped[key].session.reset_at;
  const receivedAt = Date.parse("2026-02-27T14:30:00Z");
  const agent = readModel(seedShaped, receivedAt).agents.find((a) => a.key === key);
  assert.equal(agent?.primary?.resetAt, receivedAt + data[key].session.remaining_seconds * 1000);
});

test("an agent without a session shows its shortest window first, then its weekly or next window", () => {
  const model = readModel(usage, now);
  for (const p of usage.providers) {
    const agent = model.agents.find((a) => a.key === keyOf(p));
    if (!agent || p.windows.length === 0) continue;
    const session = windowOf(p, "session");
    const known = p.windows.filter((/** @type {any} */ w) => w.window_seconds);
    const shortest = known.length ? Math.min(...known.map((/** @type {any} */ w) => w.window_seconds)) : null;
    if (session) assert.equal(agent.primary?.id, "session");
    else if (shortest !== null) assert.equal(agent.primary?.lengthSeconds, shortest, agent.key);
    if (windowOf(p, "weekly") && agent.primary?.id !== "weekly") assert.equal(agent.secondary?.id, "weekly");
    if (p.windows.length > 1) assert.notEqual(agent.secondary, null, agent.key);
  }
});

test("statuses: a stale placeholder with nothing behind it is 'waiting', no credentials is 'unconfigured'", () => {
  const p = usage.providers.find((/** @type {any} */ x) => x.status === "ok");
  const waiting = withAccount(usage, p.provider, p.account, (x) => {
    Object.assign(x, { status: "stale", last_success_at: null, error: null, windows: [] });
  });
  assert.equal(readModel(waiting, now).agents.find((a) => a.key === keyOf(p))?.status, "waiting");
  const unconfigured = withAccount(usage, p.provider, p.account, (x) => {
    Object.assign(x, {
      status: "unconfigured",
      windows: [],
      error: { kind: "config", message: "no credentials found" },
    });
  });
  const agent = readModel(unconfigured, now).agents.find((a) => a.key === keyOf(p));
  assert.equal(agent?.status, "unconfigured");
  assert.equal(agent?.error, "no credentials found");
  const offline = structuredClone(data);
  offline[keyOf(p)] = { status: "offline", plan: null, error: "Codex: no credentials found", last_success: null };
  assert.equal(readModel(offline, now).agents.find((a) => a.key === keyOf(p))?.status, "unconfigured");
});

test("a reset time that passes between polls reads 0 % (the server's rule), an unknown percent stays unknown", () => {
  const model = readModel(usage, now);
  const agent = model.agents.find((a) => a.primary?.resetAt && (a.primary.pct ?? 0) > 0);
  assert.ok(agent?.primary?.resetAt);
  assert.equal(shownPct(agent.primary, agent.primary.resetAt - 1000), agent.primary.pct);
  assert.equal(shownPct(agent.primary, agent.primary.resetAt + 1000), 0);
  assert.equal(shownPct({ ...agent.primary, pct: null }, now), null);
});

test("the tightest window is the highest percent among windows that can run out", () => {
  const model = readModel(usage, now);
  for (const p of usage.providers) {
    const agent = model.agents.find((a) => a.key === keyOf(p));
    const limited = p.windows.filter((/** @type {any} */ w) => !w.unlimited);
    const expected = limited.length
      ? Math.max(...limited.map((/** @type {any} */ w) => (w.reset_pending ? 0 : w.used_pct)))
      : null;
    const tightest = agent ? tightestWindow(agent, now) : null;
    assert.equal(tightest === null ? null : shownPct(tightest, now), expected, keyOf(p));
  }
});

test("answers that are neither shape are refused with a typed error", async () => {
  const ping = await serverJson("/api/ping");
  assert.throws(() => readModel(ping, now), ShapeError);
  assert.throws(() => readModel([], now), ShapeError);
  assert.throws(() => readModel("<html>", now), ShapeError);
});
