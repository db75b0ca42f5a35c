"""The analytics page (``/analytics``) and its JSON: the reset-cycle ledger (``/api/cycles``), the
forecasts' measured accuracy (``/api/forecast/accuracy``) and each account's tightest window over
time (``/api/analytics/usage``). Every handler reads through ``query.cycles``; docs/api.md has the
shapes and docs/dashboard.md the page."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..models import Status
from ..query.cycles import accuracy_view, cycles_view, names_of, select_series, tightest_usage
from .api import _state as server_state
from .api import _time_param as time_param
from .api import json_bytes, problem
from .live import encode

if TYPE_CHECKING:
    from .app import ServerState

DEFAULT_DAYS = 30
MAX_USAGE_DAYS = 366
PAGE = resources.files("agentgauge.web").joinpath("static", "analytics.html")


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE.read_bytes(), headers={"cache-control": "no-cache"})


def _selection(request: Request, state: ServerState) -> tuple[list[tuple[str, str, str]], datetime, datetime]:
    """The series and [since, until] a ledger request asks for; ValueError for a bad parameter, LookupError
    for a provider that has neither an account nor any stored history."""
    params = request.query_params
    until = time_param(request, "until", state.clock())
    since = time_param(request, "since", until - timedelta(days=DEFAULT_DAYS))
    if since >= until:
        raise ValueError("'since' must be before 'until'")
    providers = [p for p in params.getlist("provider") if p]
    series = select_series(
        state.store, providers=providers, account=params.get("account") or None, window=params.get("window") or None
    )
    known = {p.provider for p in state.live.snapshot.providers} | {key[0] for key in series}
    unknown = sorted(set(providers) - known)
    if unknown:
        raise LookupError(f"no account of provider {', '.join(repr(u) for u in unknown)}")
    return series, since, until


async def _ledger(request: Request, view: Any) -> Response:
    state = server_state(request)
    try:
        series, since, until = await asyncio.to_thread(_selection, request, state)
    except ValueError as exc:
        return problem(400, str(exc))
    except LookupError as exc:
        return problem(404, str(exc.args[0]))
    names = names_of(state.live.snapshot.providers)
    data = await asyncio.to_thread(view, state.store, series, since=since, until=until, now=state.clock(), names=names)
    return json_bytes(encode(data))


async def cycles(request: Request) -> Response:
    """One row per reset cycle of each matching window (``provider`` repeatable, ``account``,
    ``window``, ``since``/``until``; default the last 30 days)."""
    return await _ledger(request, cycles_view)


async def accuracy(request: Request) -> Response:
    """Per window, how often the forecasts' 80 % interval held how its closed cycles ended."""
    return await _ledger(request, accuracy_view)


async def usage(request: Request) -> Response:
    """Each account's tightest window over the last ``days`` (1-366, default 30), at most ``points``
    values per account (2-2000, default 300), from the rollups beyond two days."""
    state = server_state(request)
    params = request.query_params
    raw_days, raw_points = params.get("days") or str(DEFAULT_DAYS), params.get("points") or "300"
    if not raw_days.isascii() or not raw_days.isdigit() or not 1 <= int(raw_days) <= MAX_USAGE_DAYS:
        return problem(400, f"'days' must be a whole number of days from 1 to {MAX_USAGE_DAYS}")
    if not raw_points.isascii() or not raw_points.isdigit() or not 2 <= int(raw_points) <= 2000:
        return problem(400, "'points' must be a whole number from 2 to 2000")
    until = state.clock()
    since = until - timedelta(days=int(raw_days))
    shown = (Status.OK, Status.STALE)
    accounts = [p for p in state.query.settle(state.live.snapshot).providers if p.status in shown and p.windows]
    data = await asyncio.to_thread(
        tightest_usage, state.store, accounts, since=since, until=until, points=int(raw_points)
    )
    return json_bytes(encode({"days": int(raw_days), **data}))


ROUTES = [
    Route("/analytics", page),
    Route("/api/cycles", cycles),
    Route("/api/forecast/accuracy", accuracy),
    Route("/api/analytics/usage", usage),
]
