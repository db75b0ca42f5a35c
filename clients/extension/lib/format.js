// Numbers and times as the popup shows them (the dashboard's wording: "42%", "2h 5m", "3m ago").

export function pct(value) {
  const n = Number(value) || 0;
  return `${n < 10 && !Number.isInteger(n) ? n.toFixed(1) : Math.round(n)}%`;
}

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return h ? `${d}d ${h}h` : `${d}d`;
  if (h) return m ? `${h}h ${m}m` : `${h}h`;
  return m ? `${m}m` : `${s}s`;
}

export function countdown(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = (Date.parse(iso) - now) / 1000;
  return seconds < 1 ? "now" : duration(seconds);
}

export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const seconds = (now - Date.parse(iso)) / 1000;
  if (seconds < 45) return "just now";
  return `${duration(seconds)} ago`;
}

// The bar colour: the server's thresholds (warn_pct, crit_pct).
export function level(value, thresholds) {
  if (value >= thresholds.crit) return "crit";
  if (value >= thresholds.warn) return "warn";
  return "ok";
}
