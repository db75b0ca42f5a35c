"""The engine's scheduler (``serve``): each account refreshed on its own cadence, soon after a window's
reset, never before its gate opens; and the background chores (history pruning, the local-log cost
index) on the same loop, so ``serve`` and the CLI behave alike."""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..accounts import Target
from ..errors import StoreUnavailableError
from ..models import ProviderSnapshot
from ..store import Store

log = logging.getLogger("agentgauge.engine")

RESET_GRACE = 5.0  # seconds after a window's reset before the account is due again (let upstream roll over)


@dataclass
class Chore:
    """A background job the scheduler runs every ``every`` seconds, in a worker thread."""

    name: str
    every: float
    run: Callable[[], Any]
    last: float = field(default=float("-inf"))
    task: asyncio.Task[Any] | None = None
    runs: int = 0  # finished runs (a first reader may wait for the first)
    everywhere: bool = False  # run by every replica, not only the one scheduling (its own queued writes)


async def first_set(events: list[asyncio.Event], timeout: float) -> None:
    """Wait until one of ``events`` is set, at most ``timeout`` seconds."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


class Scheduling:
    """The scheduling half of ``Engine`` (a mixin): what it reads of the engine is declared here."""

    scheduler_tick: float
    store: Store
    clock: Callable[[], datetime]
    listeners: list[Callable[[ProviderSnapshot], Any]]
    chores: dict[str, Chore]
    _last_seen: dict[tuple[str, str], ProviderSnapshot]
    _gates: dict[tuple[str, str], float]
    _monotonic: Callable[[], float] | None

    @abstractmethod
    def targets(self) -> list[Target]: ...

    @abstractmethod
    async def refresh_account(self, target: Target) -> ProviderSnapshot: ...

    def add_chore(self, name: str, every: float, run: Callable[[], Any]) -> Chore:
        chore = self.chores[name] = Chore(name, every, run)
        return chore

    def run_chore(self, name: str) -> asyncio.Task[Any]:
        """Start a chore now (unless it is running) and return its task."""
        chore = self.chores[name]
        if chore.task is None or chore.task.done():
            chore.last = self._loop_time()

            async def run() -> None:
                try:
                    await asyncio.to_thread(chore.run)
                    chore.runs += 1
                except Exception as exc:  # a chore failing (a broken log file...) must never stop the scheduler
                    log.warning(
                        "%s failed: %s",
                        chore.name,
                        getattr(exc, "message", None) or type(exc).__name__,
                        exc_info=log.isEnabledFor(logging.DEBUG),
                    )

            chore.task = asyncio.create_task(run())
        return chore.task

    def _loop_time(self) -> float:
        return self._monotonic() if self._monotonic is not None else asyncio.get_running_loop().time()

    def due_at(self, target: Target, last_start: float, interval: float, loop_now: float, wall_now: datetime) -> float:
        """When (loop time) an account is next due: every max(interval, minimum interval) after its last
        start, and soon after a window's reset passes (the minimum interval still holds); never before
        its gate opens, so a claim is not refused because discovery or the fetch took a while (a
        refused claim would skip the account until the next interval: sampled every other tick)."""
        every = max(target.account.refresh_interval or interval, target.provider.min_interval)  # per account too
        due = last_start + every
        state = self._last_seen.get(target.key)
        if state is not None and state.fetched_at is not None:
            resets = [w.resets_at for w in state.windows if w.resets_at and w.resets_at > state.fetched_at]
            if resets:
                reset = min(resets) + timedelta(seconds=RESET_GRACE)
                due = min(
                    due, max(last_start + target.provider.min_interval, loop_now + (reset - wall_now).total_seconds())
                )
        gate = self._gates.get(target.key)
        if gate is not None:
            due = max(due, loop_now + gate - wall_now.timestamp())
        return due

    async def _continue_cadence(self, started: dict[tuple[str, str], float], loop_now: float) -> None:
        """On taking up the schedule (at start-up, or after the replica that had it died): each account's
        last attempt as stored counts as its last start, so one poll per interval holds across restarts
        and replicas rather than every account being fetched again at once."""
        try:
            states = await asyncio.to_thread(self.store.states)
        except StoreUnavailableError:
            return  # nothing known: accounts are due now, and their gates still hold
        wall = self.clock()
        for key, state in states.items():
            snapshot = state.snapshot
            if snapshot is None or snapshot.fetched_at is None or key in started:
                continue
            started[key] = loop_now - max(0.0, (wall - snapshot.fetched_at).total_seconds())
            self._last_seen.setdefault(key, snapshot)

    async def run_scheduler(
        self,
        stop: asyncio.Event,
        *,
        interval: float,
        tick: float | None = None,
        on_tick: Callable[[], Any] | None = None,
        accounts: bool = True,
        leading: Callable[[], bool] | None = None,
        wake: Callable[[], asyncio.Event] | None = None,
    ) -> None:
        """Refresh each account every ``interval`` seconds (never faster than its provider's
        minimum), each on its own task so a slow provider never delays the others; run the chores.
        ``accounts=False`` (``refresh = "on-demand"``): only the chores, nothing is fetched.
        ``leading``: whether this process schedules now (replicas on one database elect one,
        agentgauge.leader); while it says no, nothing is fetched and only the chores every process
        needs (``Chore.everywhere``) run. ``wake`` gives an event that ends the wait between passes
        (a change of leader is acted on at once)."""
        running: dict[tuple[str, str], asyncio.Task[ProviderSnapshot]] = {}
        started: dict[tuple[str, str], float] = {}
        tick = self.scheduler_tick if tick is None else tick

        def seen(snapshot: ProviderSnapshot) -> None:
            self._last_seen[snapshot.key] = snapshot

        self.listeners.append(seen)
        led = False
        try:
            while not stop.is_set():
                now = self._loop_time()
                until = now + tick
                events = [stop] if wake is None else [stop, wake()]  # before asking who leads: no change missed
                lead = leading is None or leading()
                if lead and not led and accounts:
                    await self._continue_cadence(started, now)
                led = lead
                for target in await asyncio.to_thread(self.targets) if accounts and lead else ():
                    task = running.get(target.key)
                    if task is not None and not task.done():
                        continue
                    due = self.due_at(target, started.get(target.key, float("-inf")), interval, now, self.clock())
                    if now >= due:
                        started[target.key] = now
                        running[target.key] = asyncio.create_task(self.refresh_account(target))
                    else:
                        until = min(until, due)
                for chore in self.chores.values():
                    if (lead or chore.everywhere) and now >= chore.last + chore.every:
                        self.run_chore(chore.name)
                if on_tick is not None:
                    on_tick()
                await first_set(events, timeout=max(0.05, until - self._loop_time()))
        finally:
            self.listeners.remove(seen)
            for task in running.values():
                task.cancel()
            for chore in self.chores.values():
                if chore.task is not None:
                    chore.task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
