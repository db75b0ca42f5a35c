// Number, time and wording rules shared by the dashboard and the terminal table.
// src/agentgauge/cli/formats.py implements the same functions line for line, and
// tests/test_render_parity.py runs both on the same values; docs/dashboard.md states the rules.
// Locale-free on purpose: both surfaces must print the very same string.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const CURRENCY_SYMBOLS = { usd: "$", eur: "€", gbp: "£" };
const CURRENCY_CODES = new Set(["cny", "jpy", "inr", "cad", "aud", "chf", "krw", "brl", "sgd", "hkd"]);

export const SOURCE_WORDS = {
  api_key: "API key",
  oauth: "OAuth login",
  cookie: "session cookie",
  browser: "browser session",
  cli: "CLI login",
  local_file: "local credentials file",
};

const pad2 = (n) => String(n).padStart(2, "0");

// Ties round up (floor(x + 0.5)) in both languages, so JavaScript and Python agree on every value.
export function roundTo(x, decimals) {
  const f = 10 ** decimals;
  return Math.floor(x * f + 0.5) / f;
}

function group(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

// A non-negative number with exactly `decimals` decimals and thousands separators.
function fixed(x, decimals) {
  const [int, frac] = roundTo(x, decimals).toFixed(decimals).split(".");
  return frac === undefined ? group(int) : `${group(int)}.${frac}`;
}

const finite = (x) => typeof x === "number" && Number.isFinite(x);

export function fmtPct(x) {
  if (!finite(x)) return "–";
  if (x > 0 && x < 0.05) return "<0.1%";
  if (Math.abs(x) < 9.95) {
    const r = roundTo(x, 1);
    return Number.isInteger(r) ? `${r}%` : `${r.toFixed(1)}%`;
  }
  const r = roundTo(x, 0);
  return `${r < 0 ? "-" : ""}${group(String(Math.abs(r)))}%`;
}

// A plain quantity: integers with separators, small fractions with up to two decimals, millions as "1.2M".
export function fmtNumber(x) {
  if (!finite(x)) return "–";
  const sign = x < 0 ? "-" : "";
  const a = Math.abs(x);
  if (a >= 1e9) return `${sign}${trimZeros(fixed(a / 1e9, 1))}B`;
  if (a >= 1e6) return `${sign}${trimZeros(fixed(a / 1e6, 1))}M`;
  if (a >= 100 || Number.isInteger(a)) return `${sign}${fixed(a, 0)}`;
  return `${sign}${trimZeros(fixed(a, 2))}`;
}

function trimZeros(s) {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

const currencyOf = (unit) => (unit || "").toLowerCase();

// Money always has two decimals; a symbol in front ("$9.15") or an upper-case code after ("12.00 CNY").
function moneyDigits(x) {
  return finite(x) ? `${x < 0 ? "-" : ""}${fixed(Math.abs(x), 2)}` : "–";
}

function money(x, cur) {
  if (!finite(x)) return "–";
  return `${x < 0 ? "-" : ""}${CURRENCY_SYMBOLS[cur]}${fixed(Math.abs(x), 2)}`;
}

// One amount with its unit: "$9.15", "2,048 requests", "12.00 CNY".
export function fmtAmount(x, unit) {
  const cur = currencyOf(unit);
  if (Object.hasOwn(CURRENCY_SYMBOLS, cur)) return money(x, cur);
  if (CURRENCY_CODES.has(cur)) return `${moneyDigits(x)} ${cur.toUpperCase()}`;
  return unit ? `${fmtNumber(x)} ${unit}` : fmtNumber(x);
}

// Used against a limit, the unit said once: "102 / 200 requests", "$9.15 / $50.00", "3.00 / 10.00 CNY".
export function fmtPair(used, limit, unit) {
  const cur = currencyOf(unit);
  if (Object.hasOwn(CURRENCY_SYMBOLS, cur)) return `${money(used, cur)} / ${money(limit, cur)}`;
  if (CURRENCY_CODES.has(cur)) return `${moneyDigits(used)} / ${moneyDigits(limit)} ${cur.toUpperCase()}`;
  return `${fmtNumber(used)} / ${fmtNumber(limit)}${unit ? ` ${unit}` : ""}`;
}

// Countdowns and ages: "3d 4h", "2h 05m", "12m 05s", "45s" (seconds only inside the last hour).
export function fmtDuration(seconds) {
  const sec = Math.max(0, Math.floor(finite(seconds) ? seconds : 0));
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad2(m)}m`;
  if (m > 0) return `${m}m ${pad2(s)}s`;
  return `${s}s`;
}

export function fmtAge(seconds) {
  if (!finite(seconds) || seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.max(1, Math.floor(seconds / 60))}m ago`;
  return `${fmtDuration(seconds)} ago`;
}

const toMs = (t) => (typeof t === "number" ? t : Date.parse(t));
const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

// Chart axis ticks: "14:05" and "Nov 26", the same words as fmtClock.
export const fmtHourMinute = (ms) => {
  const t = new Date(ms);
  return `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
};
export const fmtDay = (ms) => {
  const t = new Date(ms);
  return `${MONTHS[t.getMonth()]} ${t.getDate()}`;
};

// A moment in the viewer's local time: "14:05" today, "Mon 14:05" within a week, else "Nov 3 14:05".
export function fmtClock(when, now = Date.now()) {
  const t = new Date(toMs(when));
  const n = new Date(toMs(now));
  const hm = `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
  const days = Math.round((midnight(t) - midnight(n)) / 86400e3);
  if (days === 0) return hm;
  if (Math.abs(days) < 7) return `${WEEKDAYS[t.getDay()]} ${hm}`;
  return `${MONTHS[t.getMonth()]} ${t.getDate()} ${hm}`;
}

export function sourceLabel(p) {
  if (p.source_label) return p.source_label;
  if (!p.source) return null;
  return Object.hasOwn(SOURCE_WORDS, p.source) ? SOURCE_WORDS[p.source] : p.source.replaceAll("_", " ");
}

// When a rate-limited account is tried again: the server's "retry after N s" counted from the attempt.
export function retryAt(p) {
  const m = /retry after (\d+) s/.exec(p.error?.message || "");
  if (!m || !p.fetched_at) return null;
  return toMs(p.fetched_at) + Number(m[1]) * 1000;
}

// A plain headline for an error kind; the server's own message and hint go below it.
export function errorHeadline(kind, name, retryClock = null) {
  switch (kind) {
    case "auth": return `Signed out of ${name}`;
    case "network": return `Can't reach ${name}`;
    case "timeout": return `${name} did not answer in time`;
    case "rate_limited": return retryClock ? `Rate limited, retrying at ${retryClock}` : "Rate limited, retrying later";
    case "upstream": return `${name} reported a problem on its side`;
    case "parse": return "Unexpected response (the provider changed something)";
    case "config": return "Configuration problem";
    case "internal": return "agentgauge bug: please report";
    default: return "Refresh failed";
  }
}

// A balance in one line, its unit once: "1,250 / 5,000 credits left", "$3.20 / $10.00 used (monthly)".
export function fmtBalance(b) {
  let text;
  if (b.unlimited) text = "unlimited";
  else if (finite(b.remaining) && finite(b.limit)) text = `${fmtPair(b.remaining, b.limit, b.unit)} left`;
  else if (finite(b.remaining)) text = `${fmtAmount(b.remaining, b.unit)} left`;
  else if (finite(b.used) && finite(b.limit)) text = `${fmtPair(b.used, b.limit, b.unit)} used`;
  else if (finite(b.used)) text = `${fmtAmount(b.used, b.unit)} used`;
  else text = "no figures";
  return b.period ? `${text} (${b.period})` : text;
}

// A breakdown in one line: "total 1.2M tokens over 7 entries".
export function fmtBreakdownTotal(bd) {
  const items = bd.items || [];
  const total = items.reduce((sum, it) => sum + (finite(it.value) ? it.value : 0), 0);
  return `total ${fmtAmount(total, bd.unit)} over ${items.length} ${items.length === 1 ? "entry" : "entries"}`;
}

// A forecast's verdict in words (docs/forecast.md); `will_run_out` says when instead.
export const VERDICT_WORDS = { ok: "on pace", watch: "may run out", surplus: "surplus", learning: "learning" };

// A window's forecast in a few words: "runs out ~14:05", "may run out", "on pace", "surplus",
// "learning"; "at the limit" once the expected run-out time has passed.
export function fmtForecast(f, now = Date.now()) {
  if (!f || !f.verdict) return "";
  if (f.verdict === "will_run_out") {
    if (!f.runs_out_at) return "runs out";
    if (toMs(f.runs_out_at) <= toMs(now)) return "at the limit";
    return `runs out ~${fmtClock(f.runs_out_at, now)}`;
  }
  return Object.hasOwn(VERDICT_WORDS, f.verdict) ? VERDICT_WORDS[f.verdict] : f.verdict.replaceAll("_", " ");
}

// Where the forecast puts the window at its reset: "at reset: 62% expected, 45%–80% likely (p10–p90)".
export function fmtForecastRange(f) {
  if (!finite(f?.expected_pct)) return "too little history for a forecast yet";
  if (!finite(f.low_pct) || !finite(f.high_pct)) return `at reset: ${fmtPct(f.expected_pct)} expected`;
  return `at reset: ${fmtPct(f.expected_pct)} expected, ${fmtPct(f.low_pct)}–${fmtPct(f.high_pct)} likely (p10–p90)`;
}

// One row of the reset-cycle ledger (api/cycles) in words: start and reset times (local, with the date
// unless today), the peak, when it first hit 100 % and how long it stayed there, the share left unused
// ("open" while running).
export function cycleCells(row, now = Date.now()) {
  const today = midnight(new Date(toMs(now)));
  const when = (iso) => { // a ledger spans weeks: a date unless today ("Nov 3 14:05", "14:05")
    if (!iso) return "–";
    const t = new Date(toMs(iso));
    const hm = `${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
    return midnight(t) === today ? hm : `${MONTHS[t.getMonth()]} ${t.getDate()} ${hm}`;
  };
  return {
    started: when(row.started_at),
    reset: when(row.resets_at),
    peak: fmtPct(row.peak_pct),
    hit: when(row.hit_100_at),
    blocked: row.hit_100_at ? fmtDuration(row.blocked_seconds) : "–",
    unused: row.ended ? fmtPct(row.unused_pct_at_reset) : "open",
  };
}
