// The popup: every account from the agentgauge server (bars, percents, countdowns, status, the
// data's age). Opening it asks the server for a refresh, which also asks this extension for the
// providers it reads; each provider's minimum interval still applies.
import { ago, countdown, level, pct } from "./lib/format.js";
import { enabledProviders, load } from "./lib/settings.js";
import * as server from "./lib/server.js";

const REFRESH_WAIT = 30; // seconds the popup waits for fresh data

const $ = (id) => document.getElementById(id);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("data-")) el.setAttribute(key, value);
    else if (key in el) el[key] = value;
    else el.setAttribute(key, value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

function windowRow(w, thresholds, now) {
  const used = w.reset_pending ? 0 : Number(w.used_pct) || 0;
  const shown = w.unlimited ? "∞" : pct(used);
  const fill = h("div", { class: `fill ${level(used, thresholds)}` });
  fill.style.width = `${w.unlimited ? 0 : Math.min(100, Math.max(0, used))}%`;
  const bar = h("div", { class: "bar", role: "progressbar", "aria-label": w.label }, fill);
  if (!w.unlimited) {
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", String(used));
  }
  let reset = "";
  if (w.reset_pending) reset = "reset, confirming…";
  else if (w.unlimited) reset = "unlimited";
  else if (w.resets_at) reset = `in ${countdown(w.resets_at, now)}`;
  return h(
    "div",
    { class: "win", "data-window": w.id },
    h("span", { class: "label", title: w.label }, w.label),
    bar,
    h("span", { class: "pct" }, shown),
    h("span", { class: "reset", title: w.resets_at || "" }, reset),
  );
}

function card(p, thresholds, now) {
  const meta = [];
  if (p.plan) meta.push(`Plan ${p.plan}`);
  if (p.source_label || p.source) meta.push(`via ${p.source_label || p.source}`);
  if (p.status === "ok" && p.fetched_at) meta.push(`updated ${ago(p.fetched_at, now)}`);
  if (p.status !== "ok" && p.last_success_at) meta.push(`data from ${ago(p.last_success_at, now)}`);
  const title = [p.name];
  if (p.account !== "default") title.push(h("span", { class: "acct-name" }, p.account));
  return h(
    "section",
    { class: "acct", "data-key": `${p.provider}/${p.account}`, "data-status": p.status },
    h("h2", {}, ...title, h("span", { class: `badge ${p.status}` }, p.status)),
    meta.length ? h("p", { class: "meta" }, meta.join(" · ")) : null,
    (p.windows || []).map((w) => windowRow(w, thresholds, now)),
    p.error ? h("p", { class: "problem" }, p.error.message) : null,
    p.error?.hint ? h("p", { class: "hint" }, p.error.hint) : null,
  );
}

function render(snapshot, thresholds) {
  const now = Date.now();
  const rows = snapshot.providers || [];
  const shown = rows.filter((p) => p.status !== "unconfigured" && p.status !== "disabled");
  $("accounts").replaceChildren(...shown.map((p) => card(p, thresholds, now)));
  const idle = rows.filter((p) => p.status === "unconfigured").map((p) => p.name);
  $("unconfigured").hidden = !idle.length;
  $("unconfigured").textContent = idle.length ? `Not configured: ${idle.join(", ")}` : "";
  if (!shown.length) $("accounts").replaceChildren(h("p", { class: "muted" }, "No account has data yet."));
}

function notice(text) {
  $("notice").hidden = !text;
  $("notice").textContent = text || "";
}

async function refresh(settings, thresholds, wait) {
  $("state").textContent = "refreshing…";
  $("refresh").disabled = true;
  try {
    const snapshot = await server.refresh(settings, enabledProviders(settings), wait);
    render(snapshot, thresholds);
    $("state").textContent = `updated ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
  } catch (error) {
    $("state").textContent = "offline";
    notice(error.message);
  } finally {
    $("refresh").disabled = false;
  }
}

async function main() {
  const settings = await load();
  $("dashboard").href = `${settings.server}/`;
  $("options").addEventListener("click", (event) => {
    event.preventDefault();
    chrome.runtime.openOptionsPage();
  });
  if (!settings.token) {
    $("state").textContent = "not paired";
    notice("Pair this extension with your agentgauge server in Options.");
    $("refresh").disabled = true;
    return;
  }
  chrome.runtime.sendMessage({ type: "wake" }).catch(() => {});
  let thresholds = { warn: 40, crit: 70 };
  try {
    const hello = await server.hello(settings);
    thresholds = hello.thresholds || thresholds;
    render(await server.usage(settings), thresholds); // what the server has now, then fresh data
  } catch (error) {
    $("state").textContent = error.status === 401 ? "not paired" : "offline";
    notice(error.message);
    return;
  }
  $("refresh").addEventListener("click", () => refresh(settings, thresholds, REFRESH_WAIT));
  await refresh(settings, thresholds, REFRESH_WAIT);
}

main();
