"""Usage history: window samples written on change plus a heartbeat, folded into hourly and daily
rollups in the same transaction. The functions run inside the caller's transaction; the caches
of series ids and last samples are changed only once that transaction has committed (``Staged``),
so a rolled-back write never leaves an id or a sample in them that the database does not have."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from . import cycles
from .backend import Transaction

if TYPE_CHECKING:
    from ..models import ProviderSnapshot

SeriesKey = tuple[str, str, str]  # provider, account, window id
ROLLUP_TABLES = {"hourly": "samples_hourly", "daily": "samples_daily"}
ROLLUP_SECONDS = {"hourly": 3600, "daily": 86400}


@dataclass(frozen=True)
class Sample:
    ts: int
    used_pct: float
    resets_at: int | None
    used: float | None
    limit: float | None


@dataclass
class Caches:
    """Series ids and each series' last sample (saves a query per window per refresh)."""

    series: dict[SeriesKey, int] = field(default_factory=dict)
    last: dict[int, Sample] = field(default_factory=dict)


@dataclass
class Staged:
    """Cache entries learned inside a transaction, merged into ``Caches`` after it commits."""

    caches: Caches
    series: dict[SeriesKey, int] = field(default_factory=dict)
    last: dict[int, Sample | None] = field(default_factory=dict)

    def series_id(self, tx: Transaction, key: SeriesKey) -> int:
        known = self.series.get(key) or self.caches.series.get(key)
        if known is not None:
            return known
        tx.execute(
            "INSERT INTO series (provider, account, window_id) VALUES (?, ?, ?) "
            "ON CONFLICT (provider, account, window_id) DO NOTHING",
            key,
        )
        row = tx.execute("SELECT id FROM series WHERE provider = ? AND account = ? AND window_id = ?", key).fetchone()
        self.series[key] = int(row[0])
        return self.series[key]

    def last_sample(self, tx: Transaction, series_id: int) -> Sample | None:
        if series_id in self.last:
            return self.last[series_id]
        if series_id in self.caches.last:
            return self.caches.last[series_id]
        row = tx.execute(
            "SELECT ts, used_pct, resets_at, used, lim FROM samples WHERE series_id = ? ORDER BY ts DESC LIMIT 1",
            (series_id,),
        ).fetchone()
        self.last[series_id] = Sample(*row) if row else None
        return self.last[series_id]

    def commit(self) -> None:
        self.caches.series.update(self.series)
        for series_id, sample in self.last.items():
            if sample is None:
                self.caches.last.pop(series_id, None)
            else:
                self.caches.last[series_id] = sample


def record(tx: Transaction, staged: Staged, snapshot: ProviderSnapshot, now: datetime, heartbeat_seconds: float) -> int:
    """Write a sample per window that changed (or whose last sample is older than the heartbeat).
    Replaying the same call writes nothing twice (a queued write may already have landed)."""
    ts = int(now.timestamp())
    written = 0
    for window in snapshot.windows:
        sid = staged.series_id(tx, (snapshot.provider, snapshot.account, window.id))
        resets = int(window.resets_at.timestamp()) if window.resets_at else None
        sample = Sample(ts, window.used_pct, resets, window.used, window.limit)
        last = staged.last_sample(tx, sid)
        if last is not None:
            unchanged = (last.used_pct, last.resets_at, last.used, last.limit) == (
                sample.used_pct,
                sample.resets_at,
                sample.used,
                sample.limit,
            )
            if (unchanged and ts - last.ts < heartbeat_seconds) or ts <= last.ts:
                continue
        inserted = tx.execute(
            "INSERT INTO samples (series_id, ts, used_pct, resets_at, used, lim) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, ts) DO NOTHING",
            (sid, ts, sample.used_pct, resets, sample.used, sample.limit),
        ).rowcount
        staged.last[sid] = sample
        if inserted:
            rollup(tx, [(sid, ts, sample.used_pct)])
            cycles.track(tx, sid, ts, sample.used_pct, resets, window.window_seconds)
            written += 1
    return written


def rollup(tx: Transaction, rows: Sequence[tuple[int, int, float]]) -> None:
    """Fold (series id, ts, percent) samples into the hourly and daily tables (peak and last value per bucket)."""
    greatest = "GREATEST" if tx.dialect == "postgres" else "MAX"
    for resolution, table in ROLLUP_TABLES.items():
        size = ROLLUP_SECONDS[resolution]
        tx.executemany(
            f"INSERT INTO {table} (series_id, bucket, max_pct, last_pct, last_ts) VALUES (?, ?, ?, ?, ?) "
            f"ON CONFLICT (series_id, bucket) DO UPDATE SET "
            f"max_pct = {greatest}({table}.max_pct, excluded.max_pct), "
            f"last_pct = CASE WHEN excluded.last_ts >= {table}.last_ts THEN excluded.last_pct "
            f"ELSE {table}.last_pct END, last_ts = {greatest}({table}.last_ts, excluded.last_ts)",
            [(sid, ts - ts % size, pct, pct, ts) for sid, ts, pct in rows],
        )


def bulk_load(tx: Transaction, staged: Staged, key: SeriesKey, rows: Sequence[tuple[int, float]]) -> None:
    sid = staged.series_id(tx, key)
    params = [(sid, ts, pct) for ts, pct in rows]
    tx.executemany(
        "INSERT INTO samples (series_id, ts, used_pct) VALUES (?, ?, ?) ON CONFLICT (series_id, ts) DO NOTHING", params
    )
    rollup(tx, params)
    staged.last[sid] = None  # unknown now: read again when next needed


def load_rollups(
    tx: Transaction, staged: Staged, key: SeriesKey, resolution: str, rows: Sequence[tuple[int, float, float, int]]
) -> None:
    sid = staged.series_id(tx, key)
    tx.executemany(
        f"INSERT INTO {ROLLUP_TABLES[resolution]} (series_id, bucket, max_pct, last_pct, last_ts) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (series_id, bucket) DO NOTHING",
        [(sid, *row) for row in rows],
    )


def rollups(
    tx: Transaction, key: SeriesKey, since: datetime, until: datetime, resolution: str
) -> list[tuple[int, float]]:
    table, size = ROLLUP_TABLES[resolution], ROLLUP_SECONDS[resolution]
    start = int(since.timestamp())
    rows = tx.query(
        f"SELECT h.bucket, h.max_pct FROM {table} h JOIN series r ON r.id = h.series_id "
        "WHERE r.provider = ? AND r.account = ? AND r.window_id = ? AND h.bucket >= ? AND h.bucket <= ? "
        "ORDER BY h.bucket",
        (*key, start - start % size, int(until.timestamp())),
    )
    return [(int(b), float(p)) for b, p in rows]


def samples(tx: Transaction, key: SeriesKey, since: datetime, until: datetime) -> list[Sample]:
    rows = tx.query(
        "SELECT s.ts, s.used_pct, s.resets_at, s.used, s.lim FROM samples s JOIN series r ON r.id = s.series_id "
        "WHERE r.provider = ? AND r.account = ? AND r.window_id = ? AND s.ts >= ? AND s.ts <= ? ORDER BY s.ts",
        (*key, int(since.timestamp()), int(until.timestamp())),
    )
    return [Sample(*row) for row in rows]


def prune(tx: Transaction, raw_before: datetime, hourly_before: datetime) -> int:
    removed = tx.execute("DELETE FROM samples WHERE ts < ?", (int(raw_before.timestamp()),)).rowcount
    tx.execute("DELETE FROM samples_hourly WHERE bucket < ?", (int(hourly_before.timestamp()),))
    cycles.prune_forecasts(tx, int(hourly_before.timestamp()))  # the cycle ledger itself is kept for good
    return int(removed or 0)


def size_bytes(tx: Transaction) -> int:
    if tx.dialect == "sqlite":
        return int(tx.query("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")[0][0])
    return int(
        tx.query(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "AND c.relkind = 'r'"
        )[0][0]
    )
