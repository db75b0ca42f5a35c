"""The simulator's factory endpoints: Factory's API and WorkOS's token refresh (loaded only by the
simulator).

A request is authenticated by ``Authorization: Bearer`` (the API key or the WorkOS access token)
or by a session cookie. The ``default`` account is on token-rate-limits billing; a ``legacy``
account (``…#legacy`` credentials) has Standard/Premium allowances, so ``/api/billing/limits``
says ``usesTokenRateLimitsBilling: false`` and the usage endpoint carries the figures. WorkOS
answers a refresh with a rotated refresh token (``<token>#<account>``) and checks the client id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import LIMITS_PATH, ME_PATH, PROVIDER, SESSION_COOKIES, USAGE_PATH
from .workos import CLIENT_IDS, PATH


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        for name in ("api_key", "bearer_token"):
            found = sim.bearer_account(request, PROVIDER.id, name)
            if found:
                return found
        if request.headers.get("authorization"):
            return None  # a stale or foreign Bearer is refused even beside a good session cookie
        # The simulator's cookie credential is ``wos-session=<value>``; any session cookie may carry the value.
        for cookie in SESSION_COOKIES:
            presented = request.cookies.get(cookie)
            found = sim.account_of(PROVIDER.id, "cookie", f"wos-session={presented}") if presented else None
            if found:
                return found
        return None

    def unauthorized() -> Response:
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)

    async def me(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthorized()
        tier, plan = ("team", "Team") if account != "legacy" else ("enterprise", "Enterprise")
        return JSONResponse(
            {
                "organization": {
                    "id": f"org_{account}",
                    "name": "Acme",
                    "subscription": {
                        "factoryTier": tier,
                        "orbSubscription": {"plan": {"name": plan, "id": "plan_1"}, "status": "active"},
                    },
                },
                "userProfile": {"id": f"user-{account}", "email": "dev@example.test"},
                "featureFlags": {"flags": {"tokenRateLimits": account != "legacy"}},
            }
        )

    def billing_window(key: str, seconds: int) -> dict[str, Any]:
        pct, reset = sim.window(key, seconds)
        return {"usedPercent": pct, "secondsRemaining": int((reset - sim.now()).total_seconds())}

    async def limits(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthorized()
        if account == "legacy":
            return JSONResponse({"usesTokenRateLimitsBilling": False, "limits": None, "extraUsageBalanceCents": 0})
        key = f"factory:{account}"
        return JSONResponse(
            {
                "usesTokenRateLimitsBilling": True,
                "limits": {
                    "standard": {
                        "fiveHour": billing_window(f"{key}:5h", 18000),
                        "weekly": billing_window(f"{key}:weekly", 604800),
                        "monthly": billing_window(f"{key}:monthly", 30 * 86400),
                    }
                },
                "extraUsageBalanceCents": 1250,
                "overagePreference": None,
                "extraUsageAllowed": True,
                "tokenRateLimitsRolloutEligible": True,
            }
        )

    async def usage(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthorized()
        if request.query_params.get("useCache") != "true":
            return JSONResponse({"detail": "useCache is required"}, status_code=422)
        standard, end = sim.window(f"factory:{account}:standard", 30 * 86400)
        premium, _ = sim.window(f"factory:{account}:premium", 30 * 86400, high=60)
        start = end - timedelta(days=30)

        def tier(pct: float, allowance: int) -> dict[str, Any]:
            used = round(allowance * pct / 100)
            return {
                "userTokens": used,
                "orgTotalTokensUsed": used * 3,
                "totalAllowance": allowance,
                "usedRatio": round(used / allowance, 4),
            }

        return JSONResponse(
            {
                "usage": {
                    "startDate": int(start.timestamp() * 1000),
                    "endDate": int(end.timestamp() * 1000),
                    "standard": tier(standard, 20_000_000),
                    "premium": tier(premium, 2_000_000),
                },
                "userId": request.query_params.get("userId"),
            }
        )

    async def authenticate(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Body must be JSON."}, status_code=400
            )
        body = body if isinstance(body, dict) else {}
        if body.get("client_id") not in CLIENT_IDS:
            return JSONResponse({"error": "invalid_client", "error_description": "Invalid client ID."}, status_code=400)
        if body.get("grant_type") != "refresh_token" or not body.get("refresh_token"):
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Missing refresh token."}, status_code=400
            )
        account = sim.account_of(PROVIDER.id, "refresh_token", str(body["refresh_token"]))
        if account is None:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "Refresh token is invalid."}, status_code=400
            )
        access = sim.credential(PROVIDER.id, "bearer_token")
        refresh = sim.credential(PROVIDER.id, "refresh_token")
        return JSONResponse(
            {
                "access_token": access if account == "default" else f"{access}#{account}",
                "refresh_token": f"{refresh}#{account}",
                "user": {"id": f"user-{account}", "email": "dev@example.test"},
                "organization_id": f"org_{account}",
            }
        )

    return {
        "url": [Route(ME_PATH, me), Route(LIMITS_PATH, limits), Route(USAGE_PATH, usage)],
        "workos_url": [Route(PATH, authenticate, methods=["POST"])],
    }
