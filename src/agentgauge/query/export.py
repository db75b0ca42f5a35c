"""Exports of the stored history (``agentgauge export``): raw samples, the reset-cycle ledger and the
forecast log, as CSV (a header row, then one row per record) or a JSON array, produced a chunk at a
time so a long history never has to fit in memory. Times are ISO-8601 UTC; an empty CSV field (JSON
null) is a value the provider did not report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from ..models import utc_iso
from ..store import Store
from .cycles import ledger_rows

__all__ = ["COLUMNS", "FORMATS", "WHAT", "export_chunks", "export_rows"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "samples": ("provider", "account", "window", "ts", "used_pct", "resets_at", "used", "limit"),
    "cycles": (
        "provider",
        "account",
        "window",
        "started_at",
        "resets_at",
        "ended",
        "peak_pct",
        "last_pct",
        "hit_100_at",
        "blocked_seconds",
        "unused_pct_at_reset",
        "samples",
    ),
    "forecasts": (
        "provider",
        "account",
        "window",
        "made_at",
        "resets_at",
        "used_pct",
        "low_pct",
        "expected_pct",
        "high_pct",
        "runs_out_at",
        "verdict",
        "model",
    ),
}
WHAT = tuple(COLUMNS)
FORMATS = ("csv", "json")
CHUNK_ROWS = 500  # rows per written chunk


def _iso(ts: int | None) -> str | None:
    return utc_iso(datetime.fromtimestamp(ts, UTC)) if ts is not None else None


def export_rows(
    store: Store,
    what: str,
    series: Sequence[tuple[str, str, str]],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
) -> Iterator[dict[str, Any]]:
    """The records of ``what`` for each series in turn, oldest first; one series is read at a time."""
    if what not in COLUMNS:
        raise ValueError(f"unknown export {what!r}; choose one of {', '.join(WHAT)}")
    for provider, account, window in series:
        key = {"provider": provider, "account": account, "window": window}
        if what == "samples":
            for s in store.samples(provider, account, window, since, until):
                yield {
                    **key,
                    "ts": _iso(s.ts),
                    "used_pct": s.used_pct,
                    "resets_at": _iso(s.resets_at),
                    "used": s.used,
                    "limit": s.limit,
                }
        elif what == "cycles":
            yield from ledger_rows(store, provider, account, window, since, until, now)
        else:
            for made_at, resets_at, used_pct, p10, p50, p90, runs_out_at, verdict, model in store.forecast_log(
                provider, account, window, since, until
            ):
                yield {
                    **key,
                    "made_at": _iso(made_at),
                    "resets_at": _iso(resets_at),
                    "used_pct": used_pct,
                    "low_pct": p10,
                    "expected_pct": p50,
                    "high_pct": p90,
                    "runs_out_at": _iso(runs_out_at),
                    "verdict": verdict,
                    "model": model,
                }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def export_chunks(fmt: str, what: str, rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """``rows`` encoded as ``csv`` (header first) or a ``json`` array, a few hundred rows per chunk."""
    columns = COLUMNS[what]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for n, row in enumerate(rows, 1):
            writer.writerow([_cell(row.get(c)) for c in columns])
            if n % CHUNK_ROWS == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()
        return
    if fmt != "json":
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    parts = [b"["]
    for n, row in enumerate(rows):
        parts.append((b",\n" if n else b"\n") + orjson.dumps({c: row.get(c) for c in columns}))
        if len(parts) >= CHUNK_ROWS:
            yield b"".join(parts)
            parts = []
    parts.append(b"\n]\n")
    yield b"".join(parts)
