"""Spend from the local-log index for the dashboard's spend view and the budget alerts: a daily
series per agent and model over the last N days, the top models, and each agent's monthly budget
with a forecast. Reads only the index (the cost chore keeps it current); costs are estimates.

Forecast of a month's spend = spent so far this month + the recent daily rate x the days left in
the month, where the recent daily rate is the mean spend of the last ``RATE_DAYS`` whole days
(yesterday and the days before it; today is still running). Days are local to ``tz``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

from ..logs import pricing
from ..logs.report import ESTIMATE_NOTE, Filters, entries_by_day, entry_cost
from ..store import Store

RANGES = (7, 30, 90)  # the dashboard's choices; the API takes any 1..MAX_DAYS
MAX_DAYS = 366
RATE_DAYS = 7
TOP_MODELS = 8
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class Budget(NamedTuple):
    """One agent's month: its limit, what was spent so far, the forecast at month end (USD)."""

    agent: str
    month: str  # YYYY-MM, local
    limit: float
    spent: float
    daily_rate: float
    days_left: float
    forecast: float
    partial: bool  # some of the month's usage has no known price (counted as 0)

    @property
    def will_exceed(self) -> bool:
        return self.forecast > self.limit

    @property
    def exceeded(self) -> bool:
        return self.spent > self.limit

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "month": self.month,
            "limit": self.limit,
            "spent": round(self.spent, 2),
            "daily_rate": round(self.daily_rate, 2),
            "days_left": round(self.days_left, 2),
            "forecast": round(self.forecast, 2),
            "will_exceed": self.will_exceed,
            "exceeded": self.exceeded,
            "cost_is_partial": self.partial,
        }


class _Cell:
    __slots__ = ("cost", "tokens", "unknown")

    def __init__(self) -> None:
        self.cost = 0.0
        self.tokens = 0
        self.unknown = False


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _daily_costs(store: Store, since: date, until: date, tz: tzinfo) -> dict[date, dict[tuple[str, str], _Cell]]:
    """Cost and tokens per local day and (agent, model), from the index's quarter-hour sums."""
    rows = entries_by_day(store, Filters(since=since, until=until, tz=tz))
    prices = pricing.rates(store, {(e.reader, e.model) for e in rows})
    out: dict[date, dict[tuple[str, str], _Cell]] = {}
    for e in rows:
        day = date.fromordinal(EPOCH_ORDINAL + e.day)  # e.day: local days since 1970-01-01
        if not since <= day <= until:
            continue
        cell = out.setdefault(day, {}).setdefault((e.agent, e.model), _Cell())
        cost = entry_cost(prices, e)
        if cost is None:
            cell.unknown = True
        else:
            cell.cost += cost
        cell.tokens += e.input + e.output + e.cache_write + e.cache_read
    return out


def _budgets(
    per_day: Mapping[date, Mapping[tuple[str, str], _Cell]],
    budgets: Mapping[str, float],
    now: datetime,
    tz: tzinfo,
) -> list[Budget]:
    local = now.astimezone(tz)
    today = local.date()
    first = _month_start(today)
    end = datetime.combine(_next_month(today), time(), tz)
    days_left = max(0.0, (end - local).total_seconds() / 86400)
    out = []
    for agent, limit in sorted(budgets.items()):
        spent = rate = 0.0
        partial = False
        for day, cells in per_day.items():
            mine = [c for (a, _), c in cells.items() if a == agent]
            cost = sum(c.cost for c in mine)
            if first <= day <= today:
                spent += cost
                partial = partial or any(c.unknown for c in mine)
            if today - timedelta(days=RATE_DAYS) <= day < today:
                rate += cost
        rate /= RATE_DAYS
        out.append(
            Budget(agent, f"{today:%Y-%m}", float(limit), spent, rate, days_left, spent + rate * days_left, partial)
        )
    return out


def budget_status(store: Store, *, now: datetime, tz: tzinfo, budgets: Mapping[str, float]) -> list[Budget]:
    """Each configured agent's budget this month (for the budget alert rule)."""
    if not budgets:
        return []
    today = now.astimezone(tz).date()
    since = min(_month_start(today), today - timedelta(days=RATE_DAYS))
    return _budgets(_daily_costs(store, since, today, tz), budgets, now, tz)


def spend_view(
    store: Store, *, now: datetime, tz: tzinfo, days: int, budgets: Mapping[str, float], group: str = "agent"
) -> dict[str, Any]:
    """The last ``days`` local days (today included): per day the cost per agent (``group`` "agent")
    or per agent/model ("model"), totals, the top models of the range, and the budgets."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    if group not in ("agent", "model"):
        raise ValueError("group must be 'agent' or 'model'")
    today = now.astimezone(tz).date()
    start = today - timedelta(days=days - 1)
    since = min(start, _month_start(today), today - timedelta(days=RATE_DAYS)) if budgets else start
    per_day = _daily_costs(store, since, today, tz)
    series_keys: dict[str, float] = {}
    models: dict[tuple[str, str], _Cell] = {}
    daily = []
    total = _Cell()
    for i in range(days):
        day = start + timedelta(days=i)
        values: dict[str, float] = {}
        for (agent, model), cell in per_day.get(day, {}).items():
            key = agent if group == "agent" else f"{agent}/{model}"
            values[key] = values.get(key, 0.0) + cell.cost
            acc = models.setdefault((agent, model), _Cell())
            acc.cost += cell.cost
            acc.tokens += cell.tokens
            acc.unknown = acc.unknown or cell.unknown
            total.cost += cell.cost
            total.tokens += cell.tokens
            total.unknown = total.unknown or cell.unknown
        for key, value in values.items():
            series_keys[key] = series_keys.get(key, 0.0) + value
        daily.append(
            {
                "date": day.isoformat(),
                "total": round(sum(values.values()), 6),
                "values": {k: round(v, 6) for k, v in values.items()},
            }
        )
    ranked = sorted(models.items(), key=lambda kv: (-kv[1].cost, -kv[1].tokens, kv[0]))
    return {
        "days": days,
        "since": start.isoformat(),
        "until": today.isoformat(),
        "group": group,
        # Largest first: the order the chart stacks them in and the legend lists them.
        "series": [k for k, _ in sorted(series_keys.items(), key=lambda kv: (-kv[1], kv[0]))],
        "daily": daily,
        "total": {"cost": round(total.cost, 6), "tokens": total.tokens, "costIsPartial": total.unknown},
        "topModels": [
            {
                "agent": agent,
                "modelName": model,
                "cost": None if cell.unknown and not cell.cost else round(cell.cost, 6),
                "costIsPartial": cell.unknown,
                "tokens": cell.tokens,
                "share": round(cell.cost / total.cost, 4) if total.cost else 0.0,
            }
            for (agent, model), cell in ranked[:TOP_MODELS]
        ],
        "budgets": {b.agent: b.to_json() for b in _budgets(per_day, budgets, now, tz)},
        "timezone": str(tz),
        "generatedAt": now.astimezone(UTC).isoformat(),
        "costIsEstimate": True,
        "costNote": ESTIMATE_NOTE,
    }
