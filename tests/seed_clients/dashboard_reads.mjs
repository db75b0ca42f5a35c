// What seed 000's page (AgentsUsageDashboard) reads from /api/data, ported from its field reads:
// per agent the status, plan badge, session/weekly bars with their reset countdown, the footer line
// (credits, Kimi's weekly requests, Claude's models, z.ai's limits), the summary averages, the
// Codex chart and when it polls next. Prints what the page would show, as JSON.
// Usage: node dashboard_reads.mjs URL NOW_MS   (NOW_MS stands in for the page's Date.now())
const [url, nowArg] = process.argv.slice(2);
const now = Number(nowArg);
const AGENTS = ['codex', 'kimi', 'claude', 'zai'];

const response = await fetch(url);
const data = await response.json();

// The page prefers reset_at (so a countdown stays right between polls) over remaining_seconds.
function secondsLeft(bar) {
  if (!bar) return null;
  if (bar.reset_at) return Math.max(0, Math.round((new Date(bar.reset_at).getTime() - now) / 1000));
  return bar.remaining_seconds ?? null;
}

function countdown(seconds) {
  if (seconds == null || seconds <= 0) return '';
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `\u21BB in ${hours}h ${minutes}m` : `\u21BB in ${minutes}m`;
}

function bar(field) {
  return { pct: Math.round((field?.usage_pct || 0) * 10) / 10, reset: countdown(secondsLeft(field)) };
}

function footer(id, agent) {
  let line = '';
  if (agent.credits) {
    const balance = agent.credits.balance != null ? agent.credits.balance : '';
    if (agent.credits.has_credits) line = `\u2B21 ${balance} credits`;
  }
  if (id === 'kimi' && agent.weekly) {
    line = `\u2B21 ${agent.weekly.used || 0} / ${agent.weekly.limit || '?'} weekly requests`;
  }
  if (id === 'claude' && agent.models) {
    const sonnet = agent.models.sonnet || 0;
    const opus = agent.models.opus || 0;
    if (sonnet > 0 || opus > 0) line = `\u2B21 Sonnet ${sonnet}% \u00B7 Opus ${opus}%`;
  }
  if (id === 'zai' && agent.limits_detail?.length) {
    const text = (v) => (v == null ? '' : String(v));
    line = `\u2B21 ${agent.limits_detail.map((l) => `${text(l.name)}: ${text(l.used)}/${text(l.total)}`).join(' \u00B7 ')}`;
  }
  return line;
}

const cards = {};
const sessions = [];
const weeklies = [];
for (const id of AGENTS) {
  const agent = data[id] || { status: 'offline', error: 'No data yet' };
  const down = agent.status === 'error' || agent.status === 'offline';
  const card = { status: agent.status, plan: agent.plan || '?' };
  if (!down) {
    card.session = bar(agent.session);
    card.weekly = bar(agent.weekly);
    if (agent.status === 'stale') card.stale = `Data may be stale: ${agent.error || 'fetch failed'}`;
    card.footer = footer(id, agent);
    if (agent.session) sessions.push(agent.session.usage_pct || 0);
    if (agent.weekly) weeklies.push(agent.weekly.usage_pct || 0);
  }
  cards[id] = card;
}
const average = (values) => (values.length ? Math.round(values.reduce((s, v) => s + v, 0) / values.length) : 0);

const daily = data.codex?.daily_breakdown ?? [];
const chart = daily.slice(-14).map((d, i) => {
  if (typeof d === 'number') return { day: `${i + 1}`, value: d };
  if (d.value != null) return { day: d.day || d.date || `${i + 1}`, value: d.value };
  return { day: `${i + 1}`, value: 0 };
});

let pollDelay = 30000;
if (data.next_refresh_at) {
  pollDelay = Math.max(10000, Math.min(new Date(data.next_refresh_at).getTime() - now + 2000, 300000));
}

console.log(JSON.stringify({
  cards,
  sessionAvg: average(sessions),
  weeklyAvg: average(weeklies),
  connected: AGENTS.filter((id) => data[id]?.status === 'ok').length,
  chart,
  lastFetch: data.last_fetch,
  pollDelay,
}));
