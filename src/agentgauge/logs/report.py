"""Reports over the index: daily/weekly/monthly/session/blocks (ccusage's JSON field names) and
``cost_summary`` for the dashboard. Everything here reads the store only, never the logs.

Aggregation happens in SQL per quarter hour (UTC), which every IANA zone's offset divides, so
bucketing by local date in Python is exact for any ``--timezone`` while the database does the
heavy summing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from ..store import Store
from . import pricing

QUARTER = 900
ESTIMATE_NOTE = ("Costs are estimates from list prices (genai-prices snapshot, offline); "
                 "your invoice or plan may differ.")


@dataclass
class Acc:
    """Token sums for one model in one bucket, plus its cost (None when the model is unpriced)."""

    entries: int = 0
    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0
    reasoning: int = 0
    cost: float | None = 0.0
    last: int = 0

    def add(self, n: int, inp: int, out: int, cw: int, cr: int, reas: int, cost: float | None, last: int) -> None:
        self.entries += n
        self.input += inp
        self.output += out
        self.cache_write += cw
        self.cache_read += cr
        self.reasoning += reas
        self.cost = None if cost is None or self.cost is None else self.cost + cost
        self.last = max(self.last, last)

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read


@dataclass
class Bucket:
    models: dict[str, Acc] = field(default_factory=dict)
    agents: set[str] = field(default_factory=set)
    project: str = ""


@dataclass(frozen=True)
class Filters:
    agents: Sequence[str] = ("claude", "codex")
    since: date | None = None
    until: date | None = None
    tz: tzinfo = UTC
    project: str | None = None


def _where(f: Filters) -> tuple[str, list[Any]]:
    sql = f"agent IN ({', '.join('?' * len(f.agents))})"
    params: list[Any] = list(f.agents)
    if f.since:  # one day of margin either side: the exact cut is made on local dates in Python
        sql += " AND ts >= ?"
        params.append(int(datetime.combine(f.since - timedelta(days=1), datetime.min.time(), UTC).timestamp()))
    if f.until:
        sql += " AND ts < ?"
        params.append(int(datetime.combine(f.until + timedelta(days=2), datetime.min.time(), UTC).timestamp()))
    if f.project:
        sql += " AND project LIKE ?"
        params.append(f"%{f.project}%")
    return sql, params


def _grouped(store: Store, f: Filters, extra: str = "") -> list[tuple[Any, ...]]:
    """Rows of (agent, quarter, model, long_ctx, [extra...], entries, token sums..., last ts)."""
    where, params = _where(f)
    if not extra and not f.project:
        # The indexer keeps these sums per quarter: a few thousand rows instead of every entry.
        where = where.replace("ts >= ?", "quarter >= ?").replace("ts < ?", "quarter < ?")
        params = [p // QUARTER if isinstance(p, int) else p for p in params]
        sql = ("SELECT agent, quarter, model, long_ctx, entries, input, output, cache_write, cache_write_1h, "
               f"cache_read, reasoning, last_ts FROM log_usage WHERE {where}")
    else:
        cols = f"agent, ts / {QUARTER}, model, long_ctx{', ' + extra if extra else ''}"
        n = 4 + (extra.count(",") + 1 if extra else 0)
        sql = (f"SELECT {cols}, COUNT(*), SUM(input), SUM(output), SUM(cache_write), SUM(cache_write_1h), "
               f"SUM(cache_read), SUM(reasoning), MAX(ts) FROM log_entries WHERE {where} "
               f"GROUP BY {', '.join(str(i + 1) for i in range(n))}")
    with store._tx() as conn:
        return conn.execute(store._sql(sql), params).fetchall()


def _local_day(tz: tzinfo, cache: dict[int, date], quarter: int) -> date:
    day = cache.get(quarter)
    if day is None:
        day = cache[quarter] = datetime.fromtimestamp(quarter * QUARTER, tz).date()
    return day


def period_key(day: date, period: str, start_of_week: int = 6) -> str:
    if period == "daily":
        return day.isoformat()
    if period == "monthly":
        return day.strftime("%Y-%m")
    return (day - timedelta(days=(day.weekday() - start_of_week) % 7)).isoformat()


def buckets(store: Store, f: Filters, period: str, *, start_of_week: int = 6,
            reprice: bool = False) -> dict[str, Bucket]:
    rows = _grouped(store, f)
    prices = pricing.rates(store, {(r[0], r[2]) for r in rows}, reprice=reprice)
    out: dict[str, Bucket] = {}
    days: dict[int, date] = {}
    for agent, quarter, model, long_ctx, n, inp, o, cw, cw1h, cr, reas, last in rows:
        day = _local_day(f.tz, days, int(quarter))
        if (f.since and day < f.since) or (f.until and day > f.until):
            continue
        bucket = out.setdefault(period_key(day, period, start_of_week), Bucket())
        bucket.agents.add(agent)
        cost = pricing.cost(prices[(agent, model)], long_ctx, int(inp), int(o), int(cw), int(cw1h), int(cr))
        bucket.models.setdefault(model, Acc()).add(int(n), int(inp), int(o), int(cw), int(cr), int(reas), cost,
                                                   int(last))
    return dict(sorted(out.items()))


def _sum_fields(models: dict[str, Acc], with_reasoning: bool) -> dict[str, Any]:
    costs = [a.cost for a in models.values()]
    known = [c for c in costs if c is not None]
    d: dict[str, Any] = {
        "inputTokens": sum(a.input for a in models.values()),
        "outputTokens": sum(a.output for a in models.values()),
        "cacheCreationTokens": sum(a.cache_write for a in models.values()),
        "cacheReadTokens": sum(a.cache_read for a in models.values()),
    }
    if with_reasoning:
        d["reasoningOutputTokens"] = sum(a.reasoning for a in models.values())
    d["totalTokens"] = sum(a.total for a in models.values())
    d["totalCost"] = round(sum(known), 6) if known or not costs else None
    d["costIsPartial"] = len(known) != len(costs)
    return d


def _breakdowns(models: dict[str, Acc], with_reasoning: bool) -> list[dict[str, Any]]:
    out = []
    for name, a in sorted(models.items(), key=lambda kv: -(kv[1].cost or 0)):
        d: dict[str, Any] = {"modelName": name, "inputTokens": a.input, "outputTokens": a.output,
                             "cacheCreationTokens": a.cache_write, "cacheReadTokens": a.cache_read}
        if with_reasoning:
            d["reasoningOutputTokens"] = a.reasoning
        d["cost"] = None if a.cost is None else round(a.cost, 6)
        out.append(d)
    return out


def _envelope(key: str, rows: list[dict[str, Any]], everything: dict[str, Acc], with_reasoning: bool,
              f: Filters) -> dict[str, Any]:
    unknown = sorted(m for m, a in everything.items() if a.cost is None)
    return {key: rows, "totals": _sum_fields(everything, with_reasoning), "costIsEstimate": True,
            "costNote": ESTIMATE_NOTE, "pricingSource": pricing.SOURCE, "unknownModels": unknown,
            "agents": list(f.agents), "timezone": str(f.tz)}


def _merge(into: dict[str, Acc], models: dict[str, Acc]) -> None:
    for name, a in models.items():
        into.setdefault(name, Acc()).add(a.entries, a.input, a.output, a.cache_write, a.cache_read, a.reasoning,
                                         a.cost, a.last)


def period_report(store: Store, f: Filters, period: str, *, start_of_week: int = 6,
                  reprice: bool = False) -> dict[str, Any]:
    """``daily`` -> ``daily[].date``, ``weekly`` -> ``weekly[].week``, ``monthly`` -> ``monthly[].month``."""
    label = {"daily": "date", "weekly": "week", "monthly": "month"}[period]
    with_reasoning = "codex" in f.agents
    rows, everything = [], {}
    for key, bucket in buckets(store, f, period, start_of_week=start_of_week, reprice=reprice).items():
        row = {label: key, **_sum_fields(bucket.models, with_reasoning), "modelsUsed": sorted(bucket.models),
               "modelBreakdowns": _breakdowns(bucket.models, with_reasoning)}
        rows.append(row)
        _merge(everything, bucket.models)
    return _envelope(period, rows, everything, with_reasoning, f)


def session_report(store: Store, f: Filters, *, reprice: bool = False) -> dict[str, Any]:
    rows = _grouped(store, f, "session, project")
    prices = pricing.rates(store, {(r[0], r[2]) for r in rows}, reprice=reprice)
    sessions: dict[tuple[str, str], Bucket] = {}
    for agent, _q, model, long_ctx, session, project, n, inp, o, cw, cw1h, cr, reas, last in rows:
        b = sessions.setdefault((agent, session), Bucket(project=project))
        b.agents.add(agent)
        cost = pricing.cost(prices[(agent, model)], long_ctx, int(inp), int(o), int(cw), int(cw1h), int(cr))
        b.models.setdefault(model, Acc()).add(int(n), int(inp), int(o), int(cw), int(cr), int(reas), cost, int(last))
    with_reasoning = "codex" in f.agents
    out, everything = [], {}
    for (agent, session), b in sessions.items():
        last = max(a.last for a in b.models.values())
        day = datetime.fromtimestamp(last, f.tz).date()
        if (f.since and day < f.since) or (f.until and day > f.until):
            continue
        out.append({"sessionId": session, "agent": agent, "projectPath": b.project,
                    **_sum_fields(b.models, with_reasoning), "lastActivity": day.isoformat(),
                    "modelsUsed": sorted(b.models), "modelBreakdowns": _breakdowns(b.models, with_reasoning)})
        _merge(everything, b.models)
    out.sort(key=lambda r: (r["lastActivity"], r["sessionId"]))
    return _envelope("sessions", out, everything, with_reasoning, f)


def cost_summary(store: Store, *, now: datetime, tz: tzinfo) -> dict[str, Any]:
    """Cost today / last 7 days / last 30 days (local dates in ``tz``, today included), per agent
    and per model, JSON-ready. Reads only the index; call ``refresh_index`` to update it."""
    today = now.astimezone(tz).date()
    f = Filters(agents=("claude", "codex"), since=today - timedelta(days=29), until=today, tz=tz)
    rows = _grouped(store, f)
    prices = pricing.rates(store, {(r[0], r[2]) for r in rows})
    spans = (("today", 1), ("7d", 7), ("30d", 30))
    per: dict[str, dict[tuple[str, str], Acc]] = {name: {} for name, _ in spans}
    days: dict[int, date] = {}
    for agent, quarter, model, long_ctx, n, inp, o, cw, cw1h, cr, reas, last in rows:
        day = _local_day(tz, days, int(quarter))
        cost = pricing.cost(prices[(agent, model)], long_ctx, int(inp), int(o), int(cw), int(cw1h), int(cr))
        for name, span in spans:
            if today - timedelta(days=span - 1) <= day <= today:
                per[name].setdefault((agent, model), Acc()).add(int(n), int(inp), int(o), int(cw), int(cr),
                                                                int(reas), cost, int(last))
    periods: dict[str, Any] = {}
    for name, span in spans:
        accs = per[name]
        periods[name] = {
            "since": (today - timedelta(days=span - 1)).isoformat(), "until": today.isoformat(),
            **_sum_fields({f"{ag}/{m}": a for (ag, m), a in accs.items()}, True),
            "agents": {agent: _sum_fields({m: a for (ag, m), a in accs.items() if ag == agent}, True)
                       for agent in ("claude", "codex")},
            "models": [{"agent": ag, "modelName": m, "entries": a.entries, "inputTokens": a.input,
                        "outputTokens": a.output, "cacheCreationTokens": a.cache_write, "cacheReadTokens": a.cache_read,
                        "reasoningOutputTokens": a.reasoning, "totalTokens": a.total,
                        "cost": None if a.cost is None else round(a.cost, 6)}
                       for (ag, m), a in sorted(accs.items(), key=lambda kv: -(kv[1].cost or 0))],
        }
    return {"generatedAt": now.astimezone(UTC).isoformat(), "timezone": str(tz), "costIsEstimate": True,
            "costNote": ESTIMATE_NOTE, "pricingSource": pricing.SOURCE, "periods": periods}
