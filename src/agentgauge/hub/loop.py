"""``serve --push-to``: the push loop beside the scheduler (docs/hub.md).

Every account change the engine reports goes to the outbox (agentgauge.hub.outbox) and the outbox to
the hub (agentgauge.hub.push). While the hub is away, or refuses this machine, changes keep going to
the outbox and the loop tries again after an exponential back-off with jitter, from one second up to
a ceiling (``AGENTGAUGE_PUSH_MAX_BACKOFF``, default five minutes), or later when the hub's
``Retry-After`` says so. One line is logged when pushing starts failing and one when it works again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from typing import Any

import httpx

from ..config import Config
from ..credentials import Vault
from ..errors import AgentGaugeError, NetworkError, StoreUnavailableError
from ..models import ProviderSnapshot
from ..store import Store
from . import outbox
from .push import MAX_BACKOFF, MIN_BACKOFF, Fingerprints, HubTarget, PushClient, max_backoff, pushable

log = logging.getLogger("agentgauge.hub")


@dataclass
class Backoff:
    """Exponential back-off with jitter, from ``MIN_BACKOFF`` up to ``ceiling`` seconds."""

    ceiling: float = MAX_BACKOFF
    failures: int = 0

    def next(self, retry_after: float | None = None) -> float:
        self.failures += 1
        delay = min(self.ceiling, MIN_BACKOFF * 2 ** (self.failures - 1)) * random.uniform(0.8, 1.0)
        return max(delay, min(retry_after or 0.0, 3600.0))

    def reset(self) -> None:
        self.failures = 0


class Pusher:
    """``serve --push-to``: every account change goes to the outbox, and the outbox to the hub."""

    def __init__(self, client: PushClient, store: Store, config: Config, *, ceiling: float = MAX_BACKOFF) -> None:
        self.client = client
        self.store = store
        self.config = config
        self.backoff = Backoff(ceiling)
        self._waiting: list[ProviderSnapshot] = []
        self._last: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._wake = asyncio.Event()
        self.delivered = 0  # items the hub acknowledged since start
        self.failing: AgentGaugeError | None = None

    def account_changed(self, snapshot: ProviderSnapshot) -> None:
        """Engine listener (on the event loop): keep what changed for the outbox and wake the loop."""
        if not pushable(snapshot):
            return
        seen = (snapshot.status, snapshot.fetched_at, snapshot.last_success_at)
        if self._last.get(snapshot.key) == seen:
            return
        self._last[snapshot.key] = seen
        self._waiting.append(snapshot)
        self._wake.set()

    def _initial(self) -> list[ProviderSnapshot]:
        configured = {(a.provider, a.account) for a in self.config.accounts}
        states = self.store.states()
        found = [s.snapshot for k, s in sorted(states.items()) if k in configured and s.snapshot is not None]
        return [s for s in found if pushable(s)]

    async def _keep_waiting(self) -> None:
        taken, self._waiting = self._waiting, []
        if taken:
            await asyncio.to_thread(outbox.enqueue, self.store, taken, self.client.clock())

    async def run(self, stop: asyncio.Event) -> None:
        try:
            for snapshot in await asyncio.to_thread(self._initial):
                self.account_changed(snapshot)
        except StoreUnavailableError:
            pass  # the engine's changes still come through the listener
        try:
            while not stop.is_set():
                await self._wait(stop, await self._attempt())
        finally:
            await self.client.aclose()

    async def _attempt(self) -> float | None:
        """Buffer what changed and send everything buffered; None when all went, else the back-off."""
        try:
            await self._keep_waiting()
            self.delivered += await self.client.flush()
        except (AgentGaugeError, httpx.HTTPError, ValueError, KeyError) as exc:
            error = (
                exc
                if isinstance(exc, AgentGaugeError)
                else NetworkError(f"bad answer from the hub ({type(exc).__name__})")
            )
            if self.failing is None:
                log.warning("cannot push to the hub (kept in the local store, retrying): %s", error.message)
            self.failing = error
            return self.backoff.next(self.client.retry_after)
        if self.failing is not None:
            log.warning("pushing to %s again", self.client.target.url)
        self.failing = None
        self.backoff.reset()
        return None

    async def _wait(self, stop: asyncio.Event, backoff: float | None) -> None:
        """Until something changed (nothing failing) or the back-off is over; changes arriving during a
        back-off are buffered at once and sent when it ends."""
        loop = asyncio.get_running_loop()
        deadline = None if backoff is None else loop.time() + backoff
        while not stop.is_set():
            self._wake.clear()
            if deadline is None:
                if self._waiting:
                    return
                await _first(stop, self._wake, None)
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            if self._waiting:
                with contextlib.suppress(StoreUnavailableError):
                    await self._keep_waiting()
            await _first(stop, self._wake, remaining)


async def _first(stop: asyncio.Event, wake: asyncio.Event, timeout: float | None) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


def pusher_for(target: HubTarget, config: Config, store: Store, vault: Vault) -> Pusher:
    """The push loop ``serve --push-to`` runs beside the scheduler (its listener goes on the engine)."""
    client = PushClient(target, store, Fingerprints(config, vault))
    return Pusher(client, store, config, ceiling=max_backoff(config.env))
