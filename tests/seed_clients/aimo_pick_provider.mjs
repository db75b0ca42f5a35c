// Seed 003 (aimo)'s agent snippet, ported: read the usage array and pick the provider whose
// most-used window leaves the most room. Usage: node aimo_pick_provider.mjs URL [POST]
// The seed calls GET /api/usage; agentgauge serves that array at /api/usage?format=aimo.
const [url, method = 'GET'] = process.argv.slice(2);

const response = await fetch(url, { method });
const accounts = await response.json();

// 100 minus the tightest window; an account that failed or has no windows ranks last.
function headroom(account) {
  if (!account.ok || !account.windows?.length) return -1;
  const tightest = Math.max(...account.windows.map((w) => w.used_pct ?? 0));
  return 100 - tightest;
}

const ranked = accounts.filter((a) => a.ok).sort((a, b) => headroom(b) - headroom(a));
const best = ranked[0];
console.log(`Dispatch to ${best.provider} — ${headroom(best).toFixed(1)}% headroom on its tightest window`);
