"""Reports over the index: daily/weekly/monthly (here), session and block breakdowns
(``breakdown``) and the dashboard's summary (``summary``), with ccusage's JSON field names, across
agents. Everything reads the store only, never the logs; ``_report`` has the shared parts and their
rules (reported agents, unknown cost)."""

from __future__ import annotations

from typing import Any

from ..store import Store
from ._report import (
    BREAKDOWNS,
    CLOUD,
    ESTIMATE_NOTE,
    Acc,
    Bucket,
    Entry,
    Filters,
    all_agents,
    breakdowns,
    buckets,
    entries_by_day,
    entry_cost,
    envelope,
    merge_into,
    period_key,
    readers_of,
    sum_fields,
    where,
    with_reasoning,
)
from .breakdown import block_breakdowns, session_report
from .summary import cost_summary


def period_report(
    store: Store, f: Filters, period: str, *, start_of_week: int = 6, reprice: bool = False
) -> dict[str, Any]:
    """``daily`` -> ``daily[].date``, ``weekly`` -> ``weekly[].week``, ``monthly`` -> ``monthly[].month``;
    with ``by`` agent or project each row also has ``agentBreakdowns`` / ``projectBreakdowns``."""
    label = {"daily": "date", "weekly": "week", "monthly": "month"}[period]
    reasoning = with_reasoning(f)
    rows: list[dict[str, Any]] = []
    everything: dict[str, Acc] = {}
    for key, bucket in buckets(store, f, period, start_of_week=start_of_week, reprice=reprice).items():
        row = {
            label: key,
            **sum_fields(bucket.models.values(), reasoning),
            "modelsUsed": sorted(bucket.models),
            "modelBreakdowns": breakdowns(bucket.models, reasoning),
            "metadata": {"agents": sorted(bucket.agents)},  # as ccusage's all-agent report
        }
        if f.by in BREAKDOWNS:
            row[BREAKDOWNS[f.by]] = breakdowns(bucket.groups, reasoning, name=f.by, cost="totalCost")
        rows.append(row)
        merge_into(everything, bucket.models)
    return envelope(period, rows, everything, reasoning, f)


_where = where  # the name blocks.py imports

__all__ = [
    "BREAKDOWNS",
    "CLOUD",
    "ESTIMATE_NOTE",
    "Acc",
    "Bucket",
    "Entry",
    "Filters",
    "all_agents",
    "block_breakdowns",
    "buckets",
    "cost_summary",
    "entries_by_day",
    "entry_cost",
    "period_key",
    "period_report",
    "readers_of",
    "session_report",
    "sum_fields",
    "where",
    "with_reasoning",
]
