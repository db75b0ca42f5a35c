// One card per provider account: status, problem, windows, balances, breakdowns, warnings, history.
import { RANGES, loadHistory, selectRange } from "./chart.js";
import { ago, clock, countdown, h, svg } from "./dom.js";
import { errorHeadline, fmtAmount, fmtBalance, fmtBreakdownTotal, fmtClock, fmtForecast, fmtForecastRange, fmtPair,
  fmtPct, retryAt, sourceLabel } from "./format.js";
import { displayName, isWaiting, keyOf, level, shownPct, staleSince } from "./state.js";

const STATUS_TEXT = { ok: "ok", stale: "stale", error: "error", unconfigured: "not configured", disabled: "disabled" };
const has = (x) => x !== null && x !== undefined;

function resetLine(w) {
  const out = [];
  if (w.reset_pending) out.push(h("span", { class: "confirming" }, "reset, confirming…"));
  else if (w.resets_at) out.push(countdown(w.resets_at), h("span", { class: "abs" }, " · ", clock(w.resets_at)));
  else if (!w.unlimited) out.push(h("span", { class: "muted" }, "no scheduled reset"));
  if (w.reset_pending) return out; // the old amount belongs to the cycle that just ended
  if (has(w.used) && has(w.limit) && !w.unlimited) out.push(h("span", { class: "amount" }, fmtPair(w.used, w.limit, w.unit)));
  else if (has(w.used)) out.push(h("span", { class: "amount" }, `${fmtAmount(w.used, w.unit)} used`));
  return out;
}

// The forecast (docs/forecast.md): a marker on the bar where linear pace would put usage now, and the
// verdict in words under it; hovering the words shows the p10-p90 range at the reset.
function paceMarker(w) {
  const f = w.forecast;
  if (!f || w.reset_pending || typeof f.pace_pct !== "number") return null;
  return h("span", { class: "pace", style: `left:${Math.max(0, Math.min(100, f.pace_pct))}%`, "aria-hidden": "true",
    title: `pace: ${fmtPct(f.pace_pct)} by now` });
}

function forecastLine(w) {
  const f = w.forecast;
  if (!f || w.reset_pending) return null;
  return h("div", { class: "forecast", "data-verdict": f.verdict, title: fmtForecastRange(f) }, fmtForecast(f));
}

function windowRow(w) {
  if (w.unlimited) {
    return h("li", { class: "win", "data-window": w.id, "data-state": "unlimited" },
      h("div", { class: "win-top" }, h("span", { class: "win-label" }, w.label), h("span", { class: "pct unlimited" }, "unlimited")),
      h("div", { class: "bar unlimited", role: "img", "aria-label": `${w.label}: unlimited` }),
      h("div", { class: "reset" }, resetLine(w)));
  }
  const pct = shownPct(w);
  const text = fmtPct(pct);
  return h("li", { class: "win", "data-window": w.id, "data-state": w.reset_pending ? "reset-pending" : "normal" },
    h("div", { class: "win-top" },
      h("span", { class: "win-label" }, w.label),
      h("span", { class: "pct", "data-level": level(pct) }, text)),
    h("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(pct), "aria-label": `${w.label} ${text} used`, "data-level": level(pct) },
    h("div", { class: "fill", style: `width:${Math.max(0, Math.min(100, pct))}%` }), paceMarker(w)),
    h("div", { class: "reset" }, resetLine(w)), forecastLine(w));
}

function balanceRow(b) {
  const when = [];
  if (b.resets_at) when.push(countdown(b.resets_at));
  if (b.expires_at) when.push(clock(b.expires_at, "expires "));
  return h("li", { class: "balance", "data-balance": b.id },
    h("div", { class: "win-top" }, h("span", { class: "win-label" }, b.label), h("span", { class: "bal-value" }, fmtBalance(b))),
    when.length ? h("div", { class: "reset" }, when) : null);
}

// A few bars in a line, so the shape of a breakdown (tokens per day...) shows without opening it.
function sparkline(items) {
  const values = items.map((it) => Math.max(0, it.value || 0));
  const max = Math.max(...values, 0) || 1;
  const w = 4;
  const gap = 1;
  const bars = values.map((v, i) => svg("rect", { x: i * (w + gap), y: 16 - (v / max) * 16, width: w,
    height: Math.max(0.5, (v / max) * 16), rx: 0.5 }));
  return svg("svg", { class: "spark", viewBox: `0 0 ${Math.max(1, values.length * (w + gap) - gap)} 16`,
    width: Math.min(120, values.length * (w + gap)), height: 16, "aria-hidden": "true" }, ...bars);
}

function breakdownBlock(bd) {
  const items = bd.items || [];
  const rows = items.map((it) => h("tr", {},
    h("th", { scope: "row" }, it.label || it.key),
    h("td", {}, has(it.limit) ? fmtPair(it.value, it.limit, bd.unit) : fmtAmount(it.value, bd.unit))));
  return h("details", { class: "breakdown", "data-breakdown": bd.id },
    h("summary", {}, h("span", { class: "win-label" }, bd.label), sparkline(items),
      h("span", { class: "muted bd-total" }, fmtBreakdownTotal(bd))),
    h("table", {}, h("caption", { class: "sr-only" }, bd.label), rows));
}

function warningsNote(warnings) {
  if (!warnings || !warnings.length) return [];
  return [h("b", {}, "Partial data: "), `${warnings.length === 1 ? "this part" : "these parts"} did not parse`,
    h("ul", {}, warnings.map((wn) => h("li", { title: wn.hint || null }, wn.message)))];
}

function statusBadge(p) {
  const since = p.status === "stale" && !isWaiting(p) ? staleSince(p) : null;
  const word = isWaiting(p) ? "waiting" : STATUS_TEXT[p.status] || p.status;
  return [h("span", { class: "dot", "aria-hidden": "true" }), word, since ? [" since ", clock(since)] : null];
}

function problemParts(p) {
  if (isWaiting(p)) return [h("p", { class: "when" }, "Waiting for the first refresh…")];
  if (!p.error || (p.status !== "stale" && p.status !== "error")) return [];
  const again = p.error.kind === "rate_limited" ? retryAt(p) : null;
  const out = [h("p", { class: "headline" }, errorHeadline(p.error.kind, p.name, again && again > Date.now() ? fmtClock(again) : null))];
  if (p.status === "stale" && p.last_success_at) out.push(h("p", { class: "when" }, ago(p.last_success_at, "showing data from ")));
  if (p.status === "error" && p.last_success_at) out.push(h("p", { class: "when" }, ago(p.last_success_at, "last success ")));
  out.push(h("p", { class: "msg" }, p.error.message));
  if (p.error.hint) out.push(h("p", { class: "hint" }, p.error.hint));
  return out;
}

// An open incident on the provider's status page: a badge linking to it.
function incidentBadge(p) {
  const i = p.incident;
  if (!i) return [];
  const text = i.impact === "maintenance" ? "maintenance" : "incident";
  return [h("a", { class: "incident", href: i.url || null, target: "_blank", rel: "noopener noreferrer",
    "data-impact": i.impact, title: `${p.name} status: ${i.title} (${i.status})` }, `⚠ ${text}`)];
}

export function makeCard(p, onRefresh) {
  const key = keyOf(p);
  const titleId = `t-${key.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
  const parts = {
    title: h("h2", { id: titleId }),
    status: h("span", { class: "status" }),
    incident: h("span", { class: "incident-slot" }),
    refresh: h("button", { type: "button", class: "btn icon refresh", onclick: () => onRefresh(key) }, "↻"),
    meta: h("p", { class: "meta" }),
    problem: h("div", { class: "problem", role: "group", "aria-label": "Problem" }),
    partial: h("div", { class: "partial", role: "note" }),
    windows: h("ul", { class: "windows" }),
    balances: h("ul", { class: "balances" }),
    breakdowns: h("div", { class: "breakdowns" }),
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
    h("header", { class: "card-head" }, parts.title, parts.incident, parts.status, parts.refresh),
    parts.meta, parts.problem, parts.partial, parts.windows, parts.balances, parts.breakdowns, parts.history);
  return card;
}

function show(el, kids) {
  el.replaceChildren(...kids);
  el.hidden = kids.length === 0;
}

// Every update re-renders each card, and some parts are rebuilt whole (breakdowns, the incident link).
// Keyboard focus on a control inside one moves to the control at the same place in the new content,
// so a live update never throws a keyboard user back to the top of the page.
const FOCUSABLE = "a[href], button, summary, input, select, [tabindex]";

function rebuilding(el, rebuild) {
  const active = document.activeElement;
  const at = active && el.contains(active) ? [...el.querySelectorAll(FOCUSABLE)].indexOf(active) : -1;
  rebuild();
  if (at >= 0) el.querySelectorAll(FOCUSABLE)[at]?.focus({ preventScroll: true });
}

export function fillCard(card, p) {
  const { parts } = card;
  card.el.dataset.status = p.status;
  parts.title.replaceChildren(p.name, p.account !== "default" ? h("span", { class: "acct" }, p.account) : "");
  parts.status.replaceChildren(...statusBadge(p).flat().filter(Boolean));
  rebuilding(parts.incident, () => parts.incident.replaceChildren(...incidentBadge(p)));
  parts.refresh.setAttribute("aria-label", `Refresh ${displayName(p)}`);
  parts.refresh.title = `Refresh ${displayName(p)}`;

  const meta = [];
  if (p.plan) meta.push(h("span", {}, "Plan ", h("b", {}, p.plan)));
  const source = sourceLabel(p);
  if (source) meta.push(h("span", { class: "source" }, "via ", source));
  // On a hub (docs/hub.md): the machine whose push is shown; the others that push it in the tooltip.
  if (p.machine) {
    const others = (p.seen_from || []).filter((m) => m !== p.machine);
    meta.push(h("span", { class: "badge machine", title: others.length ? `also pushed by ${others.join(", ")}`
      : `pushed by ${p.machine}` }, "from ", p.machine, others.length ? ` +${others.length}` : ""));
  }
  if (p.status === "ok" && p.fetched_at) meta.push(ago(p.fetched_at, "updated "));
  if (p.status === "disabled") meta.push(h("span", {}, "Disabled in the configuration"));
  show(parts.meta, meta);

  show(parts.problem, problemParts(p));
  show(parts.partial, warningsNote(p.warnings));
  show(parts.windows, (p.windows || []).map(windowRow));
  show(parts.balances, (p.balances || []).map(balanceRow));
  // Rebuilding a breakdown would close it under the reader's eyes: keep open ones open.
  const open = new Set([...parts.breakdowns.querySelectorAll("details[open]")].map((d) => d.dataset.breakdown));
  const blocks = (p.breakdowns || []).map(breakdownBlock);
  for (const b of blocks) if (open.has(b.dataset.breakdown)) b.open = true;
  rebuilding(parts.breakdowns, () => show(parts.breakdowns, blocks));
  // History only makes sense for accounts that ever reported windows.
  parts.history.hidden = p.status === "disabled" || (p.status === "error" && !p.last_success_at)
    || !(p.windows || []).length;
  if (parts.history.open && !parts.history.hidden) loadHistory(card);
}

export function dropCard(card) {
  card.chart?.destroy();
  card.resize?.disconnect();
  card.el.remove();
}
