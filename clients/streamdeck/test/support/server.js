// The real agentgauge server the tests talk to, and small real HTTP servers around it (a recording
// proxy, seed 000's shape only, a port with nothing behind it). No mocks: every request is HTTP on
// 127.0.0.1.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const AGENTGAUGE = process.env.AGENTGAUGE_BIN ?? `${REPO}.venv/bin/agentgauge`;
const START_TIMEOUT_MS = 600_000; // the demo's history backfill takes minutes on a busy 2-core machine

/**
 * Start `agentgauge serve --demo --port 0` and wait for the URL it prints.
 * @param {{token: string}} options
 * @returns {Promise<{url: string, stop: () => Promise<void>}>}
 */
export async function startServer({ token }) {
  if (!existsSync(AGENTGAUGE)) {
    throw new Error(
      `${AGENTGAUGE} not found: create the repo's .venv first (scripts/test does), or set AGENTGAUGE_BIN`,
    );
  }
  const child = spawn(AGENTGAUGE, ["serve", "--demo", "--port", "0"], {
    // Three days of history are enough for every view (forecasts included) and start far sooner than 30.
    env: { AGENTGAUGE_DEMO_HISTORY_DAYS: "3", ...process.env, AGENTGAUGE_SERVE_TOKEN: token },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`agentgauge serve printed no URL in time:\n${output}`)),
      START_TIMEOUT_MS,
    );
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      output += chunk;
      const match = /agentgauge dashboard: http:\/\/[^:\s]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`agentgauge serve exited (${code}) before serving:\n${output}`));
    });
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * The server started by test/run.js (or named by AGENTGAUGE_TEST_URL).
 * @returns {{url: string, token: string}}
 */
export function testServer() {
  const url = process.env.AGENTGAUGE_TEST_URL;
  if (!url) throw new Error("no test server: run the tests with `npm test` (test/run.js starts one)");
  return { url: url.replace(/\/+$/, ""), token: process.env.AGENTGAUGE_TEST_TOKEN ?? "" };
}

/**
 * GET a path of the test server as JSON, with its token.
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<any>}
 */
export async function serverJson(path, init = {}) {
  const { url, token } = testServer();
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/**
 * @typedef {object} Recorded
 * @property {string} method
 * @property {string} path with its query
 * @property {string | undefined} authorization
 */

/**
 * A real HTTP server on 127.0.0.1 in front of `target`: it records each request, and `route` may
 * answer one itself (return true) instead of forwarding it.
 * @param {string} target
 * @param {(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => boolean} [route]
 * @returns {Promise<{url: string, requests: Recorded[], close: () => Promise<void>}>}
 */
export async function proxyServer(target, route = () => false) {
  /** @type {Recorded[]} */
  const requests = [];
  const server = createServer(async (req, res) => {
    requests.push({ method: req.method ?? "GET", path: req.url ?? "/", authorization: req.headers.authorization });
    if (route(req, res)) return;
    try {
      /** @type {Record<string, string>} */
      const headers = {};
      if (req.headers.authorization) headers.Authorization = req.headers.authorization;
      if (req.headers.accept) headers.Accept = req.headers.accept;
      const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers });
      const body = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, { "Content-Type": upstream.headers.get("content-type") ?? "application/json" });
      res.end(body);
    } catch {
      res.writeHead(502).end();
    }
  });
  const url = await listen(server);
  return { url, requests, close: () => close(server) };
}

/**
 * Seed 000's own backend, as far as the plugin can tell: /api/data and GET /api/refresh (served by
 * the real agentgauge behind it), and nothing at /api/usage or /api/config.
 * @param {string} target
 */
export function seedBackend(target) {
  return proxyServer(target, (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/api/data" || (path === "/api/refresh" && req.method === "GET")) return false;
    res.writeHead(404, { "Content-Type": "text/html" }).end("<h1>Not Found</h1>");
    return true;
  });
}

/**
 * A server that accepts connections and never answers (a hung server).
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export async function silentServer() {
  const server = createServer(() => {});
  const url = await listen(server);
  return { url, close: () => close(server, true) };
}

/**
 * A URL on 127.0.0.1 where nothing listens (a port that was just freed).
 * @returns {Promise<string>}
 */
export async function deadUrl() {
  const server = createServer();
  const url = await listen(server);
  await close(server);
  return url;
}

/**
 * @param {import("node:http").Server} server
 * @returns {Promise<string>}
 */
function listen(server) {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
    });
  });
}

/**
 * @param {import("node:http").Server} server
 * @param {boolean} [force] drop open connections too
 * @returns {Promise<void>}
 */
function close(server, force = false) {
  return new Promise((resolve) => {
    if (force) server.closeAllConnections();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
