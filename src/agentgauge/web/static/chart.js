// History chart of one card (uPlot, loaded the first time a chart is opened).
import { h } from "./dom.js";
import { fmtDay, fmtHourMinute, fmtPct } from "./format.js";
import { api, state } from "./state.js";

export const RANGES = [["3h", 3 * 3600], ["6h", 6 * 3600], ["24h", 86400], ["7d", 7 * 86400], ["30d", 30 * 86400]];
// Series colours; chosen to stay distinct on light and dark backgrounds.
const PALETTE = ["#3b82f6", "#e8590c", "#10b981", "#a855f7", "#e11d48", "#0ea5e9", "#ca8a04", "#64748b"];
// Tall enough that the plot area itself (without axes) stays above 160 px on a desktop.
const CHART_HEIGHT = 270;
const PHONE_CHART_HEIGHT = 230;

const chartHeight = () => (matchMedia("(max-width: 560px)").matches ? PHONE_CHART_HEIGHT : CHART_HEIGHT);
const isoZ = (d) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

let uplotLoading = null;

// uPlot (about 50 KB) is fetched only when the first chart is opened, keeping first paint light.
export function loadUPlot() {
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

export function selectRange(card, label) {
  card.range = label;
  localStorage.setItem("agentgauge.range", label);
  for (const b of card.parts.ranges.children) b.setAttribute("aria-pressed", String(b.dataset.range === label));
  loadHistory(card);
}

export async function loadHistory(card) {
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

// Time ticks in 24-hour local time like the rest of the page; a day-long or longer range names the day.
function timeTicks(u, splits, axisIdx, space, incr) {
  const span = u.scales.x.max - u.scales.x.min;
  return splits.map((ts) => {
    if (span <= 36 * 3600) return fmtHourMinute(ts * 1000);
    return incr < 86400 ? `${fmtDay(ts * 1000)}\n${fmtHourMinute(ts * 1000)}` : fmtDay(ts * 1000);
  });
}

function thresholdLines(u) {
  const css = getComputedStyle(document.documentElement);
  const { ctx, bbox } = u;
  ctx.save();
  ctx.setLineDash([4, 4]);
  ctx.lineWidth = 1;
  for (const [v, colour] of [[state.thresholds.warn, "--warn"], [state.thresholds.crit, "--crit"]]) {
    const y = Math.round(u.valToPos(v, "y", true)) + 0.5;
    ctx.strokeStyle = css.getPropertyValue(colour).trim();
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
  }
  ctx.restore();
}

export function drawChart(card, uPlot) {
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
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 },
    font: "12px system-ui, sans-serif", labelFont: "12px system-ui, sans-serif" };
  card.chart = new uPlot({
    width: box.clientWidth || 320,
    height: chartHeight(),
    scales: { x: { time: true, range: [since, until] }, y: { range: [0, 100] } },
    legend: { live: false },
    axes: [
      { ...axis, label: "local time", labelSize: 22, values: timeTicks },
      { ...axis, label: "% used", labelSize: 22, size: 44, values: (u, vals) => vals.map((v) => `${v}%`) },
    ],
    series: [{}, ...series.map((s, i) => ({
      label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true,
      value: (u, v) => (v === null || v === undefined ? "–" : fmtPct(v)),
    }))],
    // Dashed lines at the warn and crit thresholds give the curves a reference.
    hooks: { drawAxes: [thresholdLines] },
  }, data, box);
  card.chart.root.setAttribute("role", "img");
  card.chart.root.setAttribute("aria-label",
    `Usage history in % used over local time, last ${card.range}: `
    + series.map((s) => `${s.label} now ${fmtPct(s.used_pct.at(-1))}`).join(", "));
  if (!card.resize) {
    card.resize = new ResizeObserver(() => {
      if (card.chart && box.clientWidth) card.chart.setSize({ width: box.clientWidth, height: chartHeight() });
    });
    card.resize.observe(box);
  }
}

// A switch between light and dark redraws the open charts with the new axis colours.
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const card of state.cards.values()) if (card.chart && window.uPlot) drawChart(card, window.uPlot);
});
