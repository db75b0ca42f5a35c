// agentgauge dashboard: one card per provider account, live over Server-Sent Events.
// Plain DOM code in ES modules, no build step. Every URL is relative ("api/usage", never "/api/usage")
// so the page keeps working when a reverse proxy serves it under a sub-path.
// Modules: format.js (the number and wording rules, shared with the CLI), state.js, dom.js, cards.js,
// chart.js. The exports below let tests reach the page's state.
import { dropCard, fillCard, makeCard } from "./cards.js";
import { loadAlerts } from "./alerts.js";
import { initSpend, loadSpend } from "./spend.js";
import { $, clock, countdown, h, tick } from "./dom.js";
import { fmtAmount, fmtPct } from "./format.js";
import { api, byUrgency, displayName, isWaiting, keyOf, level, limitedWindows, shownPct, staleSince, state,
  tightestPct } from "./state.js";

export { state };

const ORDER_KEY = "agentgauge.order";
// POSTs carry the session's CSRF token (the server puts it in the page for a signed-in browser).
const POST = { method: "POST", headers: { Accept: "application/json",
  "X-AgentGauge-CSRF": document.querySelector('meta[name="agentgauge-csrf"]')?.content ?? "" } };

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
  const all = [...state.accounts.values()];
  const shown = all.filter((p) => p.status !== "unconfigured");
  const unconfigured = all.filter((p) => p.status === "unconfigured");
  if (state.order === "urgency") shown.sort(byUrgency);

  container.querySelector(".loading")?.remove();
  for (const [key, card] of state.cards) {
    if (!shown.some((p) => keyOf(p) === key)) {
      dropCard(card);
      state.cards.delete(key);
    }
  }
  // Insert in display order; an element already in place is not moved, which keeps focus on a
  // button that lives inside the card.
  let prev = null;
  for (const p of shown) {
    let card = state.cards.get(keyOf(p));
    if (!card) {
      card = makeCard(p, refreshOne);
      state.cards.set(card.key, card);
    }
    fillCard(card, p);
    const want = prev ? prev.nextSibling : container.firstChild;
    if (want !== card.el) container.insertBefore(card.el, want);
    prev = card.el;
  }

  $("empty").hidden = shown.length > 0;
  $("refresh-all").hidden = shown.length === 0;
  $("order-box").hidden = shown.length < 2;
  const list = $("unconfigured");
  list.hidden = unconfigured.length === 0;
  list.replaceChildren(h("b", {}, "Not configured: "), unconfigured.map(displayName).join(", "),
    " — ", h("code", {}, "agentgauge doctor"), " shows what each needs.");
  renderSummary();
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// Header: the tightest window anywhere (saying when its number is stale), the account with the most
// headroom, and how many accounts are stale or failing.
function renderSummary() {
  let tight = null;
  let roomy = null;
  let stale = 0;
  let failing = 0;
  for (const p of state.accounts.values()) {
    if (p.status === "error") failing += 1;
    if (p.status === "stale" && !isWaiting(p)) stale += 1;
    if ((p.status !== "ok" && p.status !== "stale") || isWaiting(p)) continue;
    for (const w of limitedWindows(p)) if (!tight || shownPct(w) > shownPct(tight.w)) tight = { p, w };
    const max = tightestPct(p);
    if (p.status === "ok" && max !== null && (!roomy || max < roomy.max)) roomy = { p, max };
  }
  const out = [];
  if (tight) {
    const pct = shownPct(tight.w);
    const isStale = tight.p.status === "stale";
    const since = isStale ? staleSince(tight.p) : null;
    let when = "";
    if (isStale) when = [" ", h("span", { class: "stale-note" }, since ? ["stale since ", clock(since)] : "stale")];
    else if (tight.w.resets_at && !tight.w.reset_pending) when = [" (", countdown(tight.w.resets_at), ")"];
    out.push(h("span", { class: "tightest", "data-level": level(pct), "data-stale": String(isStale) }, "Tightest: ",
      h("b", {}, `${displayName(tight.p)} · ${tight.w.label} ${fmtPct(pct)}`), when));
  }
  if (roomy) {
    out.push(h("span", { class: "headroom" }, "Most headroom: ",
      h("b", {}, displayName(roomy.p)), ` (at most ${fmtPct(roomy.max)} used)`));
  }
  const trouble = [];
  if (stale) trouble.push(`${plural(stale, "account", "accounts")} stale`);
  if (failing) trouble.push(`${plural(failing, "account", "accounts")} in error`);
  if (trouble.length) out.push(h("span", { class: "health" }, trouble.join(", ")));
  $("summary").replaceChildren(...out);
  document.title = tight ? `${fmtPct(shownPct(tight.w))}${tight.p.status === "stale" ? " (stale)" : ""} · agentgauge`
    : "agentgauge";
}

function notice(text) {
  const el = $("notice");
  el.textContent = text || "";
  el.hidden = !text;
}

function setOrder(order) {
  state.order = order === "urgency" ? "urgency" : "config";
  localStorage.setItem(ORDER_KEY, state.order);
  $("order").value = state.order;
  if (state.accounts.size) render();
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
  return withBusy(card.parts.refresh, card.el, async () => applySnapshot(await api(`api/refresh?${q}`, POST), false));
}

function refreshAll() {
  return withBusy($("refresh-all"), document.body, async () => applySnapshot(await api("api/refresh?wait=30", POST), false));
}

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

const fmtUsd = (x) => (x === null || x === undefined ? "?" : fmtAmount(x, "usd"));

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

// Signed in with a session or the token's login: a way out (docs/users.md).
async function initSignOut() {
  const me = await api("api/me").catch(() => null);
  if (!me?.can_sign_out) return;
  $("sign-out").hidden = false;
  $("sign-out").title = me.user ? `Signed in as ${me.user.name} (${me.role})` : "Signed in with the access token";
  $("sign-out").addEventListener("click", async () => {
    await fetch("logout", POST).catch(() => {});
    location.assign("login");
  });
}

async function start() {
  initSignOut();
  $("refresh-all").addEventListener("click", refreshAll);
  $("order").addEventListener("change", (e) => setOrder(e.target.value));
  setOrder(localStorage.getItem(ORDER_KEY));
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
  initSpend();
  loadSpend();
  setInterval(loadSpend, 5 * 60 * 1000);
  loadAlerts();
  setInterval(loadAlerts, 60 * 1000);
}

start();
