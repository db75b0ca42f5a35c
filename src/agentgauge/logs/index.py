"""The incremental index: which bytes of which log file have been read, and the deduplicated
usage entries they produced, kept in the store (SQLite or PostgreSQL).

A rerun stats every file and reads only what was appended since the recorded offset. A file
whose identity (device, inode) changed, that shrank below the offset, or whose already-read
bytes no longer match their fingerprint was rewritten: then the whole agent is re-read, because
the losing copies of deduplicated entries were never stored and a rewrite may have removed the
winner. Entries of files that disappeared are kept (Claude Code deletes old transcripts; the
history of spend should survive that).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ..store import Store
from . import READERS, reader_for
from ._base import FileScan, Found, Reader, Row, executemany, scan_file

PARALLEL_MIN_BYTES = 48 << 20  # below this a process pool costs more than it saves
BATCH_BYTES = 24 << 20
BULK_CACHE_KIB = 64 << 10  # SQLite page cache during a first build: ~20 MiB per GB of logs is used

# Row fields (``_base.Row``) in column order; the agent is prepended as a literal.
_COLUMNS = ("key, ts, model, input, output, cache_write, cache_write_1h, cache_read, reasoning, sidechain, long_ctx, "
            "file_id")


class IndexStats:
    """What a refresh did (a plain class: see ``_Task``)."""

    def __init__(self) -> None:
        self.files = self.files_read = self.bytes_read = self.entries = self.malformed = self.resets = 0
        self.seconds = 0.0
        self.per_agent: dict[str, dict[str, int]] = {}

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "filesRead": self.files_read, "bytesRead": self.bytes_read,
                "entriesWritten": self.entries, "malformedLines": self.malformed, "resets": self.resets,
                "seconds": round(self.seconds, 3), "agents": self.per_agent}


class _Task:
    """One file to read. A plain slotted class (pickled to the workers), not a dataclass: the
    warm path imports this module on every run and dataclass creation costs compile time."""

    __slots__ = ("file_id", "path", "root", "sig", "start", "stat", "state")

    def __init__(self, path: str, root: str, file_id: int, start: int, state: dict[str, Any] | None,
                 sig: str | None, stat: tuple[int, int, int, int]) -> None:
        self.path, self.root, self.file_id, self.start = path, root, file_id, start
        self.state, self.sig = state, sig
        self.stat = stat  # dev, ino, size, mtime_ns as seen before reading


# log_files columns read per file: (id, dev, ino, size, mtime_ns, read_offset, sig, state).
_Known = tuple[Any, ...]


def refresh_index(store: Store, env: Mapping[str, str] | None = None, *, home: Path | None = None,
                  agents: Sequence[str] | None = None, workers: int | None = None) -> IndexStats:
    """Bring the index up to date with the agents' log files; safe to call from a background thread
    (the store serialises writes). ``env`` defaults to ``os.environ`` (roots come from
    ``CLAUDE_CONFIG_DIR``, ``CODEX_HOME``, ``XDG_CONFIG_HOME`` and ``HOME``)."""
    started = time.perf_counter()
    env = dict(os.environ if env is None else env)
    home = home or Path(env.get("HOME") or Path.home())
    stats = IndexStats()
    for reader in (reader_for(a) for a in agents) if agents else (cls() for cls in READERS):
        _refresh_agent(store, reader, env, home, workers, stats)
    stats.seconds = time.perf_counter() - started
    return stats


def _known(store: Store, agent: str) -> dict[str, _Known]:
    with store._tx() as conn:
        rows = conn.execute(store._sql("SELECT path, id, dev, ino, size, mtime_ns, read_offset, sig, state "
                                       "FROM log_files WHERE agent = ?"), (agent,)).fetchall()
    return {r[0]: r[1:] for r in rows}


class _Reset(Exception):
    """Bytes already read changed: the agent is re-read from scratch."""


def _refresh_agent(store: Store, reader: Reader, env: Mapping[str, str], home: Path, workers: int | None,
                   stats: IndexStats, *, full: bool = False) -> None:
    found = reader.files(reader.roots(env, home))
    known = _known(store, reader.agent)
    tasks, fresh = _plan(found, known, full)
    if tasks is None:
        stats.resets += 1
        return _refresh_agent(store, reader, env, home, workers, stats, full=True)
    if fresh:
        tasks = _assign_ids(store, reader.agent, fresh, tasks)
    written, scans = 0, []
    if tasks:  # nothing changed: no write transaction at all
        try:
            written, scans = _index(store, reader, tasks, workers, full=full)
        except _Reset:
            stats.resets += 1
            return _refresh_agent(store, reader, env, home, workers, stats, full=True)
    read = sum(s.end - s.start for s in scans)
    malformed = sum(s.malformed for s in scans)
    stats.files += len(found)
    stats.files_read += len(scans)
    stats.bytes_read += read
    stats.entries += written
    stats.malformed += malformed
    stats.per_agent[reader.agent] = {"files": len(found), "filesRead": len(scans), "bytesRead": read,
                                     "entriesWritten": written, "malformedLines": malformed}


def _plan(found: list[Found], known: dict[str, _Known], full: bool) -> tuple[list[_Task] | None, list[str]]:
    """The files to read and those never seen; None when a file was replaced or truncated (the
    caller then re-reads the whole agent). Files whose stat is unchanged are skipped unopened."""
    tasks: list[_Task] = []
    fresh: list[str] = []
    for path, root, stat in found:
        rec = known.get(path)
        if rec is None:
            fresh.append(path)
            tasks.append(_Task(path, root, 0, 0, None, None, stat))
            continue
        if full:
            tasks.append(_Task(path, root, rec[0], 0, None, None, stat))
            continue
        if rec[1:5] == stat:
            continue  # untouched since the last run: not even opened
        if rec[1:3] != stat[:2] or stat[2] < rec[5]:
            return None, []
        tasks.append(_Task(path, root, rec[0], rec[5], orjson.loads(rec[7]) if rec[7] else None, rec[6], stat))
    return tasks, fresh


def _assign_ids(store: Store, agent: str, fresh: list[str], tasks: list[_Task]) -> list[_Task]:
    now = time.time()
    with store._tx() as conn:
        executemany(conn, store._sql("INSERT INTO log_files (agent, path, updated_at) VALUES (?, ?, ?) "
                                    "ON CONFLICT (path) DO NOTHING"), [(agent, p, now) for p in fresh])
    ids = {p: k[0] for p, k in _known(store, agent).items()}
    for t in tasks:
        if t.file_id == 0:
            t.file_id = ids[t.path]
    return tasks


class _Batch:
    """What a worker sends back for a batch of files: the scans (``rows`` emptied), the batch's
    rows merged by key (``prefer``, in file order) and their quarter sums, so the parent does no
    per-row Python work when no key crosses batches (the usual case)."""

    __slots__ = ("rows", "scans", "usage")

    def __init__(self, scans: list[FileScan], rows: dict[int, Row], usage: dict[tuple[Any, ...], list[int]]) -> None:
        self.scans, self.rows, self.usage = scans, rows, usage


def _scan_batch(agent: str, batch: list[_Task]) -> _Batch:
    reader = reader_for(agent)
    rows: dict[int, Row] = {}
    scans = [scan_file(reader, t.path, t.root, t.file_id, t.start, t.state, t.sig, rows) for t in batch]
    for s in scans:
        s.rows = {}
    usage: dict[tuple[Any, ...], list[int]] = {}
    for row in rows.values():
        # _tally(usage, row, 1), inlined: this runs once per entry of a cold build.
        acc = usage.get(q := (row[1] // 900, row[2], row[10]))
        if acc is None:
            usage[q] = [1, row[3], row[4], row[5], row[6], row[7], row[8]]
        else:
            acc[0] += 1
            acc[1] += row[3]
            acc[2] += row[4]
            acc[3] += row[5]
            acc[4] += row[6]
            acc[5] += row[7]
            acc[6] += row[8]
    return _Batch(scans, rows, usage)


def _run(reader: Reader, tasks: list[_Task], workers: int | None) -> Iterator[_Batch]:
    """Scan the files, over a process pool when there is enough to read (a cold run), yielding
    batches as they complete so the caller writes while the workers still read."""
    todo = sum(t.stat[2] - t.start for t in tasks)
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1 or len(tasks) < 2 or todo < PARALLEL_MIN_BYTES:
        yield _scan_batch(reader.agent, tasks)
        return
    # Imported here: a warm run never starts a pool, and these imports cost ~6 ms.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Largest files first into batches of ~BATCH_BYTES, so the workers finish together and the
    # last results (the ones nothing overlaps) are small.
    ordered = sorted(tasks, key=lambda t: t.stat[2] - t.start, reverse=True)
    batches: list[list[_Task]] = []
    size = BATCH_BYTES + 1
    for t in ordered:
        if size > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(t)
        size += t.stat[2] - t.start
    # fork: the workers start in milliseconds with everything already imported.
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(max_workers=n, mp_context=context)
    try:
        yield from pool.map(_scan_batch, [reader.agent] * len(batches), batches)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _index(store: Store, reader: Reader, tasks: list[_Task], workers: int | None, *,
           full: bool) -> tuple[int, list[FileScan]]:
    """Read the tasks and store what they produced in one transaction, so a crash at any point
    leaves the index as it was before the run or as it is after it. Batches are written as they
    arrive. Returns (entries written, scans)."""
    scans: list[FileScan] = []
    big = sum(t.stat[2] - t.start for t in tasks) >= PARALLEL_MIN_BYTES
    resolver = None
    if big and hasattr(os, "fork"):
        from . import pricing

        resolver = pricing.Resolver(reader.provider)
    try:
        written, scans = _write(store, reader, tasks, workers, full=full, big=big, resolver=resolver)
    except BaseException:
        if resolver is not None:
            resolver.collect(None)
        raise
    if resolver is not None:
        resolver.collect(store)
    return written, scans


def _write(store: Store, reader: Reader, tasks: list[_Task], workers: int | None, *, full: bool, big: bool,
           resolver: Any) -> tuple[int, list[FileScan]]:
    scans: list[FileScan] = []
    with store._tx() as conn:
        writer = _Writer(conn, store, reader, tasks, full=full, big=big)
        if full:
            writer.forget([t.file_id for t in tasks])
        batches = _run(reader, tasks, workers)
        try:
            for batch in batches:
                if not full and any(s.reset for s in batch.scans):
                    raise _Reset  # rolls the transaction back
                writer.add(batch)
                writer.files(batch.scans)
                scans.extend(batch.scans)
        finally:
            batches.close()  # on an error, stop the pool now rather than when the traceback dies
        if resolver is not None and writer.bulk:
            from . import pricing

            resolver.send({q[1] for q in writer.usage} - pricing.cached_models(conn, store, reader.provider))
        writer.finish()
    if writer.cache_size is not None:
        # Restored after the commit: shrinking the cache inside the transaction would first
        # spill the dirty pages of the build to the WAL (then rewrite them at commit).
        with store._tx() as conn:
            conn.execute(f"PRAGMA cache_size = {int(writer.cache_size)}")
    return writer.written(), scans


_SELECT_OLD = f"SELECT {_COLUMNS} FROM log_entries WHERE agent = ? AND key IN ({{}})"
_USAGE_ADD = ("INSERT INTO log_usage (agent, quarter, model, long_ctx, entries, input, output, cache_write, "
              "cache_write_1h, cache_read, reasoning) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (agent, quarter, model, long_ctx) DO UPDATE SET "
              "entries = log_usage.entries + excluded.entries, "
              "input = log_usage.input + excluded.input, output = log_usage.output + excluded.output, "
              "cache_write = log_usage.cache_write + excluded.cache_write, "
              "cache_write_1h = log_usage.cache_write_1h + excluded.cache_write_1h, "
              "cache_read = log_usage.cache_read + excluded.cache_read, "
              "reasoning = log_usage.reasoning + excluded.reasoning")
_USAGE_REBUILD = ("INSERT INTO log_usage (agent, quarter, model, long_ctx, entries, input, output, cache_write, "
                  "cache_write_1h, cache_read, reasoning) SELECT agent, ts / 900, model, long_ctx, COUNT(*), "
                  "SUM(input), SUM(output), SUM(cache_write), SUM(cache_write_1h), SUM(cache_read), SUM(reasoning) "
                  "FROM log_entries WHERE agent = ? GROUP BY agent, ts / 900, model, long_ctx")


class _Writer:
    """Applies scanned rows to the index inside the caller's transaction: the dedupe rule against
    this run's rows and the stored ones, entry upserts, and the quarter sums (kept in Python
    and added at the end, or recounted in SQL after a reset)."""

    def __init__(self, conn: Any, store: Store, reader: Reader, tasks: list[_Task], *, full: bool,
                 big: bool) -> None:
        self.conn, self.store, self.reader, self.full = conn, store, reader, full
        self.stat = {t.file_id: t.stat for t in tasks}
        self.agent = agent = reader.agent
        if not agent.isidentifier():
            raise ValueError(f"agent name {agent!r} is not an identifier")
        # The agent is a class constant, inlined so executemany takes the rows as the scanner made them.
        updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", ")[1:])
        self.upsert = store._sql(f"INSERT INTO log_entries (agent, {_COLUMNS}) VALUES ('{agent}', "
                                 f"{', '.join('?' * 12)}) ON CONFLICT (agent, key) DO UPDATE SET {updates}")
        if store.dialect == "sqlite" and not conn.in_transaction:
            # Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE: without this,
            # the DROP INDEX below would commit on its own. IMMEDIATE also takes the write lock
            # now, so the "nothing stored yet" check below cannot go stale.
            conn.execute("BEGIN IMMEDIATE")
        self.merged: dict[int, Row] = {}  # the winning row of every key met in this run
        # On a first build there is nothing stored to compare with: no lookups at all. Asked of
        # log_usage (every stored entry is counted there; its key starts with the agent), since
        # the entries' key index starts with the key and cannot seek to an agent.
        self.lookup = full or conn.execute(store._sql("SELECT 1 FROM log_usage WHERE agent = ? LIMIT 1"),
                                           (agent,)).fetchone() is not None
        self.usage: dict[tuple[Any, ...], list[int]] = {}
        self.touched: set[int] = set()  # keys written (inserted or replaced) in this run, when lookup
        # A first build of a large history: without the key index, rows are appended as they
        # arrive (random key order into a B-tree cost ~3x more), the index is built once at the
        # end, and the few rows a later batch displaces are upserted after that.
        self.bulk = big and not self.lookup
        self.displaced: dict[int, Row] = {}
        self.append = store._sql(f"INSERT INTO log_entries (agent, {_COLUMNS}) VALUES ('{agent}', "
                                 f"{', '.join('?' * 12)})")
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
        conn, store, agent = self.conn, self.store, self.agent
        conn.execute(store._sql("CREATE TEMP TABLE IF NOT EXISTS log_reset (id BIGINT PRIMARY KEY)"))
        conn.execute("DELETE FROM log_reset")
        executemany(conn, store._sql("INSERT INTO log_reset (id) VALUES (?)"), [(i,) for i in present])
        conn.execute(store._sql("DELETE FROM log_entries WHERE agent = ? AND file_id IN (SELECT id FROM log_reset)"),
                     (agent,))
        conn.execute(store._sql("UPDATE log_files SET malformed = 0 WHERE agent = ?"), (agent,))

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
            executemany(self.conn, self.append, won.values())
            return
        # In key order: B-tree inserts in key order touch each page once.
        executemany(self.conn, self.upsert, [won[k] for k in sorted(won)])

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
            file_rows.append((dev, ino, size, mtime, s.end, s.sig,
                              orjson.dumps(s.state).decode() if s.state else None, s.malformed, s.session, s.project,
                              now, s.file_id))
        executemany(self.conn, self.store._sql(
            "UPDATE log_files SET dev = ?, ino = ?, size = ?, mtime_ns = ?, read_offset = ?, sig = ?, state = ?, "
            "malformed = malformed + ?, session = ?, project = ?, updated_at = ? WHERE id = ?"), file_rows)

    def finish(self) -> None:
        conn, store, agent = self.conn, self.store, self.agent
        if self.bulk:
            conn.execute("CREATE UNIQUE INDEX log_entries_key ON log_entries (key, agent)")
            executemany(conn, self.upsert, [self.displaced[k] for k in sorted(self.displaced)])
        if self.full:
            conn.execute(store._sql("DELETE FROM log_usage WHERE agent = ?"), (agent,))
            conn.execute(store._sql(_USAGE_REBUILD), (agent,))
        elif self.usage:
            # A quarter whose entry was displaced by one elsewhere nets to zero: nothing to add.
            executemany(conn, store._sql(_USAGE_ADD), [(agent, *k, *v) for k, v in self.usage.items() if any(v)])


def _tally(usage: dict[tuple[Any, ...], list[int]], row: Row, sign: int) -> None:
    """Add (sign 1) or remove (sign -1) one entry in the per-quarter sums."""
    acc = usage.setdefault((row[1] // 900, row[2], row[10]), [0, 0, 0, 0, 0, 0, 0])
    acc[0] += sign
    for i, col in enumerate(range(3, 9), start=1):
        acc[i] += sign * row[col]


def _old_rows(conn: Any, store: Store, agent: str, keys: list[int]) -> dict[int, Row]:
    old: dict[int, Row] = {}
    for i in range(0, len(keys), 500):
        part = keys[i:i + 500]
        sql = store._sql(_SELECT_OLD.format(", ".join("?" * len(part))))
        old.update({r[0]: tuple(r) for r in conn.execute(sql, (agent, *part)).fetchall()})
    return old


def malformed_lines(store: Store) -> dict[str, int]:
    """Malformed candidate lines seen so far, per agent (as of the files' current contents)."""
    with store._tx() as conn:
        rows = conn.execute("SELECT agent, SUM(malformed) FROM log_files GROUP BY agent").fetchall()
    return {a: int(n or 0) for a, n in rows}
