"""The simulator's cursor endpoints (loaded only by the simulator).

Every endpoint wants the session cookie ``WorkosCursorSessionToken=<user id>%3A%3A<jwt>`` whose
user id is the JWT's ``sub`` (after the ``|``) and whose JWT is the simulator's; anything else is
an HTTP 401. The Grok Bot endpoint is a POST that, like cursor.com's, refuses a request without a
matching ``Origin`` (CSRF). The account is on the Pro plan (cents, auto/API lanes, an on-demand
budget) with a Grok Bot allowance; ``/api/usage`` answers like a token-based plan (no request cap).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import ME_PATH, PROVIDER, REQUESTS_PATH, SAND_PATH, SUMMARY_PATH, appdb

PLAN_CENTS = 2000
ON_DEMAND_CENTS = 10000


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def signed_in(request: Request) -> bool:
        value = unquote(request.cookies.get(appdb.COOKIE_NAME, ""))
        user, _, token = value.partition("::")
        return bool(user) and token == sim.credential(PROVIDER.id, "access_token") and appdb.user_id(token) == user

    def refused() -> Response:
        return JSONResponse({"error": "Not authenticated"}, status_code=401)

    def cycle() -> tuple[float, Any]:
        return sim.window("cursor:default:cycle", 30 * 86400)

    async def summary(request: Request) -> Response:
        if not signed_in(request):
            return refused()
        pct, end = cycle()
        auto, _ = sim.window("cursor:default:auto", 30 * 86400)
        on_demand, _ = sim.window("cursor:default:on-demand", 30 * 86400, high=30)
        used = round(PLAN_CENTS * pct / 100)
        return JSONResponse(
            {
                "billingCycleStart": iso(end - timedelta(days=30)),
                "billingCycleEnd": iso(end),
                "membershipType": "pro",
                "limitType": "user",
                "isUnlimited": False,
                "individualUsage": {
                    "plan": {
                        "enabled": True,
                        "used": used,
                        "limit": PLAN_CENTS,
                        "remaining": PLAN_CENTS - used,
                        "breakdown": {"included": used, "bonus": 0, "total": used},
                        "autoPercentUsed": round(auto * 0.8, 2),
                        "apiPercentUsed": round(pct, 2),
                        "totalPercentUsed": round(pct, 2),
                    },
                    "onDemand": {
                        "enabled": True,
                        "used": round(ON_DEMAND_CENTS * on_demand / 100),
                        "limit": ON_DEMAND_CENTS,
                        "remaining": ON_DEMAND_CENTS - round(ON_DEMAND_CENTS * on_demand / 100),
                    },
                },
            }
        )

    async def me(request: Request) -> Response:
        if not signed_in(request):
            return refused()
        return JSONResponse(
            {"email": "dev@example.test", "email_verified": True, "name": "Dev", "sub": "auth0|user_01SIMCURSOR"}
        )

    async def sand(request: Request) -> Response:
        if not signed_in(request):
            return refused()
        if request.headers.get("origin") != f"{request.url.scheme}://{request.url.netloc}":
            return JSONResponse({"error": "Invalid origin"}, status_code=403)
        pct, reset = sim.window("cursor:default:grok", 604800)
        return JSONResponse(
            {
                "currentPeriodStart": iso(reset - timedelta(days=7)),
                "nextResetTimestampUtc": iso(reset),
                "usagePercent": pct,
                "hasAvailableUsage": pct < 100,
                "hasNonZeroIncludedLimit": True,
            }
        )

    async def legacy(request: Request) -> Response:
        if not signed_in(request):
            return refused()
        if not request.query_params.get("user"):
            return JSONResponse({"error": "user is required"}, status_code=400)
        _, end = cycle()
        return JSONResponse(
            {
                "gpt-4": {"numRequests": 0, "numRequestsTotal": 0, "numTokens": 0, "maxRequestUsage": None},
                "startOfMonth": iso(end - timedelta(days=30)),
            }
        )

    return {
        "url": [
            Route(SUMMARY_PATH, summary),
            Route(ME_PATH, me),
            Route(SAND_PATH, sand, methods=["POST"]),
            Route(REQUESTS_PATH, legacy),
        ]
    }
