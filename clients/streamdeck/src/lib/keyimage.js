// The keypad button: the tightest window's percent as a coloured ring, drawn as a 144x144 SVG (the
// key's @2x size). One agent, or every agent at once ("" = whichever is closest to a limit).

import { countdown, fit, fmtPct } from "./format.js";
import { agentColor, escapeXml } from "./icons.js";
import { COLORS, DEFAULT_THRESHOLDS, levelColor } from "./levels.js";
import { shownPct, tightestWindow } from "./model.js";
import { connectionWords } from "./views.js";

/** @typedef {import("./model.js").Agent} Agent */
/** @typedef {import("./model.js").Window} Window */
/** @typedef {import("./views.js").DialInput} DialInput */

export const KEY_SIZE = 144;
const RING = { cx: 72, cy: 79, r: 37, width: 10 };

/**
 * @typedef {object} KeyFace what the key shows, before drawing
 * @property {string} title the agent's name (or "agentgauge")
 * @property {string} titleColor
 * @property {number | null} ringPct the arc's share, null for an empty ring
 * @property {string} ringColor
 * @property {string} center the big text in the ring
 * @property {string} caption the small line under it
 * @property {string} captionColor
 */

/**
 * The agent and window the key is about: the chosen agent's tightest window, or with no agent chosen
 * the tightest window among the agents that have numbers.
 * @param {DialInput} input
 * @returns {{agent: Agent | null, window: Window | null}}
 */
export function keyTarget(input) {
  const agents = input.model?.agents ?? [];
  if (input.agentKey) {
    const agent = agents.find((a) => a.key === input.agentKey) ?? null;
    return { agent, window: agent ? tightestWindow(agent, input.now) : null };
  }
  /** @type {{agent: Agent | null, window: Window | null}} */
  let best = { agent: null, window: null };
  let bestPct = -1;
  for (const agent of agents) {
    if (agent.status !== "ok" && agent.status !== "stale") continue;
    const w = tightestWindow(agent, input.now);
    const pct = w ? shownPct(w, input.now) : null;
    if (w && pct !== null && pct > bestPct) {
      best = { agent, window: w };
      bestPct = pct;
    }
  }
  return best;
}

/**
 * @param {DialInput} input
 * @returns {KeyFace}
 */
export function keyFace(input) {
  const thresholds = input.thresholds ?? DEFAULT_THRESHOLDS;
  const { agent, window } = keyTarget(input);
  const title = fit(agent?.name ?? (input.agentKey || "agentgauge"), 11);
  const titleColor = agent ? agentColor(agent.provider) : COLORS.text;
  const pct = window ? shownPct(window, input.now) : null;
  const live = input.connection.status === "ok";
  /** @type {KeyFace} */
  const face = {
    title,
    titleColor,
    ringPct: null,
    ringColor: COLORS.grey,
    center: "–",
    caption: "",
    captionColor: COLORS.muted,
  };
  if (window && pct !== null) {
    face.ringPct = Math.max(0, Math.min(100, pct));
    face.ringColor = live ? levelColor(pct, thresholds) : COLORS.grey;
    face.center = fmtPct(pct);
    const left =
      window.resetAt !== null && window.resetAt > input.now
        ? ` ↻${countdown((window.resetAt - input.now) / 1000)}`
        : "";
    face.caption = `${window.short}${left}`;
  }
  if (input.refreshing) {
    face.caption = "refreshing…";
  } else if (!live) {
    face.caption = connectionWords(input.connection);
    face.captionColor =
      input.connection.status === "offline" || input.connection.status === "connecting" ? COLORS.muted : COLORS.crit;
  } else if (input.agentKey && !agent) {
    face.caption = "not on server";
  } else if (agent?.status === "stale") {
    face.caption = "stale";
    face.captionColor = COLORS.warn;
  } else if (agent?.status === "error" && pct === null) {
    face.center = "!";
    face.caption = "error";
    face.captionColor = COLORS.crit;
  } else if (agent && pct === null) {
    face.caption = agent.status === "ok" ? "no limits" : agent.status === "unconfigured" ? "not set up" : agent.status;
  } else if (!agent) {
    face.caption = "no data";
  }
  return face;
}

/**
 * @param {KeyFace} face
 * @returns {string} an SVG document
 */
export function keySvg(face) {
  const { cx, cy, r, width } = RING;
  const circumference = 2 * Math.PI * r;
  const arc =
    face.ringPct === null || face.ringPct <= 0
      ? ""
      : `<circle cx="${cx}" cy="${cy}" r="${r}" fill="none" stroke="${face.ringColor}" stroke-width="${width}" ` +
        `stroke-linecap="${face.ringPct >= 100 ? "butt" : "round"}" stroke-dasharray="${((circumference * face.ringPct) / 100).toFixed(2)} ${circumference.toFixed(2)}" ` +
        `transform="rotate(-90 ${cx} ${cy})"/>`;
  const font = `font-family="Arial, Helvetica, sans-serif" text-anchor="middle"`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${KEY_SIZE}" height="${KEY_SIZE}" viewBox="0 0 ${KEY_SIZE} ${KEY_SIZE}">` +
    `<rect width="${KEY_SIZE}" height="${KEY_SIZE}" fill="${COLORS.background}"/>` +
    `<text x="72" y="24" ${font} font-size="18" font-weight="700" fill="${face.titleColor}">${escapeXml(face.title)}</text>` +
    `<circle cx="${cx}" cy="${cy}" r="${r}" fill="none" stroke="${COLORS.track}" stroke-width="${width}"/>` +
    arc +
    `<text x="${cx}" y="${cy + 9}" ${font} font-size="25" font-weight="700" fill="${COLORS.text}">${escapeXml(face.center)}</text>` +
    `<text x="72" y="138" ${font} font-size="14" fill="${face.captionColor}">${escapeXml(fit(face.caption, 16))}</text>` +
    `</svg>`
  );
}
