"""The simulator's warp endpoint: the same protocol as the real service (loaded only by the simulator)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .._parse import obj
from ..simkit import SimContext, iso
from . import GRAPHQL_PATH, OPERATION, PROVIDER

CYCLE = 30 * 86400
LIMIT = 1500


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def graphql(request: Request) -> Response:
        # Warp's edge refuses any User-Agent but its own client's before looking at anything else.
        if not request.headers.get("user-agent", "").startswith("Warp/"):
            return PlainTextResponse("Rate exceeded.", status_code=429)
        try:
            body = obj(orjson.loads(await request.body() or b"{}"))
        except orjson.JSONDecodeError:
            return JSONResponse({"errors": [{"message": "Must provide query string."}]}, status_code=400)
        context = obj(obj(body.get("variables")).get("requestContext"))
        if OPERATION not in str(body.get("query") or "") or not obj(context.get("osContext")):
            message = 'Variable "$requestContext" of required type "RequestContext!" was not provided.'
            return JSONResponse({"errors": [{"message": message}]}, status_code=400)
        if not request.headers.get("authorization"):
            return JSONResponse({"errors": [{"message": "Unauthorized"}]})
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse({"data": {"user": {"__typename": "AuthError"}}})
        pct, refresh = sim.window(f"warp:{account}:credits", CYCLE)
        info: dict[str, Any] = {
            "isUnlimited": account == "unlimited",
            "nextRefreshTime": iso(refresh),
            "requestLimit": LIMIT,
            "requestsUsedSinceLastRefresh": round(LIMIT * pct / 100),
        }
        bonus_left = max(0, 20 - round(pct / 5))
        user = {
            "requestLimitInfo": info,
            "bonusGrants": [
                {"requestCreditsGranted": 20, "requestCreditsRemaining": bonus_left, "expiration": iso(refresh)}
            ],
            "workspaces": [
                {
                    "bonusGrantsInfo": {
                        "grants": [
                            {
                                "requestCreditsGranted": "100",  # Warp sends some of these as strings
                                "requestCreditsRemaining": "60",
                                "expiration": iso(refresh + timedelta(days=60)),
                            }
                        ]
                    }
                }
            ],
        }
        return JSONResponse({"data": {"user": {"__typename": "UserOutput", "user": user}}})

    return {"url": [Route(GRAPHQL_PATH, graphql, methods=["POST"])]}
