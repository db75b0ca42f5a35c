"""Reports over the index: daily/weekly/monthly/session/blocks (ccusage's JSON field names) and
``cost_summary`` for the dashboard. Everything here reads the store only, never the logs.

The indexer keeps sums per UTC quarter hour, which every IANA zone's offset divides; a report
has the database add those up to local days of ``--timezone`` (the zone's offsets over the data's
span become a CASE over quarter ranges), so it reads a few hundred rows, exactly, in any zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, NamedTuple

from ..store import Store
from . import pricing

QUARTER = 900
DAY = 86400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
ESTIMATE_NOTE = ("Costs are estimates from list prices (genai-prices snapshot, offline); "
                 "your invoice or plan may differ.")


# Plain slotted classes and a NamedTuple rather than dataclasses: every ``cost`` run imports this
# module, and each dataclass costs about a millisecond of code generation at import.
class Acc:
    """Token sums for one model in one bucket, plus its cost (None when the model is unpriced)."""

    __slots__ = ("cache_read", "cache_write", "cost", "entries", "input", "last", "output", "reasoning")

    def __init__(self) -> None:
        self.entries = self.input = self.output = self.cache_write = self.cache_read = self.reasoning = 0
        self.cost: float | None = 0.0
        self.last = 0

    def add(self, n: int, inp: int, out: int, cw: int, cr: int, reas: int, cost: float | None, last: int = 0) -> None:
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


class Bucket:
    __slots__ = ("agents", "models", "project")

    def __init__(self, project: str = "") -> None:
        self.models: dict[str, Acc] = {}
        self.agents: set[str] = set()
        self.project = project


class Filters(NamedTuple):
    agents: Sequence[str] = ("claude", "codex")
    since: date | None = None
    until: date | None = None
    tz: tzinfo = UTC
    project: str | None = None


def _where(f: Filters) -> tuple[str, list[Any]]:
    """Conditions on ``log_entries`` (qualified: the session report joins ``log_files``)."""
    sql = f"log_entries.agent IN ({', '.join('?' * len(f.agents))})"
    params: list[Any] = list(f.agents)
    since, until = _margins(f)
    if since is not None:
        sql += " AND log_entries.ts >= ?"
        params.append(since)
    if until is not None:
        sql += " AND log_entries.ts < ?"
        params.append(until)
    if f.project:
        sql += " AND log_entries.file_id IN (SELECT id FROM log_files WHERE project LIKE ?)"
        params.append(f"%{f.project}%")
    return sql, params


def _margins(f: Filters) -> tuple[int | None, int | None]:
    """Epoch bounds with one day of margin either side: the exact cut is made on local dates."""
    since = until = None
    if f.since:
        since = int(datetime.combine(f.since - timedelta(days=1), datetime.min.time(), UTC).timestamp())
    if f.until:
        until = int(datetime.combine(f.until + timedelta(days=2), datetime.min.time(), UTC).timestamp())
    return since, until


def _offset(tz: tzinfo, quarter: int) -> int:
    off = datetime.fromtimestamp(quarter * QUARTER, tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _offsets(tz: tzinfo, first: int, last: int) -> tuple[list[int], list[int]]:
    """``tz``'s UTC offsets (seconds) over quarters ``first..last`` as (bounds, offsets): offsets[i]
    holds from bounds[i - 1] (inclusive) to bounds[i]. A fixed zone has one offset; otherwise the
    offset is sampled once a day and each change is pinned to its quarter by bisection (zones
    change offset at most a few times a year, never twice within a day and back)."""
    cur = _offset(tz, first)
    bounds: list[int] = []
    offsets = [cur]
    if isinstance(tz, timezone):
        return bounds, offsets
    q = first
    while q < last:
        nxt = min(q + DAY // QUARTER, last)
        if _offset(tz, nxt) == cur:
            q = nxt
            continue
        lo, hi = q, nxt
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if _offset(tz, mid) == cur else (lo, mid)
        cur = _offset(tz, hi)
        bounds.append(hi)
        offsets.append(cur)
        q = hi
    return bounds, offsets


def _day_sql(quarter: str, bounds: list[int], offsets: list[int]) -> str:
    """SQL for the local day number (days since 1970-01-01) of a UTC quarter-hour column. Only
    integers computed here are inlined."""
    def day(off: int) -> str:
        return f"({quarter} * {QUARTER} + {int(off)}) / {DAY}"

    if not bounds:
        return day(offsets[0])
    cases = " ".join(f"WHEN {quarter} < {int(b)} THEN {day(o)}" for b, o in zip(bounds, offsets, strict=False))
    return f"CASE {cases} ELSE {day(offsets[-1])} END"


def _daily(store: Store, f: Filters) -> list[tuple[Any, ...]]:
    """Rows of (agent, local day number, model, long_ctx, entries, token sums...). The
    database sums to local days (a few hundred rows) from the quarter-hour table, or from the
    entries when a project filter needs them."""
    since, until = _margins(f)
    agents = f"agent IN ({', '.join('?' * len(f.agents))})"
    span_sql = f"SELECT MIN(quarter), MAX(quarter) FROM log_usage WHERE {agents}"
    span_params: list[Any] = list(f.agents)
    if since is not None:
        span_sql += " AND quarter >= ?"
        span_params.append(since // QUARTER)
    if until is not None:
        span_sql += " AND quarter < ?"
        span_params.append(until // QUARTER)
    with store._tx() as conn:
        first, last = conn.execute(store._sql(span_sql), span_params).fetchone()
        if first is None:
            return []
        bounds, offsets = _offsets(f.tz, int(first), int(last))
        if f.project:
            where, params = _where(f)
            day = _day_sql(f"log_entries.ts / {QUARTER}", bounds, offsets)
            sql = (f"SELECT log_entries.agent, {day}, model, long_ctx, COUNT(*), SUM(input), SUM(output), "
                   "SUM(cache_write), SUM(cache_write_1h), SUM(cache_read), SUM(reasoning) "
                   f"FROM log_entries WHERE {where} GROUP BY 1, 2, 3, 4")
        else:
            # span_sql's conditions are exactly the quarter-table filter.
            where, params = span_sql.split(" WHERE ", 1)[1], span_params
            sql = (f"SELECT agent, {_day_sql('quarter', bounds, offsets)}, model, long_ctx, SUM(entries), "
                   "SUM(input), SUM(output), SUM(cache_write), SUM(cache_write_1h), SUM(cache_read), SUM(reasoning) "
                   f"FROM log_usage WHERE {where} GROUP BY 1, 2, 3, 4")
        return conn.execute(store._sql(sql), params).fetchall()


def _local_day(cache: dict[int, date], number: int) -> date:
    day = cache.get(number)
    if day is None:
        day = cache[number] = date.fromordinal(EPOCH_ORDINAL + number)
    return day


def period_key(day: date, period: str, start_of_week: int = 6) -> str:
    if period == "daily":
        return day.isoformat()
    if period == "monthly":
        return day.strftime("%Y-%m")
    return (day - timedelta(days=(day.weekday() - start_of_week) % 7)).isoformat()


def buckets(store: Store, f: Filters, period: str, *, start_of_week: int = 6,
            reprice: bool = False) -> dict[str, Bucket]:
    rows = _daily(store, f)
    prices = pricing.rates(store, {(r[0], r[2]) for r in rows}, reprice=reprice)
    out: dict[str, Bucket] = {}
    days: dict[int, date] = {}
    for agent, number, model, long_ctx, n, inp, o, cw, cw1h, cr, reas in rows:
        day = _local_day(days, int(number))
        if (f.since and day < f.since) or (f.until and day > f.until):
            continue
        bucket = out.setdefault(period_key(day, period, start_of_week), Bucket())
        bucket.agents.add(agent)
        cost = pricing.cost(prices[(agent, model)], long_ctx, int(inp), int(o), int(cw), int(cw1h), int(cr))
        bucket.models.setdefault(model, Acc()).add(int(n), int(inp), int(o), int(cw), int(cr), int(reas), cost)
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
    where, params = _where(f)
    with store._tx() as conn:
        rows = conn.execute(store._sql(
            "SELECT log_entries.agent, model, long_ctx, log_files.session, log_files.project, COUNT(*), SUM(input), "
            "SUM(output), SUM(cache_write), SUM(cache_write_1h), SUM(cache_read), SUM(reasoning), MAX(ts) "
            f"FROM log_entries JOIN log_files ON log_files.id = log_entries.file_id WHERE {where} "
            "GROUP BY 1, 2, 3, 4, 5"), params).fetchall()
    prices = pricing.rates(store, {(r[0], r[1]) for r in rows}, reprice=reprice)
    sessions: dict[tuple[str, str], Bucket] = {}
    for agent, model, long_ctx, session, project, n, inp, o, cw, cw1h, cr, reas, last in rows:
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
    rows = _daily(store, f)
    prices = pricing.rates(store, {(r[0], r[2]) for r in rows})
    spans = (("today", 1), ("7d", 7), ("30d", 30))
    per: dict[str, dict[tuple[str, str], Acc]] = {name: {} for name, _ in spans}
    days: dict[int, date] = {}
    for agent, number, model, long_ctx, n, inp, o, cw, cw1h, cr, reas in rows:
        day = _local_day(days, int(number))
        cost = pricing.cost(prices[(agent, model)], long_ctx, int(inp), int(o), int(cw), int(cw1h), int(cr))
        for name, span in spans:
            if today - timedelta(days=span - 1) <= day <= today:
                per[name].setdefault((agent, model), Acc()).add(int(n), int(inp), int(o), int(cw), int(cr),
                                                                int(reas), cost)
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
