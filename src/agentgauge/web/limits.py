"""Limits that hold before anyone is authenticated: the size of a request body, and how fast one
client may guess the access token at ``/login``."""

from __future__ import annotations

import contextlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024  # the largest body the server accepts: its biggest is a login form of a few hundred bytes


class _BodyTooLarge(Exception):
    """Raised into the app by the receive channel when a body outgrows the limit (never leaves BodyLimit)."""


class BodyLimit:
    """Caps request bodies before anything reads them (authentication included): a declared
    ``Content-Length`` over the cap is answered 413 at once, unread; a chunked body is counted as
    the app reads it and the request ends in 413 as soon as it passes the cap."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length" and (not value.strip().isdigit() or int(value) > self.max_bytes):
                await _too_large(send, self.max_bytes)
                return
        received = 0
        rejected = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    rejected = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:  # the app's own error answer to the aborted read is replaced by the 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counted_receive, guarded_send)
        if rejected and not started:
            await _too_large(send, self.max_bytes)


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"error":"request body too large (the limit is {limit} bytes)"}}'.encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is never read
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass
class _Client:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0


class LoginThrottle:
    """Per-client back-off for failed sign-ins: the first ``free`` failures cost nothing, each one
    after that blocks the client for twice as long as the one before (1 s, 2 s, 4 s ... up to
    ``max_delay``). A blocked client gets 429 with Retry-After and its guess is not even checked.
    A success, or ``forget_after`` seconds without failures, clears the record. Memory is bounded:
    past ``max_clients`` the least recently seen client is forgotten."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        free: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 900.0,
        forget_after: float = 3600.0,
        max_clients: int = 10_000,
    ) -> None:
        self.clock = clock
        self.free = free
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_clients = max_clients
        self._clients: OrderedDict[str, _Client] = OrderedDict()

    def _get(self, client: str) -> _Client | None:
        record = self._clients.get(client)
        if record is not None and self.clock() - record.last_failure > self.forget_after:
            del self._clients[client]
            return None
        return record

    def retry_after(self, client: str) -> int:
        """Whole seconds before ``client`` may try again (0: now)."""
        record = self._get(client)
        if record is None:
            return 0
        return max(0, math.ceil(record.blocked_until - self.clock()))

    def failed(self, client: str) -> None:
        now = self.clock()
        record = self._get(client) or _Client()
        record.failures += 1
        record.last_failure = now
        extra = record.failures - self.free
        if extra > 0:
            record.blocked_until = now + min(self.base_delay * 2 ** min(extra - 1, 32), self.max_delay)
        self._clients[client] = record
        self._clients.move_to_end(client)
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)
