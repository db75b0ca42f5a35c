"""The simulator's faults: what tests inject over ``/__sim/faults`` (status codes, timeouts, truncated,
HTML or altered bodies) and the middleware that applies them, with latency, to provider paths and
records every request (per path prefix, with how many were in flight at once)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..providers.simkit import SimContext

log = logging.getLogger(__name__)


@dataclass
class Fault:
    prefix: str
    kind: str  # status | timeout | truncate | html | body | stringify_numbers | extra_fields
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    seconds: float = 60.0
    remaining: int | None = None  # None = until cleared


@dataclass
class PrefixStats:
    """Requests to one path prefix (``/<provider>/<url setting>``): how many, and how many at once."""

    requests: int = 0
    in_flight: int = 0
    peak: int = 0


def path_prefix(path: str) -> str:
    """``/zai/url/api/monitor`` -> ``/zai/url``: the mount of one provider's URL setting."""
    return "/".join(path.split("/")[:3])


class SimState:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.faults: list[Fault] = []
        self.latency = 0.0
        self.requests: deque[dict[str, Any]] = deque(maxlen=1000)
        self.stats: dict[str, PrefixStats] = {}

    def started(self, path: str) -> int:
        """Count a request in; returns how many of its prefix are now in flight (itself included)."""
        stats = self.stats.setdefault(path_prefix(path), PrefixStats())
        stats.requests += 1
        stats.in_flight += 1
        stats.peak = max(stats.peak, stats.in_flight)
        return stats.in_flight

    def finished(self, path: str) -> None:
        self.stats[path_prefix(path)].in_flight -= 1

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.prefix):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None


def _stringify(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    return value


def _with_extras(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _with_extras(v) for k, v in value.items()}
        out["x_unknown_field"] = {"added": "by the simulator", "n": 1}
        return out
    if isinstance(value, list):
        return [_with_extras(v) for v in value]
    return value


class FaultMiddleware:
    """Applies latency and faults to provider paths and records every request."""

    def __init__(self, app: ASGIApp, state: SimState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/__sim"):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        in_flight = self.state.started(path)
        self.state.requests.append(
            {
                "method": scope["method"],
                "path": path,
                "query": scope.get("query_string", b"").decode(),
                "headers": headers,
                "body": body.decode("utf-8", "replace"),
                "in_flight": in_flight,  # requests to this path prefix in flight as it arrived, itself included
                "at": time.time(),  # when it arrived (tests count requests per interval)
            }
        )
        done = False

        async def counted_send(message: Message) -> None:
            # Counted out before the last byte leaves: a client that sends its next request as soon as
            # it has this answer never finds this one still counted.
            nonlocal done
            if message["type"] == "http.response.body" and not message.get("more_body", False) and not done:
                done = True
                self.state.finished(path)
            await send(message)

        try:
            await self._respond(scope, replay, counted_send, path)
        finally:
            if not done:
                self.state.finished(path)

    async def _respond(self, scope: Scope, replay: Receive, send: Send, path: str) -> None:
        if self.state.latency:
            await asyncio.sleep(self.state.latency)
        fault = self.state.take_fault(path)
        if fault is None:
            await self.app(scope, replay, send)
            return
        if fault.kind == "timeout":
            await asyncio.sleep(fault.seconds)
            await Response("late", status_code=200)(scope, replay, send)
            return
        if fault.kind == "status":
            media = fault.headers.get("content-type", "application/json")
            await Response(fault.body, status_code=fault.status, headers=fault.headers, media_type=media)(
                scope, replay, send
            )
            return
        if fault.kind == "html":
            await Response(
                fault.body or "<html><body><h1>Welcome</h1></body></html>", status_code=200, media_type="text/html"
            )(scope, replay, send)
            return
        if fault.kind == "body":
            media = fault.headers.get("content-type", "application/json")
            await Response(fault.body, status_code=fault.status, media_type=media)(scope, replay, send)
            return
        # Transforming faults: run the real handler, then alter what it sent.
        status, resp_headers, chunks = await _capture(self.app, scope, replay)
        content = b"".join(chunks)
        if fault.kind == "truncate":
            content = content[: max(1, len(content) // 2)]
        elif fault.kind in ("stringify_numbers", "extra_fields"):
            transform = _stringify if fault.kind == "stringify_numbers" else _with_extras
            try:
                content = orjson.dumps(transform(orjson.loads(content)))
            except orjson.JSONDecodeError:
                # These faults alter JSON answers; anything else (a handler's own plain-text refusal)
                # goes out as the handler sent it, and the log says why it was left alone.
                log.warning(
                    "sim: %s fault left a non-JSON answer unchanged (%s %s, HTTP %s, starts %r, user-agent %r)",
                    fault.kind,
                    scope["method"],
                    path,
                    status,
                    content[:40],
                    dict(scope.get("headers", [])).get(b"user-agent"),
                )
        resp_headers = [(k, v) for k, v in resp_headers if k.lower() != b"content-length"]
        resp_headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": resp_headers})
        await send({"type": "http.response.body", "body": content})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[Any], list[bytes]]:
    result: dict[str, Any] = {"status": 500, "headers": []}
    chunks: list[bytes] = []

    async def capture_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            result["status"] = message["status"]
            result["headers"] = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture_send)
    return result["status"], result["headers"], chunks
