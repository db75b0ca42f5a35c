"""The simulator's manus endpoint: the ``GetAvailableCredits`` Connect RPC (loaded only by the simulator).

Like a Connect server it takes only ``POST`` with a JSON body (``415`` otherwise) and answers errors
as ``{"code": ..., "message": ...}`` (``unauthenticated`` is HTTP 401). Zero fields are left out, as
Connect's JSON does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import CREDITS_PATH, PROVIDER

MONTHLY = 4000
REFRESH = 300
FREE = 1500


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def credits(request: Request) -> Response:
        if "application/json" not in request.headers.get("content-type", ""):
            return JSONResponse({"code": "unknown", "message": "unsupported content type"}, status_code=415)
        if sim.bearer_account(request, PROVIDER.id, "cookie") is None:
            return JSONResponse({"code": "unauthenticated", "message": "invalid session"}, status_code=401)
        account = sim.bearer_account(request, PROVIDER.id, "cookie") or "default"
        month_pct, _ = sim.window(f"manus:{account}:monthly", 30 * 86400)
        day_pct, _ = sim.window(f"manus:{account}:refresh", 86400)
        periodic = round(MONTHLY * (100 - month_pct) / 100)
        refresh = round(REFRESH * (100 - day_pct) / 100)
        now = sim.now().astimezone(UTC)
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        body: dict[str, Any] = {
            "totalCredits": FREE + periodic + refresh,
            "freeCredits": FREE,
            "periodicCredits": periodic,
            "refreshCredits": refresh,
            "proMonthlyCredits": MONTHLY,
            "maxRefreshCredits": REFRESH,
            "nextRefreshTime": iso(midnight),
            "refreshInterval": "daily",
            "userFlag": {"drc16": True},
        }
        return JSONResponse({k: v for k, v in body.items() if v != 0})

    return {"url": [Route(CREDITS_PATH, credits, methods=["POST"])]}
