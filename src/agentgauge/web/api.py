"""JSON and SSE endpoints. Every handler reads through the query layer or the live view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import __version__, query
from ..accounts import Target
from ..errors import ConfigError
from ..models import Snapshot
from ..providers._parse import parse_iso
from .live import encode

if TYPE_CHECKING:
    from .app import ServerState

MAX_WAIT = 75.0
NO_STORE = {"cache-control": "no-store"}


def _state(request: Request) -> ServerState:
    return request.app.state.server  # type: ignore[no-any-return]


def json_bytes(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers={**NO_STORE, **(headers or {})})


def problem(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=NO_STORE)


def _filtered(snapshot: Snapshot, provider: str | None, account: str | None = None) -> Snapshot:
    rows = tuple(p for p in snapshot.providers
                 if (provider is None or p.provider == provider) and (account is None or p.account == account))
    return Snapshot(generated_at=snapshot.generated_at, providers=rows)


async def usage(request: Request) -> Response:
    return json_bytes(_state(request).live.body)


async def usage_provider(request: Request) -> Response:
    provider = request.path_params["provider"]
    snapshot = _filtered(_state(request).live.snapshot, provider)
    if not snapshot.providers:
        return problem(404, f"no account of provider '{provider}'")
    return json_bytes(encode(snapshot.to_json_dict()))


def _time_param(request: Request, name: str, default: datetime) -> datetime:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        if raw.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(raw), tz=UTC)
        return parse_iso(raw, name)
    except Exception:
        raise ValueError(f"'{name}' must be an ISO-8601 time or epoch seconds") from None


async def refresh(request: Request) -> Response:
    """Start a refresh (gated per account: the minimum interval and Retry-After still apply, so a
    script cannot make agentgauge hammer a provider) and optionally wait for its result."""
    state = _state(request)
    provider = request.query_params.get("provider") or None
    account = request.query_params.get("account") or None
    try:
        wait = float(request.query_params.get("wait") or 0)
    except ValueError:
        return problem(400, "'wait' must be a number of seconds (0-75)")
    if not 0 <= wait <= MAX_WAIT:
        return problem(400, "'wait' must be between 0 and 75 seconds")
    try:
        targets = state.engine.targets([provider] if provider else None)
    except ConfigError as exc:
        return problem(404, exc.message)
    chosen = [t for t in targets if account is None or t.account.account == account]
    if not chosen:
        return problem(404, "no such account")
    task = state.start_refresh(chosen)
    fresh = True
    if wait > 0:
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=wait)
        except TimeoutError:
            fresh = False
    body = encode(_filtered(state.live.snapshot, provider, account).to_json_dict())
    return json_bytes(body, 200 if wait > 0 else 202, {"x-agentgauge-fresh": "true" if fresh and wait else "false"})


async def history(request: Request) -> Response:
    state = _state(request)
    params = request.query_params
    provider = params.get("provider")
    if not provider:
        return problem(400, "'provider' is required")
    account = params.get("account") or "default"
    try:
        until = _time_param(request, "until", state.clock())
        since = _time_param(request, "since", until - timedelta(hours=24))
        points = int(params.get("points") or 500)
    except ValueError as exc:
        return problem(400, str(exc))
    if not 2 <= points <= 5000:
        return problem(400, "'points' must be between 2 and 5000")
    if since >= until:
        return problem(400, "'since' must be before 'until'")
    row = next((p for p in state.live.snapshot.providers if p.provider == provider and p.account == account), None)
    if row is None:
        return problem(404, f"no account '{account}' of provider '{provider}'")
    labels = {w.id: w.label for w in row.windows}
    data = await asyncio.to_thread(query.history, state.store, provider, account, params.get("window") or None,
                                   since, until, points, labels)
    return json_bytes(encode(data))


async def events(request: Request) -> Response:
    state = _state(request)
    queue = state.live.subscribe()

    async def stream() -> AsyncIterator[dict[str, Any]]:
        try:
            yield {"event": "snapshot", "data": state.live.body.decode(), "retry": 2000}
            while True:
                kind, payload = await queue.get()
                yield {"event": kind, "data": payload.decode()}
        finally:
            state.live.unsubscribe(queue)

    return EventSourceResponse(stream(), ping=15, headers=NO_STORE)


async def ping(request: Request) -> Response:
    return JSONResponse({"ok": True, "version": __version__}, headers=NO_STORE)


async def health(request: Request) -> Response:
    return JSONResponse(query.health(_state(request).live.snapshot), headers=NO_STORE)


async def seed_data(request: Request) -> Response:
    state = _state(request)
    data = query.seed_data(state.live.snapshot, now=state.clock(), next_refresh_at=state.next_refresh_at())
    return JSONResponse(data, headers=NO_STORE)


async def cost(request: Request) -> Response:
    """Estimated cost today / 7 days / 30 days per agent and model, from the local-log index
    (refreshed in the background; the first request waits for the first index run)."""
    state = _state(request)
    if state.cost_body is None:
        await asyncio.shield(state.refresh_cost())
    if state.cost_body is None:
        return problem(503, "the local-log index could not be read; see the server log")
    return json_bytes(state.cost_body)


async def config(request: Request) -> Response:
    state = _state(request)
    return JSONResponse({
        "version": __version__,
        "thresholds": {"warn": state.config.warn_pct, "crit": state.config.crit_pct},
        "refresh_interval": state.config.refresh_interval,
        "demo": state.demo,
    }, headers=NO_STORE)


def targets_key(targets: list[Target]) -> frozenset[tuple[str, str]]:
    return frozenset(t.key for t in targets)
