"""SQLite connections: WAL journal, so readers never block the writer and a kill loses nothing
committed; NORMAL sync is durable against process death (WAL is fsynced at checkpoints).

Transactions are begun explicitly: ``BEGIN IMMEDIATE`` for writes takes the write lock before the
first read, so a read-then-write transaction never fails on a lock upgrade (which SQLite reports
at once, without waiting out the busy timeout), and migrations check and apply under that lock.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from ..errors import ConfigError, StoreUnavailableError
from .backend import Transaction, scrub_error
from .migrate import apply as apply_migrations

# Primary result codes that mean "the database cannot be used right now" rather than a bug:
# BUSY and LOCKED (beyond the busy timeout), NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL.
_UNAVAILABLE = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
# After these the connection itself may be unusable: the next transaction opens a fresh one.
_REOPEN = frozenset({7, 10, 14})
MEMORY = ":memory:"


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def connect(path: Path, busy_timeout: float, *, create: bool = True) -> sqlite3.Connection:
    """Open and configure a connection, creating the file and its directory when ``create``.
    Raises the raw ``OSError``/``sqlite3.Error``: ``open_store`` turns a failure at startup into
    a ConfigError. Reopening after an error does not create: a database that vanished meanwhile
    is an outage (SQLITE_CANTOPEN), not a fresh empty database without tables."""
    target = str(path)
    if target != MEMORY:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            target = f"file:{quote(str(path.absolute()))}?mode=rw"
    # isolation_level=None: the backend begins and ends every transaction itself.
    conn = sqlite3.connect(target, timeout=busy_timeout, check_same_thread=False, isolation_level=None, uri=not create)
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        _journal_wal(conn, busy_timeout)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _journal_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch to WAL, waiting out others for up to the busy timeout. On a fresh file several
    processes starting at once each ask for the switch, which needs the exclusive lock, and SQLite
    answers all but one with SQLITE_BUSY at once, without calling its busy handler (two lock
    upgrades would deadlock): so the wait is here."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if _code(exc) not in (5, 6) or time.monotonic() >= deadline:
                raise
        time.sleep(random.uniform(0.005, 0.05))  # jittered, so the waiting processes do not collide again


class ReopenError(Exception):
    """The database could not be reopened after an error (an outage, like SQLITE_CANTOPEN)."""


class SqliteBackend:
    """One connection shared by every thread, one transaction at a time (SQLite has a single
    writer anyway); reopened after an error that may have broken it."""

    dialect = "sqlite"
    reads_survive_write_errors = True

    def __init__(self, path: Path, *, busy_timeout: float) -> None:
        self.path = path
        self.target = f"the SQLite database {path}"
        self._busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = connect(path, busy_timeout)

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                try:
                    self._conn = connect(self.path, self._busy_timeout, create=False)
                except OSError as exc:  # the file system failing under us (SQLite's own errors pass as they are)
                    raise ReopenError(str(exc)) from None
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if _code(exc) in _REOPEN and str(self.path) != MEMORY:
                    self._conn = None
                    with suppress(sqlite3.Error):
                        conn.close()
                raise

    def is_unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, ReopenError) or (isinstance(exc, sqlite3.Error) and _code(exc) in _UNAVAILABLE)

    def describe(self, exc: BaseException) -> str:
        return scrub_error(exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _may(path: Path, mode: int) -> bool:
    """Whether this process may access ``path`` (by its effective ids, as the open itself does)."""
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def open_failure(path: Path, exc: BaseException) -> ConfigError:
    """The one ConfigError for a database that cannot be opened at startup: names the path and the fix."""
    other = "or set AGENTGAUGE_DATABASE_URL to a database elsewhere."
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return ConfigError(
            f"the data directory {blocker} is a file, not a directory",
            hint=f"Move or delete the file {blocker}, {other}",
        )
    if path.is_dir():
        return ConfigError(
            f"the database path {path} is a directory, not a file",
            hint=f"Point the database at a file inside it, {other}",
        )
    if path.exists() and not _may(path, os.W_OK):
        return ConfigError(
            f"the database file {path} is read-only", hint=f"Make it writable (chmod u+w '{path}'), {other}"
        )
    if not _may(path.parent, os.W_OK | os.X_OK) or (path.exists() and _code(exc) == 8):
        # SQLite keeps its -wal and -shm files beside the database, so the directory must be writable.
        return ConfigError(
            f"the data directory {path.parent} is not writable",
            hint=f"Make it writable (chmod u+w '{path.parent}'), {other}",
        )
    return ConfigError(
        f"cannot open the database {path}: {scrub_error(exc)}",
        hint=f"Check the path, its permissions and free disk space, {other}",
    )


def open_sqlite(path: Path, *, busy_timeout: float) -> SqliteBackend:
    """Open and migrate. A lock held elsewhere beyond the busy timeout is an outage
    (StoreUnavailableError); anything else that stops the open is a ConfigError naming the fix."""
    if path.is_file() and not _may(path, os.W_OK):
        # SQLite would open it read-only without a word, and every write would fail later.
        raise open_failure(path, PermissionError(f"{path} is read-only"))
    try:
        backend = SqliteBackend(path, busy_timeout=busy_timeout)
    except (OSError, sqlite3.Error) as exc:
        raise _startup_error(path, exc) from None
    try:
        with backend.transaction(write=True) as conn:
            apply_migrations(Transaction(conn, "sqlite"))
    except (OSError, sqlite3.Error) as exc:
        backend.close()
        raise _startup_error(path, exc) from None
    return backend


def _startup_error(path: Path, exc: BaseException) -> ConfigError | StoreUnavailableError:
    if _code(exc) in (5, 6):  # SQLITE_BUSY / SQLITE_LOCKED
        return StoreUnavailableError(
            f"the SQLite database {path} is locked: {scrub_error(exc)}",
            hint="Another program holds a lock on it for long; retry when it is done.",
        )
    return open_failure(path, exc)
