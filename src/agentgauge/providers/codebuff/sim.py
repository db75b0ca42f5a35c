"""The simulator's codebuff endpoints (loaded only by the simulator).

``POST /api/v1/usage`` takes either token as a Bearer and wants a JSON body with a
``fingerprintId`` string, as the codebuff CLI sends; ``GET /api/user/subscription`` answers only
the CLI's session token (Codebuff documents API keys as reading the credit balance only). The
``topup`` demo account has bought credits beyond its quota.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso, unauthorized
from . import PROVIDER, SUBSCRIPTION_PATH, USAGE_PATH

QUOTA = 5000
WEEKLY_LIMIT = 7000


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> tuple[str | None, bool]:
        for name in ("cli_token", "api_key"):
            account = sim.bearer_account(request, PROVIDER.id, name)
            if account:
                return account, name == "cli_token"
        return None, False

    async def usage(request: Request) -> Response:
        account, _ = account_of(request)
        if account is None:
            return unauthorized("Unauthorized")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return JSONResponse({"error": "Invalid JSON body"}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("fingerprintId"), str):
            return JSONResponse({"error": "fingerprintId is required"}, status_code=400)
        pct, reset = sim.window(f"codebuff:{account}:credits", 30 * 86400)
        used = round(QUOTA * pct / 100)
        extra = 2500 if account == "topup" else 0
        return JSONResponse(
            {
                "usage": used,
                "quota": QUOTA,
                "remainingBalance": QUOTA - used + extra,
                "autoTopupEnabled": account == "topup",
                "next_quota_reset": iso(reset),
            }
        )

    async def subscription(request: Request) -> Response:
        account, session = account_of(request)
        if account is None:
            return unauthorized("Unauthorized")
        if not session:
            return JSONResponse({"error": "Forbidden"}, status_code=403)
        pct, reset = sim.window(f"codebuff:{account}:weekly", 604800)
        return JSONResponse(
            {
                "hasSubscription": True,
                "subscription": {
                    "status": "active",
                    "tier": "pro",
                    "billingPeriodEnd": iso(reset + timedelta(days=14)),
                },
                "rateLimit": {
                    "weeklyUsed": round(WEEKLY_LIMIT * pct / 100),
                    "weeklyLimit": WEEKLY_LIMIT,
                    "weeklyResetsAt": iso(reset),
                },
                "email": "dev@example.test",
            }
        )

    return {"url": [Route(USAGE_PATH, usage, methods=["POST"]), Route(SUBSCRIPTION_PATH, subscription)]}
