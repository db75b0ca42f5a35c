// The key's ring: which window it shows, its colour and its words, for the real server's answer.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fmtPct } from "../src/lib/format.js";
import { keyFace, keySvg, keyTarget } from "../src/lib/keyimage.js";
import { readModel } from "../src/lib/model.js";
import { serverJson } from "./support/server.js";
import { keyOf, withAccount } from "./support/snapshots.js";

const usage = await serverJson("/api/usage");
const { thresholds } = await serverJson("/api/config");
const now = Date.now();
const live = { status: /** @type {const} */ ("ok"), message: null, lastOkAt: now, tokenSent: true };
/** @param {number} pct */
const expectedColor = (pct) => (pct > thresholds.crit ? "#e5484d" : pct >= thresholds.warn ? "#d4a017" : "#2da44e");

/** The highest percent of an account's windows that can run out (a passed reset counts 0). @param {any} p */
function tightest(p) {
  const pcts = p.windows
    .filter((/** @type {any} */ w) => !w.unlimited && typeof w.used_pct === "number")
    .map((/** @type {any} */ w) =>
      w.reset_pending || (w.resets_at && Date.parse(w.resets_at) <= now) ? 0 : w.used_pct,
    );
  return pcts.length ? Math.max(...pcts) : null;
}

test("with no agent chosen the key shows the account closest to a limit", () => {
  const candidates = usage.providers.filter(
    (/** @type {any} */ p) => (p.status === "ok" || p.status === "stale") && tightest(p) !== null,
  );
  const best = Math.max(...candidates.map(tightest));
  const target = keyTarget({ agentKey: "", model: readModel(usage, now), connection: live, view: 0, now });
  assert.ok(target.agent && target.window);
  assert.equal(tightest(usage.providers.find((/** @type {any} */ p) => keyOf(p) === target.agent?.key)), best);
  const face = keyFace({ agentKey: "", model: readModel(usage, now), connection: live, view: 0, now, thresholds });
  assert.equal(face.center, fmtPct(best));
  assert.equal(face.ringColor, expectedColor(best));
  assert.equal(face.ringPct, Math.min(100, best));
});

test("one agent: its tightest window, ring share and colour, drawn in the SVG", () => {
  for (const p of usage.providers.filter((/** @type {any} */ x) => x.status === "ok").slice(0, 8)) {
    const pct = tightest(p);
    const face = keyFace({
      agentKey: keyOf(p),
      model: readModel(usage, now),
      connection: live,
      view: 0,
      now,
      thresholds,
    });
    const svg = keySvg(face);
    if (pct === null) {
      assert.equal(face.center, "–");
      assert.equal(face.ringPct, null);
      continue;
    }
    assert.equal(face.center, fmtPct(pct));
    assert.ok(svg.includes(`stroke="${expectedColor(pct)}"`) || pct <= 0, keyOf(p));
    const dash = /stroke-dasharray="([\d.]+) ([\d.]+)"/.exec(svg);
    if (pct > 0) {
      assert.ok(dash);
      assert.ok(Math.abs(Number(dash[1]) / Number(dash[2]) - Math.min(100, pct) / 100) < 0.001);
    }
  }
});

test("stale, offline and refused: said under the ring, never a made-up 0 %", () => {
  const p = usage.providers.find((/** @type {any} */ x) => x.status === "ok" && tightest(x) !== null);
  const stale = withAccount(usage, p.provider, p.account, (x) => {
    x.status = "stale";
  });
  const staleFace = keyFace({
    agentKey: keyOf(p),
    model: readModel(stale, now),
    connection: live,
    view: 0,
    now,
    thresholds,
  });
  assert.equal(staleFace.caption, "stale");
  assert.equal(staleFace.center, fmtPct(tightest(p)));

  const offline = { status: /** @type {const} */ ("offline"), message: null, lastOkAt: null, tokenSent: false };
  const empty = keyFace({ agentKey: keyOf(p), model: null, connection: offline, view: 0, now, thresholds });
  assert.equal(empty.center, "–");
  assert.equal(empty.ringPct, null);
  assert.equal(empty.caption, "server offline");
  const kept = keyFace({
    agentKey: keyOf(p),
    model: readModel(usage, now - 60_000),
    connection: offline,
    view: 0,
    now,
    thresholds,
  });
  assert.equal(kept.center, fmtPct(tightest(p)));
  assert.equal(kept.ringColor, "#8c959f", "the last answer is greyed while the server is away");

  const refused = { status: /** @type {const} */ ("unauthorized"), message: null, lastOkAt: null, tokenSent: true };
  assert.equal(keyFace({ agentKey: "", model: null, connection: refused, view: 0, now }).caption, "token refused");
});
