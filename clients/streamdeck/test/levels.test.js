// Colours and thresholds match the web dashboard: the same CSS colours, the server's thresholds.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { GaugeClient } from "../src/lib/client.js";
import { COLORS, DEFAULT_THRESHOLDS, level, levelColor, thresholdsFrom } from "../src/lib/levels.js";
import { serverJson, testServer } from "./support/server.js";

const CSS = new URL("../../../src/agentgauge/web/static/app.css", import.meta.url);

test("the level colours are the dashboard's --ok, --warn, --crit and --grey", () => {
  const css = readFileSync(CSS, "utf8");
  const light = css.slice(0, css.indexOf("@media")); // the first :root block
  /** @param {string} name */
  const variable = (name) => new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(light)?.[1]?.toLowerCase();
  assert.equal(COLORS.ok, variable("ok"));
  assert.equal(COLORS.warn, variable("warn"));
  assert.equal(COLORS.crit, variable("crit"));
  assert.equal(COLORS.grey, variable("grey"));
});

test("green below warn, amber from warn to crit, red above crit (the seed's 40/70)", () => {
  assert.deepEqual(DEFAULT_THRESHOLDS, { warn: 40, crit: 70 });
  assert.equal(level(39.9), "ok");
  assert.equal(level(40), "warn");
  assert.equal(level(70), "warn");
  assert.equal(level(70.1), "crit");
  assert.equal(levelColor(12, { warn: 10, crit: 20 }), COLORS.warn);
});

test("the thresholds come from the server's /api/config", async () => {
  const config = await serverJson("/api/config");
  const { url, token } = testServer();
  const thresholds = await new GaugeClient({ serverUrl: url, token }).thresholds();
  assert.deepEqual(thresholds, { warn: config.thresholds.warn, crit: config.thresholds.crit });
});

test("an /api/config without usable thresholds gives the defaults", () => {
  assert.deepEqual(thresholdsFrom({ thresholds: { warn: 80, crit: 20 } }), DEFAULT_THRESHOLDS);
  assert.deepEqual(thresholdsFrom({ version: "1" }), DEFAULT_THRESHOLDS);
  assert.deepEqual(thresholdsFrom(null), DEFAULT_THRESHOLDS);
});
