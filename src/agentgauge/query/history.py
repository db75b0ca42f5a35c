"""History of one account's windows: raw samples for short ranges, rollups for long ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import utc_iso
from ..store import Store

RAW_MAX_SPAN = 2 * 86400  # up to two days reads raw samples; longer ranges read rollups
HOURLY_MAX_SPAN = 90 * 86400


def downsample(rows: list[tuple[int, float]], points: int, since: int, until: int) -> list[tuple[int, float]]:
    """At most ``points`` values: equal time buckets, each keeping its peak (what a limit chart needs)."""
    if len(rows) <= points:
        return rows
    width = max(1, (until - since) / points)
    out: dict[int, tuple[int, float]] = {}
    for ts, pct in rows:
        index = min(points - 1, int((ts - since) / width))
        best = out.get(index)
        if best is None or pct > best[1]:
            out[index] = (ts, pct)
    return [out[i] for i in sorted(out)]


def history(
    store: Store,
    provider: str,
    account: str,
    window: str | None,
    since: datetime,
    until: datetime,
    points: int,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The history of one account's windows, from raw samples or rollups by span, at most ``points`` each."""
    span = (until - since).total_seconds()
    resolution = "raw" if span <= RAW_MAX_SPAN else "hourly" if span <= HOURLY_MAX_SPAN else "daily"
    windows = [window] if window else store.windows_of(provider, account)
    series = []
    lo, hi = int(since.timestamp()), int(until.timestamp())
    for window_id in windows:
        if resolution == "raw":
            rows = [(s.ts, s.used_pct) for s in store.samples(provider, account, window_id, since, until)]
        else:
            rows = store.rollups(provider, account, window_id, since, until, resolution)
        rows = downsample(rows, points, lo, hi)
        series.append(
            {
                "window": window_id,
                "label": (labels or {}).get(window_id, window_id),
                "t": [t for t, _ in rows],
                "used_pct": [p for _, p in rows],
            }
        )
    return {
        "provider": provider,
        "account": account,
        "since": utc_iso(since),
        "until": utc_iso(until),
        "resolution": resolution,
        "series": series,
    }
