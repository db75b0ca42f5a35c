"""The simulator's zenmux endpoints: the Management API's subscription detail and PAYG balance (loaded only
by the simulator). Only the Management key is accepted; a wrong one is an HTTP 401 with ``success: false``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import BALANCE_PATH, PROVIDER, SUBSCRIPTION_PATH

USD_PER_FLOW = 0.03283
LIMITS = {"quota_5_hour": (800.0, 18000), "quota_7_day": (6182.0, 604800)}


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "api_key")

    def rejected() -> Response:
        body = {"success": False, "error": {"code": "401", "message": "Invalid management API key"}}
        return JSONResponse(body, status_code=401)

    async def subscription(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return rejected()
        data: dict[str, Any] = {
            "plan": {
                "tier": "ultra",
                "amount_usd": 200,
                "interval": "month",
                "expires_at": iso(sim.now() + timedelta(days=19)),
            },
            "currency": "usd",
            "base_usd_per_flow": USD_PER_FLOW,
            "effective_usd_per_flow": USD_PER_FLOW,
            "account_status": "healthy",
            "quota_monthly": {"max_flows": 34560, "max_value_usd": round(34560 * USD_PER_FLOW, 2)},
        }
        for key, (cap, seconds) in LIMITS.items():
            pct, reset = sim.window(f"zenmux:{account}:{key}", seconds)
            used = round(cap * pct / 100, 2)
            data[key] = {
                "usage_percentage": round(pct / 100, 4),
                "resets_at": iso(reset),
                "max_flows": cap,
                "used_flows": used,
                "remaining_flows": round(cap - used, 2),
                "used_value_usd": round(used * USD_PER_FLOW, 2),
                "max_value_usd": round(cap * USD_PER_FLOW, 2),
            }
        return JSONResponse({"success": True, "data": data})

    async def balance(request: Request) -> Response:
        if account_of(request) is None:
            return rejected()
        data = {"currency": "usd", "total_credits": 482.74, "top_up_credits": 35, "bonus_credits": 447.74}
        return JSONResponse({"success": True, "data": data})

    return {"url": [Route(SUBSCRIPTION_PATH, subscription), Route(BALANCE_PATH, balance)]}
