"""Claude's 5-hour billing blocks, with ccusage's rules and JSON fields.

A block starts at its first entry's time floored to the UTC hour and lasts five hours; an entry
opens a new block when it falls after the block's end or more than five hours after the previous
entry. A silence longer than five hours between blocks becomes a gap pseudo-block. The active
block (last entry under five hours ago and the block not yet over) gets a burn rate and a
projection to its end.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..store import Store
from . import pricing
from .report import ESTIMATE_NOTE, Filters, _where

BLOCK = 5 * 3600


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new(start: int) -> dict[str, Any]:
    return {
        "start": start,
        "last": start,
        "entries": 0,
        "input": 0,
        "output": 0,
        "cw": 0,
        "cr": 0,
        "cost": 0.0,
        "unknown": False,
        "models": set(),
    }


def _block_json(b: dict[str, Any], now: float) -> dict[str, Any]:
    start, end, last = b["start"], b["start"] + BLOCK, b["last"]
    total = b["input"] + b["output"] + b["cw"] + b["cr"]
    cost = None if b["unknown"] and not b["cost"] else round(b["cost"], 6)
    active = now - last < BLOCK and now < end
    burn = projection = None
    if active:
        minutes = (last - start_first) / 60 if (start_first := b["first"]) else 0
        if minutes > 0:
            per_min = total / minutes
            per_hour = (b["cost"] / minutes) * 60
            burn = {
                "tokensPerMinute": per_min,
                "tokensPerMinuteForIndicator": (b["input"] + b["output"]) / minutes,
                "costPerHour": per_hour,
            }
            remaining = max(0, round((end - now) / 60))
            projection = {
                "totalTokens": round(total + per_min * remaining),
                "totalCost": round(b["cost"] + per_hour / 60 * remaining, 6),
                "remainingMinutes": remaining,
            }
    return {
        "id": _iso(start),
        "startTime": _iso(start),
        "endTime": _iso(end),
        "actualEndTime": _iso(last),
        "isActive": active,
        "isGap": False,
        "entries": b["entries"],
        "tokenCounts": {
            "inputTokens": b["input"],
            "outputTokens": b["output"],
            "cacheCreationInputTokens": b["cw"],
            "cacheReadInputTokens": b["cr"],
        },
        "totalTokens": total,
        "costUSD": cost,
        "costIsPartial": b["unknown"],
        "models": sorted(b["models"]),
        "burnRate": burn,
        "projection": projection,
    }


def _gap(after: int, until: int) -> dict[str, Any]:
    start = after + BLOCK
    return {
        "id": f"gap-{_iso(start)}",
        "startTime": _iso(start),
        "endTime": _iso(until),
        "actualEndTime": None,
        "isActive": False,
        "isGap": True,
        "entries": 0,
        "tokenCounts": {"inputTokens": 0, "outputTokens": 0, "cacheCreationInputTokens": 0, "cacheReadInputTokens": 0},
        "totalTokens": 0,
        "costUSD": 0.0,
        "costIsPartial": False,
        "models": [],
        "burnRate": None,
        "projection": None,
    }


def blocks_report(store: Store, f: Filters, *, now: datetime, reprice: bool = False) -> dict[str, Any]:
    f = Filters(agents=("claude",), since=f.since, until=f.until, tz=f.tz, project=f.project)
    where, params = _where(f)
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            "SELECT ts, model, long_ctx, input, output, cache_write, cache_write_1h, cache_read FROM log_entries "
            f"WHERE {where} ORDER BY ts",
            params,
        ).fetchall()
    prices = pricing.rates(store, {("claude", r[1]) for r in rows}, reprice=reprice)
    blocks: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for ts, model, long_ctx, inp, out, cw, cw1h, cr in rows:
        day = datetime.fromtimestamp(ts, f.tz).date()
        if (f.since and day < f.since) or (f.until and day > f.until):
            continue
        if cur is None or ts - cur["start"] > BLOCK or ts - cur["last"] > BLOCK:
            if cur is not None:
                blocks.append(cur)
            cur = _new(ts // 3600 * 3600)
            cur["first"] = ts
        cost = pricing.cost(prices[("claude", model)], long_ctx, inp, out, cw, cw1h, cr)
        cur["last"] = ts
        cur["entries"] += 1
        cur["input"] += inp
        cur["output"] += out
        cur["cw"] += cw
        cur["cr"] += cr
        cur["models"].add(model)
        if cost is None:
            cur["unknown"] = True
        else:
            cur["cost"] += cost
    if cur is not None:
        blocks.append(cur)
    now_ts = now.timestamp()
    out_blocks: list[dict[str, Any]] = []
    for i, b in enumerate(blocks):
        if i and b["first"] - blocks[i - 1]["last"] > BLOCK:
            out_blocks.append(_gap(blocks[i - 1]["last"], b["first"]))
        out_blocks.append(_block_json(b, now_ts))
    return {"blocks": out_blocks, "costIsEstimate": True, "costNote": ESTIMATE_NOTE, "pricingSource": pricing.SOURCE}
