// Renders what the plugin would show for a server, as one HTML page: four dials side by side (the
// Stream Deck+ touch strip) in each of the three views, the same dials with the server gone, and
// keys. For screenshots (tests/test_streamdeck.py) and docs; no Stream Deck needed.
//
//   node scripts/render-strip.js --server http://127.0.0.1:8777 [--token T] \
//        --dials claude,codex,kimi,zai --keys ",claude,codex:work" > strip.html

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { GaugeClient } from "../src/lib/client.js";
import { svgDataUrl } from "../src/lib/icons.js";
import { keyFace, keySvg } from "../src/lib/keyimage.js";
import { renderLayoutSvg } from "../src/lib/render-svg.js";
import { dialFeedback, VIEWS } from "../src/lib/views.js";

const LAYOUT = new URL("../dev.agentgauge.streamdeck.sdPlugin/layouts/agent.json", import.meta.url);

const { values } = parseArgs({
  options: {
    server: { type: "string" },
    token: { type: "string", default: process.env.AGENTGAUGE_TOKEN ?? "" },
    dials: { type: "string", default: "claude,codex,kimi,zai" },
    keys: { type: "string" },
  },
});
if (!values.server) throw new Error("--server URL is required");

const client = new GaugeClient({ serverUrl: values.server, token: values.token });
const model = await client.snapshot();
const thresholds = await client.thresholds();
const now = Date.now();
const layout = JSON.parse(readFileSync(LAYOUT, "utf8"));
const dials = values.dials.split(",");
/** @type {import("../src/lib/views.js").Connection} */
const live = { status: "ok", message: null, lastOkAt: now, tokenSent: Boolean(values.token) };
/** @type {import("../src/lib/views.js").Connection} */
const gone = { status: "offline", message: "server offline", lastOkAt: now - 300_000, tokenSent: false };
const staleModel = { ...model, receivedAt: now - 300_000 };

/**
 * @param {string} title
 * @param {string} id
 * @param {(agentKey: string) => Record<string, any>} feedbackFor
 */
function strip(title, id, feedbackFor) {
  const slots = dials.map((key, i) => {
    const svg = renderLayoutSvg(layout, feedbackFor(key), `${id}-${i}`);
    return `<div class="slot" data-agent="${key}">${svg}</div>`;
  });
  return `<section id="${id}"><h2>${title}</h2><div class="strip">${slots.join("")}</div></section>`;
}

const sections = VIEWS.map((view, index) =>
  strip(`View ${index + 1}: ${view}`, `view-${view}`, (agentKey) =>
    dialFeedback({ agentKey, model, connection: live, view: index, now, thresholds }),
  ),
);
sections.push(
  strip("Server offline (last answer 5 min old)", "offline", (agentKey) =>
    dialFeedback({ agentKey, model: staleModel, connection: gone, view: 0, now, thresholds }),
  ),
  strip("Server offline, nothing fetched yet", "offline-empty", (agentKey) =>
    dialFeedback({ agentKey, model: null, connection: { ...gone, lastOkAt: null }, view: 0, now, thresholds }),
  ),
);
const keys = values.keys === undefined ? [] : values.keys.split(",");
const keyImages = keys.map((agentKey, i) => {
  const face = keyFace({ agentKey, model, connection: live, view: 0, now, thresholds });
  return `<img class="key" id="key-${i}" data-agent="${agentKey}" alt="${face.title} ${face.center}" src="${svgDataUrl(keySvg(face))}">`;
});

process.stdout.write(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>agentgauge on a Stream Deck+</title>
<style>
  body { margin: 0; padding: 16px; background: #1b1f24; color: #d8dde3; font: 13px Arial, sans-serif; }
  h2 { font-size: 13px; font-weight: 600; margin: 12px 0 6px; }
  .strip { display: flex; gap: 0; width: 800px; background: #000; border-radius: 8px; overflow: hidden; }
  .slot { width: 200px; height: 100px; }
  .slot svg { display: block; }
  #keys { display: flex; gap: 12px; }
  .key { width: 144px; height: 144px; border-radius: 14px; }
</style></head><body>
${sections.join("\n")}
<section><h2>Keys</h2><div id="keys">${keyImages.join("")}</div></section>
</body></html>
`);
