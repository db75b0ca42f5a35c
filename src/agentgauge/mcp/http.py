"""``/mcp`` on ``serve``: the SDK's streamable-HTTP transport behind agentgauge's own guard.

Stateless JSON mode: every POST stands alone (no session to lose across restarts or replicas; the
tools keep no state worth a session). The SDK is imported and its session manager started on the
first request, so ``serve`` does not pay for MCP until a client uses it. The Host check and the
token are the app's Guard middleware's, which sees every path first; the SDK's own DNS-rebinding
check is off because it knows only loopback names, not ``allowed_hosts`` or the bound address.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PATH = "/mcp"


class McpEndpoint:
    """The ASGI app routed at ``/mcp``; ``state`` is ``web.app.ServerState``."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._app: ASGIApp | None = None
        self._ready: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None

    def _build(self) -> tuple[ASGIApp, Any]:
        from mcp.server.transport_security import TransportSecuritySettings

        from .backends import ServeBackend
        from .server import build

        server = build(ServeBackend(self.state))
        app = server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        return app, server.session_manager

    async def _run(self, manager: Any, ready: asyncio.Event) -> None:
        # Lives until the server's event loop ends (shutdown cancels it, which closes the manager).
        async with manager.run():
            ready.set()
            await asyncio.Event().wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._ready is None:
            self._ready = asyncio.Event()
            self._app, manager = self._build()
            self._runner = asyncio.create_task(self._run(manager, self._ready))
        await self._ready.wait()
        assert self._app is not None

        async def no_store(message: Message) -> None:
            # Answers carry account data, like every API response: never kept by a cache.
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
            await send(message)

        await self._app(scope, receive, no_store)
