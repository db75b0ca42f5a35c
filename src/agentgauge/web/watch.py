"""The alerts panel's endpoint (``GET /api/alerts``) and the hand-over of status-page readings from
the incident chore to the live view."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..alerts.overview import overview

if TYPE_CHECKING:
    from .app import ServerState

NO_STORE = {"cache-control": "no-store"}


async def alerts(request: Request) -> Response:
    """Rules, targets (addresses reduced to scheme and host) and the latest events, newest first."""
    state: ServerState = request.app.state.server
    raw = request.query_params.get("limit") or "50"
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        return JSONResponse(
            {"error": "'limit' must be a whole number from 1 to 500"}, status_code=400, headers=NO_STORE
        )
    source = state.watchers.alerts.source  # the config's rules and targets and the dashboard's
    settings = await asyncio.to_thread(source.refresh) if source is not None else state.config.alerts
    body = await asyncio.to_thread(overview, settings, state.store, int(raw))
    body["incidents"] = {p: i.model_dump(mode="json") for p, i in state.query.incidents().items()}
    return JSONResponse(body, headers=NO_STORE)


def publish_incidents(state: ServerState) -> None:
    """On the scheduler's tick (event loop): once the status-page chore has read something new, show it
    on every account of the providers concerned (an SSE ``account`` event each)."""
    board = state.watchers.incidents
    if board.version == 0:
        return  # no check yet: the incidents stored by an earlier run stay shown
    current = board.current()
    if current == state.query.incidents():
        return
    state.query.set_incidents(current)
    for account in state.live.snapshot.providers:
        if account.incident != current.get(account.provider):
            state.live.account_changed(state.query.with_incident(account))
