// `npm test`: starts one real `agentgauge serve --demo --port 0` (the repo's .venv) with an access
// token, runs every test/*.test.js against it with Node's test runner, then stops it with SIGTERM.
// AGENTGAUGE_TEST_URL (and AGENTGAUGE_TEST_TOKEN) point the tests at a server already running.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { startServer } from "./support/server.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const files = readdirSync(here)
  .filter((name) => name.endsWith(".test.js"))
  .sort()
  .map((name) => `${here}${name}`);

/** @type {{url: string, stop: () => Promise<void>} | null} */
let server = null;
let env = { ...process.env };
if (!process.env.AGENTGAUGE_TEST_URL) {
  const token = randomBytes(18).toString("base64url");
  process.stderr.write("test/run.js: starting agentgauge serve --demo (it prepares 30 days of history first)…\n");
  server = await startServer({ token });
  // Ctrl-C or a CI timeout must not leave the server behind.
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
    process.on(signal, () => {
      void server?.stop().finally(() => process.exit(130));
    });
  }
  env = { ...env, AGENTGAUGE_TEST_URL: server.url, AGENTGAUGE_TEST_TOKEN: token };
  process.stderr.write(`test/run.js: server at ${server.url}\n`);
}

// Local times in the tests' expectations are UTC; the dial shows the viewer's own.
const child = spawn(process.execPath, ["--test", ...process.argv.slice(2), ...files], {
  stdio: "inherit",
  env: { ...env, TZ: "UTC" },
});
const code = await new Promise((resolve) => child.on("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0))));
if (server) await server.stop();
process.exit(code);
