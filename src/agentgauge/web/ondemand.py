"""``refresh = "on-demand"`` (seed 003, aimo): the server never fetches on a timer. A person or an
agent looking is what fetches: opening the dashboard, reading ``/api/usage`` or ``/api/data``, an
MCP call (``POST /api/refresh``, ``status`` and the browser extension fetch by themselves).

A look refreshes the accounts whose polling gate is open, through the same shared refresh as
``POST /api/refresh`` (minimum intervals, Retry-After and back-off still hold), at most once per
``TOUCH_EVERY`` seconds: a page load that also opens its event stream and reads its config is one
look, not three. Every surface shows the data's age, so old numbers read as old.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import AgentGaugeError

if TYPE_CHECKING:
    from .app import ServerState

log = logging.getLogger("agentgauge.web")
TOUCH_EVERY = 10.0  # seconds between looks that start a refresh
LOOKS = {("GET", "/"), ("GET", "/index.json"), ("GET", "/api/usage"), ("GET", "/api/data"), ("POST", "/mcp")}


class OnDemandRefresh:
    """Starts a refresh when someone looks (see the module's docstring)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._last: float | None = None  # when the last look started a refresh (wall seconds)
        self.task: asyncio.Task[Any] | None = None  # the last look's refresh
        self.looks = 0  # looks that started one
        state.on_demand = self

    def look(self) -> asyncio.Task[Any] | None:
        """Start a refresh of every account whose gate is open, unless one started moments ago."""
        now = self.state.clock().timestamp()
        if self._last is not None and now - self._last < TOUCH_EVERY:
            return None
        self._last = now
        self.looks += 1
        self.task = asyncio.create_task(self._refresh(now))
        return self.task

    async def _refresh(self, now: float) -> None:
        try:
            targets = await asyncio.to_thread(self.state.engine.targets)
            states = await asyncio.to_thread(self.state.store.states)
            due = [t for t in targets if (s := states.get(t.key)) is None or s.next_allowed_at <= now]
            if due:
                await self.state.start_refresh(due)
        except AgentGaugeError as exc:  # the database is down (a 503 elsewhere); the next look retries
            log.info("on-demand refresh skipped: %s", exc.message)


class OnDemand:
    """ASGI middleware: a look at one of ``LOOKS`` starts an on-demand refresh (it sits inside the
    Host/token guard, so only an allowed client's look counts)."""

    def __init__(self, app: ASGIApp, refresher: OnDemandRefresh) -> None:
        self.app = app
        self.refresher = refresher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :] or "/"
            if (scope.get("method", "GET"), path) in LOOKS:
                self.refresher.look()
        await self.app(scope, receive, send)
