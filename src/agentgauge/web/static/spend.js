// Spend view: estimated cost per day from the local agent logs (GET api/cost?days=N&group=G), stacked
// per agent or per model, over 7, 30 or 90 days; the range's top models; each agent's monthly budget
// with its forecast and a warning when the forecast crosses it. Plain SVG, no chart library.
import { $, h, svg } from "./dom.js";
import { fmtAmount, fmtNumber } from "./format.js";
import { api } from "./state.js";

export const SPEND_RANGES = [7, 30, 90];
const DAYS_KEY = "agentgauge.spendDays";
const GROUP_KEY = "agentgauge.spendGroup";
// Series colours, distinct on light and dark backgrounds (the history chart's, then more).
const PALETTE = ["#3b82f6", "#e8590c", "#10b981", "#a855f7", "#e11d48", "#0ea5e9", "#ca8a04", "#64748b",
  "#14b8a6", "#f472b6"];
const MAX_SERIES = PALETTE.length; // the smallest series beyond this are drawn together as "other"
const BAR = 12; // SVG units per day; the chart scales to the panel's width
const HEIGHT = 120;

// What the page shows, for tests and for a re-render: the asked range and grouping, and the answer.
export const spendView = { days: 30, group: "agent", data: null, loading: null };

const usd = (x) => (x === null || x === undefined ? "?" : fmtAmount(x, "usd"));

export function initSpend() {
  const days = Number(localStorage.getItem(DAYS_KEY));
  spendView.days = SPEND_RANGES.includes(days) ? days : 30;
  spendView.group = localStorage.getItem(GROUP_KEY) === "model" ? "model" : "agent";
  for (const b of $("spend-ranges").querySelectorAll("button")) {
    b.addEventListener("click", () => selectSpend({ days: Number(b.dataset.days) }));
  }
  for (const b of $("spend-groups").querySelectorAll("button")) {
    b.addEventListener("click", () => selectSpend({ group: b.dataset.group }));
  }
  pressed();
}

function pressed() {
  for (const b of $("spend-ranges").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(Number(b.dataset.days) === spendView.days));
  }
  for (const b of $("spend-groups").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.group === spendView.group));
  }
}

export function selectSpend({ days = spendView.days, group = spendView.group }) {
  spendView.days = days;
  spendView.group = group;
  localStorage.setItem(DAYS_KEY, String(days));
  localStorage.setItem(GROUP_KEY, group);
  pressed();
  return loadSpend();
}

export async function loadSpend() {
  const { days, group } = spendView;
  const q = new URLSearchParams({ days: String(days), group });
  const loading = api(`api/cost?${q}`);
  spendView.loading = loading;
  $("spend").setAttribute("aria-busy", "true");
  let body = null;
  try {
    body = await loading;
  } catch {
    body = null; // no local logs readable: the view stays as it was (hidden at first)
  }
  if (spendView.loading !== loading) return; // a later choice is on its way: it draws
  spendView.loading = null;
  $("spend").removeAttribute("aria-busy");
  const spend = body?.spend;
  if (!spend) return;
  if (!spend.total.tokens && !Object.keys(spend.budgets).length) {
    $("spend").hidden = true;
    return;
  }
  spendView.data = spend;
  renderSpend(spend);
  $("spend").hidden = false;
}

function label(key) {
  const [agent, model] = key.split("/", 2);
  const name = agent ? agent[0].toUpperCase() + agent.slice(1) : key;
  return model ? `${model} (${name})` : name;
}

function renderSpend(spend) {
  const partial = spend.total.costIsPartial ? " (some models have no known price: counted as $0)" : "";
  $("spend-total").replaceChildren(
    h("strong", { id: "spend-total-cost" }, usd(spend.total.cost)),
    ` in ${spend.days} days · ${fmtNumber(spend.total.tokens)} tokens · ${spend.since} to ${spend.until}${partial}`,
  );
  renderBudgets(spend.budgets);
  renderChart(spend);
  $("spend-models").replaceChildren(...spend.topModels.map((m) => h("li", { "data-model": m.modelName },
    h("span", { class: "model" }, m.modelName), h("span", { class: "muted" }, ` ${m.agent}`),
    h("span", { class: "amount" }, `${usd(m.cost)}${m.costIsPartial ? "+" : ""}`),
    h("span", { class: "muted share" }, m.share ? ` ${Math.round(m.share * 100)}%` : ""))));
  $("spend-models-empty").hidden = spend.topModels.length > 0;
}

function renderBudgets(budgets) {
  const rows = Object.values(budgets).map((b) => {
    const pct = b.limit > 0 ? Math.min(100, (b.spent / b.limit) * 100) : 0;
    const forecastPct = b.limit > 0 ? Math.min(100, (b.forecast / b.limit) * 100) : 0;
    const state = b.exceeded ? "over" : b.will_exceed ? "warn" : "ok";
    const warning = b.exceeded
      ? `Over budget: ${usd(b.spent)} spent of ${usd(b.limit)}.`
      : b.will_exceed
        ? `Forecast ${usd(b.forecast)} is over the ${usd(b.limit)} budget.`
        : null;
    return h("div", { class: "budget", "data-agent": b.agent, "data-state": state },
      h("div", { class: "budget-line" },
        h("span", { class: "budget-name" }, `${label(b.agent)} · ${b.month}`),
        h("span", { class: "budget-figures" },
          `${usd(b.spent)} of ${usd(b.limit)} · forecast ${usd(b.forecast)} (${usd(b.daily_rate)}/day)`)),
      h("div", { class: "budget-track", role: "meter", "aria-valuemin": "0", "aria-valuemax": String(b.limit),
        "aria-valuenow": String(b.spent), "aria-label": `${label(b.agent)} spend this month` },
        h("span", { class: "budget-forecast", style: `width:${forecastPct}%` }),
        h("span", { class: "budget-fill", style: `width:${pct}%` })),
      warning ? h("p", { class: "budget-warning", role: "alert" }, warning) : null);
  });
  $("spend-budgets").replaceChildren(...rows);
}

function renderChart(spend) {
  const keys = spend.series.slice(0, MAX_SERIES - (spend.series.length > MAX_SERIES ? 1 : 0));
  const other = spend.series.length > keys.length;
  const color = (i) => PALETTE[i % PALETTE.length];
  const totals = spend.daily.map((d) => d.total);
  const top = Math.max(...totals, 0);
  const width = spend.daily.length * BAR;
  const scale = top > 0 ? (HEIGHT - 4) / top : 0;
  const bars = [];
  spend.daily.forEach((d, i) => {
    let y = HEIGHT;
    const parts = keys.map((k, j) => [k, d.values[k] || 0, color(j)]);
    if (other) {
      const rest = Object.entries(d.values).filter(([k]) => !keys.includes(k)).reduce((s, [, v]) => s + v, 0);
      parts.push(["other", rest, "#94a3b8"]);
    }
    for (const [key, value, fill] of parts) {
      if (value <= 0) continue;
      const hgt = Math.max(value * scale, 0.5);
      y -= hgt;
      bars.push(svg("rect", { x: String(i * BAR + 1), y: String(y), width: String(BAR - 2), height: String(hgt), fill,
        "data-date": d.date, "data-series": key, "data-value": String(value) },
        svg("title", {}, document.createTextNode(`${d.date} · ${label(key)}: ${usd(value)}`))));
    }
  });
  const grid = [0.5, 1].map((f) => svg("line", { x1: "0", x2: String(width), y1: String(HEIGHT - (HEIGHT - 4) * f),
    y2: String(HEIGHT - (HEIGHT - 4) * f), class: "grid" }));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${HEIGHT}`, preserveAspectRatio: "none", class: "spend-svg" },
    ...grid, ...bars);
  const first = spend.daily[0]?.date ?? "";
  const last = spend.daily.at(-1)?.date ?? "";
  $("spend-chart").replaceChildren(
    h("div", { class: "spend-axis muted small" }, h("span", {}, `max ${usd(top)}/day`)),
    chart,
    h("div", { class: "spend-dates muted small" }, h("span", {}, first), h("span", {}, last)));
  $("spend-chart").setAttribute("aria-label",
    `Daily spend, ${spend.days} days, stacked by ${spend.group}: ${usd(spend.total.cost)} in all`);
  const legend = keys.map((k, j) => h("li", { "data-series": k },
    h("span", { class: "swatch", style: `background:${color(j)}` }), label(k)));
  if (other) legend.push(h("li", { "data-series": "other" }, h("span", { class: "swatch", style: "background:#94a3b8" }),
    "other"));
  $("spend-legend").replaceChildren(...legend);
}
