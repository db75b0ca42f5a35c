// The words and numbers a dial prints. Plain functions: no server needed.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ago, clock, countdown, fit, fmtPct, lengthLabel, shortLabel } from "../src/lib/format.js";

test("percent: whole numbers from 10 up, one decimal below, a dash for no number (never 0 %)", () => {
  assert.equal(fmtPct(42.4), "42%");
  assert.equal(fmtPct(42.5), "43%"); // ties round up, as on the dashboard
  assert.equal(fmtPct(7.25), "7.3%");
  assert.equal(fmtPct(7), "7%");
  assert.equal(fmtPct(0.01), "<0.1%");
  assert.equal(fmtPct(0), "0%");
  assert.equal(fmtPct(131.4), "131%");
  assert.equal(fmtPct(null), "–");
  assert.equal(fmtPct(Number.NaN), "–");
});

test("countdown: days and hours, hours and minutes, minutes, under a minute, passed", () => {
  const m = 60;
  const h = 3600;
  const d = 86400;
  assert.equal(countdown(4 * d + 2 * h + 59 * m), "4d 2h");
  assert.equal(countdown(3 * d), "3d");
  assert.equal(countdown(2 * h + 7 * m + 59), "2h 07m");
  assert.equal(countdown(12 * m + 30), "12m");
  assert.equal(countdown(59), "<1m");
  assert.equal(countdown(0), "now");
  assert.equal(countdown(-5), "now");
});

test("age: just now under 45 s, then minutes, then hours", () => {
  assert.equal(ago(44), "just now");
  assert.equal(ago(45), "1m ago");
  assert.equal(ago(59 * 60), "59m ago");
  assert.equal(ago(2 * 3600 + 7 * 60), "2h 07m ago");
});

test("clock: time today, weekday within a week, date beyond (TZ=UTC in the test run)", () => {
  const now = Date.parse("2026-11-26T15:00:00Z"); // a Thursday
  assert.equal(clock(Date.parse("2026-11-26T18:01:00Z"), now), "18:01");
  assert.equal(clock(Date.parse("2026-11-29T09:28:00Z"), now), "Sun 09:28");
  assert.equal(clock(Date.parse("2026-12-23T00:00:00Z"), now), "Dec 23 00:00");
});

test("window labels: by length when known, by the shared id, else three letters of the label", () => {
  assert.equal(lengthLabel(18000), "5h");
  assert.equal(lengthLabel(86400), "24h");
  assert.equal(lengthLabel(7 * 86400), "7d");
  assert.equal(lengthLabel(30 * 86400), "Mo");
  assert.equal(lengthLabel(null), null);
  assert.equal(shortLabel({ id: "weekly", label: "Weekly", lengthSeconds: null }), "7d");
  assert.equal(shortLabel({ id: "session", label: "Session", lengthSeconds: null }), "5h");
  assert.equal(shortLabel({ id: "credits", label: "Credits (billing cycle)", lengthSeconds: null }), "Cre");
  assert.equal(shortLabel({ id: "session", label: "Session (5h)", lengthSeconds: 18000 }), "5h");
});

test("fit cuts with an ellipsis only when needed", () => {
  assert.equal(fit("Claude", 18), "Claude");
  assert.equal(fit("a very long agent name here", 10), "a very lo…");
});
