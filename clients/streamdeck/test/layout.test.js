// The shipped plugin folder: the layout fits the 200x100 canvas with no overlaps within a zOrder,
// its keys are the ones the views fill, the manifest is what the brief and the SDK need, versions
// are pinned; and Elgato's validator does reject a broken layout.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { CANVAS } from "../src/lib/render-svg.js";
import { LAYOUT_KEYS } from "../src/lib/views.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SD_PLUGIN = join(ROOT, "dev.agentgauge.streamdeck.sdPlugin");
/** @param {string} path */
const json = (path) => JSON.parse(readFileSync(path, "utf8"));
const manifest = json(join(SD_PLUGIN, "manifest.json"));
const layout = json(join(SD_PLUGIN, "layouts/agent.json"));

test("the layout's items are the keys the views fill, each inside the canvas", () => {
  assert.deepEqual(layout.items.map((/** @type {any} */ i) => i.key).sort(), [...LAYOUT_KEYS].sort());
  for (const { key, rect } of layout.items) {
    const [x, y, w, h] = rect;
    assert.ok(x >= 0 && y >= 0 && x + w <= CANVAS.width && y + h <= CANVAS.height, `${key} ${rect}`);
  }
});

test("no two items overlap within a zOrder (values lie over their bars one zOrder up)", () => {
  const items = layout.items;
  for (let i = 0; i < items.length; i += 1) {
    for (let j = i + 1; j < items.length; j += 1) {
      const [a, b] = [items[i], items[j]];
      if ((a.zOrder ?? 0) !== (b.zOrder ?? 0)) continue;
      const apart =
        b.rect[0] >= a.rect[0] + a.rect[2] ||
        a.rect[0] >= b.rect[0] + b.rect[2] ||
        b.rect[1] >= a.rect[1] + a.rect[3] ||
        a.rect[1] >= b.rect[1] + b.rect[3];
      assert.ok(apart, `${a.key} overlaps ${b.key}`);
    }
  }
});

test("the manifest: SDKVersion 2, Node 20, a dial action on this layout and a key action", () => {
  assert.equal(manifest.SDKVersion, 2);
  assert.equal(manifest.Nodejs.Version, "20");
  assert.equal(manifest.CodePath, "bin/plugin.js");
  const dial = manifest.Actions.find((/** @type {any} */ a) => a.UUID === `${manifest.UUID}.dial`);
  const key = manifest.Actions.find((/** @type {any} */ a) => a.UUID === `${manifest.UUID}.key`);
  assert.deepEqual(dial.Controllers, ["Encoder"]);
  assert.equal(dial.Encoder.layout, "layouts/agent.json");
  assert.deepEqual(Object.keys(dial.Encoder.TriggerDescription).sort(), ["Push", "Rotate", "Touch"]);
  assert.deepEqual(key.Controllers, ["Keypad"]);
  const plugin = readFileSync(join(ROOT, "src/plugin.js"), "utf8");
  assert.match(plugin, new RegExp(`PLUGIN_UUID = "${manifest.UUID.replaceAll(".", "\\.")}"`));
  assert.match(
    readFileSync(join(ROOT, "src/pi/settings-page.js"), "utf8"),
    new RegExp(`"${key.UUID.replaceAll(".", "\\.")}"`),
  );
});

test("every dependency is pinned to an exact version", () => {
  const pkg = json(join(ROOT, "package.json"));
  for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
    assert.match(String(version), /^\d+\.\d+\.\d+$/, `${name}@${version}`);
  }
  const lock = json(join(ROOT, "package-lock.json"));
  assert.equal(lock.packages[""].dependencies["@elgato/streamdeck"], pkg.dependencies["@elgato/streamdeck"]);
});

test("streamdeck validate rejects a rect outside the canvas and two items overlapping", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agentgauge-sdv-"));
  const copy = join(dir, "dev.agentgauge.streamdeck.sdPlugin");
  try {
    cpSync(SD_PLUGIN, copy, { recursive: true });
    const broken = structuredClone(layout);
    broken.items.find((/** @type {any} */ i) => i.key === "footer").rect = [4, 90, 192, 20];
    broken.items.find((/** @type {any} */ i) => i.key === "value1").zOrder = 0;
    writeFileSync(join(copy, "layouts/agent.json"), JSON.stringify(broken));
    const cli = join(ROOT, "node_modules/@elgato/cli/bin/streamdeck.mjs");
    const run = promisify(execFile)(process.execPath, [cli, "validate", copy, "--no-update-check"], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    await assert.rejects(run, (/** @type {any} */ error) => {
      assert.match(error.stdout + error.stderr, /must not be outside of the canvas/);
      assert.match(error.stdout + error.stderr, /must not overlap/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
