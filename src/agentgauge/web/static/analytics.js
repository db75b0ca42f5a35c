// The analytics page: usage over time (each account's tightest window, from the rollups), limit hits
// per week and the sortable reset-cycle ledger (api/cycles), the forecasts' measured accuracy
// (api/forecast/accuracy) and the spend from local logs (spend.js). 7, 30 or 90 days; no build step,
// every URL relative (the page works under a sub-path). The exports let tests reach the page's state.
import { loadUPlot } from "./chart.js";
import { $, h, svg } from "./dom.js";
import { cycleCells, fmtDay, fmtDuration, fmtHourMinute, fmtPct } from "./format.js";
import { initSpend, selectSpend } from "./spend.js";
import { api } from "./state.js";

export const RANGES = [7, 30, 90];
const DAYS_KEY = "agentgauge.analyticsDays";
const SHOWN_ROWS = 200; // cycles drawn at once; sorting or picking an account shows others
const PALETTE = ["#3b82f6", "#e8590c", "#10b981", "#a855f7", "#e11d48", "#0ea5e9", "#ca8a04", "#64748b",
  "#14b8a6", "#f472b6"];
const HITS_HEIGHT = 100;
const HITS_BAR = 24;
const COLUMNS = [ // [label, sort key, cell]
  ["Account", "account", null], ["Window", "label", null], ["Started", "started_at", "started"],
  ["Reset", "resets_at", "reset"], ["Peak", "peak_pct", "peak"], ["First 100 %", "hit_100_at", "hit"],
  ["Blocked", "blocked_seconds", "blocked"], ["Unused at reset", "unused_pct_at_reset", "unused"],
];

export const view = { days: 30, since: null, until: null, usage: null, cycles: [], accuracy: null,
  sort: { key: "resets_at", dir: "desc" }, account: "", chart: null, loading: null };

const who = (r) => (r.account && r.account !== "default" ? `${r.name} (${r.account})` : r.name);
const isoZ = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const notice = (text) => { $("notice").textContent = text || ""; $("notice").hidden = !text; };

// ---- usage over time --------------------------------------------------------------------

function drawUsage(uPlot) {
  const box = $("usage-chart");
  view.chart?.destroy();
  view.chart = null;
  const series = (view.usage?.series || []).filter((s) => s.t.length);
  $("usage-empty").hidden = series.length > 0;
  box.replaceChildren();
  if (!series.length) return;
  const css = getComputedStyle(document.documentElement);
  const axis = { stroke: css.getPropertyValue("--muted").trim(), font: "12px system-ui, sans-serif",
    grid: { stroke: css.getPropertyValue("--grid").trim(), width: 1 }, labelFont: "12px system-ui, sans-serif" };
  const top = Math.max(100, ...series.flatMap((s) => s.used_pct));
  const ticks = (u, splits) => splits.map((ts) => (view.days <= 1 ? fmtHourMinute(ts * 1000) : fmtDay(ts * 1000)));
  view.chart = new uPlot({
    width: box.clientWidth || 640, height: 300,
    scales: { x: { time: true, range: [view.since / 1000, view.until / 1000] }, y: { range: [0, top] } },
    legend: { live: false },
    axes: [{ ...axis, label: "local time", labelSize: 22, values: ticks },
      { ...axis, label: "% used", labelSize: 22, size: 44, values: (u, vals) => vals.map((v) => `${v}%`) }],
    series: [{}, ...series.map((s, i) => ({ label: `${who(s)} · ${s.label}`, stroke: PALETTE[i % PALETTE.length],
      width: 1.5, spanGaps: true, value: (u, v) => (v === null || v === undefined ? "–" : fmtPct(v)) }))],
  }, uPlot.join(series.map((s) => [s.t, s.used_pct])), box);
  view.chart.root.setAttribute("role", "img");
  view.chart.root.setAttribute("aria-label", `Usage over the last ${view.days} days, in % used of each account's `
    + `tightest window: ${series.map((s) => `${who(s)} ${s.label} peak ${fmtPct(Math.max(...s.used_pct))}`).join(", ")}`);
}

// ---- limit hits per week (from the ledger) ----------------------------------------------------

// Monday 00:00 local time of the week holding `ms`.
export function weekStart(ms) {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - ((d.getDay() + 6) % 7)).getTime();
}

const localDate = (ms) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

// One entry per local week of the range: {week (its Monday, YYYY-MM-DD), start (ms), hits: [rows]}.
export function hitsPerWeek(rows, since, until) {
  const weeks = [];
  for (let t = weekStart(since); t <= until;) {
    weeks.push({ week: localDate(t), start: t, hits: [] });
    const d = new Date(t);
    t = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 7).getTime();
  }
  for (const r of rows) {
    const at = r.hit_100_at ? Date.parse(r.hit_100_at) : NaN;
    if (!(at >= since && at <= until)) continue;
    const entry = weeks.findLast((w) => w.start <= at);
    if (entry) entry.hits.push(r);
  }
  return weeks;
}

function drawHits() {
  const weeks = hitsPerWeek(view.cycles, view.since, view.until);
  const top = Math.max(1, ...weeks.map((w) => w.hits.length));
  const width = weeks.length * HITS_BAR;
  const bars = weeks.map((w, i) => {
    const hgt = (w.hits.length / top) * (HITS_HEIGHT - 14);
    const names = [...new Set(w.hits.map((r) => `${who(r)} · ${r.label}`))].join(", ");
    return svg("g", {},
      svg("rect", { x: String(i * HITS_BAR + 3), y: String(HITS_HEIGHT - hgt), width: String(HITS_BAR - 6),
        height: String(Math.max(hgt, w.hits.length ? 1 : 0)), class: "hit-bar", "data-week": w.week,
        "data-count": String(w.hits.length) },
      svg("title", {}, document.createTextNode(`Week of ${fmtDay(w.start)}: ${w.hits.length} `
        + `${w.hits.length === 1 ? "hit" : "hits"}${names ? ` (${names})` : ""}`))),
      w.hits.length ? svg("text", { x: String(i * HITS_BAR + HITS_BAR / 2), y: String(HITS_HEIGHT - hgt - 3),
        class: "hit-count", "text-anchor": "middle" }, document.createTextNode(String(w.hits.length))) : "");
  });
  const total = weeks.reduce((n, w) => n + w.hits.length, 0);
  $("hits-chart").replaceChildren(
    svg("svg", { viewBox: `0 0 ${width} ${HITS_HEIGHT}`, class: "hits-svg" }, ...bars),
    h("div", { class: "spend-dates muted small" }, h("span", {}, fmtDay(weeks[0].start)),
      h("span", {}, fmtDay(weeks.at(-1).start))));
  $("hits-chart").setAttribute("aria-label", `Limit hits per week over the last ${view.days} days: ${total} in all`);
  $("hits-total").textContent = total
    ? `${total} ${total === 1 ? "cycle" : "cycles"} reached 100 % in the last ${view.days} days.`
    : `No window reached 100 % in the last ${view.days} days.`;
}

// ---- the cycles table ---------------------------------------------------------------------

function sortValue(r, key) {
  if (key === "account") return `${r.name} ${r.account}`.toLowerCase();
  if (key === "label") return `${r.label}`.toLowerCase();
  if (key === "unused_pct_at_reset" && !r.ended) return null;
  return r[key] ?? null;
}

// Rows in the chosen order; empty values (never hit 100 %, still open) always last.
export function sortedCycles(rows, key, dir) {
  const sign = dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va === null || vb === null) return va === vb ? 0 : va === null ? 1 : -1;
    return (va < vb ? -1 : va > vb ? 1 : 0) * sign;
  });
}

function drawHead() {
  const row = $("cycles-table").tHead.rows[0];
  row.replaceChildren(...COLUMNS.map(([label, key]) => {
    const sorted = view.sort.key === key;
    return h("th", { scope: "col", "aria-sort": sorted ? (view.sort.dir === "asc" ? "ascending" : "descending") : "none" },
      h("button", { type: "button", class: "sort", "data-sort": key, onclick: () => sortBy(key) }, label,
        h("span", { class: "arrow", "aria-hidden": "true" }, sorted ? (view.sort.dir === "asc" ? " ▲" : " ▼") : "")));
  }));
}

export function sortBy(key) {
  const dir = view.sort.key === key && view.sort.dir === "desc" ? "asc" : "desc";
  view.sort = { key, dir };
  drawCycles();
}

function drawCycles() {
  drawHead();
  const now = Date.now();
  const rows = view.cycles.filter((r) => !view.account || `${r.provider}/${r.account}` === view.account);
  const shown = sortedCycles(rows, view.sort.key, view.sort.dir).slice(0, SHOWN_ROWS);
  $("cycles-table").tBodies[0].replaceChildren(...shown.map((r) => {
    const cells = cycleCells(r, now);
    return h("tr", { "data-provider": r.provider, "data-account": r.account, "data-window": r.window,
      "data-resets": r.resets_at, "data-hit": r.hit_100_at ? "true" : "false" },
    h("th", { scope: "row" }, who(r)), h("td", {}, r.label),
    ...COLUMNS.slice(2).map(([, key, cell]) => h("td", { "data-col": key }, cells[cell])));
  }));
  $("cycles-note").textContent = rows.length > SHOWN_ROWS
    ? `Showing ${SHOWN_ROWS} of ${rows.length} cycles; sort or pick an account to see others.`
    : rows.length ? `${rows.length} ${rows.length === 1 ? "cycle" : "cycles"}.` : "No reset cycle recorded in this range.";
}

function fillAccounts() {
  const select = $("cycles-account");
  const accounts = new Map(view.cycles.map((r) => [`${r.provider}/${r.account}`, who(r)]));
  if (view.account && !accounts.has(view.account)) view.account = "";
  select.replaceChildren(h("option", { value: "" }, "all accounts"),
    ...[...accounts].sort((a, b) => a[1].localeCompare(b[1])).map(([key, name]) => h("option", { value: key }, name)));
  select.value = view.account;
}

// ---- accuracy and the summary -------------------------------------------------------------

function drawAccuracy() {
  const acc = view.accuracy;
  const rows = acc?.windows || [];
  const o = acc?.overall;
  $("accuracy-summary").textContent = o?.closed_cycles
    ? `The forecasts' 80 % interval held the outcome ${fmtPct(o.coverage * 100)} of the time over `
      + `${o.closed_cycles} closed ${o.closed_cycles === 1 ? "cycle" : "cycles"} (goal: about 80 %).`
    : "No closed cycle with forecasts in this range yet.";
  $("accuracy-table").hidden = rows.length === 0;
  $("accuracy-table").tBodies[0].replaceChildren(...rows.map((w) => h("tr",
    { "data-provider": w.provider, "data-account": w.account, "data-window": w.window },
    h("th", { scope: "row" }, `${who(w)} · ${w.label}`), h("td", {}, String(w.closed_cycles)),
    h("td", { "data-coverage": String(w.coverage) }, fmtPct(w.coverage * 100)))));
}

function drawSummary() {
  const hits = view.cycles.filter((r) => r.hit_100_at && Date.parse(r.hit_100_at) >= view.since);
  const blocked = hits.reduce((s, r) => s + (r.blocked_seconds || 0), 0);
  const ended = view.cycles.filter((r) => r.ended && typeof r.unused_pct_at_reset === "number");
  const unused = ended.length ? ended.reduce((s, r) => s + r.unused_pct_at_reset, 0) / ended.length : null;
  const out = [h("span", {}, h("b", {}, String(hits.length)), ` limit ${hits.length === 1 ? "hit" : "hits"}`)];
  if (blocked) out.push(h("span", {}, h("b", {}, fmtDuration(blocked)), " blocked"));
  if (unused !== null) out.push(h("span", {}, h("b", {}, fmtPct(unused)), " left unused at a reset on average"));
  $("an-summary").replaceChildren(...out);
}

// ---- loading ------------------------------------------------------------------------------

export async function load() {
  const until = Date.now();
  const since = until - view.days * 86400e3;
  const q = new URLSearchParams({ since: isoZ(since), until: isoZ(until) });
  const width = $("usage-chart").clientWidth || 640;
  const points = String(Math.max(60, Math.min(1000, Math.round(width / 2))));
  const loading = Promise.all([api(`api/analytics/usage?days=${view.days}&points=${points}`), api(`api/cycles?${q}`),
    api(`api/forecast/accuracy?${q}`), loadUPlot()]);
  view.loading = loading;
  document.body.setAttribute("aria-busy", "true");
  try {
    const [usage, cycles, accuracy, uPlot] = await loading;
    if (view.loading !== loading) return; // a later choice is on its way: it draws
    Object.assign(view, { since, until, usage, cycles: cycles.cycles, accuracy });
    notice("");
    drawUsage(uPlot);
    drawHits();
    fillAccounts();
    drawCycles();
    drawAccuracy();
    drawSummary();
  } catch (err) {
    if (view.loading === loading) notice(`Could not load the analytics: ${err.message}`);
  } finally {
    if (view.loading === loading) {
      view.loading = null;
      document.body.removeAttribute("aria-busy");
    }
  }
}

export function selectDays(days) {
  view.days = RANGES.includes(days) ? days : 30;
  localStorage.setItem(DAYS_KEY, String(view.days));
  for (const b of $("an-ranges").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(Number(b.dataset.days) === view.days));
  }
  selectSpend({ days: view.days });
  return load();
}

async function start() {
  for (const b of $("an-ranges").querySelectorAll("button")) {
    b.addEventListener("click", () => selectDays(Number(b.dataset.days)));
  }
  $("cycles-account").addEventListener("change", (e) => {
    view.account = e.target.value;
    drawCycles();
  });
  new ResizeObserver(() => {
    const box = $("usage-chart");
    if (view.chart && box.clientWidth) view.chart.setSize({ width: box.clientWidth, height: 300 });
  }).observe($("usage-chart"));
  initSpend();
  api("api/config").then((c) => { $("version").textContent = `agentgauge ${c.version}`; }).catch(() => {});
  await selectDays(Number(localStorage.getItem(DAYS_KEY)) || 30);
  setInterval(load, 5 * 60 * 1000);
}

start();
