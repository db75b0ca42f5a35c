// Small SVG images the dials and keys show, as data URLs (the layout's pixmaps take them).

import { COLORS } from "./levels.js";

// A colour per agent the seed shows, close to each product's own; others get one from their id.
/** @type {Record<string, string>} */
const AGENT_COLORS = {
  claude: "#d97757",
  codex: "#10a37f",
  kimi: "#1783ff",
  zai: "#4f6cf7",
  ollama: "#6b7280",
  openrouter: "#6467f2",
  amp: "#f34e3f",
};
const PALETTE = ["#8250df", "#1f883d", "#bc4c00", "#0969da", "#bf3989", "#1b7c83", "#9a6700", "#cf222e"];

/**
 * @param {string} svg
 * @returns {string}
 */
export function svgDataUrl(svg) {
  return `data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}`;
}

/**
 * @param {string} text
 * @returns {string}
 */
export function escapeXml(text) {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * @param {string} provider
 * @returns {string}
 */
export function agentColor(provider) {
  if (Object.hasOwn(AGENT_COLORS, provider)) return AGENT_COLORS[provider];
  let hash = 0;
  for (const c of provider) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

/**
 * The agent's badge: its initial on its colour, 20x20 like the layout's icon slot.
 * @param {string} provider
 * @param {string} name
 * @returns {string} an SVG document
 */
export function agentIconSvg(provider, name) {
  const letter = escapeXml((name || provider || "?").trim().charAt(0).toUpperCase() || "?");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 20">` +
    `<rect width="20" height="20" rx="5" fill="${agentColor(provider)}"/>` +
    `<text x="10" y="14.5" text-anchor="middle" font-family="Arial, Helvetica, sans-serif" font-size="13" ` +
    `font-weight="700" fill="#ffffff">${letter}</text></svg>`
  );
}

/** The badge when no agent is chosen: the gauge's own mark. */
export function gaugeIconSvg() {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 20">` +
    `<path d="M3 14 A7 7 0 1 1 17 14" fill="none" stroke="${COLORS.grey}" stroke-width="3" stroke-linecap="round"/>` +
    `<path d="M10 13 L14 7" stroke="#ffffff" stroke-width="2" stroke-linecap="round"/></svg>`
  );
}

/**
 * The status dot: filled in the status colour, or a hollow ring when there is nothing live to show
 * (server offline).
 * @param {string} color
 * @param {boolean} [hollow]
 * @returns {string} an SVG document
 */
export function dotSvg(color, hollow = false) {
  const circle = hollow
    ? `<circle cx="8" cy="8" r="5.5" fill="none" stroke="${color}" stroke-width="2.5"/>`
    : `<circle cx="8" cy="8" r="6.5" fill="${color}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">${circle}</svg>`;
}
