"""The ASGI app behind ``agentgauge serve``: routes, static files, the scheduler; no logic of its own."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from ..accounts import Target
from ..chores import COST_CHORE, add_chores
from ..config import Config
from ..engine import Engine
from ..errors import StoreUnavailableError
from ..hub.loop import pusher_for
from ..hub.push import HubTarget
from ..mcp.http import McpEndpoint
from ..query import Query
from ..store import Store
from . import accounts, alert_admin, analytics, api, extension, hub, metrics, openapi, signin, users, watch
from .headers import SecurityHeaders, content_security_policy
from .limits import BodyLimit, LoginThrottle
from .live import Live, encode
from .login import STYLE_HASH, login
from .ondemand import OnDemand, OnDemandRefresh
from .pages import STATIC, static_page
from .replicas import Replication
from .security import CSRF_STATE, Guard

log = logging.getLogger("agentgauge.web")


class ServerState:
    """Everything the handlers share; built once per app. Reads go through ``query``; refreshes and
    background chores through the engine."""

    def __init__(
        self, config: Config, store: Store, engine: Engine, *, demo: bool, clock: Callable[[], datetime]
    ) -> None:
        self.config = config
        self.store = store
        self.engine = engine
        self.demo = demo
        self.clock = clock
        self.query = Query(config, store, clock)
        self.live = Live(self.query.usage(), clock, settle=self.query.settle)
        engine.listeners.append(self.live.account_changed)
        self._refreshes: dict[frozenset[tuple[str, str]], asyncio.Task[Any]] = {}
        self.last_cycle: datetime | None = None
        self.watchers = add_chores(engine, config, store, clock)  # alerts and status pages too
        self.extensions = extension.ExtensionHub(config, store, engine, clock)  # docs/extension.md
        self.hub = hub.HubEndpoints(config, store, engine, clock)  # machines pushing here (docs/hub.md)
        self.on_demand: OnDemandRefresh | None = None  # refresh = "on-demand" (web/ondemand.py)
        self.fetch_errors = metrics.FetchErrors()  # /metrics' error counter
        engine.listeners.append(self.fetch_errors.observe)

    def start_refresh(self, targets: list[Target]) -> asyncio.Task[Any]:
        """One refresh per selection at a time; concurrent callers share it. While the database is
        failing no account can be claimed, so nothing would be fetched: StoreUnavailableError (a 503
        with Retry-After) says so instead of an answer that looks like a refresh."""
        store = self.store.health(probe=False)
        if store.since is not None:
            raise StoreUnavailableError(
                f"{store.database} is unavailable ({store.last_error}): nothing can be refreshed until it is back"
            )
        key = api.targets_key(targets)
        task = self._refreshes.get(key)
        if task is None or task.done():
            task = asyncio.create_task(self._refresh_all(targets))
            self._refreshes[key] = task
        return task

    async def refreshes_done(self, key: tuple[str, str]) -> None:
        """Wait until no refresh of account ``key`` that began before this call is under way: the
        refreshes this server started that include it, then whatever holds or queues on the engine's
        lock for it (the scheduler's). A removed account must not have its state written back after."""
        tasks = [task for keys, task in self._refreshes.items() if key in keys and not task.done()]
        if tasks:
            await asyncio.wait(tasks)  # each is bounded by its providers' timeouts; failures are theirs
        lock = self.engine._locks.get(key)
        if lock is not None:
            async with lock:  # FIFO: every refresh queued before this one has finished
                pass

    async def _refresh_all(self, targets: list[Target]) -> list[Any]:
        # Accounts only the browser extension can fetch are also asked of it (the refresh relay).
        accounts = {p.key: p for p in self.live.snapshot.providers}
        fetched = await asyncio.gather(
            *(self.engine.refresh_account(t) for t in targets), self.extensions.ask(targets, accounts)
        )
        return fetched[:-1]

    def next_refresh_at(self) -> datetime | None:
        if self.last_cycle is None or self.config.on_demand:
            return None
        return self.last_cycle + timedelta(seconds=self.config.refresh_interval)

    async def cost_summary(self) -> bytes | None:
        """The spend summary from the local-log index; the first call waits for the index chore."""
        chore = self.engine.chores.get(COST_CHORE)
        if chore is not None and chore.task is None:
            await asyncio.shield(self.engine.run_chore(COST_CHORE))
        elif chore is not None and chore.task is not None and not chore.task.done() and chore.runs == 0:
            await asyncio.shield(chore.task)
        try:
            data = await asyncio.to_thread(self.query.cost_summary)
        except Exception as exc:  # a broken index must never take the server down
            log.warning("cost summary failed: %s", getattr(exc, "message", None) or type(exc).__name__)
            return None
        return encode(data)

    def on_tick(self) -> None:
        now = self.clock()
        if self.last_cycle is None or (now - self.last_cycle).total_seconds() >= self.config.refresh_interval:
            self.last_cycle = now
        self.live.resettle()  # a window whose reset just passed shows "reset, confirming..." at once
        watch.publish_incidents(self)  # what the status-page chore read, on the cards
        self.extensions.scheduled(self.live.snapshot)  # accounts only the browser extension can fetch
        self.hub.tick()  # pushed accounts no machine keeps fresh go stale


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
            path = path[len(root) :]
        plain = not scope.get("query_string")  # with a query (``?format=aimo``) the handler answers
        if scope["type"] == "http" and path == "/api/usage" and scope["method"] == "GET" and plain:
            body = self.live.body
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*self.HEADERS, (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


async def index(request: Request) -> Response:
    if not request.url.path.endswith("/"):
        return RedirectResponse(str(request.url.replace(path=request.url.path + "/")), status_code=308)
    page = static_page("index.html")
    csrf = (request.scope.get("state") or {}).get(CSRF_STATE)
    if csrf is None:
        return HTMLResponse(page, headers={"cache-control": "no-cache"})
    # A signed-in browser: its session's CSRF token for the dashboard's POSTs (app.js reads it).
    meta = f'<meta name="agentgauge-csrf" content="{csrf}">\n</head>'.encode()
    return HTMLResponse(page.replace(b"</head>", meta, 1), headers={"cache-control": "no-store"})


class GaugeApp(Starlette):
    """Starlette with the body cap and the security headers outside its whole stack, so they also
    cover the answers of its error handler (a 500) and of every middleware."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(BodyLimit(super().build_middleware_stack()), csp=content_security_policy([STYLE_HASH]))


def create_app(
    config: Config,
    store: Store,
    *,
    engine: Engine | None = None,
    bind_host: str = "127.0.0.1",
    root_path: str = "",
    demo: bool = False,
    schedule: bool = True,
    clock: Callable[[], datetime] | None = None,
    push_to: HubTarget | None = None,
) -> Starlette:
    clock = clock or (lambda: datetime.now(UTC))
    pristine, config = config, accounts.startup_config(config, store)  # + accounts managed from the dashboard
    engine = engine or Engine(config, store, clock=clock)
    state = ServerState(config, store, engine, demo=demo, clock=clock)
    pusher = pusher_for(push_to, config, store, engine.vault) if push_to is not None else None  # docs/hub.md
    if pusher is not None:
        engine.listeners.append(pusher.account_changed)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        scheduler = None
        replication = Replication(state) if schedule else None  # one replica schedules, all show changes
        gc.collect()
        gc.freeze()  # start-up objects live forever; keep them out of every later collection
        if replication is not None:
            replication.start(stop)
            scheduler = asyncio.create_task(
                engine.run_scheduler(
                    stop,
                    interval=config.refresh_interval,
                    on_tick=state.on_tick,
                    accounts=not config.on_demand,
                    leading=replication.leading,
                    wake=replication.wake,
                )
            )
        pushing = asyncio.create_task(pusher.run(stop)) if pusher is not None else None
        try:
            yield
        finally:
            stop.set()
            if scheduler is not None:
                await scheduler
            if pushing is not None:  # mid-request it gets a moment; what was not acknowledged stays buffered
                await asyncio.wait({pushing}, timeout=5)
                pushing.cancel()
                await asyncio.gather(pushing, return_exceptions=True)
            if replication is not None:
                await replication.stopped()
            await engine.aclose()

    routes = [
        Route("/", index),
        Route("/index.json", api.usage),  # the dashboard's JSON twin
        Route("/login", signin.login if config.auth == "users" else login, methods=["GET", "POST"]),
        *signin.ROUTES,  # setup, logout, the settings page; users, keys and accounts (docs/users.md)
        *users.ROUTES,
        *accounts.ROUTES,
        *alert_admin.ROUTES,  # alert rules and targets from the settings page (docs/alerts.md)
        Route("/api/openapi.json", openapi.endpoint),
        Route("/api/config", api.config),
        Route("/api/usage", api.usage),
        Route("/api/usage/{provider}", api.usage_provider),
        Route("/api/refresh", api.refresh, methods=["GET", "POST"]),  # GET: seed 000's refresh button
        Route("/api/history", api.history),
        Route("/api/events", api.events),
        Route("/api/ping", api.ping),
        Route("/api/health", api.health),
        Route("/api/data", api.seed_data),
        Route("/api/cost", api.cost),
        Route("/api/alerts", watch.alerts),
        Route("/metrics", metrics.endpoint),  # Prometheus
        Route("/api/pick", api.pick),
        Route("/mcp", McpEndpoint(state), methods=["GET", "POST", "DELETE"]),  # MCP streamable HTTP (docs/agents.md)
        *extension.ROUTES,  # the browser extension and its pairing (docs/extension.md)
        *hub.ROUTES,  # machines pushing to this hub (docs/hub.md)
        *analytics.ROUTES,  # the analytics page, the reset-cycle ledger and forecast accuracy (docs/api.md)
    ]

    async def store_unavailable(request: Request, exc: Exception) -> Response:
        message = getattr(exc, "message", "the database is unavailable")
        return JSONResponse(
            {"error": message, "hint": getattr(exc, "hint", "")},
            status_code=503,
            headers={"cache-control": "no-store", "retry-after": "5"},
        )

    app = GaugeApp(routes=routes, lifespan=lifespan, exception_handlers={StoreUnavailableError: store_unavailable})
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.state.server = state
    app.state.login_throttle = LoginThrottle(lambda: clock().timestamp())
    identities = users.StoreIdentities(config, store, clock)
    app.state.identities = identities
    app.state.accounts = accounts.AccountsManager(state, pristine)
    source = state.watchers.alerts.source
    assert source is not None  # add_alert_chores always gives one
    app.state.alert_settings = alert_admin.AlertSettingsManager(state, source)
    app.state.setup_code = identities.first_start()  # multi-user mode before its first user: `serve` prints it
    app.add_middleware(CachedUsage, live=state.live)
    if config.on_demand:  # refresh = "on-demand": a look at the dashboard or the API fetches
        app.add_middleware(OnDemand, refresher=OnDemandRefresh(state))
    app.add_middleware(
        Guard,
        bind_host=bind_host,
        token=config.serve_token,
        allowed_hosts=config.allowed_hosts,
        root_path=root_path,
        identities=identities,
    )
    if root_path:
        app.add_middleware(SubPath, root_path=root_path)
    return app
