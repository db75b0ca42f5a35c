"""Account changes across processes on one database, so every ``serve`` replica shows what any of
them fetched or was sent.

PostgreSQL: every transaction that saves account states also sends a ``NOTIFY`` naming them on a
channel of its schema (delivered when it commits, to every session listening); a replica listens on
a connection of its own and reads the states named. Notifications sent while a listener was away
are lost, so after each (re)connection it reports "everything" (``None``) once: the caller reads
all states again. A process skips its own notifications (its engine has told it already).

SQLite: one process schedules (``agentgauge.leader``), but others may write (``status``, a second
``serve`` refreshing on demand, a push): the accounts whose ``updated_at`` moved are polled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import StoreUnavailableError
from .backend import Transaction

if TYPE_CHECKING:
    import asyncio

    from . import Store

log = logging.getLogger("agentgauge.store")

Key = tuple[str, str]
Deliver = Callable[[list[Key] | None], Awaitable[None]]  # None: anything may have changed, read everything

# One channel per schema: several deployments (or test runs) may share a database.
CHANNEL_SQL = "'agentgauge_' || left(md5(current_schema()), 16)"
PAYLOAD_LIMIT = 7000  # bytes per NOTIFY payload (PostgreSQL refuses 8000 and more)
# This process, so its listener can skip its own notifications (os.urandom, as `secrets` would use:
# importing `secrets` loads OpenSSL's hashlib, a cost every CLI command paid for nothing).
ORIGIN = os.urandom(8).hex()
RETRY_SECONDS = 2.0
POLL_SECONDS = 2.0  # SQLite: how often a follower looks for changes
POLL_OVERLAP = 5.0  # seconds re-read each poll: a write stamps updated_at before it commits
# A dedicated connection notices a dead server or network within seconds, not the OS's hours.
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "connect_timeout": 5,
}


def notify(tx: Transaction, keys: Sequence[Key]) -> None:
    """Inside a transaction that saved these accounts' states: tell the other processes (PostgreSQL)."""
    if tx.dialect != "postgres" or not keys:
        return
    for payload in payloads(keys):
        tx.execute(f"SELECT pg_notify({CHANNEL_SQL}, ?)", (payload,))


def payloads(keys: Iterable[Key], origin: str = ORIGIN) -> list[str]:
    """The keys as JSON payloads, each under PAYLOAD_LIMIT bytes."""
    out: list[str] = []
    chunk: list[list[str]] = []
    size = 0
    for provider, account in keys:
        item_size = len(provider.encode()) + len(account.encode()) + 16
        if chunk and size + item_size > PAYLOAD_LIMIT - 64:
            out.append(_encode(origin, chunk))
            chunk, size = [], 0
        chunk.append([provider, account])
        size += item_size
    if chunk:
        out.append(_encode(origin, chunk))
    return out


def _encode(origin: str, chunk: list[list[str]]) -> str:
    return orjson.dumps({"o": origin, "k": chunk}).decode()


def parse(payload: str) -> tuple[str, list[Key]] | None:
    """(origin, keys) of a payload, or None when it is not one of ours."""
    try:
        data = orjson.loads(payload)
        return str(data["o"]), [(str(p), str(a)) for p, a in data["k"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    import asyncio  # here, not at the top: `agentgauge cost` imports the store and never listens (asyncio loads ssl)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class PostgresChanges:
    """Listens for other processes' account changes on a dedicated connection, reconnecting after
    an outage. ``listening`` is set while LISTEN is in effect."""

    def __init__(self, conninfo: str, *, retry: float = RETRY_SECONDS) -> None:
        self._conninfo = conninfo
        self._retry = retry
        import asyncio

        self.listening = asyncio.Event()

    async def run(self, stop: asyncio.Event, deliver: Deliver) -> None:
        import psycopg
        from psycopg import sql

        failing = False
        while not stop.is_set():
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True, **KEEPALIVES)
                async with conn:
                    row = await (await conn.execute(f"SELECT {CHANNEL_SQL}")).fetchone()
                    assert row is not None
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(str(row[0]))))
                    if failing:
                        log.warning("listening for other replicas' changes again")
                    failing = False
                    self.listening.set()
                    await deliver(None)  # what changed while nobody listened
                    while not stop.is_set():
                        async for note in conn.notifies(timeout=1.0):
                            parsed = parse(note.payload)
                            if parsed is not None and parsed[0] != ORIGIN:
                                await deliver(parsed[1])
            except (psycopg.Error, OSError) as exc:
                self.listening.clear()
                if not failing:  # once per outage
                    log.warning("cannot listen for other replicas' changes: %s", type(exc).__name__)
                failing = True
                await _pause(stop, self._retry)
        self.listening.clear()


class SqliteChanges:
    """Polls for accounts another process wrote, while this one is not the one scheduling."""

    def __init__(self, store: Store, following: Callable[[], bool], *, every: float = POLL_SECONDS) -> None:
        self._store = store
        self._following = following
        self._every = every
        self._since = time.time()

    async def run(self, stop: asyncio.Event, deliver: Deliver) -> None:
        import asyncio

        while not stop.is_set():
            await _pause(stop, self._every)
            if not self._following():
                self._since = time.time()
                continue
            try:
                keys, newest = await asyncio.to_thread(self._store.changed_since, self._since - POLL_OVERLAP)
            except StoreUnavailableError:
                continue
            self._since = max(self._since, newest)
            if keys:
                await deliver(keys)
