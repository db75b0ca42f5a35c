"""Local days from UTC quarter hours: the zone's offsets over a span, and the SQL that turns a
quarter-hour column into local day numbers (days since 1970-01-01)."""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo

QUARTER = 900
DAY = 86400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _offset(tz: tzinfo, quarter: int) -> int:
    off = datetime.fromtimestamp(quarter * QUARTER, tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def offsets(tz: tzinfo, first: int, last: int) -> tuple[list[int], list[int]]:
    """``tz``'s UTC offsets (seconds) over quarters ``first..last`` as (bounds, offsets): offsets[i]
    holds from bounds[i - 1] (inclusive) to bounds[i]. A fixed zone has one offset; otherwise the
    offset is sampled once a day and each change is pinned to its quarter by bisection (zones
    change offset at most a few times a year, never twice within a day and back)."""
    cur = _offset(tz, first)
    bounds: list[int] = []
    offs = [cur]
    if isinstance(tz, timezone):
        return bounds, offs
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
        offs.append(cur)
        q = hi
    return bounds, offs


def day_sql(quarter: str, bounds: list[int], offs: list[int]) -> str:
    """SQL for the local day number of a UTC quarter-hour column. Only integers computed here are
    inlined."""

    def day(off: int) -> str:
        return f"({quarter} * {QUARTER} + {int(off)}) / {DAY}"

    if not bounds:
        return day(offs[0])
    cases = " ".join(f"WHEN {quarter} < {int(b)} THEN {day(o)}" for b, o in zip(bounds, offs, strict=False))
    return f"CASE {cases} ELSE {day(offs[-1])} END"


def local_day(cache: dict[int, date], number: int) -> date:
    found = cache.get(number)
    if found is None:
        found = cache[number] = date.fromordinal(EPOCH_ORDINAL + number)
    return found
