// The screenshot renderer draws the shipped layout with a dial's payload.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { readModel } from "../src/lib/model.js";
import { mergedItems, renderLayoutSvg } from "../src/lib/render-svg.js";
import { dialFeedback } from "../src/lib/views.js";
import { serverJson } from "./support/server.js";

const layout = JSON.parse(
  readFileSync(new URL("../dev.agentgauge.streamdeck.sdPlugin/layouts/agent.json", import.meta.url), "utf8"),
);
const usage = await serverJson("/api/usage");
const now = Date.now();
const live = { status: /** @type {const} */ ("ok"), message: null, lastOkAt: now, tokenSent: true };

test("each item is drawn with the payload's values, bars as long as their value", () => {
  const agent = usage.providers.find((/** @type {any} */ p) => p.status === "ok" && p.windows.length >= 2);
  const key = agent.account === "default" ? agent.provider : `${agent.provider}:${agent.account}`;
  const feedback = dialFeedback({ agentKey: key, model: readModel(usage, now), connection: live, view: 0, now });
  const svg = renderLayoutSvg(layout, feedback);
  for (const item of layout.items) assert.ok(svg.includes(`data-key="${item.key}"`), item.key);
  assert.ok(svg.includes(`>${feedback.label1.value}<`));
  const bar = layout.items.find((/** @type {any} */ i) => i.key === "bar1");
  const fill = new RegExp(
    `data-key="bar1"[^]*?data-part="fill" x="${bar.rect[0]}" y="${bar.rect[1]}" width="([\\d.]+)"[^>]*fill="${feedback.bar1.bar_fill_c}"`,
  ).exec(svg);
  assert.ok(fill);
  assert.ok(Math.abs(Number(fill[1]) - (bar.rect[2] * feedback.bar1.value) / 100) < 0.01);
});

test("items are drawn by zOrder: a value over its bar comes after it; hidden items stay transparent", () => {
  const order = mergedItems(layout, {}).map((i) => i.key);
  assert.ok(order.indexOf("value1") > order.indexOf("bar1"));
  const svg = renderLayoutSvg(layout, { bar1: { value: 0, opacity: 0 }, footer: "plain <text> & more" });
  assert.match(svg, /data-key="bar1" opacity="0"/);
  assert.ok(svg.includes(">plain &#60;text&#62; &#38; more<"));
});
