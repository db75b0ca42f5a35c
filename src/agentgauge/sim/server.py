"""``agentgauge sim``: every implemented provider's real paths on 127.0.0.1, with auth checks.

Each provider contributes its routes (``Provider.sim_routes``), mounted at
``/<provider>/<url-setting>`` so that pointing the provider's base-URL setting there is
all a client needs. Control endpoints under ``/__sim/`` inject faults (status codes,
timeouts, truncated or HTML bodies, replacement payloads), add latency and move the clock;
tests and benchmarks use them over real HTTP.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..providers import registry
from ..providers._base import Provider
from .context import SimContext

CLOUDFLARE_PAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    "<body><div id='cf-chl-widget'>Checking your browser</div></body></html>"
)


@dataclass
class Fault:
    prefix: str
    kind: str  # status | timeout | truncate | html | body | stringify_numbers | extra_fields
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    seconds: float = 60.0
    remaining: int | None = None  # None = until cleared


class SimState:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.faults: list[Fault] = []
        self.latency = 0.0
        self.requests: deque[dict[str, Any]] = deque(maxlen=1000)

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
        self.state.requests.append(
            {"method": scope["method"], "path": path, "query": scope.get("query_string", b"").decode(),
             "headers": headers, "body": body.decode("utf-8", "replace")}
        )
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
            await Response(fault.body or "<html><body><h1>Welcome</h1></body></html>", status_code=200,
                           media_type="text/html")(scope, replay, send)
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
            content = orjson.dumps(transform(orjson.loads(content)))
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


def sim_credentials(providers: list[Provider]) -> dict[str, dict[str, str]]:
    return {p.id: dict(p.sim_credentials) for p in providers}


def build_app(ctx: SimContext | None = None, providers: list[Provider] | None = None) -> tuple[Starlette, SimState]:
    providers = providers or registry.all_providers()
    ctx = ctx or SimContext(sim_credentials(providers))
    state = SimState(ctx)
    mounts: list[Any] = []
    for provider in providers:
        for url_name, routes in provider.sim_routes(ctx).items():
            mounts.append(Mount(f"/{provider.id}/{url_name}", app=Router(routes=routes)))

    async def add_fault(request: Request) -> Response:
        spec = await request.json()
        state.faults.insert(0, Fault(**spec))
        return JSONResponse({"faults": len(state.faults)})

    async def clear_faults(request: Request) -> Response:
        state.faults.clear()
        return JSONResponse({"faults": 0})

    async def set_latency(request: Request) -> Response:
        state.latency = float((await request.json())["seconds"])
        return JSONResponse({"latency": state.latency})

    async def advance(request: Request) -> Response:
        ctx.advance(float((await request.json())["seconds"]))
        return JSONResponse({"now": ctx.now().isoformat()})

    async def request_log(request: Request) -> Response:
        return JSONResponse(list(state.requests))

    async def index(request: Request) -> Response:
        return JSONResponse({"simulator": "agentgauge", "providers": [p.id for p in providers],
                             "mounts": [m.path for m in mounts]})

    routes = [
        Route("/", index),
        Route("/__sim/faults", add_fault, methods=["POST"]),
        Route("/__sim/faults", clear_faults, methods=["DELETE"]),
        Route("/__sim/latency", set_latency, methods=["POST"]),
        Route("/__sim/advance", advance, methods=["POST"]),
        Route("/__sim/requests", request_log, methods=["GET"]),
        *mounts,
    ]
    app = Starlette(routes=routes)
    app.add_middleware(FaultMiddleware, state=state)
    return app, state


def base_urls(base: str, providers: list[Provider] | None = None) -> dict[str, dict[str, str]]:
    """The URL settings that point every provider at a simulator running at ``base``."""
    providers = providers or registry.all_providers()
    return {p.id: {name: f"{base}/{p.id}/{name}" for name in p.urls} for p in providers}


class SimServer:
    """The simulator on a background thread (used by ``--demo``, tests and benchmarks)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ctx: SimContext | None = None) -> None:
        self.app, self.state = build_app(ctx)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self.server = CalmServer(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.server.started:
            raise RuntimeError("simulator did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CalmServer(uvicorn.Server):
    """uvicorn wakes ten times a second to refresh its Date header and check for shutdown; once a
    second is plenty and keeps an idle server near zero CPU."""

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter += 10  # on_tick refreshes the Date header when counter % 10 == 0
            await asyncio.sleep(1.0)
            should_exit = await self.on_tick(counter)


class SimProcess:
    """The simulator in its own process (``serve --demo``): like a real upstream, it does not share
    the server's interpreter, so it cannot stall the server's event loop."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        import subprocess
        import sys

        with socket.socket() as probe:
            probe.bind((host, 0))
            self.port = probe.getsockname()[1]
        self.host = host
        self.proc = subprocess.Popen([sys.executable, "-m", "agentgauge", "sim", "--host", host, "--port",
                                      str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimProcess:
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("simulator process exited")
            try:
                httpx.get(self.url + "/", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("simulator did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
