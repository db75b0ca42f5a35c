"""``cost_summary`` for the dashboard and the API: cost today / last 7 days / last 30 days, per
reported agent and per model, from the index only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from ..store import Store
from . import pricing
from ._periods import local_day
from ._report import ESTIMATE_NOTE, Acc, Filters, entries_by_day, entry_cost, sum_fields

# Always present in ``agents`` (the dashboard's columns); other agents appear when they have usage.
ALWAYS = ("claude", "codex")


def cost_summary(store: Store, *, now: datetime, tz: tzinfo) -> dict[str, Any]:
    """Cost today / 7 days / 30 days (local dates in ``tz``, today included), per agent and per
    model, JSON-ready. Reads only the index; call ``refresh_index`` to update it."""
    today = now.astimezone(tz).date()
    f = Filters(since=today - timedelta(days=29), until=today, tz=tz)
    rows = entries_by_day(store, f)
    prices = pricing.rates(store, {(e.reader, e.model) for e in rows})
    spans = (("today", 1), ("7d", 7), ("30d", 30))
    per: dict[str, dict[tuple[str, str], Acc]] = {name: {} for name, _ in spans}
    days: dict[int, date] = {}
    for e in rows:
        day = local_day(days, e.day)
        cost = entry_cost(prices, e)
        for name, span in spans:
            if today - timedelta(days=span - 1) <= day <= today:
                per[name].setdefault((e.agent, e.model), Acc()).add(
                    e.n, e.input, e.output, e.cache_write, e.cache_read, e.reasoning, cost
                )
    seen = sorted({agent for accs in per.values() for agent, _ in accs} - set(ALWAYS))
    periods: dict[str, Any] = {}
    for name, span in spans:
        accs = per[name]
        periods[name] = {
            "since": (today - timedelta(days=span - 1)).isoformat(),
            "until": today.isoformat(),
            **sum_fields(accs.values(), True),
            "agents": {
                agent: sum_fields([a for (ag, _), a in accs.items() if ag == agent], True) for agent in (*ALWAYS, *seen)
            },
            "models": [
                {
                    "agent": ag,
                    "modelName": m,
                    "entries": a.entries,
                    "inputTokens": a.input,
                    "outputTokens": a.output,
                    "cacheCreationTokens": a.cache_write,
                    "cacheReadTokens": a.cache_read,
                    "reasoningOutputTokens": a.reasoning,
                    "totalTokens": a.total,
                    "cost": None if a.cost is None else round(a.cost, 6),
                }
                for (ag, m), a in sorted(accs.items(), key=lambda kv: (-(kv[1].cost or 0), kv[0]))
            ],
        }
    return {
        "generatedAt": now.astimezone(UTC).isoformat(),
        "timezone": str(tz),
        "costIsEstimate": True,
        "costNote": ESTIMATE_NOTE,
        "pricingSource": pricing.SOURCE,
        "periods": periods,
    }
