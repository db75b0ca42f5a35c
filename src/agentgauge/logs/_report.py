"""What the reports share (``report``, ``breakdown``, ``summary``): filters, the entries summed per
local day, their prices, and the JSON pieces (ccusage's field names), across agents, broken down by
model (always), agent or project. Everything here reads the store only, never the logs.

The indexer keeps sums per UTC quarter hour, which every IANA zone's offset divides; a report
has the database add those up to local days of ``--timezone`` (the zone's offsets over the data's
span become a CASE over quarter ranges), so it reads a few hundred rows, exactly, in any zone. A
project breakdown or filter needs each entry's file, so it reads the entries instead.

Agents are *reported* agents: a reader's own name, except Claude Code's calls through Vertex AI or
Bedrock, reported as ``vertexai`` / ``bedrock`` (``pricing.route``). An unpriced model keeps its
tokens; its cost is ``null`` (never 0) and every total over it says ``costIsPartial``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from ..store import Store
from . import pricing
from ._periods import QUARTER, day_sql, local_day, offsets

ESTIMATE_NOTE = (
    "Costs are estimates from list prices (genai-prices snapshot, offline); your invoice or plan may differ."
)
CLOUD = ("vertexai", "bedrock")  # reported agents that are Claude Code's entries through a cloud
BREAKDOWNS = {"agent": "agentBreakdowns", "project": "projectBreakdowns"}
# Agents whose logs have no reasoning count of their own (Claude's thinking is inside its output).
_NO_REASONING = {"claude", *CLOUD}


def all_agents() -> tuple[str, ...]:
    """Every reported agent: each reader's, plus Claude Code through Vertex AI and Bedrock."""
    from . import agents

    return (*agents(), *CLOUD)


def readers_of(reported: Iterable[str]) -> tuple[str, ...]:
    """The readers whose entries make up these reported agents."""
    return tuple(dict.fromkeys("claude" if a in CLOUD else a for a in reported))


# Plain slotted classes and a NamedTuple rather than dataclasses: every ``cost`` run imports this
# module, and each dataclass costs about a millisecond of code generation at import.
class Acc:
    """Token sums for one model (or agent, or project) in one bucket, plus its cost (None when
    nothing in it has a price; ``unknown`` when part of it has none)."""

    __slots__ = ("cache_read", "cache_write", "cost", "entries", "input", "last", "output", "reasoning", "unknown")

    def __init__(self) -> None:
        self.entries = self.input = self.output = self.cache_write = self.cache_read = self.reasoning = 0
        self.cost: float | None = None
        self.unknown = False
        self.last = 0

    def add(self, n: int, inp: int, out: int, cw: int, cr: int, reas: int, cost: float | None, last: int = 0) -> None:
        self.entries += n
        self.input += inp
        self.output += out
        self.cache_write += cw
        self.cache_read += cr
        self.reasoning += reas
        if cost is None:
            self.unknown = True
        else:
            self.cost = cost if self.cost is None else self.cost + cost
        self.last = max(self.last, last)

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_write + self.cache_read


class Bucket:
    __slots__ = ("agents", "groups", "models", "project")

    def __init__(self, project: str = "") -> None:
        self.models: dict[str, Acc] = {}
        self.groups: dict[str, Acc] = {}
        self.agents: set[str] = set()
        self.project = project


class Filters(NamedTuple):
    agents: Sequence[str] = ()  # reported agents; empty: every one
    since: date | None = None
    until: date | None = None
    tz: tzinfo = UTC
    project: str | None = None
    by: str = "model"  # the extra breakdown: "model" (none beyond modelBreakdowns), "agent" or "project"

    def reported(self) -> tuple[str, ...]:
        return tuple(self.agents) or all_agents()


class Entry(NamedTuple):
    """One summed group of entries: reader agent, reported agent, local day number, model,
    long-context flag, project ('' unless asked), then the entry count and token sums."""

    reader: str
    agent: str
    day: int
    model: str
    long_ctx: int
    project: str
    n: int
    input: int
    output: int
    cache_write: int
    cache_write_1h: int
    cache_read: int
    reasoning: int


def _margins(f: Filters) -> tuple[int | None, int | None]:
    """Epoch bounds with one day of margin either side: the exact cut is made on local dates."""
    since = until = None
    if f.since:
        since = int(datetime.combine(f.since - timedelta(days=1), datetime.min.time(), UTC).timestamp())
    if f.until:
        until = int(datetime.combine(f.until + timedelta(days=2), datetime.min.time(), UTC).timestamp())
    return since, until


def where(f: Filters, table: str = "log_entries") -> tuple[str, list[Any]]:
    """Conditions on the entries of the filters' readers (qualified: callers join ``log_files``)."""
    readers = readers_of(f.reported())
    sql = f"{table}.agent IN ({', '.join('?' * len(readers))})"
    params: list[Any] = list(readers)
    since, until = _margins(f)
    if since is not None:
        sql += f" AND {table}.ts >= ?"
        params.append(since)
    if until is not None:
        sql += f" AND {table}.ts < ?"
        params.append(until)
    if f.project:
        sql += f" AND {table}.file_id IN (SELECT id FROM log_files WHERE project LIKE ?)"
        params.append(f"%{f.project}%")
    return sql, params


def _wanted(f: Filters) -> set[str]:
    return set(f.reported())


def entries_by_day(store: Store, f: Filters) -> list[Entry]:
    """Entries summed per reader, local day, model, long-context flag (and project when the
    breakdown is by project), for the filters' reported agents. From the quarter-hour sums, or
    from the entries when a project is needed."""
    readers = readers_of(f.reported())
    since, until = _margins(f)
    span_sql = f"SELECT MIN(quarter), MAX(quarter) FROM log_usage WHERE agent IN ({', '.join('?' * len(readers))})"
    span_params: list[Any] = list(readers)
    if since is not None:
        span_sql += " AND quarter >= ?"
        span_params.append(since // QUARTER)
    if until is not None:
        span_sql += " AND quarter < ?"
        span_params.append(until // QUARTER)
    with store.transaction(write=False) as conn:
        first, last = conn.execute(span_sql, span_params).fetchone()
        if first is None:
            return []
        bounds, offs = offsets(f.tz, int(first), int(last))
        sums = "SUM(input), SUM(output), SUM(cache_write), SUM(cache_write_1h), SUM(cache_read), SUM(reasoning)"
        if f.project or f.by == "project":
            cond, params = where(f)
            day = day_sql(f"log_entries.ts / {QUARTER}", bounds, offs)
            sql = (
                f"SELECT log_entries.agent, {day}, model, long_ctx, log_files.project, COUNT(*), {sums} "
                "FROM log_entries JOIN log_files ON log_files.id = log_entries.file_id "
                f"WHERE {cond} GROUP BY 1, 2, 3, 4, 5"
            )
        else:
            cond, params = span_sql.split(" WHERE ", 1)[1], span_params
            sql = (
                f"SELECT agent, {day_sql('quarter', bounds, offs)}, model, long_ctx, '', SUM(entries), {sums} "
                f"FROM log_usage WHERE {cond} GROUP BY 1, 2, 3, 4"
            )
        rows = conn.execute(sql, params).fetchall()
    wanted = _wanted(f)
    out = []
    for reader, day, model, long_ctx, project, n, inp, o, cw, cw1h, cr, reas in rows:
        agent = pricing.route(reader, model)
        if agent in wanted:
            out.append(
                Entry(
                    reader,
                    agent,
                    int(day),
                    model,
                    int(long_ctx),
                    project or "",
                    int(n),
                    int(inp),
                    int(o),
                    int(cw),
                    int(cw1h),
                    int(cr),
                    int(reas),
                )
            )
    return out


def entry_cost(prices: dict[tuple[str, str], pricing.Rates | None], e: Entry) -> float | None:
    return pricing.cost(
        prices[(e.reader, e.model)], e.long_ctx, e.input, e.output, e.cache_write, e.cache_write_1h, e.cache_read
    )


def period_key(day: date, period: str, start_of_week: int = 6) -> str:
    if period == "daily":
        return day.isoformat()
    if period == "monthly":
        return day.strftime("%Y-%m")
    return (day - timedelta(days=(day.weekday() - start_of_week) % 7)).isoformat()


def _group(e: Entry, by: str) -> str | None:
    if by == "agent":
        return e.agent
    if by == "project":
        return e.project
    return None


def buckets(
    store: Store, f: Filters, period: str, *, start_of_week: int = 6, reprice: bool = False
) -> dict[str, Bucket]:
    rows = entries_by_day(store, f)
    prices = pricing.rates(store, {(e.reader, e.model) for e in rows}, reprice=reprice)
    out: dict[str, Bucket] = {}
    days: dict[int, date] = {}
    for e in rows:
        day = local_day(days, e.day)
        if (f.since and day < f.since) or (f.until and day > f.until):
            continue
        bucket = out.setdefault(period_key(day, period, start_of_week), Bucket())
        bucket.agents.add(e.agent)
        cost = entry_cost(prices, e)
        counts = (e.n, e.input, e.output, e.cache_write, e.cache_read, e.reasoning, cost)
        bucket.models.setdefault(e.model, Acc()).add(*counts)
        group = _group(e, f.by)
        if group is not None:
            bucket.groups.setdefault(group, Acc()).add(*counts)
    return dict(sorted(out.items()))


def with_reasoning(f: Filters) -> bool:
    """Whether reports carry ``reasoningOutputTokens``: when an agent that counts it is included."""
    return bool(set(f.reported()) - _NO_REASONING)


def sum_fields(accs: Iterable[Acc], reasoning: bool) -> dict[str, Any]:
    accs = list(accs)
    known = [a.cost for a in accs if a.cost is not None]
    d: dict[str, Any] = {
        "inputTokens": sum(a.input for a in accs),
        "outputTokens": sum(a.output for a in accs),
        "cacheCreationTokens": sum(a.cache_write for a in accs),
        "cacheReadTokens": sum(a.cache_read for a in accs),
    }
    if reasoning:
        d["reasoningOutputTokens"] = sum(a.reasoning for a in accs)
    d["totalTokens"] = sum(a.total for a in accs)
    d["totalCost"] = round(sum(known), 6) if known or not accs else None
    d["costIsPartial"] = any(a.unknown for a in accs) and bool(known)
    return d


def breakdowns(
    accs: dict[str, Acc], reasoning: bool, name: str = "modelName", cost: str = "cost"
) -> list[dict[str, Any]]:
    out = []
    for key, a in sorted(accs.items(), key=lambda kv: (-(kv[1].cost or 0), kv[0])):
        d: dict[str, Any] = {
            name: key,
            "inputTokens": a.input,
            "outputTokens": a.output,
            "cacheCreationTokens": a.cache_write,
            "cacheReadTokens": a.cache_read,
        }
        if reasoning:
            d["reasoningOutputTokens"] = a.reasoning
        if name != "modelName":
            d["totalTokens"] = a.total
        d[cost] = None if a.cost is None else round(a.cost, 6)
        if a.unknown and a.cost is not None:
            d["costIsPartial"] = True
        out.append(d)
    return out


def envelope(
    key: str, rows: list[dict[str, Any]], everything: dict[str, Acc], reasoning: bool, f: Filters
) -> dict[str, Any]:
    unknown = sorted(m for m, a in everything.items() if a.unknown)
    return {
        key: rows,
        "totals": sum_fields(everything.values(), reasoning),
        "costIsEstimate": True,
        "costNote": ESTIMATE_NOTE,
        "pricingSource": pricing.SOURCE,
        "unknownModels": unknown,
        "agents": list(f.reported()),
        "timezone": str(f.tz),
    }


def merge_into(into: dict[str, Acc], accs: dict[str, Acc]) -> None:
    for name, a in accs.items():
        target = into.setdefault(name, Acc())
        target.entries += a.entries
        target.input += a.input
        target.output += a.output
        target.cache_write += a.cache_write
        target.cache_read += a.cache_read
        target.reasoning += a.reasoning
        target.unknown = target.unknown or a.unknown
        if a.cost is not None:
            target.cost = a.cost if target.cost is None else target.cost + a.cost
        target.last = max(target.last, a.last)
