"""Where the MCP tools read and refresh: the store (``agentgauge mcp`` over stdio) or a running ``serve``.

Both go through the query layer for reads and through the engine (and so its per-account gates:
minimum interval, Retry-After, back-off) for refreshes; the MCP layer has no logic of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from ..config import Config
from ..errors import ConfigError
from ..models import Snapshot
from ..query import Query

if TYPE_CHECKING:
    from ..accounts import Target
    from ..engine import Engine
    from ..store import Store


class Backend(Protocol):
    config: Config

    def now(self) -> datetime: ...

    def snapshot(self) -> Snapshot:
        """Every account as stored, resets settled."""
        ...

    async def cost_summary(self) -> dict[str, Any] | None: ...

    async def refresh(self, provider: str | None, account: str | None, wait: float) -> bool:
        """Refresh the chosen accounts through the engine's gates; True when done within ``wait``."""
        ...


def chosen_targets(engine: Engine, provider: str | None, account: str | None) -> list[Target]:
    targets = [
        t for t in engine.targets([provider] if provider else None) if account is None or t.account.account == account
    ]
    if not targets:
        raise ConfigError(f"no account '{account}' of {provider or 'any provider'}")
    return targets


async def _waited(task: asyncio.Future[Any], wait: float) -> bool:
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=wait)
    except TimeoutError:
        return False
    return True


class StoreBackend:
    """``agentgauge mcp`` (stdio): reads the store the scheduler of ``serve`` (or any CLI run) fills;
    the engine is built only when the refresh tool is first used."""

    def __init__(self, config: Config, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.query = Query(config, store, self.clock)
        self._engine: Engine | None = None
        self._refreshes: set[asyncio.Future[Any]] = set()

    def now(self) -> datetime:
        return self.clock()

    def snapshot(self) -> Snapshot:
        return self.query.usage()

    async def cost_summary(self) -> dict[str, Any] | None:
        def run() -> dict[str, Any]:
            from ..logs.index import refresh_index

            refresh_index(self.store, self.config.env, home=self.config.home)  # reads only new log bytes
            return self.query.cost_summary()

        return await asyncio.to_thread(run)

    async def refresh(self, provider: str | None, account: str | None, wait: float) -> bool:
        if self._engine is None:
            from ..engine import Engine

            self._engine = Engine(self.config, self.store, clock=self.clock)
        engine = self._engine
        targets = await asyncio.to_thread(chosen_targets, engine, provider, account)
        task = asyncio.ensure_future(asyncio.gather(*(engine.refresh_account(t) for t in targets)))
        self._refreshes.add(task)  # keep a reference: it finishes even when the answer did not wait
        task.add_done_callback(self._refreshes.discard)
        return await _waited(task, wait)

    async def aclose(self) -> None:
        for task in list(self._refreshes):
            task.cancel()
        if self._engine is not None:
            await self._engine.aclose()


class ServeBackend:
    """``/mcp`` on ``serve``: the live view every other route reads, and the shared refresh (one per
    selection at a time, like ``POST /api/refresh``)."""

    def __init__(self, state: Any) -> None:
        self.state = state  # web.app.ServerState (this layer sits under web: typed by use, not import)
        self.config: Config = state.config

    def now(self) -> datetime:
        now: datetime = self.state.clock()
        return now

    def snapshot(self) -> Snapshot:
        settled: Snapshot = self.state.query.settle(self.state.live.snapshot)
        return settled

    async def cost_summary(self) -> dict[str, Any] | None:
        body = await self.state.cost_summary()
        return None if body is None else dict(orjson.loads(body))

    async def refresh(self, provider: str | None, account: str | None, wait: float) -> bool:
        targets = await asyncio.to_thread(chosen_targets, self.state.engine, provider, account)
        return await _waited(self.state.start_refresh(targets), wait)
