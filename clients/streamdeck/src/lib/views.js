// What a dial's touch-strip slot shows: one agent, in one of three views, as the feedback payload for
// layouts/agent.json (its item keys). A pure function of the data, the connection and the time.
// Missing numbers are shown as missing ("–", hidden bars), never as 0 %.

import { ago, clock, countdown, fit, fmtPct } from "./format.js";
import { agentIconSvg, dotSvg, gaugeIconSvg, svgDataUrl } from "./icons.js";
import { COLORS, DEFAULT_THRESHOLDS, levelColor } from "./levels.js";
import { shownPct } from "./model.js";

/** @typedef {import("./model.js").Model} Model */
/** @typedef {import("./model.js").Agent} Agent */
/** @typedef {import("./model.js").Window} Window */
/** @typedef {import("./levels.js").Thresholds} Thresholds */

/**
 * @typedef {object} Connection how the last poll of the server went
 * @property {"connecting" | "ok" | "offline" | "unauthorized" | "failed"} status
 * @property {string | null} message a few words on a failure, for the footer (never the token)
 * @property {string | null} [detail] the whole message, for the log
 * @property {number | null} lastOkAt epoch ms of the last good answer
 * @property {boolean} tokenSent whether the failing request carried a token
 */

/**
 * @typedef {object} DialInput
 * @property {string} agentKey the chosen agent, "" when none is chosen yet
 * @property {Model | null} model the last good answer (kept while the server is offline)
 * @property {Connection} connection
 * @property {number} view 0 bars, 1 numbers with countdowns, 2 weekly forecast
 * @property {number} now epoch ms
 * @property {Thresholds} [thresholds]
 * @property {boolean} [refreshing] a push's refresh is under way
 */

/** @typedef {{value: string, color: string}} TextItem */
/** @typedef {{value: number, opacity: number, bar_fill_c?: string}} BarItem */
/** @typedef {{value: string}} PixmapItem */
/**
 * @typedef {object} Feedback the setFeedback payload: one entry per item of layouts/agent.json
 * @property {PixmapItem} icon
 * @property {TextItem} name
 * @property {PixmapItem} dot
 * @property {TextItem} label1
 * @property {BarItem} bar1
 * @property {TextItem} value1
 * @property {TextItem} label2
 * @property {BarItem} bar2
 * @property {TextItem} value2
 * @property {TextItem} footer
 */

export const VIEWS = /** @type {const} */ (["bars", "numbers", "forecast"]);
export const LAYOUT_KEYS = /** @type {const} */ ([
  "icon",
  "name",
  "dot",
  "label1",
  "bar1",
  "value1",
  "label2",
  "bar2",
  "value2",
  "footer",
]);
const FOOTER_CHARS = 30; // what fits the 192 px footer at the layout's font size

/**
 * @typedef {object} Situation what to say before (or instead of) the numbers
 * @property {Agent | null} agent
 * @property {boolean} showNumbers
 * @property {boolean} dim the numbers are not live (server offline, token refused)
 * @property {string} dotColor
 * @property {boolean} hollowDot
 * @property {string | null} text a footer that overrides the view's own
 * @property {string} textColor that footer's colour
 */

/**
 * @param {DialInput} input
 * @returns {Situation}
 */
export function situation(input) {
  const s = situationOf(input);
  return { ...s, textColor: s.dotColor === COLORS.grey || s.dotColor === COLORS.ok ? COLORS.muted : s.dotColor };
}

/**
 * @param {DialInput} input
 * @returns {Omit<Situation, "textColor">}
 */
function situationOf(input) {
  const { agentKey, model, connection, now } = input;
  const agent = model?.agents.find((a) => a.key === agentKey) ?? null;
  if (!agentKey) {
    return {
      agent: null,
      showNumbers: false,
      dim: false,
      dotColor: COLORS.grey,
      hollowDot: true,
      text: "pick an agent in its settings",
    };
  }
  if (connection.status !== "ok") {
    const reason = connectionWords(connection);
    const red = connection.status === "unauthorized" || connection.status === "failed";
    if (!agent) {
      return {
        agent: null,
        showNumbers: false,
        dim: true,
        dotColor: red ? COLORS.crit : COLORS.grey,
        hollowDot: true,
        text: reason,
      };
    }
    const age = model ? ` · ${countdown((now - model.receivedAt) / 1000)} old` : "";
    return {
      agent,
      showNumbers: agent.windows.length > 0,
      dim: true,
      dotColor: red ? COLORS.crit : COLORS.grey,
      hollowDot: true,
      text: `${reason}${age}`,
    };
  }
  if (!agent) {
    return {
      agent: null,
      showNumbers: false,
      dim: false,
      dotColor: COLORS.grey,
      hollowDot: true,
      text: "not on this server",
    };
  }
  switch (agent.status) {
    case "ok":
      return {
        agent,
        showNumbers: true,
        dim: false,
        dotColor: COLORS.ok,
        hollowDot: false,
        text: agent.windows.length ? null : (agent.note ?? "no windows"),
      };
    case "stale": {
      const since = agent.lastSuccessAt === null ? "" : ` · ${ago((now - agent.lastSuccessAt) / 1000)}`;
      return { agent, showNumbers: true, dim: false, dotColor: COLORS.warn, hollowDot: false, text: `stale${since}` };
    }
    case "error":
      return {
        agent,
        showNumbers: agent.windows.length > 0,
        dim: true,
        dotColor: COLORS.crit,
        hollowDot: false,
        text: `error: ${agent.error ?? "fetch failed"}`,
      };
    case "unconfigured":
      return {
        agent,
        showNumbers: false,
        dim: false,
        dotColor: COLORS.grey,
        hollowDot: true,
        text: "not set up: agentgauge doctor",
      };
    case "waiting":
      return {
        agent,
        showNumbers: false,
        dim: false,
        dotColor: COLORS.grey,
        hollowDot: true,
        text: "waiting for the first fetch",
      };
    default:
      return {
        agent,
        showNumbers: false,
        dim: false,
        dotColor: COLORS.grey,
        hollowDot: true,
        text: "disabled in the config",
      };
  }
}

/**
 * @param {Connection} connection
 * @returns {string}
 */
export function connectionWords(connection) {
  switch (connection.status) {
    case "connecting":
      return "connecting…";
    case "offline":
      return "server offline";
    case "unauthorized":
      return connection.tokenSent ? "token refused" : "server needs a token";
    case "failed":
      return connection.message ?? "server error";
    default:
      return "";
  }
}

/**
 * The feedback payload for layouts/agent.json.
 * @param {DialInput} input
 * @returns {Feedback}
 */
export function dialFeedback(input) {
  const thresholds = input.thresholds ?? DEFAULT_THRESHOLDS;
  const view = ((input.view % VIEWS.length) + VIEWS.length) % VIEWS.length;
  const s = situation(input);
  const agent = s.agent;
  const textColor = s.dim ? COLORS.muted : COLORS.text;
  const shown =
    s.showNumbers && agent
      ? viewRows(VIEWS[view], agent, input.now, thresholds)
      : { rows: [hidden(), hidden()], footer: "" };
  const [row1, row2] = shown.rows;
  /** @param {Row} row */
  const bar = (row) =>
    row.bar === null
      ? { value: 0, opacity: 0 }
      : {
          value: Math.max(0, Math.min(100, row.bar)),
          bar_fill_c: s.dim ? COLORS.grey : row.color,
          opacity: s.dim ? 0.5 : 1,
        };
  const footer = input.refreshing ? "refreshing…" : (s.text ?? shown.footer);
  return {
    icon: { value: svgDataUrl(agent ? agentIconSvg(agent.provider, agent.name) : gaugeIconSvg()) },
    name: { value: fit(agent?.name ?? (input.agentKey || "agentgauge"), 18), color: COLORS.text },
    dot: { value: svgDataUrl(dotSvg(s.dotColor, s.hollowDot)) },
    label1: { value: row1.label, color: textColor },
    bar1: bar(row1),
    value1: { value: row1.value, color: textColor },
    label2: { value: row2.label, color: textColor },
    bar2: bar(row2),
    value2: { value: row2.value, color: textColor },
    footer: {
      value: fit(footer, FOOTER_CHARS),
      color: s.text !== null && !input.refreshing ? s.textColor : COLORS.muted,
    },
  };
}

/**
 * @typedef {object} Row
 * @property {string} label text in front of the bar ("5h 35%")
 * @property {number | null} bar the bar's value, null to hide it
 * @property {string} color the bar's fill
 * @property {string} value text in the bar's place (the numbers view)
 */

/** @returns {Row} */
function hidden() {
  return { label: "", bar: null, color: COLORS.grey, value: "" };
}

/**
 * @param {typeof VIEWS[number]} view
 * @param {Agent} agent
 * @param {number} now
 * @param {Thresholds} thresholds
 * @returns {{rows: [Row, Row], footer: string}}
 */
function viewRows(view, agent, now, thresholds) {
  if (view === "numbers") {
    const resets = [agent.primary, agent.secondary]
      .filter((w) => w !== null && w.resetAt !== null && w.resetAt > now)
      .map((w) => clock(/** @type {number} */ (/** @type {Window} */ (w).resetAt), now));
    return {
      rows: [numberRow(agent.primary, now), numberRow(agent.secondary, now)],
      footer: resets.length ? `↻ ${resets.join(" · ")}` : "",
    };
  }
  if (view === "forecast") {
    const focus = agent.weekly ?? agent.secondary ?? agent.primary;
    return { rows: [barRow(focus, now, thresholds), forecastRow(focus, thresholds)], footer: verdictWords(focus, now) };
  }
  const age = agent.lastSuccessAt === null ? null : ago((now - agent.lastSuccessAt) / 1000);
  return {
    rows: [barRow(agent.primary, now, thresholds), barRow(agent.secondary, now, thresholds)],
    footer: [agent.plan, age].filter(Boolean).join(" · "),
  };
}

/**
 * @param {Window} w
 * @param {number} now
 */
function pending(w, now) {
  return w.resetPending || (w.resetAt !== null && w.resetAt <= now);
}

/**
 * @param {Window} w
 * @param {number} now
 */
function rowLabel(w, now) {
  if (w.unlimited) return `${w.short} ∞`;
  return `${w.short} ${fmtPct(shownPct(w, now))}`;
}

/**
 * @param {Window | null} w
 * @param {number} now
 * @param {Thresholds} thresholds
 * @returns {Row}
 */
function barRow(w, now, thresholds) {
  if (w === null) return hidden();
  const pct = shownPct(w, now);
  if (w.unlimited) return { label: rowLabel(w, now), bar: null, color: COLORS.grey, value: "unlimited" };
  if (pct === null) return { label: rowLabel(w, now), bar: null, color: COLORS.grey, value: "no figure" };
  return { label: rowLabel(w, now), bar: pct, color: levelColor(pct, thresholds), value: "" };
}

/**
 * @param {Window | null} w
 * @param {number} now
 * @returns {Row}
 */
function numberRow(w, now) {
  if (w === null) return hidden();
  let value;
  if (w.unlimited) value = "unlimited";
  else if (pending(w, now)) value = "reset, confirming…";
  else if (w.resetAt !== null) value = `↻ ${countdown((w.resetAt - now) / 1000)}`;
  else value = "no reset time";
  return { label: rowLabel(w, now), bar: null, color: COLORS.grey, value };
}

/**
 * @param {Window | null} w
 * @param {Thresholds} thresholds
 * @returns {Row}
 */
function forecastRow(w, thresholds) {
  const f = w?.forecast ?? null;
  if (w === null) return hidden();
  if (f === null || f.expectedPct === null)
    return { label: "→ ?", bar: null, color: COLORS.grey, value: "no forecast yet" };
  if (f.verdict === "learning") return { label: "→ ?", bar: null, color: COLORS.grey, value: "learning the pace…" };
  return {
    label: `→ ${fmtPct(f.expectedPct)}`,
    bar: f.expectedPct,
    color: levelColor(f.expectedPct, thresholds),
    value: "",
  };
}

/**
 * The forecast in words, for the forecast view's footer.
 * @param {Window | null} w
 * @param {number} now
 * @returns {string}
 */
export function verdictWords(w, now) {
  if (w === null) return "";
  const f = w.forecast;
  const reset = w.resetAt !== null && w.resetAt > now ? `↻ ${clock(w.resetAt, now)}` : "";
  const withReset = (/** @type {string} */ text) => (reset ? `${text} · ${reset}` : text);
  switch (f?.verdict) {
    case "will_run_out":
      return f.runsOutAt !== null ? `runs out ${clock(f.runsOutAt, now)}` : "runs out before the reset";
    case "watch":
      return f.highPct !== null ? `may run out (p90 ${fmtPct(f.highPct)})` : "may run out";
    case "surplus":
      return withReset("surplus");
    case "ok":
      return withReset("on track");
    default:
      return reset;
  }
}
