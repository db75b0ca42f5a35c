// Answers from the real test server, and variants of them for states the demo never produces
// (stale, errors, passed resets): each variant starts from a real answer and changes one thing.

import { serverJson } from "./server.js";

/**
 * /api/usage and /api/data read at one moment: both answered between two identical snapshots
 * (the scheduler may refresh in between; then it tries again).
 * @returns {Promise<{usage: any, data: any}>}
 */
export async function consistentAnswers() {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const before = await serverJson("/api/usage");
    const data = await serverJson("/api/data");
    const after = await serverJson("/api/usage");
    if (JSON.stringify(before.providers) === JSON.stringify(after.providers)) return { usage: after, data };
  }
  throw new Error("the server's answers kept changing between two reads");
}

/**
 * A deep copy of a snapshot with one account changed.
 * @param {any} usage
 * @param {string} provider
 * @param {string} account
 * @param {(p: any) => void} change
 */
export function withAccount(usage, provider, account, change) {
  const copy = structuredClone(usage);
  const p = copy.providers.find((/** @type {any} */ x) => x.provider === provider && x.account === account);
  if (!p) throw new Error(`${provider}/${account} is not in the snapshot`);
  change(p);
  return copy;
}

/**
 * @param {any} p a snapshot account
 * @param {string} id
 */
export function windowOf(p, id) {
  return p.windows.find((/** @type {any} */ w) => w.id === id) ?? null;
}

/** @param {any} p */
export function keyOf(p) {
  return p.account === "default" ? p.provider : `${p.provider}:${p.account}`;
}
