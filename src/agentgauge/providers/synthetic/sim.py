"""The simulator's synthetic endpoint: ``GET /v2/quotas`` as api.synthetic.new answers it (loaded only by
the simulator). A missing or wrong key is an HTTP 401 with ``{"error": ...}``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import PROVIDER, QUOTAS_PATH

ROLLING_MAX = 600
WEEKLY_CREDITS = 36.0
SEARCH_LIMIT = 250


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def quotas(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse({"error": "Invalid API key"}, status_code=401)
        rolling_pct, _ = sim.window(f"synthetic:{account}:rolling", 18000)
        weekly_pct, _ = sim.window(f"synthetic:{account}:weekly", 604800)
        search_pct, search_reset = sim.window(f"synthetic:{account}:search", 3600, high=40)
        month_pct, month_reset = sim.window(f"synthetic:{account}:subscription", 30 * 86400, high=60)
        now = sim.now()
        remaining = round(ROLLING_MAX * (100 - rolling_pct) / 100)
        credits_left = round(WEEKLY_CREDITS * (100 - weekly_pct) / 100, 2)
        body = {
            "subscription": {
                "limit": ROLLING_MAX,
                "requests": round(ROLLING_MAX * month_pct / 100),
                "renewsAt": iso(month_reset),
            },
            "search": {
                "hourly": {
                    "limit": SEARCH_LIMIT,
                    "requests": round(SEARCH_LIMIT * search_pct / 100),
                    "renewsAt": iso(search_reset),
                }
            },
            "freeToolCalls": {"limit": 0, "requests": 0, "renewsAt": iso(now + timedelta(days=1))},
            "weeklyTokenLimit": {
                "nextRegenAt": iso(now + timedelta(minutes=17)),
                "percentRemaining": round(100 - weekly_pct, 1),
                "maxCredits": f"${WEEKLY_CREDITS:.2f}",
                "remainingCredits": f"${credits_left:.2f}",
                "nextRegenCredits": "$0.72",
            },
            "rollingFiveHourLimit": {
                "nextTickAt": iso(now + timedelta(minutes=15)),
                "tickPercent": 0.05,
                "remaining": remaining,
                "max": ROLLING_MAX,
                "limited": remaining <= 0,
            },
        }
        return JSONResponse(body)

    return {"url": [Route(QUOTAS_PATH, quotas)]}
