// Colour levels shared with the web dashboard: the same thresholds (the server's warn_pct /
// crit_pct from /api/config, default 40 and 70) and the same colours as its CSS.

/** @typedef {{warn: number, crit: number}} Thresholds */
/** @typedef {"ok" | "warn" | "crit"} Level */

/** @type {Readonly<Thresholds>} */
export const DEFAULT_THRESHOLDS = Object.freeze({ warn: 40, crit: 70 });

// The dashboard's --ok, --warn, --crit and --grey (src/agentgauge/web/static/app.css).
export const COLORS = Object.freeze({
  ok: "#2da44e",
  warn: "#d4a017",
  crit: "#e5484d",
  grey: "#8c959f",
  text: "#ffffff",
  muted: "#9aa4b0",
  track: "#2a3038",
  background: "#0f1216",
});

/**
 * The dashboard's rule: above crit is red, from warn up amber, below warn green.
 * @param {number} pct
 * @param {Thresholds} [thresholds]
 * @returns {Level}
 */
export function level(pct, thresholds = DEFAULT_THRESHOLDS) {
  if (pct > thresholds.crit) return "crit";
  return pct >= thresholds.warn ? "warn" : "ok";
}

/**
 * @param {number} pct
 * @param {Thresholds} [thresholds]
 * @returns {string}
 */
export function levelColor(pct, thresholds = DEFAULT_THRESHOLDS) {
  return COLORS[level(pct, thresholds)];
}

/**
 * Thresholds from a /api/config answer, or the defaults when it has none that make sense.
 * @param {unknown} config
 * @returns {Thresholds}
 */
export function thresholdsFrom(config) {
  const t = isObject(config) && isObject(config.thresholds) ? config.thresholds : null;
  if (t && isNumber(t.warn) && isNumber(t.crit) && t.warn <= t.crit) return { warn: t.warn, crit: t.crit };
  return { ...DEFAULT_THRESHOLDS };
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {value is number}
 */
export function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}
