"""JSON and SSE endpoints. Every handler reads through the query layer or the live view."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import __version__
from ..accounts import Target
from ..errors import ConfigError
from ..models import Snapshot
from ..query.agents import pick_report
from ..query.views import aimo_usage
from .live import encode

if TYPE_CHECKING:
    from .app import ServerState

log = logging.getLogger("agentgauge.web")

MAX_WAIT = 75.0
MAX_PICK_HOURS = 24 * 366
NO_STORE = {"cache-control": "no-store"}
# The shapes a snapshot can be answered in: agentgauge's own, aimo's array (seed 003) and the
# AgentsUsageDashboard ``/api/data`` object (seed 000).
FORMATS = ("snapshot", "aimo", "data")


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


def json_bytes(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json", headers={**NO_STORE, **(headers or {})})


def problem(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=NO_STORE)


def _filtered(snapshot: Snapshot, provider: str | None, account: str | None = None) -> Snapshot:
    rows = tuple(
        p
        for p in snapshot.providers
        if (provider is None or p.provider == provider) and (account is None or p.account == account)
    )
    return Snapshot(generated_at=snapshot.generated_at, providers=rows)


def _format(request: Request, default: str) -> str:
    chosen = request.query_params.get("format") or default
    if chosen not in FORMATS:
        raise ValueError(f"'format' must be one of {', '.join(FORMATS)}")
    return chosen


def _render(state: ServerState, snapshot: Snapshot, fmt: str) -> bytes:
    """``snapshot`` in the asked format (settled again: a reset may have passed since it was built)."""
    if fmt == "aimo":
        return encode(aimo_usage(state.query.settle(snapshot)))
    if fmt == "data":
        return encode(state.query.seed_data(snapshot, state.next_refresh_at()))
    return encode(snapshot.to_json_dict())


async def usage(request: Request) -> Response:
    state = _state(request)
    try:
        fmt = _format(request, "snapshot")
    except ValueError as exc:
        return problem(400, str(exc))
    if fmt == "snapshot":
        return json_bytes(state.live.body)
    return json_bytes(_render(state, state.live.snapshot, fmt))


async def usage_provider(request: Request) -> Response:
    provider = request.path_params["provider"]
    state = _state(request)
    try:
        fmt = _format(request, "snapshot")
    except ValueError as exc:
        return problem(400, str(exc))
    snapshot = _filtered(state.live.snapshot, provider)
    if not snapshot.providers:
        return problem(404, f"no account of provider '{provider}'")
    return json_bytes(_render(state, snapshot, fmt))


def _time_param(request: Request, name: str, default: datetime) -> datetime:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        if raw.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(raw), tz=UTC)
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except Exception:
        raise ValueError(f"'{name}' must be an ISO-8601 time or epoch seconds") from None


def _wait_param(request: Request, default: float) -> float:
    """Seconds to wait, clamped to 0-75 (aimo's agents ask for more than we wait); not a number is an error."""
    raw = request.query_params.get("wait")
    if raw is None or raw == "":
        return default
    try:
        wait = float(raw)
    except ValueError:
        raise ValueError("'wait' must be a number of seconds (0-75)") from None
    if math.isnan(wait):
        raise ValueError("'wait' must be a number of seconds (0-75)")
    return min(max(wait, 0.0), MAX_WAIT)


async def refresh(request: Request) -> Response:
    """Start a refresh (gated per account: the minimum interval and Retry-After still apply, so a
    script cannot make agentgauge hammer a provider) and optionally wait for its result.

    POST answers the snapshot and waits only when asked; GET is seed 000's refresh button, which
    expects the fresh ``/api/data`` in the same response, so it waits by default."""
    state = _state(request)
    provider = request.query_params.get("provider") or None
    account = request.query_params.get("account") or None
    is_get = request.method in ("GET", "HEAD")
    try:
        wait = _wait_param(request, MAX_WAIT if is_get else 0.0)
        fmt = _format(request, "data" if is_get else "snapshot")
    except ValueError as exc:
        return problem(400, str(exc))
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
    body = _render(state, _filtered(state.live.snapshot, provider, account), fmt)
    headers = {"x-agentgauge-fresh": "true" if fresh and wait else "false", "x-agentgauge-wait": f"{wait:g}"}
    return json_bytes(body, 200 if wait > 0 else 202, headers)


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
    data = await asyncio.to_thread(
        state.query.history, provider, account, params.get("window") or None, since, until, points, labels
    )
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
    state = _state(request)
    data = await asyncio.to_thread(state.query.health, state.live.snapshot)
    return JSONResponse(
        data, status_code=200 if data["store"] is None or data["store"].get("status") == "ok" else 503, headers=NO_STORE
    )


async def seed_data(request: Request) -> Response:
    state = _state(request)
    return json_bytes(_render(state, state.live.snapshot, "data"))


async def cost(request: Request) -> Response:
    """Estimated cost today / 7 days / 30 days per agent and model, from the local-log index
    (refreshed in the background; the first request waits for the first index run). With ``days``
    (1-366) the answer adds ``spend``: the daily series over those days per agent (``group=agent``)
    or per agent/model (``group=model``), the top models and the monthly ``budgets``."""
    state = _state(request)
    try:
        days, group = _spend_params(request)
    except ValueError as exc:
        return problem(400, str(exc))
    body = await state.cost_summary()
    if body is None:
        return problem(503, "the local-log index could not be read; see the server log")
    if days is None:
        return json_bytes(body)
    from ..query.spend import spend_view

    try:
        view = await asyncio.to_thread(
            spend_view,
            state.store,
            now=state.clock(),
            tz=datetime.now().astimezone().tzinfo or UTC,
            days=days,
            budgets=state.config.budgets,
            group=group,
        )
    except Exception as exc:  # a broken index must never take the server down
        log.warning("spend view failed: %s", getattr(exc, "message", None) or type(exc).__name__)
        return problem(503, "the local-log index could not be read; see the server log")
    data = orjson.loads(body)
    data["spend"] = view
    return json_bytes(encode(data))


def _spend_params(request: Request) -> tuple[int | None, str]:
    from ..query.spend import MAX_DAYS

    raw = request.query_params.get("days")
    group = request.query_params.get("group") or "agent"
    if group not in ("agent", "model"):
        raise ValueError("'group' must be 'agent' or 'model'")
    if raw is None or raw == "":
        return None, group
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise ValueError(f"'days' must be a whole number of days from 1 to {MAX_DAYS}")
    return int(raw), group


async def config(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(
        {
            "version": __version__,
            "thresholds": {"warn": state.config.warn_pct, "crit": state.config.crit_pct},
            "refresh_interval": state.config.refresh_interval,
            "demo": state.demo,
        },
        headers=NO_STORE,
    )


def _bool_param(request: Request, name: str) -> bool:
    raw = (request.query_params.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"'{name}' must be true or false")


async def pick(request: Request) -> Response:
    """Accounts ranked by headroom on their tightest window (``query.agents.pick_report``, the same
    answer as ``agentgauge pick --json`` and MCP's ``pick_provider``): ``provider`` (repeatable),
    ``hours`` (must last that long), ``include_stale``."""
    state = _state(request)
    params = request.query_params
    try:
        include_stale = _bool_param(request, "include_stale")
    except ValueError as exc:
        return problem(400, str(exc))
    try:
        hours = float(params["hours"]) if params.get("hours") else None
    except ValueError:
        hours = math.nan
    if hours is not None and not 0 < hours <= MAX_PICK_HOURS:  # also nan
        return problem(400, f"'hours' must be a number of hours above 0 and at most {MAX_PICK_HOURS}")
    providers = [p for p in params.getlist("provider") if p]
    snapshot = state.query.settle(state.live.snapshot)
    known = {p.provider for p in snapshot.providers}
    unknown = sorted(set(providers) - known)
    if unknown:
        return problem(404, f"no account of provider {', '.join(repr(u) for u in unknown)}")
    report = pick_report(snapshot, state.clock(), providers=providers, include_stale=include_stale, hours=hours)
    return json_bytes(encode(report))


def targets_key(targets: list[Target]) -> frozenset[tuple[str, str]]:
    return frozenset(t.key for t in targets)
