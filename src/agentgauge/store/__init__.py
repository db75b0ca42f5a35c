"""The store: SQLite (WAL) by default, PostgreSQL for teams; one SQL layer for both.

Holds the latest snapshot of every account with its polling gate (``next_allowed_at``:
minimum interval, Retry-After and back-off survive restarts and are shared by every
process on the same database), and window samples written on change plus a heartbeat.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..models import ProviderSnapshot


class _Connection(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class AccountState:
    snapshot: ProviderSnapshot | None
    next_allowed_at: float
    failures: int
    last_raw: str | None


@dataclass(frozen=True)
class Sample:
    ts: int
    used_pct: float
    resets_at: int | None
    used: float | None
    limit: float | None


class Store:
    """Thread-safe access to one database. All methods are synchronous; async callers use
    ``asyncio.to_thread``. Every write is one transaction, so a kill at any moment leaves
    either the old or the new state."""

    dialect: str = "sqlite"

    def __init__(self, conn: _Connection, dialect: str) -> None:
        self._conn = conn
        self.dialect = dialect
        self._lock = threading.RLock()
        self._last_sample: dict[int, Sample] = {}
        self._series: dict[tuple[str, str, str], int] = {}

    # -- plumbing ---------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    @contextmanager
    def _tx(self) -> Iterator[_Connection]:
        with self._lock:
            try:
                yield self._conn
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._tx() as conn:
            return list(conn.execute(self._sql(sql), params).fetchall())

    def migrate(self) -> int:
        """Apply the numbered migrations not yet applied; returns the schema version."""
        with self._tx() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "applied_at TEXT NOT NULL)")
        done = {row[0] for row in self._rows("SELECT version FROM schema_migrations")}
        folder = resources.files("agentgauge.store").joinpath("migrations", self.dialect)
        version = max(done, default=0)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".sql"):
                continue
            number = int(entry.name.split("_", 1)[0])
            if number in done:
                continue
            script = entry.read_text(encoding="utf-8")
            with self._tx() as conn:
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(self._sql("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
                             (number, datetime.now(UTC).isoformat()))
            version = max(version, number)
        return version

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- account state ----------------------------------------------------------------------
    def claim(self, provider: str, account: str, now: float, hold_until: float) -> bool:
        """Atomically take the right to fetch an account: succeeds only when its gate is open.
        The gate is moved to ``hold_until`` so no other process fetches meanwhile."""
        with self._tx() as conn:
            cur = conn.execute(self._sql(
                "INSERT INTO account_state (provider, account, next_allowed_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (provider, account) DO UPDATE SET next_allowed_at = excluded.next_allowed_at "
                "WHERE account_state.next_allowed_at <= ?"
            ), (provider, account, hold_until, now, now))
            return bool(cur.rowcount)

    def save_state(self, snapshot: ProviderSnapshot, *, next_allowed_at: float, failures: int,
                   last_raw: str | None = None) -> None:
        payload = snapshot.model_dump_json()
        with self._tx() as conn:
            conn.execute(self._sql(
                "INSERT INTO account_state (provider, account, snapshot, next_allowed_at, failures, last_raw, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, account) DO UPDATE SET "
                "snapshot = excluded.snapshot, next_allowed_at = excluded.next_allowed_at, "
                "failures = excluded.failures, last_raw = COALESCE(excluded.last_raw, account_state.last_raw), "
                "updated_at = excluded.updated_at"
            ), (snapshot.provider, snapshot.account, payload, next_allowed_at, failures, last_raw, time.time()))

    def states(self) -> dict[tuple[str, str], AccountState]:
        from ..models import ProviderSnapshot

        rows = self._rows("SELECT provider, account, snapshot, next_allowed_at, failures, last_raw "
                          "FROM account_state")
        return {
            (p, a): AccountState(ProviderSnapshot.model_validate_json(s) if s else None, float(n), int(f), r)
            for p, a, s, n, f, r in rows
        }

    def state(self, provider: str, account: str) -> AccountState | None:
        from ..models import ProviderSnapshot

        rows = self._rows("SELECT snapshot, next_allowed_at, failures, last_raw FROM account_state "
                          "WHERE provider = ? AND account = ?", (provider, account))
        if not rows:
            return None
        s, n, f, r = rows[0]
        return AccountState(ProviderSnapshot.model_validate_json(s) if s else None, float(n), int(f), r)

    # -- history ----------------------------------------------------------------------------
    def _series_id(self, conn: _Connection, key: tuple[str, str, str]) -> int:
        if key not in self._series:
            conn.execute(self._sql("INSERT INTO series (provider, account, window_id) VALUES (?, ?, ?) "
                                   "ON CONFLICT (provider, account, window_id) DO NOTHING"), key)
            row = conn.execute(self._sql("SELECT id FROM series WHERE provider = ? AND account = ? AND "
                                         "window_id = ?"), key).fetchone()
            self._series[key] = int(row[0])
        return self._series[key]

    def _last(self, conn: _Connection, series_id: int) -> Sample | None:
        if series_id not in self._last_sample:
            row = conn.execute(self._sql("SELECT ts, used_pct, resets_at, used, lim FROM samples WHERE "
                                         "series_id = ? ORDER BY ts DESC LIMIT 1"), (series_id,)).fetchone()
            if row is None:
                return None
            self._last_sample[series_id] = Sample(*row)
        return self._last_sample[series_id]

    def record_samples(self, snapshot: ProviderSnapshot, now: datetime, heartbeat_seconds: float) -> int:
        """Write a sample per window that changed (or whose last sample is older than the
        heartbeat). Returns how many were written."""
        ts = int(now.timestamp())
        written = 0
        with self._tx() as conn:
            for window in snapshot.windows:
                sid = self._series_id(conn, (snapshot.provider, snapshot.account, window.id))
                resets = int(window.resets_at.timestamp()) if window.resets_at else None
                sample = Sample(ts, window.used_pct, resets, window.used, window.limit)
                last = self._last(conn, sid)
                if last is not None:
                    unchanged = (last.used_pct, last.resets_at, last.used, last.limit) == (
                        sample.used_pct, sample.resets_at, sample.used, sample.limit)
                    if (unchanged and ts - last.ts < heartbeat_seconds) or ts <= last.ts:
                        continue
                conn.execute(self._sql("INSERT INTO samples (series_id, ts, used_pct, resets_at, used, lim) "
                                       "VALUES (?, ?, ?, ?, ?, ?)"),
                             (sid, ts, sample.used_pct, resets, sample.used, sample.limit))
                self._rollup(conn, [(sid, ts, sample.used_pct)])
                self._last_sample[sid] = sample
                written += 1
        return written

    def _rollup(self, conn: _Connection, rows: Sequence[tuple[int, int, float]]) -> None:
        """Fold samples into the hourly and daily tables (peak and last value per bucket)."""
        greatest = "GREATEST" if self.dialect == "postgres" else "MAX"
        for table, size in (("samples_hourly", 3600), ("samples_daily", 86400)):
            sql = self._sql(
                f"INSERT INTO {table} (series_id, bucket, max_pct, last_pct, last_ts) VALUES (?, ?, ?, ?, ?) "
                f"ON CONFLICT (series_id, bucket) DO UPDATE SET "
                f"max_pct = {greatest}({table}.max_pct, excluded.max_pct), "
                f"last_pct = CASE WHEN excluded.last_ts >= {table}.last_ts THEN excluded.last_pct "
                f"ELSE {table}.last_pct END, last_ts = {greatest}({table}.last_ts, excluded.last_ts)"
            )
            params = [(sid, ts - ts % size, pct, pct, ts) for sid, ts, pct in rows]
            if hasattr(conn, "executemany"):
                conn.executemany(sql, params)  # type: ignore[attr-defined]
            else:  # psycopg connections take executemany on a cursor
                with conn.cursor() as cur:  # type: ignore[attr-defined]
                    cur.executemany(sql, params)

    def bulk_load(self, provider: str, account: str, window_id: str, rows: Sequence[tuple[int, float]]) -> None:
        """Insert many (ts, used_pct) samples of one window at once, with their rollups (imports, benchmarks)."""
        with self._tx() as conn:
            sid = self._series_id(conn, (provider, account, window_id))
            params = [(sid, ts, pct) for ts, pct in rows]
            sql = self._sql("INSERT INTO samples (series_id, ts, used_pct) VALUES (?, ?, ?) "
                            "ON CONFLICT (series_id, ts) DO NOTHING")
            if hasattr(conn, "executemany"):
                conn.executemany(sql, params)  # type: ignore[attr-defined]
            else:
                with conn.cursor() as cur:  # type: ignore[attr-defined]
                    cur.executemany(sql, params)
            self._rollup(conn, params)
            self._last_sample.pop(sid, None)

    def load_rollups(self, provider: str, account: str, window_id: str, resolution: str,
                     rows: Sequence[tuple[int, float, float, int]]) -> None:
        """Insert precomputed (bucket, max_pct, last_pct, last_ts) rollup rows (imports, benchmarks)."""
        table = {"hourly": "samples_hourly", "daily": "samples_daily"}[resolution]
        with self._tx() as conn:
            sid = self._series_id(conn, (provider, account, window_id))
            sql = self._sql(f"INSERT INTO {table} (series_id, bucket, max_pct, last_pct, last_ts) "
                            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (series_id, bucket) DO NOTHING")
            params = [(sid, *row) for row in rows]
            if hasattr(conn, "executemany"):
                conn.executemany(sql, params)  # type: ignore[attr-defined]
            else:
                with conn.cursor() as cur:  # type: ignore[attr-defined]
                    cur.executemany(sql, params)

    def rollups(self, provider: str, account: str, window_id: str, since: datetime, until: datetime,
                resolution: str) -> list[tuple[int, float]]:
        """(bucket start, peak percent) rows of the ``hourly`` or ``daily`` rollup."""
        table = {"hourly": "samples_hourly", "daily": "samples_daily"}[resolution]
        size = 3600 if resolution == "hourly" else 86400
        start = int(since.timestamp())
        rows = self._rows(
            f"SELECT h.bucket, h.max_pct FROM {table} h JOIN series r ON r.id = h.series_id "
            "WHERE r.provider = ? AND r.account = ? AND r.window_id = ? AND h.bucket >= ? AND h.bucket <= ? "
            "ORDER BY h.bucket",
            (provider, account, window_id, start - start % size, int(until.timestamp())),
        )
        return [(int(b), float(p)) for b, p in rows]

    def windows_of(self, provider: str, account: str) -> list[str]:
        rows = self._rows("SELECT window_id FROM series WHERE provider = ? AND account = ? ORDER BY id",
                          (provider, account))
        return [r[0] for r in rows]

    def prune(self, *, raw_before: datetime, hourly_before: datetime) -> int:
        """Drop raw samples older than the retention (their rollups stay) and very old hourly rollups."""
        with self._tx() as conn:
            removed = conn.execute(self._sql("DELETE FROM samples WHERE ts < ?"),
                                   (int(raw_before.timestamp()),)).rowcount
            conn.execute(self._sql("DELETE FROM samples_hourly WHERE bucket < ?"), (int(hourly_before.timestamp()),))
        self._last_sample.clear()
        return int(removed or 0)

    def size_bytes(self) -> int | None:
        """On-disk size of the database (SQLite file + WAL, or the PostgreSQL schema's tables)."""
        if self.dialect == "sqlite":
            rows = self._rows("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            return int(rows[0][0])
        rows = self._rows("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                          "AND c.relkind = 'r'")
        return int(rows[0][0])

    def samples(self, provider: str, account: str, window_id: str, since: datetime, until: datetime) -> list[Sample]:
        rows = self._rows(
            "SELECT s.ts, s.used_pct, s.resets_at, s.used, s.lim FROM samples s JOIN series r ON r.id = s.series_id "
            "WHERE r.provider = ? AND r.account = ? AND r.window_id = ? AND s.ts >= ? AND s.ts <= ? ORDER BY s.ts",
            (provider, account, window_id, int(since.timestamp()), int(until.timestamp())),
        )
        return [Sample(*row) for row in rows]

    def series(self) -> list[tuple[str, str, str]]:
        return [tuple(r) for r in self._rows("SELECT provider, account, window_id FROM series ORDER BY id")]


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def open_store(url: str | None, *, data_dir: Path) -> Store:
    """Open (and migrate) the store named by ``url``: None -> SQLite in ``data_dir``."""
    if url and url.startswith(("postgresql://", "postgres://")):
        from .postgres import connect as pg_connect

        store = Store(pg_connect(url), "postgres")
    else:
        from .sqlite import connect as sqlite_connect

        if url and url.startswith("sqlite:///"):
            path = Path(url[len("sqlite:///"):])
        elif url and "://" in url:
            raise ConfigError(f"unsupported database URL scheme: {url.split('://', 1)[0]}://",
                              hint="Use a file path, sqlite:///path or postgresql://...")
        else:
            path = Path(url) if url else data_dir / "agentgauge.db"
        store = Store(sqlite_connect(path), "sqlite")
    store.migrate()
    return store


def dumps_raw(raw: Any) -> str:
    return orjson.dumps(raw, default=str).decode()
