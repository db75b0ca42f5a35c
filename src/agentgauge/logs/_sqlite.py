"""Agents that keep their history in SQLite (OpenCode, Kilo, Goose), read safely while they run.

The agent's database is never opened in place: it is copied with its ``-wal``/``-shm`` side files
into a private temporary folder (fresh rows live in the WAL until a checkpoint) and the copy is
opened read-only, as the browser readers do for Firefox. A copy is made only when the database or
its WAL changed since the last look (their sizes and times are remembered in a small cache file in
agentgauge's data folder), and it is removed when the reader that made it is done.

Each session of a database is one entry of the index (a virtual file ``<database>?session=<id>``)
whose stat is the session's row count and last update time, so only sessions that changed are
read, and each keeps its own session id and project. Within a session, rows are read from the last
update time seen (kept as the file's state): a rerun reads only what changed.
"""

from __future__ import annotations

import os
import threading
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ._base import FileScan, Found, Row, WholeFileReader
from ._doc import DocumentReader, collect, walk

if TYPE_CHECKING:  # sqlite3, shutil, tempfile and logging are imported when a database is read
    import sqlite3

SESSION = "?session="
_SIDE_FILES = ("-wal", "-shm", "-journal")
_LOCK = threading.Lock()
# database path -> the folder holding this process's copy of it (made by a reader still alive).
_COPIES: dict[str, str] = {}

# (session id, row count, last update as an integer: epoch ms or a count)
Session = tuple[str, int, int]


def _sig(db: str) -> list[int] | None:
    """What tells whether a database changed: its and its WAL's size and modification time."""
    try:
        st = os.stat(db)
    except OSError:
        return None
    sig = [st.st_size, st.st_mtime_ns, 0, 0]
    try:
        wal = os.stat(db + "-wal")
        sig[2:] = [wal.st_size, wal.st_mtime_ns]
    except OSError:
        pass
    return sig


def _cache_path(agent: str) -> Path:
    from ..paths import data_dir

    return data_dir() / "log-databases" / f"{agent}.json"


def _load_cache(agent: str) -> dict[str, Any]:
    try:
        data = orjson.loads(_cache_path(agent).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_cache(agent: str, cache: dict[str, Any]) -> None:
    path = _cache_path(agent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(orjson.dumps(cache))
        os.replace(tmp, path)
    except OSError as exc:  # only costs a copy next time
        _log().debug("cannot save %s: %s", path, exc)


def _log() -> Any:
    import logging

    return logging.getLogger(__name__)


def copy_database(db: str) -> str | None:
    """Copy ``db`` and its side files into a new private folder; the copy's path, or None when it
    cannot be read."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="agentgauge-db-")
    copy = os.path.join(folder, os.path.basename(db))
    try:
        shutil.copyfile(db, copy)
        for suffix in _SIDE_FILES:
            if os.path.exists(db + suffix):
                shutil.copyfile(db + suffix, copy + suffix)
    except OSError as exc:
        _log().warning("cannot copy %s to read it: %s", db, exc.strerror or exc)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return copy


def connect(copy: str) -> sqlite3.Connection:
    """Open a copy read-only (a URI, so the path's own characters are escaped on every platform)."""
    import sqlite3

    return sqlite3.connect(Path(copy).resolve().as_uri() + "?mode=ro", uri=True)


class DatabaseReader(WholeFileReader):
    """Sessions of SQLite databases. Subclasses implement ``databases``, ``list_sessions`` and
    ``read_session``; one that also reads JSON documents (OpenCode's legacy layout) derives from
    ``DocumentReader`` as well and names their folders in ``document_roots``."""

    def document_roots(self, roots: list[Path]) -> list[Path]:
        """Folders of JSON documents read besides the databases (a ``DocumentReader`` only)."""
        return []

    @abstractmethod
    def databases(self, roots: list[Path]) -> list[Path]:
        """The agent's databases under ``roots``."""

    @abstractmethod
    def list_sessions(self, conn: sqlite3.Connection) -> list[Session]:
        """Every session of one database, with when it was last updated."""

    @abstractmethod
    def read_session(
        self, conn: sqlite3.Connection, session: str, ctx: dict[str, Any], since: int | None
    ) -> Iterator[Row]:
        """The session's rows updated at or after ``since`` (None: all); sets ``ctx['project']``
        and ``ctx['cursor']`` (the last update time read)."""

    def files(self, roots: Iterable[Path]) -> list[Found]:
        roots = list(roots)
        found: list[Found] = []
        if isinstance(self, DocumentReader):
            found = walk([d for d in self.document_roots(roots) if d.is_dir()], self.accept, whole=True)
        cache = _load_cache(self.agent)
        changed = False
        for db in self.databases(roots):
            key = str(db)
            sig = _sig(key)
            if sig is None:
                continue
            known = cache.get(key)
            if isinstance(known, dict) and known.get("sig") == sig:
                sessions = [tuple(s) for s in known.get("sessions", [])]
            else:
                listed = self._list(key)
                if listed is None:
                    continue  # unreadable right now: its sessions are left as they were
                sessions = listed
                cache[key] = {"sig": sig, "sessions": [list(s) for s in sessions]}
                changed = True
            root = str(db.parent)
            for sid, count, updated in sessions:
                found.append((f"{key}{SESSION}{sid}", root, (0, 0, int(count), int(updated))))
        if changed:
            _save_cache(self.agent, cache)
        return found

    def scan_whole(
        self, path: str, root: str, file_id: int, state: dict[str, Any] | None, rows: dict[int, Row] | None
    ) -> FileScan:
        if SESSION not in path and isinstance(self, DocumentReader):  # a JSON document (see files())
            return DocumentReader.scan_whole(self, path, root, file_id, state, rows)
        import sqlite3

        db, session = path.rsplit(SESSION, 1)
        ctx: dict[str, Any] = {"session": session, "project": "", "file_id": file_id, "persist": ("cursor",)}
        since = state.get("cursor") if state else None
        ctx["cursor"] = since
        copy = self._copy(db)
        if copy is None:
            return collect(self, path, file_id, ctx, rows, lambda: iter(()))
        conn = connect(copy)
        try:
            return collect(self, path, file_id, ctx, rows, lambda: self.read_session(conn, session, ctx, since))
        except sqlite3.Error as exc:
            _log().warning("cannot read session %s of %s: %s", session, db, exc)
            ctx["cursor"] = since
            return collect(self, path, file_id, ctx, rows, lambda: iter(()))
        finally:
            conn.close()

    # -- copies -------------------------------------------------------------------------------------

    def _copy(self, db: str) -> str | None:
        """This process's copy of ``db``, made now if there is none (then removed with this reader)."""
        with _LOCK:
            folder = _COPIES.get(db)
        if folder is not None and os.path.isdir(folder):
            return os.path.join(folder, os.path.basename(db))
        copy = copy_database(db)
        if copy is not None:
            self._own(db, os.path.dirname(copy))
        return copy

    def _own(self, db: str, folder: str) -> None:
        import weakref

        with _LOCK:
            _COPIES[db] = folder
        weakref.finalize(self, _drop, db, folder)

    def _list(self, db: str) -> list[Session] | None:
        """Copy the database (twice at most: a copy taken mid-checkpoint can be inconsistent) and
        list its sessions; the copy is kept for the scans of this run."""
        import shutil
        import sqlite3

        for _ in range(2):
            copy = copy_database(db)
            if copy is None:
                return None
            try:
                conn = connect(copy)
                try:
                    sessions = self.list_sessions(conn)
                finally:
                    conn.close()
            except sqlite3.Error as exc:
                _log().warning("cannot read %s (%s); retrying with a fresh copy", db, exc)
                shutil.rmtree(os.path.dirname(copy), ignore_errors=True)
                continue
            with _LOCK:
                old = _COPIES.get(db)
            if old is not None:
                _drop(db, old)
            self._own(db, os.path.dirname(copy))
            return sessions
        return None


def _drop(db: str, folder: str) -> None:
    import shutil

    with _LOCK:
        if _COPIES.get(db) == folder:
            del _COPIES[db]
    shutil.rmtree(folder, ignore_errors=True)


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()}
