"""Several ``serve`` replicas on one database: one schedules, every one shows every change.

``Replication`` runs beside the scheduler: the leader election (agentgauge.leader) says whether this
replica fetches and runs the chores, and the change feed (agentgauge.store.changes) brings the
accounts other replicas fetched or were sent into this replica's live view, so its SSE clients see
them too. One process alone on its database is its own leader and the feed has nothing to report.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..chores import FLUSH_CHORE
from ..errors import StoreUnavailableError
from ..leader import Elector, elector_for
from ..store.changes import Key, PostgresChanges, SqliteChanges

if TYPE_CHECKING:
    from .app import ServerState

log = logging.getLogger("agentgauge.web")


class Replication:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.elector: Elector = elector_for(state.store)
        store = state.store
        self.changes: PostgresChanges | SqliteChanges
        if store.dialect == "postgres":
            self.changes = PostgresChanges(store.backend.conninfo)  # type: ignore[attr-defined]
        else:
            self.changes = SqliteChanges(store, lambda: not self.elector.leading)
        flush = state.engine.chores.get(FLUSH_CHORE)
        if flush is not None:
            flush.everywhere = True  # each replica replays the writes it queued itself
        self._tasks: list[asyncio.Task[None]] = []

    def leading(self) -> bool:
        return self.elector.leading

    def wake(self) -> asyncio.Event:
        return self.elector.changed

    def start(self, stop: asyncio.Event) -> None:
        self._tasks = [
            asyncio.create_task(self.elector.run(stop)),
            asyncio.create_task(self.changes.run(stop, self.deliver)),
        ]

    async def stopped(self) -> None:
        """Once ``stop`` is set: wait for the election (its lock freed) and the feed to end."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def deliver(self, keys: list[Key] | None) -> None:
        """Other replicas changed ``keys`` (None: maybe anything): read them and show them."""
        store, live = self.state.store, self.state.live
        try:
            if keys is None:
                states = await asyncio.to_thread(store.states)
            else:
                states = await asyncio.to_thread(store.states_of, keys)
        except StoreUnavailableError:
            return  # the store's health says so; the next change or reconnection reads again
        known = {p.key for p in live.snapshot.providers}
        for key, account in states.items():
            # An account a machine pushed to another replica is new here: shown too (docs/hub.md).
            if account.snapshot is not None and (key in known or account.snapshot.machine):
                live.account_changed(account.snapshot)
