"""Reports that need each entry's file (its session and project): sessions, and the per-block
breakdowns of ``cost blocks --by``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..store import Store
from . import pricing
from ._report import (
    BREAKDOWNS,
    Acc,
    Bucket,
    Filters,
    breakdowns,
    envelope,
    merge_into,
    sum_fields,
    where,
    with_reasoning,
)


def session_report(store: Store, f: Filters, *, reprice: bool = False) -> dict[str, Any]:
    """Per session (a reader's session, reported under its agent), ordered by last activity; with
    ``by`` agent or project, grouped by it first, and ``groups[]`` sums each group."""
    cond, params = where(f)
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            "SELECT log_entries.agent, model, long_ctx, log_files.session, log_files.project, COUNT(*), SUM(input), "
            "SUM(output), SUM(cache_write), SUM(cache_write_1h), SUM(cache_read), SUM(reasoning), MAX(ts) "
            f"FROM log_entries JOIN log_files ON log_files.id = log_entries.file_id WHERE {cond} "
            "GROUP BY 1, 2, 3, 4, 5",
            params,
        ).fetchall()
    prices = pricing.rates(store, {(r[0], r[1]) for r in rows}, reprice=reprice)
    wanted = set(f.reported())
    sessions: dict[tuple[str, str], Bucket] = {}
    for reader, model, long_ctx, session, project, n, inp, o, cw, cw1h, cr, reas, last in rows:
        agent = pricing.route(reader, model)
        if agent not in wanted:
            continue
        b = sessions.setdefault((agent, session), Bucket(project=project))
        b.agents.add(agent)
        cost = pricing.cost(prices[(reader, model)], long_ctx, int(inp), int(o), int(cw), int(cw1h), int(cr))
        b.models.setdefault(model, Acc()).add(int(n), int(inp), int(o), int(cw), int(cr), int(reas), cost, int(last))
    reasoning = with_reasoning(f)
    out: list[dict[str, Any]] = []
    everything: dict[str, Acc] = {}
    groups: dict[str, Acc] = {}
    for (agent, session), b in sessions.items():
        last = max(a.last for a in b.models.values())
        day = datetime.fromtimestamp(last, f.tz).date()
        if (f.since and day < f.since) or (f.until and day > f.until):
            continue
        out.append(
            {
                "sessionId": session,
                "agent": agent,
                "projectPath": b.project,
                **sum_fields(b.models.values(), reasoning),
                "lastActivity": day.isoformat(),
                "modelsUsed": sorted(b.models),
                "modelBreakdowns": breakdowns(b.models, reasoning),
            }
        )
        merge_into(everything, b.models)
        if f.by in BREAKDOWNS:
            merge_into(groups, {agent if f.by == "agent" else b.project: _whole(b.models)})
    group_key = {"agent": "agent", "project": "projectPath"}.get(f.by)
    out.sort(key=lambda r: (r[group_key] if group_key else "", r["lastActivity"], r["sessionId"]))
    data = envelope("sessions", out, everything, reasoning, f)
    if f.by in BREAKDOWNS:
        data["groups"] = breakdowns(groups, reasoning, name=f.by, cost="totalCost")
    return data


def _whole(models: dict[str, Acc]) -> Acc:
    """All of a session's models summed into one."""
    total: dict[str, Acc] = {}
    for a in models.values():
        merge_into(total, {"": a})
    return total[""]


def block_breakdowns(store: Store, f: Filters, data: dict[str, Any], *, reprice: bool = False) -> dict[str, Any]:
    """Add to each block of ``blocks_report``'s answer its ``modelBreakdowns`` and, with ``by``
    agent or project, ``agentBreakdowns`` / ``projectBreakdowns`` (an entry belongs to the block
    whose first and last entries enclose it: blocks never overlap)."""
    spans = [
        (_epoch(b["startTime"]), _epoch(b["actualEndTime"]), b)
        for b in data["blocks"]
        if not b["isGap"] and b["actualEndTime"]
    ]
    if not spans:
        return data
    cond, params = where(Filters(agents=("claude",), since=f.since, until=f.until, tz=f.tz, project=f.project))
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            "SELECT log_entries.ts, log_entries.agent, model, long_ctx, log_files.project, input, output, "
            "cache_write, cache_write_1h, cache_read, reasoning FROM log_entries "
            "JOIN log_files ON log_files.id = log_entries.file_id "
            f"WHERE {cond} AND log_entries.ts >= ? AND log_entries.ts <= ? ORDER BY log_entries.ts",
            [*params, spans[0][0], spans[-1][1]],
        ).fetchall()
    prices = pricing.rates(store, {(r[1], r[2]) for r in rows}, reprice=reprice)
    reasoning = with_reasoning(f)
    i = 0
    groups: list[tuple[dict[str, Acc], dict[str, Acc]]] = [({}, {}) for _ in spans]
    for ts, reader, model, long_ctx, project, inp, out, cw, cw1h, cr, reas in rows:
        while i < len(spans) and ts > spans[i][1]:
            i += 1
        if i == len(spans):
            break
        if ts < spans[i][0]:
            continue
        cost = pricing.cost(prices[(reader, model)], long_ctx, inp, out, cw, cw1h, cr)
        counts = (1, inp, out, cw, cr, reas, cost)
        models, by = groups[i]
        models.setdefault(model, Acc()).add(*counts)
        if f.by in BREAKDOWNS:
            key = pricing.route(reader, model) if f.by == "agent" else project or ""
            by.setdefault(key, Acc()).add(*counts)
    for (_, _, block), (models, by) in zip(spans, groups, strict=True):
        block["modelBreakdowns"] = breakdowns(models, reasoning)
        if f.by in BREAKDOWNS:
            block[BREAKDOWNS[f.by]] = breakdowns(by, reasoning, name=f.by, cost="totalCost")
    return data


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
