"""Which ``serve`` process runs the scheduler when several share one database.

Several replicas of ``serve`` on one PostgreSQL (behind a load balancer, say) must fetch each account
once per interval, not once per replica; alerts must be sent once. Exactly one of them leads: it
holds a PostgreSQL advisory lock on a connection of its own, so the lock goes when the process or its
connection does (``kill -9`` included: the server ends the session and frees the lock at once), and
another replica, retrying every ``RETRY_SECONDS``, takes over. The others serve the dashboard and
the API, and learn of changes through ``store.changes``. The leader's election connection is named
``agentgauge scheduler election pid <pid>`` in ``pg_stat_activity`` (docs/deploy.md has the query).

On SQLite ``serve`` schedules in one process: an exclusive lock on a file beside the database (freed
by the operating system when the process ends) keeps a second ``serve`` on the same file from
scheduling too. Either way the per-account claim in the store still stands guard: even two leaders
at once (a network partition, for a moment) would not fetch an account twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import IO, Any, Protocol

from .store import Store
from .store.changes import KEEPALIVES

log = logging.getLogger("agentgauge.leader")

RETRY_SECONDS = 1.0  # how often a follower tries to take over (and the leader checks its connection)
CHECK_TIMEOUT = 5.0  # the leader steps down when its connection does not answer within this
LOCK_CLASS = 0x61677363  # pg_try_advisory_lock(class, key): "agsc", the scheduler; key = the schema's hash


def application_name() -> str:
    """The election connection's name in pg_stat_activity: which process (and so which replica) leads."""
    return f"agentgauge scheduler election pid {os.getpid()}"


class Elector(Protocol):
    leading: bool
    changed: asyncio.Event  # set (and replaced) whenever ``leading`` changes

    async def run(self, stop: asyncio.Event) -> None: ...


class _Base:
    def __init__(self) -> None:
        self.leading = False
        self.changed = asyncio.Event()
        self.waited = False  # another process held the scheduler when this one asked

    def _set(self, leading: bool, why: str, *, routine: bool = False) -> None:
        if leading == self.leading:
            return
        self.leading = leading
        # A lone server taking the scheduler at start-up, or giving it up as it stops, is routine (said
        # at -v); taking over from another replica, or losing the lock while running, is a warning.
        level = logging.INFO if routine else logging.WARNING
        log.log(level, "%s: %s", "this process now runs the scheduler" if leading else "no longer scheduling", why)
        self.changed.set()
        self.changed = asyncio.Event()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class Sole(_Base):
    """A database no other process can reach (SQLite in memory): always the leader."""

    async def run(self, stop: asyncio.Event) -> None:
        self._set(True, "the only process on its database", routine=True)
        await stop.wait()


class PostgresElector(_Base):
    """Leads while it holds the advisory lock on its own connection."""

    def __init__(self, conninfo: str, *, retry: float = RETRY_SECONDS) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._retry = retry

    async def run(self, stop: asyncio.Event) -> None:
        import psycopg

        failing = False
        while not stop.is_set():
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, application_name=application_name(), **KEEPALIVES
                )
                async with conn:
                    failing = False
                    await self._hold(conn, stop)
                    return
            except (psycopg.Error, OSError, TimeoutError) as exc:
                self._set(False, f"lost its database connection ({type(exc).__name__})")
                if not failing:
                    log.warning("leader election: cannot reach the database (%s); retrying", type(exc).__name__)
                failing = True
                await _pause(stop, self._retry)

    async def _hold(self, conn: Any, stop: asyncio.Event) -> None:
        """Try for the lock until it is ours, then check the connection that holds it; on leaving the
        block the connection closes, and with it the lock."""
        try_lock = f"SELECT pg_try_advisory_lock({LOCK_CLASS}, hashtext(current_schema()))"
        while not stop.is_set():
            async with asyncio.timeout(CHECK_TIMEOUT):
                if self.leading:
                    await conn.execute("SELECT 1")
                else:
                    row = await (await conn.execute(try_lock)).fetchone()
                    if row is not None and row[0]:
                        self._set(True, "it holds the PostgreSQL advisory lock", routine=not self.waited)
                    else:
                        self.waited = True
            await _pause(stop, self._retry)
        self._set(False, "stopping", routine=True)


class FileElector(_Base):
    """Leads while it holds an exclusive lock on ``<database>.scheduler.lock``."""

    def __init__(self, database: Path, *, retry: float = RETRY_SECONDS) -> None:
        super().__init__()
        self.path = database.with_name(database.name + ".scheduler.lock")
        self._retry = retry
        self._file: IO[bytes] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                if not self.leading:
                    if await asyncio.to_thread(self._try_lock):
                        self._set(True, f"it holds {self.path}", routine=not self.waited)
                    else:
                        self.waited = True
                await _pause(stop, self._retry)
        finally:
            self._set(False, "stopping", routine=True)
            self._unlock()

    def _try_lock(self) -> bool:
        try:
            handle = self.path.open("a+b")
        except OSError as exc:
            log.warning("cannot open the scheduler lock %s: %s", self.path, exc)
            return False
        if _lock_file(handle):
            self._file = handle
            return True
        handle.close()
        return False

    def _unlock(self) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None


def _lock_file(handle: IO[bytes]) -> bool:
    """An exclusive, non-blocking lock on an open file; False when another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    with contextlib.suppress(OSError):  # who holds it, for a person looking at the file
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
    return True


def elector_for(store: Store) -> Elector:
    """The election that fits the store's database."""
    backend = store.backend
    if store.dialect == "postgres":
        return PostgresElector(backend.conninfo)  # type: ignore[attr-defined]
    path = getattr(backend, "path", None)
    if path is None or str(path) == ":memory:":
        return Sole()
    return FileElector(Path(path))
