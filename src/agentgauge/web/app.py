"""The ASGI app behind ``agentgauge serve``: routes, static files, the scheduler; no logic of its own."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from ..accounts import Target
from ..config import Config
from ..engine import Engine
from ..query import Query
from ..store import Store
from . import api, openapi
from .live import Live
from .security import COOKIE, Guard, login_token, session_value

log = logging.getLogger("agentgauge.web")
STATIC = resources.files("agentgauge.web").joinpath("static")


class ServerState:
    """Everything the handlers share; built once per app."""

    def __init__(self, config: Config, store: Store, engine: Engine, *, demo: bool,
                 clock: Callable[[], datetime]) -> None:
        self.config = config
        self.store = store
        self.engine = engine
        self.demo = demo
        self.clock = clock
        self.live = Live(Query(config, store, clock).usage(), clock)
        engine.listeners.append(self.live.account_changed)
        self._refreshes: dict[frozenset[tuple[str, str]], asyncio.Task[Any]] = {}
        self.last_cycle: datetime | None = None
        self._last_prune: datetime | None = None
        self.cost_body: bytes | None = None
        self._cost_task: asyncio.Task[Any] | None = None
        self._last_cost: datetime | None = None

    def start_refresh(self, targets: list[Target]) -> asyncio.Task[Any]:
        """One refresh per selection at a time; concurrent callers share it."""
        key = api.targets_key(targets)
        task = self._refreshes.get(key)
        if task is None or task.done():
            task = asyncio.create_task(self._refresh_all(targets))
            self._refreshes[key] = task
        return task

    async def _refresh_all(self, targets: list[Target]) -> list[Any]:
        return await asyncio.gather(*(self.engine.refresh_account(t) for t in targets))

    def next_refresh_at(self) -> datetime | None:
        if self.last_cycle is None:
            return None
        return self.last_cycle + timedelta(seconds=self.config.refresh_interval)

    def _cost_summary(self) -> bytes:
        """Read new log bytes into the index, then summarise it (runs in a worker thread)."""
        from ..logs.index import refresh_index
        from ..logs.report import cost_summary
        from .live import encode

        refresh_index(self.store, self.config.env, home=self.config.home)
        tz = datetime.now().astimezone().tzinfo or UTC
        return encode(cost_summary(self.store, now=self.clock(), tz=tz))

    def refresh_cost(self) -> asyncio.Task[Any]:
        if self._cost_task is None or self._cost_task.done():
            async def run() -> None:
                try:
                    self.cost_body = await asyncio.to_thread(self._cost_summary)
                except Exception as exc:  # a broken log file must never take the server down
                    log.warning("cost index refresh failed: %s", exc)

            self._cost_task = asyncio.create_task(run())
        return self._cost_task

    def on_tick(self) -> None:
        now = self.clock()
        if self._last_cost is None or (now - self._last_cost) > timedelta(minutes=10):
            self._last_cost = now
            self.refresh_cost()
        if self.last_cycle is None or (now - self.last_cycle).total_seconds() >= self.config.refresh_interval:
            self.last_cycle = now
        if self._last_prune is None or (now - self._last_prune) > timedelta(hours=1):
            self._last_prune = now
            raw_before = now - timedelta(days=self.config.history_raw_days)
            task = asyncio.create_task(asyncio.to_thread(self.store.prune, raw_before=raw_before,
                                                         hourly_before=now - timedelta(days=400)))
            task.add_done_callback(lambda t: t.exception() and log.warning("pruning failed: %s", t.exception()))


class SubPath:
    """Serves the app under ``root_path`` whether the reverse proxy strips the prefix or not."""

    def __init__(self, app: Any, root_path: str) -> None:
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope)
            scope["root_path"] = self.root_path
            path = scope.get("path", "")
            if path != self.root_path and not path.startswith(self.root_path + "/"):
                scope["path"] = self.root_path + path  # the proxy stripped it; Starlette strips it again
        await self.app(scope, receive, send)


class CachedUsage:
    """``GET /api/usage`` straight from the live view's pre-encoded bytes: the endpoint agents and
    scripts poll most, served without routing (it sits inside the Host/token guard)."""

    HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]

    def __init__(self, app: Any, live: Live) -> None:
        self.app = app
        self.live = live

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        if scope["type"] == "http" and path == "/api/usage" and scope["method"] == "GET":
            body = self.live.body
            await send({"type": "http.response.start", "status": 200,
                        "headers": [*self.HEADERS, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _page(name: str) -> bytes:
    return STATIC.joinpath(name).read_bytes()


async def index(request: Request) -> Response:
    if not request.url.path.endswith("/"):
        return RedirectResponse(str(request.url.replace(path=request.url.path + "/")), status_code=308)
    return HTMLResponse(_page("index.html"), headers={"cache-control": "no-cache"})


LOGIN_FORM = """<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport"
content="width=device-width,initial-scale=1"><title>agentgauge · sign in</title>
<style>body{font:16px system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0}</style>
<h1>agentgauge</h1><form method="post" action="login"><label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form>{error}</html>"""


async def login(request: Request) -> Response:
    state: ServerState = request.app.state.server
    token = state.config.serve_token
    if request.method == "GET":
        return HTMLResponse(LOGIN_FORM.replace("{error}", ""))
    if token is None:
        return RedirectResponse("./", status_code=303)
    given = login_token(await request.body())
    if not given or session_value(given) != session_value(token):
        return HTMLResponse(LOGIN_FORM.replace("{error}", "<p role=alert>Wrong token.</p>"), status_code=401)
    response = RedirectResponse("./", status_code=303)
    response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=request.scope.get("root_path") or "/")
    return response


def create_app(config: Config, store: Store, *, engine: Engine | None = None, bind_host: str = "127.0.0.1",
               root_path: str = "", demo: bool = False, schedule: bool = True,
               clock: Callable[[], datetime] | None = None) -> Starlette:
    clock = clock or (lambda: datetime.now(UTC))
    engine = engine or Engine(config, store, clock=clock)
    state = ServerState(config, store, engine, demo=demo, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        scheduler = None
        gc.collect()
        gc.freeze()  # start-up objects live forever; keep them out of every later collection
        if schedule:
            scheduler = asyncio.create_task(engine.run_scheduler(stop, interval=config.refresh_interval,
                                                                 on_tick=state.on_tick))
        try:
            yield
        finally:
            stop.set()
            if scheduler is not None:
                await scheduler
            await engine.aclose()

    routes = [
        Route("/", index),
        Route("/index.json", api.usage),  # the dashboard's JSON twin
        Route("/login", login, methods=["GET", "POST"]),
        Route("/api/openapi.json", openapi.endpoint),
        Route("/api/config", api.config),
        Route("/api/usage", api.usage),
        Route("/api/usage/{provider}", api.usage_provider),
        Route("/api/refresh", api.refresh, methods=["POST"]),
        Route("/api/history", api.history),
        Route("/api/events", api.events),
        Route("/api/ping", api.ping),
        Route("/api/health", api.health),
        Route("/api/data", api.seed_data),
        Route("/api/cost", api.cost),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.state.server = state
    app.add_middleware(CachedUsage, live=state.live)
    app.add_middleware(Guard, bind_host=bind_host, token=config.serve_token,
                       allowed_hosts=config.allowed_hosts, root_path=root_path)
    if root_path:
        app.add_middleware(SubPath, root_path=root_path)
    return app
