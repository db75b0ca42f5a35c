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
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import orjson

from ..store import Store
from . import READERS, reader_for
from ._base import FileScan, Reader, Row, executemany, scan_file

PARALLEL_MIN_BYTES = 48 << 20  # below this a process pool costs more than it saves
BATCH_BYTES = 24 << 20

_COLUMNS = ("agent, key, ts, model, session, project, input, output, cache_write, cache_write_1h, cache_read, "
            "reasoning, sidechain, long_ctx, file_id")


@dataclass
class IndexStats:
    files: int = 0
    files_read: int = 0
    bytes_read: int = 0
    entries: int = 0
    malformed: int = 0
    resets: int = 0
    seconds: float = 0.0
    per_agent: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "filesRead": self.files_read, "bytesRead": self.bytes_read,
                "entriesWritten": self.entries, "malformedLines": self.malformed, "resets": self.resets,
                "seconds": round(self.seconds, 3), "agents": self.per_agent}


@dataclass(frozen=True)
class _Known:
    id: int
    dev: int
    ino: int
    size: int
    mtime_ns: int
    offset: int
    sig: str | None
    state: str | None


@dataclass(frozen=True)
class _Task:
    path: str
    root: str
    file_id: int
    start: int
    state: dict[str, Any] | None
    sig: str | None
    stat: tuple[int, int, int, int]  # dev, ino, size, mtime_ns as seen before reading


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
    return {r[0]: _Known(*r[1:]) for r in rows}


def _refresh_agent(store: Store, reader: Reader, env: Mapping[str, str], home: Path, workers: int | None,
                   stats: IndexStats, *, full: bool = False) -> None:
    found = reader.files(reader.roots(env, home))
    known = _known(store, reader.agent)
    tasks: list[_Task] = []
    fresh: list[str] = []
    for path, root in found:
        try:
            st = os.stat(path)
        except OSError:
            continue
        stat = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        rec = known.get(str(path))
        if rec is None:
            fresh.append(str(path))
            tasks.append(_Task(str(path), str(root), 0, 0, None, None, stat))
            continue
        if not full and (rec.dev, rec.ino, rec.size, rec.mtime_ns) == stat:
            continue  # untouched since the last run: not even opened
        if not full and ((rec.dev, rec.ino) != stat[:2] or stat[2] < rec.offset):
            stats.resets += 1
            return _refresh_agent(store, reader, env, home, workers, stats, full=True)
        state = orjson.loads(rec.state) if rec.state and not full else None
        tasks.append(_Task(str(path), str(root), rec.id, 0 if full else rec.offset, state,
                           None if full else rec.sig, stat))
    if fresh:
        tasks = _assign_ids(store, reader.agent, fresh, tasks)
    scans = _run(reader, tasks, workers)
    if not full and any(s.reset for s in scans):
        stats.resets += 1
        return _refresh_agent(store, reader, env, home, workers, stats, full=True)
    merged: dict[str, Row] = {}
    prefer = reader.prefer
    for scan in scans:
        fid = (scan.file_id,)
        for key, row in scan.rows.items():
            old = merged.get(key)
            if old is None or prefer(row, old):
                merged[key] = row + fid
    _store(store, reader, tasks, scans, merged, full=full, present=[t.file_id for t in tasks])
    read = sum(s.end - s.start for s in scans)
    malformed = sum(s.malformed for s in scans)
    stats.files += len(found)
    stats.files_read += len(scans)
    stats.bytes_read += read
    stats.entries += len(merged)
    stats.malformed += malformed
    stats.per_agent[reader.agent] = {"files": len(found), "filesRead": len(scans), "bytesRead": read,
                                     "entriesWritten": len(merged), "malformedLines": malformed}


def _assign_ids(store: Store, agent: str, fresh: list[str], tasks: list[_Task]) -> list[_Task]:
    now = time.time()
    with store._tx() as conn:
        executemany(conn, store._sql("INSERT INTO log_files (agent, path, updated_at) VALUES (?, ?, ?) "
                                    "ON CONFLICT (path) DO NOTHING"), [(agent, p, now) for p in fresh])
    ids = {p: k.id for p, k in _known(store, agent).items()}
    return [_Task(t.path, t.root, ids[t.path], t.start, t.state, t.sig, t.stat) if t.file_id == 0 else t
            for t in tasks]


def _scan_batch(agent: str, batch: list[_Task]) -> list[FileScan]:
    reader = reader_for(agent)
    return [scan_file(reader, t.path, t.root, t.file_id, t.start, t.state, t.sig) for t in batch]


def _run(reader: Reader, tasks: list[_Task], workers: int | None) -> list[FileScan]:
    """Scan the files, over a process pool when there is enough to read (the cold run)."""
    todo = sum(t.stat[2] - t.start for t in tasks)
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1 or len(tasks) < 2 or todo < PARALLEL_MIN_BYTES:
        return _scan_batch(reader.agent, tasks)
    # Largest files first into batches of ~BATCH_BYTES, so the workers finish together.
    ordered = sorted(tasks, key=lambda t: t.stat[2] - t.start, reverse=True)
    batches: list[list[_Task]] = []
    size = BATCH_BYTES + 1
    for t in ordered:
        if size > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(t)
        size += t.stat[2] - t.start
    context = get_context("fork") if "fork" in _start_methods() else None
    with ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
        results = pool.map(_scan_batch, [reader.agent] * len(batches), batches)
        return [scan for batch in results for scan in batch]


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


_SELECT_OLD = ("SELECT key, ts, model, session, project, input, output, cache_write, cache_write_1h, cache_read, "
               "reasoning, sidechain, long_ctx FROM log_entries WHERE agent = ? AND key IN ({})")
_USAGE_ADD = ("INSERT INTO log_usage (agent, quarter, model, long_ctx, entries, input, output, cache_write, "
              "cache_write_1h, cache_read, reasoning, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT (agent, quarter, model, long_ctx) DO UPDATE SET "
              "entries = log_usage.entries + excluded.entries, "
              "input = log_usage.input + excluded.input, output = log_usage.output + excluded.output, "
              "cache_write = log_usage.cache_write + excluded.cache_write, "
              "cache_write_1h = log_usage.cache_write_1h + excluded.cache_write_1h, "
              "cache_read = log_usage.cache_read + excluded.cache_read, "
              "reasoning = log_usage.reasoning + excluded.reasoning, "
              "last_ts = CASE WHEN excluded.last_ts > log_usage.last_ts THEN excluded.last_ts "
              "ELSE log_usage.last_ts END")
_USAGE_REBUILD = ("INSERT INTO log_usage (agent, quarter, model, long_ctx, entries, input, output, cache_write, "
                  "cache_write_1h, cache_read, reasoning, last_ts) SELECT agent, ts / 900, model, long_ctx, COUNT(*), "
                  "SUM(input), SUM(output), SUM(cache_write), SUM(cache_write_1h), SUM(cache_read), SUM(reasoning), "
                  "MAX(ts) FROM log_entries WHERE agent = ? GROUP BY agent, ts / 900, model, long_ctx")


def _tally(usage: dict[tuple[Any, ...], list[int]], row: Row, sign: int) -> None:
    """Add (sign 1) or remove (sign -1) one entry in the per-quarter sums."""
    acc = usage.setdefault((row[1] // 900, row[2], row[12]), [0, 0, 0, 0, 0, 0, 0, 0])
    acc[0] += sign
    for i, col in enumerate((5, 6, 7, 8, 9, 10), start=1):
        acc[i] += sign * row[col]
    acc[7] = max(acc[7], row[1])


def _old_rows(conn: Any, store: Store, agent: str, keys: list[str]) -> dict[str, Row]:
    old: dict[str, Row] = {}
    for i in range(0, len(keys), 500):
        part = keys[i:i + 500]
        sql = store._sql(_SELECT_OLD.format(", ".join("?" * len(part))))
        old.update({r[0]: tuple(r) for r in conn.execute(sql, (agent, *part)).fetchall()})
    return old


def _store(store: Store, reader: Reader, tasks: list[_Task], scans: list[FileScan], merged: dict[str, Row], *,
           full: bool, present: list[int]) -> None:
    stat = {t.file_id: t.stat for t in tasks}
    agent = reader.agent
    cols = _COLUMNS.split(", ")
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols[2:])
    placeholders = ", ".join("?" * len(cols))
    now = time.time()
    file_rows = []
    for s in scans:
        dev, ino, size, mtime = stat[s.file_id]
        if s.end > size:
            size = s.end  # it grew while we read: the next run compares against what we consumed
        file_rows.append((dev, ino, size, mtime, s.end, s.sig, orjson.dumps(s.state).decode() if s.state else None,
                          s.malformed, now, s.file_id))
    with store._tx() as conn:
        if full:
            # A rewrite: forget what the present files produced (entries of vanished files stay),
            # store the new rows under the dedupe rule, and recount the quarter sums in SQL.
            conn.execute(store._sql("CREATE TEMP TABLE IF NOT EXISTS log_reset (id BIGINT PRIMARY KEY)"))
            conn.execute("DELETE FROM log_reset")
            executemany(conn, store._sql("INSERT INTO log_reset (id) VALUES (?)"), [(i,) for i in present])
            conn.execute(store._sql("DELETE FROM log_entries WHERE agent = ? AND file_id IN "
                                    "(SELECT id FROM log_reset)"), (agent,))
            conn.execute(store._sql("UPDATE log_files SET malformed = 0 WHERE agent = ?"), (agent,))
            executemany(conn, store._sql(
                f"INSERT INTO log_entries ({_COLUMNS}) VALUES ({placeholders}) ON CONFLICT (agent, key) "
                f"DO UPDATE SET {updates} WHERE {reader.replace_when}"), [(agent, *r) for r in merged.values()])
            conn.execute(store._sql("DELETE FROM log_usage WHERE agent = ?"), (agent,))
            conn.execute(store._sql(_USAGE_REBUILD), (agent,))
        elif merged:
            empty = conn.execute(store._sql("SELECT 1 FROM log_entries WHERE agent = ? LIMIT 1"),
                                 (agent,)).fetchone() is None
            old = {} if empty else _old_rows(conn, store, agent, list(merged))
            usage: dict[tuple[Any, ...], list[int]] = {}
            write = []
            for key, row in merged.items():
                prev = old.get(key)
                if prev is not None:
                    if not reader.prefer(row, prev):
                        continue
                    _tally(usage, prev, -1)
                acc = usage.get(k := (row[1] // 900, row[2], row[12]))
                if acc is None:  # inlined _tally(+1): this loop runs once per entry on a cold run
                    usage[k] = [1, row[5], row[6], row[7], row[8], row[9], row[10], row[1]]
                else:
                    acc[0] += 1
                    acc[1] += row[5]
                    acc[2] += row[6]
                    acc[3] += row[7]
                    acc[4] += row[8]
                    acc[5] += row[9]
                    acc[6] += row[10]
                    if row[1] > acc[7]:
                        acc[7] = row[1]
                write.append((agent, *row))
            # Sorted by key: B-tree inserts in key order touch each page once.
            write.sort(key=lambda r: r[1])
            executemany(conn, store._sql(f"INSERT INTO log_entries ({_COLUMNS}) VALUES ({placeholders}) "
                                        f"ON CONFLICT (agent, key) DO UPDATE SET {updates}"), write)
            executemany(conn, store._sql(_USAGE_ADD), [(agent, *k, *v) for k, v in usage.items()])
        executemany(conn, store._sql(
            "UPDATE log_files SET dev = ?, ino = ?, size = ?, mtime_ns = ?, read_offset = ?, sig = ?, state = ?, "
            "malformed = malformed + ?, updated_at = ? WHERE id = ?"), file_rows)


def malformed_lines(store: Store) -> dict[str, int]:
    """Malformed candidate lines seen so far, per agent (as of the files' current contents)."""
    with store._tx() as conn:
        rows = conn.execute("SELECT agent, SUM(malformed) FROM log_files GROUP BY agent").fetchall()
    return {a: int(n or 0) for a, n in rows}
