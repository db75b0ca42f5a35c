"""Writing a refresh's rows into the index (``index`` reads the logs and calls this): the dedupe rule
against the rows of earlier batches and the stored ones, entry upserts (or appends without the key
index on a first build), and the quarter-hour sums reports read."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson

from ..store import Store, Transaction
from ._base import FileScan, Reader, Row

if TYPE_CHECKING:
    from .index import _Batch, _Task

BULK_CACHE_KIB = 64 << 10  # SQLite page cache during a first build: ~20 MiB per GB of logs is used

# Row fields (``_base.Row``) in column order; the agent is prepended as a literal.
_COLUMNS = (
    "key, ts, model, input, output, cache_write, cache_write_1h, cache_read, reasoning, sidechain, long_ctx, file_id"
)

_SELECT_OLD = f"SELECT {_COLUMNS} FROM log_entries WHERE agent = ? AND key IN ({{}})"
_USAGE_ADD = (
    "INSERT INTO log_usage (agent, quarter, model, long_ctx, entries, input, output, cache_write, "
    "cache_write_1h, cache_read, reasoning) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (agent, quarter, model, long_ctx) DO UPDATE SET "
    "entries = log_usage.entries + excluded.entries, "
    "input = log_usage.input + excluded.input, output = log_usage.output + excluded.output, "
    "cache_write = log_usage.cache_write + excluded.cache_write, "
    "cache_write_1h = log_usage.cache_write_1h + excluded.cache_write_1h, "
    "cache_read = log_usage.cache_read + excluded.cache_read, "
    "reasoning = log_usage.reasoning + excluded.reasoning"
)
_USAGE_REBUILD = (
    "INSERT INTO log_usage (agent, quarter, model, long_ctx, entries, input, output, cache_write, "
    "cache_write_1h, cache_read, reasoning) SELECT agent, ts / 900, model, long_ctx, COUNT(*), "
    "SUM(input), SUM(output), SUM(cache_write), SUM(cache_write_1h), SUM(cache_read), SUM(reasoning) "
    "FROM log_entries WHERE agent = ? GROUP BY agent, ts / 900, model, long_ctx"
)


class _Writer:
    """Applies scanned rows to the index inside the caller's transaction: the dedupe rule against
    this run's rows and the stored ones, entry upserts, and the quarter sums (kept in Python
    and added at the end, or recounted in SQL after a reset)."""

    def __init__(
        self, conn: Transaction, store: Store, reader: Reader, tasks: list[_Task], *, full: bool, big: bool
    ) -> None:
        self.conn, self.store, self.reader, self.full = conn, store, reader, full
        self.stat = {t.file_id: t.stat for t in tasks}
        self.agent = agent = reader.agent
        if not agent.isidentifier():
            raise ValueError(f"agent name {agent!r} is not an identifier")
        # The agent is a class constant, inlined so executemany takes the rows as the scanner made them.
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
        self.upsert = (
            f"INSERT INTO log_entries (agent, {_COLUMNS}) VALUES ('{agent}', "
            f"{', '.join('?' * 12)}) ON CONFLICT (agent, key) DO UPDATE SET {updates}"
        )
        # The store's write transaction holds the write lock from its start (SQLite: BEGIN
        # IMMEDIATE), so the "nothing stored yet" check below cannot go stale.
        self.merged: dict[int, Row] = {}  # the winning row of every key met in this run
        # On a first build there is nothing stored to compare with: no lookups at all. Asked of
        # log_usage (every stored entry is counted there; its key starts with the agent), since
        # the entries' key index starts with the key and cannot seek to an agent.
        self.lookup = (
            full or conn.execute("SELECT 1 FROM log_usage WHERE agent = ? LIMIT 1", (agent,)).fetchone() is not None
        )
        self.usage: dict[tuple[Any, ...], list[int]] = {}
        self.touched: set[int] = set()  # keys written (inserted or replaced) in this run, when lookup
        # A first build of a large history: without the key index, rows are appended as they
        # arrive (random key order into a B-tree cost ~3x more), the index is built once at the
        # end, and the few rows a later batch displaces are upserted after that.
        self.bulk = big and not self.lookup
        self.displaced: dict[int, Row] = {}
        self.append = f"INSERT INTO log_entries (agent, {_COLUMNS}) VALUES ('{agent}', {', '.join('?' * 12)})"
        self.cache_size: int | None = None
        if self.bulk:
            conn.execute("DROP INDEX log_entries_key")
            if store.dialect == "sqlite":
                # Room for the whole build in SQLite's page cache (default 2 MiB): otherwise dirty
                # pages spill to the WAL mid-transaction and the index build sorts through
                # temporary files (measured: ~15% more writes, twice the system time). Restored
                # after the commit.
                self.cache_size = conn.execute("PRAGMA cache_size").fetchone()[0]
                conn.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")

    def forget(self, present: list[int]) -> None:
        """A rewrite: drop what the present files produced (entries of vanished files stay)."""
        conn, agent = self.conn, self.agent
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS log_reset (id BIGINT PRIMARY KEY)")
        conn.execute("DELETE FROM log_reset")
        conn.executemany("INSERT INTO log_reset (id) VALUES (?)", [(i,) for i in present])
        conn.execute("DELETE FROM log_entries WHERE agent = ? AND file_id IN (SELECT id FROM log_reset)", (agent,))
        conn.execute("UPDATE log_files SET malformed = 0 WHERE agent = ?", (agent,))

    def add(self, batch: _Batch) -> None:
        merged, usage, rows = self.merged, self.usage, batch.rows
        for q, v in batch.usage.items():  # the batch's rows, all counted; corrected below on a conflict
            acc = usage.get(q)
            if acc is None:
                usage[q] = v
            else:
                for i in range(7):
                    acc[i] += v[i]
        stored: dict[int, Row] = {}
        if self.lookup:
            stored = _old_rows(self.conn, self.store, self.agent, [k for k in rows if k not in merged])
        # Keys met before (an earlier batch: resumed sessions copy their parent's lines) or stored:
        # found with C set operations, so only they take the per-row path below. ``rows`` is this
        # run's own object: it is trimmed to the rows to write.
        common = merged.keys() & rows.keys()
        if stored:
            common |= stored.keys()
        if common:
            prefer, bulk, displaced = self.reader.prefer, self.bulk, self.displaced
            for key in common:
                row = rows[key]
                old = merged.get(key) or stored[key]
                if not prefer(row, old):
                    _tally(usage, row, -1)
                    merged[key] = old
                    del rows[key]
                    continue
                _tally(usage, old, -1)
                if bulk and key in merged:
                    displaced[key] = row  # appended by an earlier batch: upserted once the index exists
                    merged[key] = row
                    del rows[key]
        merged.update(rows)
        won = rows
        if not won:
            return
        if self.lookup:
            self.touched.update(won)
        if self.bulk:
            self.conn.executemany(self.append, won.values())
            return
        # In key order: B-tree inserts in key order touch each page once.
        self.conn.executemany(self.upsert, [won[k] for k in sorted(won)])

    def written(self) -> int:
        """Entries inserted or replaced. Without stored rows every key met was written once."""
        return len(self.touched) if self.lookup else len(self.merged)

    def files(self, scans: list[FileScan]) -> None:
        """Record how far each file was read (per batch, while the workers still read: the end of
        the build is serial, one core idle)."""
        stat, now = self.stat, time.time()
        file_rows = []
        for s in scans:
            dev, ino, size, mtime = stat[s.file_id]
            if s.end > size:
                size = s.end  # it grew while we read: the next run compares against what we consumed
            file_rows.append(
                (
                    dev,
                    ino,
                    size,
                    mtime,
                    s.end,
                    s.sig,
                    orjson.dumps(s.state).decode() if s.state else None,
                    s.malformed,
                    s.session,
                    s.project,
                    now,
                    s.file_id,
                )
            )
        self.conn.executemany(
            "UPDATE log_files SET dev = ?, ino = ?, size = ?, mtime_ns = ?, read_offset = ?, sig = ?, state = ?, "
            "malformed = malformed + ?, session = ?, project = ?, updated_at = ? WHERE id = ?",
            file_rows,
        )

    def finish(self) -> None:
        conn, agent = self.conn, self.agent
        if self.bulk:
            conn.execute("CREATE UNIQUE INDEX log_entries_key ON log_entries (key, agent)")
            conn.executemany(self.upsert, [self.displaced[k] for k in sorted(self.displaced)])
        if self.full:
            conn.execute("DELETE FROM log_usage WHERE agent = ?", (agent,))
            conn.execute(_USAGE_REBUILD, (agent,))
        elif self.usage:
            # A quarter whose entry was displaced by one elsewhere nets to zero: nothing to add.
            conn.executemany(_USAGE_ADD, [(agent, *k, *v) for k, v in self.usage.items() if any(v)])


def _tally(usage: dict[tuple[Any, ...], list[int]], row: Row, sign: int) -> None:
    """Add (sign 1) or remove (sign -1) one entry in the per-quarter sums."""
    acc = usage.setdefault((row[1] // 900, row[2], row[10]), [0, 0, 0, 0, 0, 0, 0])
    acc[0] += sign
    for i, col in enumerate(range(3, 9), start=1):
        acc[i] += sign * row[col]


def _old_rows(conn: Transaction, store: Store, agent: str, keys: list[int]) -> dict[int, Row]:
    old: dict[int, Row] = {}
    for i in range(0, len(keys), 500):
        part = keys[i : i + 500]
        sql = _SELECT_OLD.format(", ".join("?" * len(part)))
        old.update({r[0]: tuple(r) for r in conn.execute(sql, (agent, *part)).fetchall()})
    return old
