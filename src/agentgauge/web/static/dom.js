// Small DOM helpers and the live time elements (countdowns and ages) the once-a-second ticker updates.
import { fmtAge, fmtClock, fmtDuration } from "./format.js";

export const $ = (id) => document.getElementById(id);

// Tiny element builder: h("span", {class: "x"}, "text", child). Text always goes through
// text nodes, so nothing from the server is ever parsed as HTML.
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...kids);
  return el;
}

function countdownText(el) {
  const left = (Date.parse(el.dataset.reset) - Date.now()) / 1000;
  return left < 1 ? "resetting now" : `resets in ${fmtDuration(left)}`;
}

// "resets in 2h 05m", ticking; hover for the full local time.
export function countdown(iso) {
  const el = h("span", { class: "countdown", "data-reset": iso, title: `Resets ${new Date(iso).toLocaleString()}` });
  el.textContent = countdownText(el);
  return el;
}

function agoText(el) {
  return `${el.dataset.prefix}${fmtAge((Date.now() - Date.parse(el.dataset.since)) / 1000)}`;
}

// "updated 5m ago", ticking.
export function ago(iso, prefix) {
  const el = h("span", { class: "ago", "data-since": iso, "data-prefix": prefix, title: new Date(iso).toLocaleString() });
  el.textContent = agoText(el);
  return el;
}

// "14:05" (or "Mon 14:05"), re-rendered by the ticker so "today" stays right past midnight.
export function clock(iso, prefix = "") {
  const el = h("time", { class: "clock", datetime: iso, "data-clock": iso, "data-prefix": prefix,
    title: new Date(iso).toLocaleString() });
  el.textContent = `${prefix}${fmtClock(iso)}`;
  return el;
}

export function tick() {
  for (const el of document.querySelectorAll("[data-reset]")) el.textContent = countdownText(el);
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = agoText(el);
  for (const el of document.querySelectorAll("[data-clock]")) el.textContent = `${el.dataset.prefix}${fmtClock(el.dataset.clock)}`;
}
