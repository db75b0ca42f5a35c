"""The browser extension's side of the server (docs/extension.md).

Endpoints under ``/api/extension/`` answer the extension and authenticate it by its own token
(``Authorization: Bearer agx_...``, from pairing), whatever the server's access token is:
``pair`` (a one-time code for a token), ``hello``, ``poll`` (pending refreshes: the relay),
``ingest/{provider}`` (pushed answers, parsed by the provider's parser), ``usage`` and ``refresh``
(the popup). Managing them (``/api/extensions``: list, new pairing code, revoke) and the page at
``/extension`` sit behind the usual guard, like the dashboard.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from ..accounts import Target
from ..config import Config
from ..engine import Engine
from ..errors import ConfigError, FetchTimeoutError
from ..models import ProviderSnapshot, Snapshot, Status
from ..providers import registry
from ..store import Store
from . import api, pairing
from .ingest import EXTENSION_SOURCE, PARTS, SITES, PushRejected, record_failure, take_push
from .limits import LoginThrottle
from .relay import Relay, Seen
from .security import CSRF_STATE

if TYPE_CHECKING:
    from .app import ServerState

log = logging.getLogger("agentgauge.web.extension")
MAX_PUSH = 4 * 1024 * 1024  # a push's JSON once unzipped (ollama's page is the big one; gzip keeps the wire small)
NO_STORE = {"cache-control": "no-store"}


class ExtensionHub:
    """What the extension endpoints share: the relay, the pairing throttle, the listeners to tell."""

    def __init__(self, config: Config, store: Store, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.store = store
        self.engine = engine
        self.clock = clock
        self.relay = Relay(clock)
        self.throttle = LoginThrottle(lambda: clock().timestamp())  # wrong pairing codes, per client
        self._round: asyncio.Task[None] | None = None  # the scheduler's relay round in flight

    def changed(self, account: ProviderSnapshot) -> None:
        """A push changed an account: tell whoever a fetch tells (the live view, alerts, metrics)."""
        for listener in list(self.engine.listeners):
            listener(account)

    async def ask(self, targets: Iterable[Target], accounts: Mapping[tuple[str, str], ProviderSnapshot]) -> None:
        """The relay's part of a refresh: ask the extension for the accounts only it can fetch and
        wait for its pushes; an account no push answered shows its last data as stale, saying why."""
        now = self.clock()
        keys = [
            t.key
            for t in targets
            if t.account.enabled
            and t.provider.id in PARTS
            and self.relay.covers(t.key, accounts.get(t.key), EXTENSION_SOURCE)
            and not _recent(accounts.get(t.key), t.provider.min_interval, now)
        ]
        await self._relay(keys, now)

    def scheduled(self, snapshot: Snapshot) -> None:
        """The scheduler's pass (``refresh = "interval"`` only): accounts only the extension can fetch
        are asked of it once their data is older than the refresh interval, like any due account.
        One round at a time; nothing here waits."""
        if self.config.on_demand or (self._round is not None and not self._round.done()):
            return
        now = self.clock()
        keys = []
        for row in snapshot.providers:
            if row.provider not in PARTS or row.status == Status.DISABLED:
                continue
            every = max(self.config.refresh_interval, registry.get(row.provider).min_interval)
            if row.fetched_at is not None and (now - row.fetched_at).total_seconds() < every:
                continue
            if self.relay.covers(row.key, row, EXTENSION_SOURCE):
                keys.append(row.key)
        if keys:
            self._round = asyncio.create_task(self._relay(keys, now))

    async def _relay(self, keys: list[tuple[str, str]], now: datetime) -> None:
        for provider_id, account in await self.relay.request(keys):
            provider = registry.get(provider_id)
            error = FetchTimeoutError(
                f"{provider.name}: no browser extension answered the refresh within {self.relay.timeout:g} s",
                hint=f"Open the browser where the agentgauge extension is paired with this server and logged in "
                f"to {SITES[provider_id]} (docs/extension.md); the data shown is from its last push.",
            )
            shown = await asyncio.to_thread(
                partial(record_failure, unless_since=now), self.store, provider, account, error, self.clock()
            )
            if shown is not None:
                self.changed(shown)


def _recent(account: ProviderSnapshot | None, min_interval: float, now: datetime) -> bool:
    """Pushed (or tried) within the provider's minimum interval: the extension is not asked again yet,
    the same gate the engine keeps for its own fetches."""
    if account is None or account.source != EXTENSION_SOURCE or account.fetched_at is None:
        return False
    return (now - account.fetched_at).total_seconds() < min_interval


def _hub(request: Request) -> ExtensionHub:
    state: ServerState = request.app.state.server
    return state.extensions


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers={**NO_STORE, **(headers or {})})


def _problem(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return _json({"error": message}, status, headers)


async def _paired(request: Request) -> pairing.Paired | None:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token:
        return None
    hub = _hub(request)
    return await asyncio.to_thread(pairing.verify, hub.store, token, hub.clock())


def _providers(value: str | None) -> frozenset[str]:
    return frozenset(p for p in (value or "").split(",") if p in PARTS)


UNPAIRED = "this extension is not paired with the server (or it was revoked): pair it again in its options"


async def _body(request: Request) -> Any:
    """The request's JSON, gzip-encoded or not; at most ``MAX_PUSH`` bytes once unzipped (the wire
    size is capped before this by BodyLimit). ValueError for a body that is not JSON; OverflowError
    when it unzips past the cap."""
    raw = await request.body()
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip":
        inflate = zlib.decompressobj(wbits=31)
        try:
            raw = inflate.decompress(raw, MAX_PUSH + 1)
        except zlib.error:
            raise ValueError("the body is not valid gzip") from None
        if len(raw) > MAX_PUSH or inflate.unconsumed_tail:
            raise OverflowError
    elif encoding not in ("", "identity"):
        raise ValueError(f"unsupported Content-Encoding '{encoding}' (gzip or none)")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("the body is not JSON") from None


# -- the extension's endpoints (its own token) --------------------------------------------------------
async def pair(request: Request) -> Response:
    """Trade a one-time pairing code for this extension's token (throttled per client)."""
    hub = _hub(request)
    client = request.client.host if request.client else "unknown"
    wait = hub.throttle.retry_after(client)
    if wait:
        return _problem(429, "too many wrong pairing codes; wait and try again", {"retry-after": str(wait)})
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return _problem(415, 'send the code as JSON: {"code": ..., "name": ...}')
    try:
        body = await _body(request)
    except (ValueError, OverflowError) as exc:
        return _problem(400, str(exc) or "bad body")
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return _problem(400, 'expected {"code": "XXXX-XXXX", "name": "..."}')
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    result = await asyncio.to_thread(pairing.redeem, hub.store, body["code"], str(name), hub.clock())
    if result is None:
        hub.throttle.failed(client)
        return _problem(403, "wrong, used or expired pairing code: show a new one with `agentgauge extension pair`")
    hub.throttle.succeeded(client)
    token, paired = result
    log.info("paired browser extension %s (%s)", paired.id, paired.name)
    return _json({"token": token, **paired.to_json(), "server": {"version": __version__}}, 201)


async def hello(request: Request) -> Response:
    paired = await _paired(request)
    if paired is None:
        return _problem(401, UNPAIRED, {"www-authenticate": "Bearer"})
    hub = _hub(request)
    return _json(
        {
            **paired.to_json(),
            "server": {"version": __version__, "refresh": hub.config.refresh},
            "thresholds": {"warn": hub.config.warn_pct, "crit": hub.config.crit_pct},
            "providers": sorted(PARTS),
        }
    )


async def poll(request: Request) -> Response:
    """Long poll for pending refreshes of the providers this extension reads (``providers=a,b``)."""
    paired = await _paired(request)
    if paired is None:
        return _problem(401, UNPAIRED, {"www-authenticate": "Bearer"})
    hub = _hub(request)
    params = request.query_params
    providers = _providers(params.get("providers"))
    try:
        wait = float(params.get("wait") or 0)
    except ValueError:
        return _problem(400, "'wait' must be a number of seconds")
    seen = Seen(paired.id, paired.name, providers, params.get("account") or "default", hub.clock())
    keys = await hub.relay.poll(seen, wait if wait == wait else 0.0)
    return _json({"fetch": [provider for provider, _account in keys], "account": seen.account})


async def push(request: Request) -> Response:
    """One push: ``{"parts": {...answers...}}`` or ``{"error": {"status": ..., "what": ...}}``."""
    paired = await _paired(request)
    if paired is None:
        return _problem(401, UNPAIRED, {"www-authenticate": "Bearer"})
    hub = _hub(request)
    provider_id = request.path_params["provider"]
    account = request.query_params.get("account") or "default"
    try:
        body = await _body(request)
    except OverflowError:
        return _problem(413, f"the push unzips past {MAX_PUSH} bytes")
    except ValueError as exc:
        return _problem(400, str(exc))
    if not isinstance(body, dict):
        return _problem(400, "a push is a JSON object")
    now = hub.clock()
    try:
        result, error = await asyncio.to_thread(take_push, hub.store, hub.config, provider_id, account, body, now)
    except PushRejected as exc:
        return _problem(400, str(exc))
    except ConfigError as exc:
        return _problem(404, exc.message)
    hub.relay.answered((provider_id, account))
    if result.snapshot is not None and (result.accepted or error is not None):
        hub.changed(result.snapshot)
    log.info("extension %s pushed %s/%s: %s", paired.id, provider_id, account, result.reason)
    shown = result.snapshot
    return _json(
        {
            "accepted": result.accepted,
            "reason": result.reason,
            "status": shown.status.value if shown else None,
            "error": error.info().model_dump(mode="json") if error is not None else None,
        }
    )


async def usage(request: Request) -> Response:
    """The snapshot, for the popup (the same bytes as ``GET /api/usage``)."""
    if await _paired(request) is None:
        return _problem(401, UNPAIRED, {"www-authenticate": "Bearer"})
    state: ServerState = request.app.state.server
    return api.json_bytes(state.live.body)


async def refresh(request: Request) -> Response:
    """``POST /api/refresh`` for the popup (same parameters, same gates); ``providers=a,b`` (and
    ``pushes_to``, its account) say what this extension reads, so the refresh asks it for them."""
    paired = await _paired(request)
    if paired is None:
        return _problem(401, UNPAIRED, {"www-authenticate": "Bearer"})
    hub = _hub(request)
    providers = _providers(request.query_params.get("providers"))
    if providers:
        account = request.query_params.get("pushes_to") or "default"
        hub.relay.saw(Seen(paired.id, paired.name, providers, account, hub.clock()))
    return await api.refresh(request)


# -- managing extensions (behind the guard, like the dashboard) ---------------------------------------
async def list_paired(request: Request) -> Response:
    hub = _hub(request)
    seen = {s.id: s for s in hub.relay.connected()}
    rows = []
    for paired in await asyncio.to_thread(pairing.paired, hub.store):
        live = seen.get(paired.id)
        rows.append(
            {**paired.to_json(), "connected": live is not None, "providers": sorted(live.providers) if live else []}
        )
    return _json({"extensions": rows})


async def new_pairing_code(request: Request) -> Response:
    hub = _hub(request)
    code = await asyncio.to_thread(pairing.new_code, hub.store, hub.clock())
    return _json(code.to_json(), 201)


async def revoke(request: Request) -> Response:
    hub = _hub(request)
    try:
        gone = await asyncio.to_thread(pairing.revoke, hub.store, request.path_params["id"])
    except ConfigError as exc:
        return _problem(404, exc.message)
    hub.relay.forget(gone.id)
    log.info("revoked browser extension %s (%s)", gone.id, gone.name)
    return _json({"revoked": gone.id})


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>agentgauge · browser extension</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="static/app.css">
<link rel="stylesheet" href="static/extension.css">
<script type="module" src="static/extension.js"></script>{meta}</head>
<body><header class="top"><div class="brand"><h1>agentgauge</h1></div><a class="btn" href="./">Dashboard</a></header>
<main class="panel extension-page">
<h2>Browser extension</h2>
<p>The agentgauge extension reads claude.ai, chatgpt.com, www.kimi.com, ollama.com and z.ai inside your browser,
where you are logged in, and sends what they answer to this server. Pair it once: open its options, enter this
server's address and a pairing code from here (or from <code>agentgauge extension pair</code>).</p>
<p><button id="new-code" type="button" class="btn">Show a pairing code</button>
<output id="code" class="pairing-code" aria-live="polite"></output></p>
<h3>Paired extensions</h3>
<table id="paired"><thead><tr><th>Name</th><th>Id</th><th>Paired</th><th>Last seen</th><th>Reads</th><th></th></tr>
</thead><tbody></tbody></table>
<p id="none" class="muted" hidden>No extension is paired yet.</p>
<p class="muted small">Install steps: docs/extension.md.</p>
</main></body></html>"""


async def page(request: Request) -> Response:
    csrf = (request.scope.get("state") or {}).get(CSRF_STATE)
    meta = f'<meta name="agentgauge-csrf" content="{csrf}">' if csrf else ""
    return HTMLResponse(PAGE.replace("{meta}", meta), headers=NO_STORE)


ROUTES = [
    Route("/extension", page),
    Route("/api/extension/pair", pair, methods=["POST"]),
    Route("/api/extension/hello", hello),
    Route("/api/extension/poll", poll),
    Route("/api/extension/ingest/{provider}", push, methods=["POST"]),
    Route("/api/extension/usage", usage),
    Route("/api/extension/refresh", refresh, methods=["POST"]),
    Route("/api/extensions", list_paired),
    Route("/api/extensions/pairing", new_pairing_code, methods=["POST"]),
    Route("/api/extensions/{id}", revoke, methods=["DELETE"]),
]
