"""The simulator's commandcode endpoints (loaded only by the simulator).

Both billing endpoints want the better-auth session cookie (``__Secure-better-auth.session_token``)
and answer an HTTP 401 without it. ``default`` is on the Go plan with both rolling limits (nested
in ``credits``, strings and epoch seconds, as one recorded answer has them); the ``free`` demo
account has no subscription (``data: null``) and no limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso, unauthorized
from . import BARE_TOKEN_NAME, CREDITS_PATH, PROVIDER, SUBSCRIPTIONS_PATH


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        presented = request.cookies.get(BARE_TOKEN_NAME)
        return sim.account_of(PROVIDER.id, "cookie", f"{BARE_TOKEN_NAME}={presented}") if presented else None

    async def credits(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthorized("Unauthorized")
        monthly, _ = sim.window(f"commandcode:{account}:monthly", 30 * 86400)
        body: dict[str, Any] = {
            "credits": {
                "belowThreshold": False,
                "creditThreshold": 0,
                "monthlyCredits": round(10 * (100 - monthly) / 100, 4),
                "purchasedCredits": 5 if account == "default" else 0,
                "premiumMonthlyCredits": 0,
                "opensourceMonthlyCredits": 0,
            }
        }
        if account != "free":
            five, five_reset = sim.window(f"commandcode:{account}:5h", 18000)
            week, week_reset = sim.window(f"commandcode:{account}:weekly", 604800)
            body["credits"]["windowLimits"] = {
                "fiveHour": {
                    "cap": "4",
                    "used": str(round(4 * five / 100, 2)),
                    "resetAt": str(int(five_reset.timestamp())),
                },
                "weekly": {"cap": 20, "used": round(20 * week / 100, 2), "resetAt": int(week_reset.timestamp() * 1000)},
            }
        return JSONResponse(body)

    async def subscriptions(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthorized("Unauthorized")
        if account == "free":
            return JSONResponse({"success": True, "data": None})
        _, end = sim.window(f"commandcode:{account}:monthly", 30 * 86400)
        return JSONResponse(
            {
                "success": True,
                "data": {
                    "id": "sub_sim",
                    "status": "active",
                    "planId": "individual-go",
                    "cancelAtPeriodEnd": False,
                    "currentPeriodStart": iso(end - timedelta(days=30)),
                    "currentPeriodEnd": iso(end),
                },
            }
        )

    return {"url": [Route(CREDITS_PATH, credits), Route(SUBSCRIPTIONS_PATH, subscriptions)]}
