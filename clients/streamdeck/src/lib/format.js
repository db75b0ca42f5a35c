// Words and numbers on a 200x100 dial: the dashboard's rules (src/agentgauge/web/static/format.js)
// where they fit, shorter where a dial has no room (no seconds in countdowns). Locale-free.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** @param {number} n */
const pad2 = (n) => String(n).padStart(2, "0");

/**
 * Ties round up, as on the dashboard.
 * @param {number} x
 * @param {number} decimals
 */
export function roundTo(x, decimals) {
  const f = 10 ** decimals;
  return Math.floor(x * f + 0.5) / f;
}

/**
 * "42%", "7.5%", "<0.1%", "–" for no number (never "0%" for a missing value).
 * @param {number | null | undefined} x
 */
export function fmtPct(x) {
  if (typeof x !== "number" || !Number.isFinite(x)) return "–";
  if (x > 0 && x < 0.05) return "<0.1%";
  if (Math.abs(x) < 9.95) {
    const r = roundTo(x, 1);
    return Number.isInteger(r) ? `${r}%` : `${r.toFixed(1)}%`;
  }
  return `${roundTo(x, 0)}%`;
}

/**
 * Time left as a dial shows it: "4d 2h", "2h 07m", "12m", "<1m"; "now" once it has passed.
 * @param {number} seconds
 */
export function countdown(seconds) {
  if (!(seconds > 0)) return "now";
  const sec = Math.floor(seconds);
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return `${h}h ${pad2(m)}m`;
  if (m > 0) return `${m}m`;
  return "<1m";
}

/**
 * How old something is: "just now" under 45 s (the dashboard's rule), then "5m ago", "2h 07m ago".
 * @param {number} seconds
 */
export function ago(seconds) {
  if (!(seconds >= 45)) return "just now";
  if (seconds < 3600) return `${Math.max(1, Math.floor(seconds / 60))}m ago`;
  return `${countdown(seconds)} ago`;
}

/** @param {Date} d */
const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

/**
 * A moment in local time, as the dashboard writes it: "14:05" today, "Mon 14:05" within a week,
 * else "Nov 3 14:05".
 * @param {number} when epoch ms
 * @param {number} now epoch ms
 */
export function clock(when, now) {
  const t = new Date(when);
  const n = new Date(now);
  const hm = `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
  const days = Math.round((midnight(t) - midnight(n)) / 86400e3);
  if (days === 0) return hm;
  if (Math.abs(days) < 7) return `${WEEKDAYS[t.getDay()]} ${hm}`;
  return `${MONTHS[t.getMonth()]} ${t.getDate()} ${hm}`;
}

/**
 * A window's length in dial words: "5h", "24h", "7d", "Mo"; null when unknown.
 * @param {number | null} seconds
 */
export function lengthLabel(seconds) {
  if (typeof seconds !== "number" || !(seconds > 0)) return null;
  const hours = seconds / 3600;
  const days = seconds / 86400;
  if (hours <= 36) return `${roundTo(hours, 0) || 1}h`;
  if (days >= 27 && days <= 32) return "Mo";
  return `${roundTo(days, 0)}d`;
}

// The snapshot's shared window ids name their length (docs/snapshot.md: session is 5 h).
/** @type {Record<string, string>} */
const ID_WORDS = { session: "5h", daily: "24h", weekly: "7d", monthly: "Mo" };

/**
 * The short name of a window for the 62 px label in front of its bar: its length when known,
 * else its id's word, else the first word of its label (at most 3 letters: "Cre 9.3%" must fit).
 * @param {{id: string, label: string, lengthSeconds: number | null}} w
 */
export function shortLabel(w) {
  const byLength = lengthLabel(w.lengthSeconds);
  if (byLength) return byLength;
  if (Object.hasOwn(ID_WORDS, w.id)) return ID_WORDS[w.id];
  const word = (w.label || w.id).split(/[\s·(]+/).find((part) => part.length > 0) || "?";
  return word.slice(0, 3);
}

/**
 * Cut text to fit a line of `max` characters, with an ellipsis.
 * @param {string} text
 * @param {number} max
 */
export function fit(text, max) {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1)).trimEnd()}…`;
}
