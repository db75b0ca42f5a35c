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

import gc
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from ..store import Store
from . import READERS, _fast, reader_for
from ._base import FileScan, Found, Reader, Row, scan_file
from ._writer import _Writer

PARALLEL_MIN_BYTES = 48 << 20  # below this a process pool costs more than it saves
BATCH_BYTES = 24 << 20


class IndexStats:
    """What a refresh did (a plain class: see ``_Task``)."""

    def __init__(self) -> None:
        self.files = self.files_read = self.bytes_read = self.entries = self.malformed = self.resets = 0
        self.seconds = 0.0
        self.per_agent: dict[str, dict[str, int]] = {}

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "filesRead": self.files_read,
            "bytesRead": self.bytes_read,
            "entriesWritten": self.entries,
            "malformedLines": self.malformed,
            "resets": self.resets,
            "seconds": round(self.seconds, 3),
            "agents": self.per_agent,
        }


class _Task:
    """One file to read. A plain slotted class (pickled to the workers), not a dataclass: the
    warm path imports this module on every run and dataclass creation costs compile time."""

    __slots__ = ("file_id", "path", "root", "sig", "start", "stat", "state")

    def __init__(
        self,
        path: str,
        root: str,
        file_id: int,
        start: int,
        state: dict[str, Any] | None,
        sig: str | None,
        stat: tuple[int, int, int, int],
    ) -> None:
        self.path, self.root, self.file_id, self.start = path, root, file_id, start
        self.state, self.sig = state, sig
        self.stat = stat  # dev, ino, size, mtime_ns as seen before reading


# log_files columns read per file: (id, dev, ino, size, mtime_ns, read_offset, sig, state).
_Known = tuple[Any, ...]


def refresh_index(
    store: Store,
    env: Mapping[str, str] | None = None,
    *,
    home: Path | None = None,
    agents: Sequence[str] | None = None,
    workers: int | None = None,
) -> IndexStats:
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
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            "SELECT path, id, dev, ino, size, mtime_ns, read_offset, sig, state FROM log_files WHERE agent = ?",
            (agent,),
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


class _Reset(Exception):
    """Bytes already read changed: the agent is re-read from scratch."""


def _refresh_agent(
    store: Store,
    reader: Reader,
    env: Mapping[str, str],
    home: Path,
    workers: int | None,
    stats: IndexStats,
    *,
    full: bool = False,
) -> None:
    found = reader.files(reader.roots(env, home))
    known = _known(store, reader.agent)
    tasks, fresh = _plan(found, known, full)
    if tasks is None:
        stats.resets += 1
        return _refresh_agent(store, reader, env, home, workers, stats, full=True)
    if fresh:
        tasks = _assign_ids(store, reader.agent, fresh, tasks)
    written, scans = 0, list[FileScan]()
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
    stats.per_agent[reader.agent] = {
        "files": len(found),
        "filesRead": len(scans),
        "bytesRead": read,
        "entriesWritten": written,
        "malformedLines": malformed,
    }


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
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO log_files (agent, path, updated_at) VALUES (?, ?, ?) ON CONFLICT (path) DO NOTHING",
            [(agent, p, now) for p in fresh],
        )
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


@contextmanager
def _collector_paused(pause: bool = True) -> Iterator[None]:
    """The cyclic garbage collector off during a large build (unless it already was): the rows are
    hundreds of thousands of tuples without cycles, which it would traverse again and again as they
    pile up (~4% of a cold build's CPU, in the workers and the parent alike)."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _scan_batch(agent: str, batch: list[_Task], fast: bool = False) -> _Batch:
    with _collector_paused(fast):
        return _scan_rows(agent, batch, fast)


def _scan_rows(agent: str, batch: list[_Task], fast: bool) -> _Batch:
    if fast:
        _fast.activate()  # a spawned worker starts without it
    reader = reader_for(agent)
    rows: dict[int, Row] = {}
    seen: set[bytes] = set()
    scans = [scan_file(reader, t.path, t.root, t.file_id, t.start, t.state, t.sig, rows, seen) for t in batch]
    for s in scans:
        s.rows = {}
    usage: dict[tuple[Any, ...], list[int]] = {}
    for row in rows.values():
        # _writer._tally(usage, row, 1), inlined: this runs once per entry of a cold build.
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
    fast = todo >= _fast.MIN_BYTES and _fast.activate()
    n = workers if workers is not None else (os.cpu_count() or 1)
    if n <= 1 or len(tasks) < 2 or todo < PARALLEL_MIN_BYTES:
        yield _scan_batch(reader.agent, tasks, fast)
        return
    # Imported here: a warm run never starts a pool, and these imports cost ~6 ms.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    batches = _batches(tasks)
    # fork: the workers start in milliseconds with everything already imported.
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(max_workers=n, mp_context=context)
    try:
        yield from pool.map(_scan_batch, [reader.agent] * len(batches), batches, [fast] * len(batches))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _batches(tasks: list[_Task]) -> list[list[_Task]]:
    """Batches of ~BATCH_BYTES, each folder below a root (Claude's project) kept together where it
    fits: resumed sessions and sub-agents copy lines of their project's other files, and copies met
    in one batch are merged in its worker instead of crossing to the parent (a third of the
    entries on a generated history). Largest first, so the workers finish together and the last
    results (the ones nothing overlaps) are small."""
    groups: dict[tuple[str, str], list[_Task]] = {}
    for t in tasks:
        rest = t.path[len(t.root) + 1 :] if t.path.startswith(t.root) else t.path
        groups.setdefault((t.root, rest.split(os.sep, 1)[0]), []).append(t)
    pieces: list[tuple[int, list[_Task]]] = []  # (bytes, tasks): whole folders, or parts of big ones
    for group in groups.values():
        group.sort(key=lambda t: t.stat[2] - t.start, reverse=True)
        part: list[_Task] = []
        size = 0
        for t in group:
            if part and size + t.stat[2] - t.start > BATCH_BYTES:
                pieces.append((size, part))
                part, size = [], 0
            part.append(t)
            size += t.stat[2] - t.start
        if part:
            pieces.append((size, part))
    pieces.sort(key=lambda p: p[0], reverse=True)
    batches: list[tuple[int, list[_Task]]] = []
    for size, part in pieces:  # first fit: small folders share a batch
        for i, (room, batch) in enumerate(batches):
            if room + size <= BATCH_BYTES:
                batch.extend(part)
                batches[i] = (room + size, batch)
                break
        else:
            batches.append((size, part))
    batches.sort(key=lambda b: b[0], reverse=True)
    return [b for _, b in batches]


def _index(
    store: Store, reader: Reader, tasks: list[_Task], workers: int | None, *, full: bool
) -> tuple[int, list[FileScan]]:
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
        with _collector_paused(big):
            written, scans = _write(store, reader, tasks, workers, full=full, big=big, resolver=resolver)
    except BaseException:
        if resolver is not None:
            resolver.collect(None)
        raise
    if resolver is not None:
        resolver.collect(store)
    return written, scans


def _write(
    store: Store, reader: Reader, tasks: list[_Task], workers: int | None, *, full: bool, big: bool, resolver: Any
) -> tuple[int, list[FileScan]]:
    scans: list[FileScan] = []
    with store.transaction() as conn:
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
            batches.close()  # type: ignore[attr-defined]  # on an error, stop the pool now rather than when the traceback dies
        if resolver is not None and writer.bulk:
            from . import pricing

            resolver.send({q[1] for q in writer.usage} - pricing.cached_models(conn, store, reader.provider))
        writer.finish()
    if writer.cache_size is not None:
        # Restored after the commit: shrinking the cache inside the transaction would first
        # spill the dirty pages of the build to the WAL (then rewrite them at commit).
        with store.transaction() as conn:
            conn.execute(f"PRAGMA cache_size = {int(writer.cache_size)}")
    return writer.written(), scans


def malformed_lines(store: Store) -> dict[str, int]:
    """Malformed candidate lines seen so far, per agent (as of the files' current contents)."""
    with store.transaction(write=False) as conn:
        rows = conn.execute("SELECT agent, SUM(malformed) FROM log_files GROUP BY agent").fetchall()
    return {a: int(n or 0) for a, n in rows}
