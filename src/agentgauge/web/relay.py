"""The refresh relay: how a refresh reaches accounts only the browser extension can fetch.

The server cannot call claude.ai with a cookie it does not have; the extension can, but only
while a browser runs, and the server cannot call the extension. So a refresh marks those accounts
*pending*; the extension asks for pending work (a long poll its alarm starts every 30 s), fetches
in the browser and pushes, and the push answers the request. ``POST /api/refresh?wait=N`` waits
for that like for any fetch; when no push comes within ``timeout`` the account shows its last data
as stale with the reason (seed 003, aimo's refresh flag, with an answer either way).

An account is relayed when its data came from the extension, or when a connected extension
(one that polled within ``CONNECTED_FOR``) reads its provider and the server has no data of its
own for it. Everything here lives in the server's memory: one process, one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..models import ProviderSnapshot, Status

Key = tuple[str, str]  # (provider, account)
CONNECTED_FOR = timedelta(seconds=90)  # three alarm periods: a browser that runs polls more often than this
RELAY_TIMEOUT = 40.0  # seconds to wait for a push: one alarm period (30 s) plus the fetch
MAX_POLL = 25.0  # a long poll ends before the extension's next alarm (and its service worker's idle limit)


@dataclass(frozen=True)
class Seen:
    """An extension as its last poll described it."""

    id: str
    name: str
    providers: frozenset[str]
    account: str
    at: datetime


class Relay:
    def __init__(self, clock: Callable[[], datetime], *, timeout: float = RELAY_TIMEOUT) -> None:
        self.clock = clock
        self.timeout = timeout
        self._pending: dict[Key, datetime] = {}  # asked, not answered yet: when it was asked
        self._answered: dict[Key, asyncio.Event] = {}
        self._waiting: dict[Key, int] = {}  # requests waiting on each key (overlapping refreshes share it)
        self._seen: dict[str, Seen] = {}
        self._changed = asyncio.Event()  # wakes the long polls when something becomes pending

    # -- which accounts ---------------------------------------------------------------------------
    def connected(self) -> list[Seen]:
        since = self.clock() - CONNECTED_FOR
        return [s for s in self._seen.values() if s.at >= since]

    def covers(self, key: Key, account: ProviderSnapshot | None, source: str) -> bool:
        """Whether a refresh of ``key`` should be asked of the extension (``source``: its data's source)."""
        if account is not None and account.source == source:
            return True
        own_data = account is not None and account.last_success_at is not None
        announced = any(key[0] in s.providers and key[1] == s.account for s in self.connected())
        return announced and not own_data and (account is None or account.status != Status.DISABLED)

    # -- the server's side ------------------------------------------------------------------------
    async def request(self, keys: Iterable[Key], timeout: float | None = None) -> list[Key]:
        """Mark ``keys`` pending and wait until each is answered or ``timeout`` passes; returns the
        keys no push answered."""
        now = self.clock()
        events: dict[Key, asyncio.Event] = {}
        for key in keys:
            self._pending.setdefault(key, now)
            events[key] = self._answered.setdefault(key, asyncio.Event())
            self._waiting[key] = self._waiting.get(key, 0) + 1
        if not events:
            return []
        self._wake()
        waits = [asyncio.ensure_future(event.wait()) for event in events.values()]
        try:
            await asyncio.wait(waits, timeout=self.timeout if timeout is None else timeout)
        finally:
            for waiting in waits:
                waiting.cancel()
            for key in events:
                self._waiting[key] -= 1
                if not self._waiting[key]:
                    del self._waiting[key]
        late = [key for key, event in events.items() if not event.is_set()]
        for key in late:  # nobody took it: a browser opened later should not act on an old request
            if key not in self._waiting and self._answered.get(key) is events[key]:
                self._pending.pop(key, None)
                self._answered.pop(key, None)
        return late

    def answered(self, key: Key) -> None:
        """A push (data or a reported failure) for ``key`` arrived."""
        self._pending.pop(key, None)
        event = self._answered.pop(key, None)
        if event is not None:
            event.set()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- the extension's side ---------------------------------------------------------------------
    def pending_for(self, seen: Seen) -> list[Key]:
        return sorted(k for k in self._pending if k[0] in seen.providers and k[1] == seen.account)

    def saw(self, seen: Seen) -> None:
        """An extension is connected and reads ``seen.providers`` (it polled, or its popup asked)."""
        self._seen[seen.id] = seen

    async def poll(self, seen: Seen, wait: float) -> list[Key]:
        """What ``seen`` should fetch now; waits up to ``wait`` seconds for something to become pending."""
        self.saw(seen)
        deadline = asyncio.get_running_loop().time() + max(0.0, min(wait, MAX_POLL))
        while True:
            found = self.pending_for(seen)
            left = deadline - asyncio.get_running_loop().time()
            if found or left <= 0:
                return found
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=left)

    def forget(self, extension_id: str) -> None:
        """A revoked extension no longer counts as connected."""
        self._seen.pop(extension_id, None)
