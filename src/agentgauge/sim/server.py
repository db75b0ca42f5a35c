"""``agentgauge sim``: every implemented provider's real paths on 127.0.0.1, with auth checks.

Each provider contributes its routes from its own ``<package>/sim.py`` (``routes(ctx)``), mounted
at ``/<provider>/<url-setting>`` so that pointing the provider's base-URL setting there is
all a client needs. Only the simulator loads those modules. Control endpoints under
``/__sim/`` inject faults (status codes, timeouts, truncated or HTML bodies, replacement
payloads), add latency and move the clock; tests and benchmarks use them over real HTTP. The
request log and ``/__sim/stats`` count requests per path prefix (one provider's URL setting), with
how many were in flight at once: tests check politeness limits there.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Generator, Mapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router

from ..providers import Provider, registry
from ..providers.simkit import SimContext
from .faults import Fault, FaultMiddleware, SimState


def sim_credentials(providers: list[Provider]) -> dict[str, dict[str, str]]:
    return {p.id: dict(p.sim_credentials) for p in providers}


def sim_module(provider: Provider) -> Any | None:
    """The provider's simulator module (``<its package>.sim``), or None when it has none."""
    name = f"{type(provider).__module__}.sim"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def provider_routes(provider: Provider, ctx: SimContext) -> Mapping[str, list[Any]]:
    module = sim_module(provider)
    return module.routes(ctx) if module is not None and hasattr(module, "routes") else {}


def build_app(ctx: SimContext | None = None, providers: list[Provider] | None = None) -> tuple[Starlette, SimState]:
    providers = providers or registry.all_providers()
    ctx = ctx or SimContext(sim_credentials(providers))
    state = SimState(ctx)
    mounts: list[Any] = []
    for provider in providers:
        for url_name, routes in provider_routes(provider, ctx).items():
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

    async def stats(request: Request) -> Response:
        return JSONResponse({prefix: vars(s) for prefix, s in state.stats.items()})

    async def reset_stats(request: Request) -> Response:
        for s in state.stats.values():  # requests still in flight stay counted until they end
            s.requests, s.peak = 0, s.in_flight
        return JSONResponse({})

    async def index(request: Request) -> Response:
        return JSONResponse(
            {"simulator": "agentgauge", "providers": [p.id for p in providers], "mounts": [m.path for m in mounts]}
        )

    routes = [
        Route("/", index),
        Route("/__sim/faults", add_fault, methods=["POST"]),
        Route("/__sim/faults", clear_faults, methods=["DELETE"]),
        Route("/__sim/latency", set_latency, methods=["POST"]),
        Route("/__sim/advance", advance, methods=["POST"]),
        Route("/__sim/requests", request_log, methods=["GET"]),
        Route("/__sim/stats", stats, methods=["GET"]),
        Route("/__sim/stats", reset_stats, methods=["DELETE"]),
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

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, ctx: SimContext | None = None, extra_hosts: tuple[str, ...] = ()
    ) -> None:
        self.app, self.state = build_app(ctx)
        self.workdir: str | None = None  # where tests put local sources (fake CLIs, config trees)
        self.sock = _listen(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        # More addresses on the same port (127.0.0.2, ...): upstream hosts of their own, as providers
        # have in reality, for whatever limits requests per host.
        self.extra = [_listen(extra, self.port) for extra in extra_hosts]
        self.hosts = (self.host, *extra_hosts)
        # h11, not httptools: httptools drops the body of a request that asks to upgrade (curl and
        # browser-TLS clients send `Upgrade: h2c` on plain http), and the real services accept those.
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False, http="h11")
        self.server = CalmServer(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock, *self.extra]}, daemon=True
        )

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
        if self.thread.ident is not None:  # started (stop may follow an interrupted start)
            self.thread.join(timeout=5)
        for sock in (self.sock, *self.extra):
            sock.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class QuietUpgrades(logging.Filter):
    """Drops uvicorn's warnings about upgrade requests. curl and browser-TLS clients send ``Upgrade:
    h2c`` on plain http; the request is answered over HTTP/1.1 as the real services answer it, so
    the warnings (one or two per request) only fill the terminal of ``serve`` and ``--demo``."""

    DROPPED = ("Unsupported upgrade request.", "No supported WebSocket library detected.")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.DROPPED)


QUIET_UPGRADES = QuietUpgrades()


class CalmServer(uvicorn.Server):
    """uvicorn wakes ten times a second to refresh its Date header and check for shutdown; once a
    second is plenty and keeps an idle server near zero CPU."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        logging.getLogger("uvicorn.error").addFilter(QUIET_UPGRADES)  # once: addFilter skips a repeat

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter += 10  # on_tick refreshes the Date header when counter % 10 == 0
            await asyncio.sleep(1.0)
            should_exit = await self.on_tick(counter)


# What stops a service: Ctrl-C, `kill`/Docker/systemd (SIGTERM), a closed terminal (SIGHUP), Ctrl-Break.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, name)
)


class ServiceServer(CalmServer):
    """A CalmServer for a process that runs as a service (``serve``, the demo's simulator child):
    SIGINT, SIGTERM and SIGHUP all stop it gracefully and ``run()`` then returns normally. uvicorn
    itself re-raises the signal after its shutdown, which kills the process before its own cleanup
    (the demo's child process and temp data) can run, and turns Ctrl-C into a KeyboardInterrupt."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        # A bound method of the server: sse-starlette finds the server through the SIGTERM handler
        # to end open event streams when it stops.
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
