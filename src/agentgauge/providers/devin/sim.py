"""The simulator's devin endpoint (loaded only by the simulator).

``GET /api/<internal org id>/billing/quota/usage`` with the session token as a Bearer answers the
current quota shape (fractions below 1 for the daily percentage, as Devin sends them early in a
day; reset times with a -08:00 offset). Any other organization path is an HTTP 404; a wrong token
an HTTP 401; an ``x-cog-org-id`` naming another organization an HTTP 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import PROVIDER, QUOTA_PATH

PACIFIC = timezone(timedelta(hours=-8))


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def quota(request: Request) -> Response:
        org = request.path_params["org"]
        if org != sim.credential(PROVIDER.id, "organization"):
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse({"detail": "Invalid or expired session"}, status_code=401)
        if request.headers.get("x-cog-org-id", org) != org:
            return JSONResponse({"detail": "Forbidden"}, status_code=403)
        daily, daily_reset = sim.window(f"devin:{account}:daily", 86400)
        weekly, weekly_reset = sim.window(f"devin:{account}:weekly", 604800)
        return JSONResponse(
            {
                "is_quota_plan": True,
                "has_quota_allocation": True,
                "daily_percentage": round(daily / 100, 4) if daily < 50 else daily,
                "weekly_percentage": weekly,
                "daily_reset_at": daily_reset.astimezone(PACIFIC).isoformat(),
                "weekly_reset_at": weekly_reset.astimezone(PACIFIC).isoformat(),
                "hide_daily_quota": False,
                "overage_balance": 12.5,
            }
        )

    return {"url": [Route("/api/{org}" + QUOTA_PATH, quota)]}
