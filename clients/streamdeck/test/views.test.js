// What a dial shows for the real server's answers, in each view and state. Expectations are read
// from the raw JSON; states the demo never produces are variants of a real answer.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, countdown, fmtPct } from "../src/lib/format.js";
import { readModel } from "../src/lib/model.js";
import { dialFeedback, LAYOUT_KEYS } from "../src/lib/views.js";
import { serverJson } from "./support/server.js";
import { keyOf, windowOf, withAccount } from "./support/snapshots.js";

const usage = await serverJson("/api/usage");
const { thresholds } = await serverJson("/api/config");
const now = Date.now();
/** @type {import("../src/lib/views.js").Connection} */
const live = { status: "ok", message: null, lastOkAt: now, tokenSent: true };

// The dashboard's rule and CSS colours, written out again so the test does not check the code with itself.
/** @param {number} pct */
const expectedColor = (pct) => (pct > thresholds.crit ? "#e5484d" : pct >= thresholds.warn ? "#d4a017" : "#2da44e");

/**
 * @param {any} snapshot
 * @param {string} agentKey
 * @param {number} view
 * @param {Partial<import("../src/lib/views.js").DialInput>} [extra]
 */
function feedback(snapshot, agentKey, view, extra = {}) {
  return dialFeedback({ agentKey, model: readModel(snapshot, now), connection: live, view, now, thresholds, ...extra });
}

/** @param {Record<string, any>} payload */
const texts = (payload) =>
  ["name", "label1", "value1", "label2", "value2", "footer"].map((k) => String(payload[k].value));

/** @param {any} w */
const passed = (w) => typeof w.resets_at === "string" && Date.parse(w.resets_at) <= now;

/** @param {string} dataUrl */
const svgOf = (dataUrl) => Buffer.from(dataUrl.split(",")[1], "base64").toString("utf8");

const okAgent = usage.providers.find(
  (/** @type {any} */ p) => p.status === "ok" && windowOf(p, "session") && windowOf(p, "weekly"),
);
assert.ok(okAgent, "the demo has an ok agent with session and weekly windows");
const okKey = keyOf(okAgent);

test("every agent in every view fills exactly the layout's items, bars within 0-100", () => {
  for (const p of usage.providers) {
    for (const view of [0, 1, 2]) {
      const payload = feedback(usage, keyOf(p), view);
      assert.deepEqual(Object.keys(payload).sort(), [...LAYOUT_KEYS].sort());
      for (const bar of [payload.bar1, payload.bar2]) assert.ok(bar.value >= 0 && bar.value <= 100);
    }
  }
});

test("bars view: session and weekly percent, bar length and the dashboard's colour", () => {
  let checked = 0;
  for (const p of usage.providers.filter((/** @type {any} */ x) => x.status === "ok")) {
    const session = windowOf(p, "session");
    const weekly = windowOf(p, "weekly");
    if (!session || !weekly || session.reset_pending || weekly.reset_pending || weekly.unlimited) continue;
    // A reset that passed between the server's answer and `now` reads 0 % on the dial (its own test below).
    if (passed(session) || passed(weekly)) continue;
    const payload = feedback(usage, keyOf(p), 0);
    assert.equal(payload.name.value.startsWith(p.name), true);
    assert.ok(payload.label1.value.endsWith(` ${fmtPct(session.used_pct)}`), payload.label1.value);
    assert.equal(payload.bar1.value, Math.min(100, session.used_pct));
    assert.equal(payload.bar1.bar_fill_c, expectedColor(session.used_pct));
    assert.ok(payload.label2.value.endsWith(` ${fmtPct(weekly.used_pct)}`), payload.label2.value);
    assert.equal(payload.bar2.bar_fill_c, expectedColor(weekly.used_pct));
    assert.equal(payload.bar1.opacity, 1);
    assert.ok(svgOf(payload.dot.value).includes('fill="#2da44e"'), "an ok agent's dot is green");
    if (p.plan) {
      // The footer is fit() to the dial: "plan · age", cut with an ellipsis when too long, so a long
      // plan name shows as its beginning and a short one whole.
      const footer = payload.footer.value;
      const cut = footer.endsWith("…") ? footer.slice(0, -1) : null;
      assert.ok(footer.startsWith(p.plan) || (cut !== null && p.plan.startsWith(cut)), `${footer} (plan ${p.plan})`);
    }
    checked += 1;
  }
  assert.ok(checked >= 3, `only ${checked} agents checked`);
});

test("numbers view: the percent and the countdown to each reset, the local reset times below", () => {
  const payload = feedback(usage, okKey, 1);
  const session = windowOf(okAgent, "session");
  const weekly = windowOf(okAgent, "weekly");
  assert.equal(payload.bar1.opacity, 0);
  assert.equal(payload.value1.value, `↻ ${countdown((Date.parse(session.resets_at) - now) / 1000)}`);
  assert.equal(payload.value2.value, `↻ ${countdown((Date.parse(weekly.resets_at) - now) / 1000)}`);
  assert.equal(
    payload.footer.value,
    `↻ ${clock(Date.parse(session.resets_at), now)} · ${clock(Date.parse(weekly.resets_at), now)}`,
  );
});

test("forecast view: the weekly window, where it will stand at its reset and the verdict", () => {
  let checked = 0;
  for (const p of usage.providers.filter((/** @type {any} */ x) => x.status === "ok")) {
    const weekly = windowOf(p, "weekly");
    const f = weekly?.forecast;
    if (!f || f.verdict === "learning" || weekly.reset_pending) continue;
    const payload = feedback(usage, keyOf(p), 2);
    assert.ok(payload.label1.value.endsWith(fmtPct(weekly.used_pct)));
    assert.equal(payload.label2.value, `→ ${fmtPct(f.expected_pct)}`);
    assert.equal(payload.bar2.value, Math.min(100, f.expected_pct));
    assert.equal(payload.bar2.bar_fill_c, expectedColor(f.expected_pct));
    const words = { will_run_out: "runs out", watch: "may run out", surplus: "surplus", ok: "on track" };
    assert.ok(
      payload.footer.value.startsWith(words[/** @type {keyof words} */ (f.verdict)]),
      `${f.verdict}: ${payload.footer.value}`,
    );
    checked += 1;
  }
  assert.ok(checked >= 3, `only ${checked} forecasts checked`);
  const noForecast = withAccount(usage, okAgent.provider, okAgent.account, (x) => {
    windowOf(x, "weekly").forecast = null;
  });
  const payload = feedback(noForecast, okKey, 2);
  assert.equal(payload.value2.value, "no forecast yet");
  assert.equal(payload.bar2.opacity, 0);
});

test("a stale agent keeps its numbers and colours, with an amber dot and how old they are", () => {
  const stale = withAccount(usage, okAgent.provider, okAgent.account, (x) => {
    x.status = "stale";
    x.last_success_at = new Date(now - 3 * 3600_000).toISOString();
    x.error = { kind: "network", message: "usage request failed: ConnectError", hint: "" };
  });
  const payload = feedback(stale, okKey, 0);
  const session = windowOf(okAgent, "session");
  assert.ok(payload.label1.value.endsWith(fmtPct(session.used_pct)));
  assert.equal(payload.bar1.bar_fill_c, expectedColor(session.used_pct));
  assert.ok(svgOf(payload.dot.value).includes('fill="#d4a017"'));
  assert.match(payload.footer.value, /^stale · 3h 0\dm ago$/);
});

test("an agent in error without numbers shows the server's message, no bars, no percent", () => {
  const failed = withAccount(usage, okAgent.provider, okAgent.account, (x) => {
    Object.assign(x, { status: "error", windows: [], last_success_at: null });
    x.error = { kind: "auth", message: "token expired: log in again", hint: "" };
  });
  const payload = feedback(failed, okKey, 0);
  assert.equal(payload.footer.value, "error: token expired: log in…");
  assert.equal(payload.bar1.opacity, 0);
  assert.equal(payload.bar2.opacity, 0);
  assert.ok(texts(payload).every((t) => !t.includes("%")));
  assert.ok(svgOf(payload.dot.value).includes('fill="#e5484d"'));
});

test("server offline: the last answer stays, greyed, with its age; nothing fetched yet shows no numbers", () => {
  const offline = {
    status: /** @type {const} */ ("offline"),
    message: "cannot reach",
    lastOkAt: now - 300_000,
    tokenSent: true,
  };
  const model = { ...readModel(usage, now - 300_000) };
  const payload = dialFeedback({ agentKey: okKey, model, connection: offline, view: 0, now, thresholds });
  const session = windowOf(okAgent, "session");
  assert.ok(payload.label1.value.endsWith(fmtPct(session.used_pct)));
  assert.equal(payload.bar1.bar_fill_c, "#8c959f");
  assert.equal(payload.bar1.opacity, 0.5);
  assert.equal(payload.footer.value, "server offline · 5m old");
  assert.ok(svgOf(payload.dot.value).includes("stroke="), "a hollow dot");

  for (const view of [0, 1, 2]) {
    const empty = dialFeedback({
      agentKey: okKey,
      model: null,
      connection: { ...offline, lastOkAt: null },
      view,
      now,
      thresholds,
    });
    assert.ok(
      texts(empty).every((t) => !t.includes("%")),
      "no percent without data, never 0 %",
    );
    assert.equal(empty.bar1.opacity, 0);
    assert.equal(empty.footer.value, "server offline");
  }
});

test("token problems, no agent chosen, an agent the server lacks, a refresh under way", () => {
  const noToken = { status: /** @type {const} */ ("unauthorized"), message: "", lastOkAt: null, tokenSent: false };
  assert.equal(
    dialFeedback({ agentKey: okKey, model: null, connection: noToken, view: 0, now }).footer.value,
    "server needs a token",
  );
  const refused = { ...noToken, tokenSent: true };
  assert.equal(
    dialFeedback({ agentKey: okKey, model: null, connection: refused, view: 0, now }).footer.value,
    "token refused",
  );
  assert.equal(feedback(usage, "", 0).footer.value, "pick an agent in its settings");
  assert.equal(feedback(usage, "nosuchagent", 0).footer.value, "not on this server");
  assert.equal(feedback(usage, okKey, 0, { refreshing: true }).footer.value, "refreshing…");
});

test("an unlimited window says so instead of a bar; an unknown percent is a dash, not 0 %", () => {
  // Wherever an unlimited window is on the dial (the first row, or the second beside a limited one).
  let checked = 0;
  for (const agent of readModel(usage, now).agents) {
    if (![agent.primary, agent.secondary].some((w) => w?.unlimited)) continue;
    const payload = feedback(usage, agent.key, 0);
    const rows = [
      { w: agent.primary, label: payload.label1.value, value: payload.value1.value, bar: payload.bar1 },
      { w: agent.secondary, label: payload.label2.value, value: payload.value2.value, bar: payload.bar2 },
    ];
    for (const { w, label, value, bar } of rows) {
      if (!w?.unlimited) {
        assert.doesNotMatch(label, /∞$/, agent.key);
        continue;
      }
      assert.match(label, /∞$/, agent.key);
      assert.equal(value, "unlimited", agent.key);
      assert.equal(bar.opacity, 0, agent.key);
      checked += 1;
    }
  }
  // An account whose only window is unlimited (the demo's warp:unlimited) shows it first.
  const only = usage.providers.filter(
    (/** @type {any} */ p) => p.windows.length > 0 && p.windows.every((/** @type {any} */ w) => w.unlimited),
  );
  assert.ok(only.length > 0, "the demo has an account whose only window is unlimited (warp:unlimited)");
  for (const p of only) assert.match(feedback(usage, keyOf(p), 0).label1.value, /∞$/, keyOf(p));
  assert.ok(checked >= 2, `only ${checked} unlimited rows checked`);

  const unknown = withAccount(usage, okAgent.provider, okAgent.account, (x) => {
    windowOf(x, "session").used_pct = null;
  });
  const missing = feedback(unknown, okKey, 0);
  assert.match(missing.label1.value, / –$/);
  assert.equal(missing.bar1.opacity, 0);
});

test("a passed reset reads 0 % and 'reset, confirming…' until the server confirms", () => {
  const pending = withAccount(usage, okAgent.provider, okAgent.account, (x) => {
    const session = windowOf(x, "session");
    session.resets_at = new Date(now - 60_000).toISOString();
    session.reset_pending = true;
    session.used_pct = 0;
  });
  assert.match(feedback(pending, okKey, 0).label1.value, / 0%$/);
  assert.equal(feedback(pending, okKey, 1).value1.value, "reset, confirming…");
  // Between polls the dial applies the same rule on its own when the reset time passes.
  const session = windowOf(okAgent, "session");
  const later = Date.parse(session.resets_at) + 1000;
  const payload = dialFeedback({
    agentKey: okKey,
    model: readModel(usage, now),
    connection: live,
    view: 1,
    now: later,
    thresholds,
  });
  assert.equal(payload.value1.value, "reset, confirming…");
});

test("from seed 000's /api/data: the same bars, the session labelled 'Ses', no forecast", async () => {
  const data = await serverJson("/api/data");
  const key = Object.keys(data).find((k) => data[k]?.status === "ok" && data[k].session && data[k].weekly);
  assert.ok(key);
  const { session, weekly } = data[key];
  const bars = feedback(data, key, 0);
  assert.equal(bars.label1.value, `Ses ${fmtPct(session.usage_pct)}`);
  assert.equal(bars.bar1.bar_fill_c, expectedColor(session.usage_pct));
  assert.equal(bars.label2.value, `7d ${fmtPct(weekly.usage_pct)}`);
  const forecast = feedback(data, key, 2);
  assert.equal(forecast.value2.value, "no forecast yet");
  assert.equal(forecast.bar2.opacity, 0);
});
