// agentgauge dashboard: one card per provider account, live over Server-Sent Events.
// Plain DOM code, no build step. Every URL is relative ("api/usage", never "/api/usage")
// so the page keeps working when a reverse proxy serves it under a sub-path.

const RANGES = [["3h", 3 * 3600], ["6h", 6 * 3600], ["24h", 86400], ["7d", 7 * 86400], ["30d", 30 * 86400]];
const STATUS_TEXT = { ok: "ok", stale: "stale", error: "error", unconfigured: "not configured", disabled: "disabled" };
// Series colours for the history chart; chosen to stay distinct on light and dark backgrounds.
const PALETTE = ["#3b82f6", "#e8590c", "#10b981", "#a855f7", "#e11d48", "#0ea5e9", "#ca8a04", "#64748b"];
const CHART_HEIGHT = 170;

const state = {
  thresholds: { warn: 40, crit: 70 },
  accounts: new Map(), // key -> ProviderSnapshot, in the server's order
  cards: new Map(), // key -> {el, parts, chart, range, history, loading}
  sawSnapshot: false,
};

const $ = (id) => document.getElementById(id);
const keyOf = (p) => `${p.provider}/${p.account}`;
const displayName = (p) => (p.account && p.account !== "default" ? `${p.name} (${p.account})` : p.name);

// Tiny element builder: h("span", {class: "x"}, "text", child). Text always goes through
// text nodes, so nothing from the server is ever parsed as HTML.
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
  return el;
}

async function api(path, options = {}) {
  const resp = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  // A server started with a token answers 401 once the login cookie is gone: sign in again.
  if (resp.status === 401) location.assign("login");
  if (!resp.ok) {
    let detail = "";
    try {
      const body = await resp.json();
      detail = body.detail || body.message || body.error || "";
    } catch {
      // The body was not JSON; the status code alone is reported.
    }
    throw new Error(`${path.split("?")[0]}: HTTP ${resp.status}${detail ? ` (${detail})` : ""}`);
  }
  return resp.json();
}

// ---- formatting -------------------------------------------------------------------------

function fmtPct(x) {
  const r = Math.round(x * 10) / 10;
  return `${Number.isInteger(r) ? r : r.toFixed(1)}\u00a0%`;
}

// Long form ticks every second ("4h 12m 05s"); the short form is for the header ("2d 3h").
function fmtDuration(sec, short = false) {
  sec = Math.max(0, Math.floor(sec));
  const d = Math.floor(sec / 86400);
  const hh = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  const pad = (n) => String(n).padStart(2, "0");
  // Seconds only matter when the reset is within a day.
  if (d > 0) return short ? `${d}d ${hh}h` : `${d}d ${hh}h ${pad(m)}m`;
  if (hh > 0) return short ? `${hh}h ${m}m` : `${hh}h ${pad(m)}m ${pad(s)}s`;
  return m > 0 ? `${m}m ${pad(s)}s` : `${s}s`;
}

function fmtAgo(iso) {
  const sec = (Date.now() - Date.parse(iso)) / 1000;
  if (sec < 45) return "just now";
  if (sec < 3600) return `${Math.round(sec / 60)}m ago`;
  return `${fmtDuration(sec, true)} ago`;
}

function fmtLocal(iso) {
  const t = new Date(iso);
  const soon = t - Date.now() < 6 * 86400e3;
  const opts = soon
    ? { weekday: "short", hour: "2-digit", minute: "2-digit" }
    : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  return t.toLocaleString(undefined, opts);
}

function fmtAmount(value, unit) {
  if (unit && unit.toLowerCase() === "usd") {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: "USD" }).format(value);
  }
  return `${Number(value).toLocaleString()}${unit ? ` ${unit}` : ""}`;
}

function level(pct) {
  if (pct > state.thresholds.crit) return "crit";
  return pct >= state.thresholds.warn ? "warn" : "ok";
}

// Countdown text for one element; shared by the renderer and the once-a-second ticker.
function countdownText(el) {
  const left = (Date.parse(el.dataset.reset) - Date.now()) / 1000;
  const short = el.dataset.fmt === "short";
  if (left <= 0) return short ? "resetting now" : "resetting…";
  return `resets in ${fmtDuration(left, short)}`;
}

function countdown(iso, short = false) {
  const el = h("span", { class: "countdown", "data-reset": iso, "data-fmt": short ? "short" : null,
    title: `Resets ${new Date(iso).toLocaleString()}` });
  el.textContent = countdownText(el);
  return el;
}

function ago(iso, prefix) {
  const el = h("span", { class: "ago", "data-since": iso, "data-prefix": prefix, title: new Date(iso).toLocaleString() });
  el.textContent = `${prefix}${fmtAgo(iso)}`;
  return el;
}

function tick() {
  for (const el of document.querySelectorAll("[data-reset]")) el.textContent = countdownText(el);
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = `${el.dataset.prefix}${fmtAgo(el.dataset.since)}`;
}

// ---- cards ------------------------------------------------------------------------------

function windowRow(w) {
  const pct = Math.max(0, Math.min(100, w.used_pct));
  const reset = [];
  if (w.resets_at) {
    reset.push(countdown(w.resets_at), h("span", { class: "abs" }, ` · ${fmtLocal(w.resets_at)}`));
  } else {
    reset.push(h("span", { class: "muted" }, "no scheduled reset"));
  }
  if (w.used !== null && w.used !== undefined && w.limit !== null && w.limit !== undefined) {
    reset.push(h("span", { class: "amount" }, `${fmtAmount(w.used, w.unit)} of ${fmtAmount(w.limit, w.unit)}`));
  }
  return h("li", { class: "win", "data-window": w.id },
    h("div", { class: "win-top" },
      h("span", { class: "win-label" }, w.label),
      h("span", { class: "pct", "data-level": level(w.used_pct) }, fmtPct(w.used_pct))),
    h("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(w.used_pct), "aria-label": `${w.label} ${fmtPct(w.used_pct).replace("\u00a0", "")} used`,
      "data-level": level(w.used_pct) },
    h("div", { class: "fill", style: `width:${pct}%` })),
    h("div", { class: "reset" }, reset));
}

function makeCard(p) {
  const key = keyOf(p);
  const titleId = `t-${key.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
  const parts = {
    title: h("h2", { id: titleId }),
    status: h("span", { class: "status" }),
    refresh: h("button", { type: "button", class: "btn icon refresh", onclick: () => refreshOne(key) }, "↻"),
    meta: h("p", { class: "meta" }),
    problem: h("div", { class: "problem" }),
    windows: h("ul", { class: "windows" }),
    ranges: h("div", { class: "ranges", role: "group", "aria-label": "History range" }),
    chart: h("div", { class: "chart" }),
    history: h("details", { class: "history" }),
  };
  const card = { key, el: null, parts, chart: null, range: localStorage.getItem("agentgauge.range") || "24h",
    history: null, loading: false, resize: null };
  for (const [label] of RANGES) {
    parts.ranges.append(h("button", { type: "button", class: "btn range", "data-range": label,
      "aria-pressed": String(label === card.range), onclick: () => selectRange(card, label) }, label));
  }
  parts.history.append(h("summary", {}, "History"), parts.ranges, parts.chart);
  parts.history.addEventListener("toggle", () => {
    if (parts.history.open) loadHistory(card);
  });
  card.el = h("article", { class: "card", "data-key": key, "aria-labelledby": titleId },
    h("header", { class: "card-head" }, parts.title, parts.status, parts.refresh),
    parts.meta, parts.problem, parts.windows, parts.history);
  return card;
}

function fillCard(card, p) {
  const { parts } = card;
  card.el.dataset.status = p.status;
  parts.title.replaceChildren(p.name, p.account !== "default" ? h("span", { class: "acct" }, p.account) : "");
  parts.status.replaceChildren(h("span", { class: "dot", "aria-hidden": "true" }), STATUS_TEXT[p.status] || p.status);
  parts.refresh.setAttribute("aria-label", `Refresh ${displayName(p)}`);
  parts.refresh.title = `Refresh ${displayName(p)}`;

  const meta = [];
  if (p.plan) meta.push(h("span", {}, "Plan ", h("b", {}, p.plan)));
  if (p.source) meta.push(h("span", {}, "via ", p.source));
  if (p.status === "ok" && p.fetched_at) meta.push(ago(p.fetched_at, "updated "));
  if (p.status === "disabled") meta.push(h("span", {}, "Disabled in the configuration"));
  parts.meta.replaceChildren(...meta);
  parts.meta.hidden = meta.length === 0;

  const problem = [];
  if (p.status === "stale") problem.push(h("p", { class: "when" }, p.last_success_at ? ago(p.last_success_at, "stale since ") : "stale"));
  if (p.status === "error" && p.last_success_at) problem.push(h("p", { class: "when" }, ago(p.last_success_at, "last success ")));
  if (p.error && (p.status === "stale" || p.status === "error")) {
    problem.push(h("p", { class: "msg" }, p.error.message));
    if (p.error.hint) problem.push(h("p", { class: "hint" }, p.error.hint));
  }
  parts.problem.replaceChildren(...problem);
  parts.problem.hidden = problem.length === 0;

  parts.windows.replaceChildren(...(p.windows || []).map(windowRow));
  parts.windows.hidden = !p.windows || p.windows.length === 0;
  // History only makes sense for accounts that ever reported windows.
  parts.history.hidden = p.status === "disabled" || (p.status === "error" && !p.last_success_at);
  if (parts.history.open && !parts.history.hidden) loadHistory(card);
}

// ---- applying data ----------------------------------------------------------------------

// Ignore an update older than what is shown: a slow refresh response can arrive after the
// SSE event that already carried the same or newer data.
function isOlder(incoming, current) {
  return current && incoming.fetched_at && current.fetched_at && Date.parse(incoming.fetched_at) < Date.parse(current.fetched_at);
}

function applySnapshot(snap, replace) {
  if (replace) {
    const next = new Map();
    for (const p of snap.providers) {
      const cur = state.accounts.get(keyOf(p));
      next.set(keyOf(p), isOlder(p, cur) ? cur : p);
    }
    state.accounts = next;
  } else {
    for (const p of snap.providers) {
      if (!isOlder(p, state.accounts.get(keyOf(p)))) state.accounts.set(keyOf(p), p);
    }
  }
  render();
}

function render() {
  const container = $("cards");
  const shown = [...state.accounts.values()].filter((p) => p.status !== "unconfigured");
  const unconfigured = [...state.accounts.values()].filter((p) => p.status === "unconfigured");

  container.querySelector(".loading")?.remove();
  for (const [key, card] of state.cards) {
    if (!shown.some((p) => keyOf(p) === key)) {
      card.chart?.destroy();
      card.resize?.disconnect();
      card.el.remove();
      state.cards.delete(key);
    }
  }
  // Re-append in server order; appending an element that is already in place is cheap and
  // keeps focus on a button that lives inside the card.
  let prev = null;
  for (const p of shown) {
    let card = state.cards.get(keyOf(p));
    if (!card) {
      card = makeCard(p);
      state.cards.set(card.key, card);
    }
    fillCard(card, p);
    const want = prev ? prev.nextSibling : container.firstChild;
    if (want !== card.el) container.insertBefore(card.el, want);
    prev = card.el;
  }

  $("empty").hidden = shown.length > 0;
  $("refresh-all").hidden = shown.length === 0;
  const list = $("unconfigured");
  list.hidden = unconfigured.length === 0;
  list.replaceChildren(h("b", {}, "Not configured: "), unconfigured.map(displayName).join(", "),
    " — ", h("code", {}, "agentgauge doctor"), " shows what each needs.");
  renderSummary();
}

// Header: the tightest window anywhere, and the account with the most headroom.
function renderSummary() {
  let tight = null;
  let roomy = null;
  for (const p of state.accounts.values()) {
    if (p.status !== "ok" && p.status !== "stale") continue;
    const windows = p.windows || [];
    for (const w of windows) if (!tight || w.used_pct > tight.w.used_pct) tight = { p, w };
    if (p.status === "ok" && windows.length) {
      const max = Math.max(...windows.map((w) => w.used_pct));
      if (!roomy || max < roomy.max) roomy = { p, max };
    }
  }
  const out = [];
  if (tight) {
    out.push(h("span", { class: "tightest", "data-level": level(tight.w.used_pct) }, "Tightest: ",
      h("b", {}, `${displayName(tight.p)} · ${tight.w.label} ${fmtPct(tight.w.used_pct)}`),
      tight.w.resets_at ? [" (", countdown(tight.w.resets_at, true), ")"] : ""));
  }
  if (roomy) {
    out.push(h("span", { class: "headroom" }, "Most headroom: ",
      h("b", {}, displayName(roomy.p)), ` (at most ${fmtPct(roomy.max)} used)`));
  }
  $("summary").replaceChildren(...out);
  document.title = tight ? `${fmtPct(tight.w.used_pct)} · agentgauge` : "agentgauge";
}

function notice(text) {
  const el = $("notice");
  el.textContent = text || "";
  el.hidden = !text;
}

// ---- refresh ----------------------------------------------------------------------------

// Busy buttons use aria-disabled rather than disabled so keyboard focus stays on them.
async function withBusy(button, scope, fn) {
  if (button.getAttribute("aria-busy") === "true") return;
  button.setAttribute("aria-busy", "true");
  button.setAttribute("aria-disabled", "true");
  scope.classList.add("busy");
  try {
    await fn();
    notice("");
  } catch (err) {
    notice(`Refresh failed: ${err.message}`);
  } finally {
    button.removeAttribute("aria-busy");
    button.removeAttribute("aria-disabled");
    scope.classList.remove("busy");
  }
}

function refreshOne(key) {
  const card = state.cards.get(key);
  const p = state.accounts.get(key);
  if (!card || !p) return;
  const q = new URLSearchParams({ provider: p.provider, account: p.account, wait: "30" });
  return withBusy(card.parts.refresh, card.el, async () => applySnapshot(await api(`api/refresh?${q}`, { method: "POST" }), false));
}

function refreshAll() {
  return withBusy($("refresh-all"), document.body, async () => applySnapshot(await api("api/refresh?wait=30", { method: "POST" }), false));
}

// ---- history chart ----------------------------------------------------------------------

let uplotLoading = null;

// uPlot (about 50 KB) is fetched only when the first chart is opened, keeping first paint light.
function loadUPlot() {
  uplotLoading ??= new Promise((resolve, reject) => {
    document.head.append(h("link", { rel: "stylesheet", href: "static/vendor/uplot/uPlot.min.css" }));
    const script = h("script", { src: "static/vendor/uplot/uPlot.iife.min.js" });
    script.onload = () => resolve(window.uPlot);
    script.onerror = () => {
      uplotLoading = null;
      script.remove();
      reject(new Error("could not load the chart library"));
    };
    document.head.append(script);
  });
  return uplotLoading;
}

function selectRange(card, label) {
  card.range = label;
  localStorage.setItem("agentgauge.range", label);
  for (const b of card.parts.ranges.children) b.setAttribute("aria-pressed", String(b.dataset.range === label));
  loadHistory(card);
}

async function loadHistory(card) {
  const p = state.accounts.get(card.key);
  if (!p || card.loading) return;
  card.loading = true;
  const seconds = RANGES.find(([label]) => label === card.range)[1];
  const until = new Date();
  const since = new Date(until - seconds * 1000);
  const width = card.parts.chart.clientWidth || 320;
  const q = new URLSearchParams({ provider: p.provider, account: p.account, since: isoZ(since), until: isoZ(until),
    points: String(Math.max(60, Math.min(500, Math.round(width / 2)))) });
  card.parts.chart.setAttribute("aria-busy", "true");
  try {
    const [uPlot, hist] = await Promise.all([loadUPlot(), api(`api/history?${q}`)]);
    card.history = { hist, since: since / 1000, until: until / 1000 };
    drawChart(card, uPlot);
  } catch (err) {
    card.chart?.destroy();
    card.chart = null;
    card.parts.chart.replaceChildren(h("p", { class: "muted" }, `History unavailable: ${err.message}`));
  } finally {
    card.loading = false;
    card.parts.chart.removeAttribute("aria-busy");
  }
}

const isoZ = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

function drawChart(card, uPlot) {
  const { hist, since, until } = card.history;
  const box = card.parts.chart;
  card.chart?.destroy();
  card.chart = null;
  const series = (hist.series || []).filter((s) => s.t && s.t.length);
  if (!series.length) {
    box.replaceChildren(h("p", { class: "muted" }, "No history in this range yet."));
    return;
  }
  box.replaceChildren();
  // Windows are sampled at their own times; uPlot.join aligns them on one x axis.
  const data = uPlot.join(series.map((s) => [s.t, s.used_pct]));
  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue("--muted").trim();
  const grid = css.getPropertyValue("--grid").trim();
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const { warn, crit } = state.thresholds;
  card.chart = new uPlot({
    width: box.clientWidth || 320,
    height: CHART_HEIGHT,
    scales: { x: { time: true, range: [since, until] }, y: { range: [0, 100] } },
    legend: { live: false },
    axes: [axis, { ...axis, size: 50, values: (u, vals) => vals.map((v) => `${v}%`) }],
    series: [{}, ...series.map((s, i) => ({
      label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true,
      value: (u, v) => (v === null || v === undefined ? "–" : fmtPct(v)),
    }))],
    // Dashed lines at the warn and crit thresholds give the curves a reference.
    hooks: { drawAxes: [(u) => {
      const { ctx, bbox } = u;
      ctx.save();
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      for (const [v, colour] of [[warn, "--warn"], [crit, "--crit"]]) {
        const y = Math.round(u.valToPos(v, "y", true)) + 0.5;
        ctx.strokeStyle = css.getPropertyValue(colour).trim();
        ctx.beginPath();
        ctx.moveTo(bbox.left, y);
        ctx.lineTo(bbox.left + bbox.width, y);
        ctx.stroke();
      }
      ctx.restore();
    }] },
  }, data, box);
  card.chart.root.setAttribute("role", "img");
  card.chart.root.setAttribute("aria-label",
    `Usage history, last ${card.range}: ${series.map((s) => `${s.label} now ${fmtPct(s.used_pct.at(-1))}`).join(", ")}`);
  if (!card.resize) {
    card.resize = new ResizeObserver(() => {
      if (card.chart && box.clientWidth) card.chart.setSize({ width: box.clientWidth, height: CHART_HEIGHT });
    });
    card.resize.observe(box);
  }
}

// A switch between light and dark redraws the open charts with the new axis colours.
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const card of state.cards.values()) if (card.chart && window.uPlot) drawChart(card, window.uPlot);
});

// ---- live updates -----------------------------------------------------------------------

function setLive(s) {
  const el = $("live");
  el.dataset.state = s;
  el.textContent = s;
}

// EventSource reconnects by itself after a dropped connection (e.g. a server restart). It gives
// up only when the server answers with an error status; then we start a new one after a pause.
function connect() {
  const es = new EventSource("api/events");
  es.addEventListener("open", () => setLive("live"));
  es.addEventListener("snapshot", (e) => {
    state.sawSnapshot = true;
    applySnapshot(JSON.parse(e.data), true);
  });
  es.addEventListener("account", (e) => applySnapshot({ providers: [JSON.parse(e.data)] }, false));
  es.addEventListener("error", () => {
    setLive("reconnecting");
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
}

// ---- spend (local logs) ------------------------------------------------------------------

function fmtUsd(x) {
  return x === null || x === undefined ? "?" : `$${x < 10 ? x.toFixed(2) : Math.round(x).toLocaleString()}`;
}

async function loadCost() {
  let cost;
  try {
    cost = await api("api/cost");
  } catch {
    return; // no local logs readable: the panel stays hidden
  }
  const periods = [["today", "Today"], ["7d", "7 days"], ["30d", "30 days"]];
  const agents = Object.keys(cost.periods["30d"].agents || {});
  const spent = (period, agent) => (agent ? cost.periods[period].agents[agent] : cost.periods[period]);
  if (!agents.some((a) => spent("30d", a).totalTokens > 0)) {
    $("cost").hidden = true;
    return;
  }
  const head = h("tr", {}, h("th", { scope: "col" }, "Agent"), ...periods.map(([, l]) => h("th", { scope: "col" }, l)));
  const row = (label, agent) => {
    const cells = periods.map(([key]) => {
      const t = spent(key, agent);
      return h("td", { "data-period": key }, fmtUsd(t.totalCost) + (t.costIsPartial ? "+" : ""));
    });
    return h("tr", { "data-agent": agent || "all" }, h("th", { scope: "row" }, label), ...cells);
  };
  const table = $("cost-table");
  table.replaceChildren(table.querySelector("caption"), head,
    ...agents.filter((a) => spent("30d", a).totalTokens > 0).map((a) => row(a[0].toUpperCase() + a.slice(1), a)),
    row("All", null));
  const top = (cost.periods["30d"].models || []).slice(0, 4);
  $("cost-models").textContent = top.length
    ? `Top models, 30 days: ${top.map((m) => `${m.modelName} ${fmtUsd(m.cost)}`).join(" · ")}` : "";
  $("cost-note").textContent = `${cost.costNote} "+" marks totals that leave out models with unknown prices.`;
  $("cost").hidden = false;
}

async function start() {
  $("refresh-all").addEventListener("click", refreshAll);
  connect();
  const [config, usage] = await Promise.allSettled([api("api/config"), api("api/usage")]);
  if (config.status === "fulfilled") {
    Object.assign(state.thresholds, config.value.thresholds || {});
    $("demo").hidden = !config.value.demo;
    $("version").textContent = `agentgauge ${config.value.version}`;
  }
  if (usage.status === "fulfilled") applySnapshot(usage.value, !state.sawSnapshot);
  else if (!state.sawSnapshot) notice(`Could not load usage: ${usage.reason.message}`);
  // Thresholds may have arrived after an SSE snapshot was drawn with the defaults.
  if (state.accounts.size) render();
  setInterval(tick, 1000);
  loadCost();
  setInterval(loadCost, 5 * 60 * 1000);
}

start();
