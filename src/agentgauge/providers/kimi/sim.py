"""The simulator's kimi endpoints: the same protocol as the real service (loaded only by the simulator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._parse import obj
from ..simkit import SimContext
from . import (
    CODE_USAGES_PATH,
    CODING_SCOPE,
    PROVIDER,
    STATS_PATH,
    SUBSCRIPTION_PATH,
    USAGES_PATH,
    WEEK,
    _nano_iso,
)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def meters(account: str) -> dict[str, Any]:
        """Weekly quota and 5h limit of one account, numbers as strings like upstream."""
        weekly_pct, weekly_reset = sim.window(f"kimi:{account}:weekly", WEEK)
        session_pct, session_reset = sim.window(f"kimi:{account}:session", 18000)
        weekly_used, session_used = round(2048 * weekly_pct / 100), round(200 * session_pct / 100)
        return {
            "detail": {
                "limit": "2048",
                "used": str(weekly_used),
                "remaining": str(2048 - weekly_used),
                "resetTime": _nano_iso(weekly_reset),
            },
            "limits": [
                {
                    "window": {"duration": 300, "timeUnit": "TIME_UNIT_MINUTE"},
                    "detail": {
                        "limit": "200",
                        "used": str(session_used),
                        "remaining": str(200 - session_used),
                        "resetTime": _nano_iso(session_reset),
                    },
                }
            ],
            "ratios": (session_used / 200, session_reset, weekly_used / 2048, weekly_reset),
        }

    async def code_usages(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse({"error": {"type": "unauthorized", "message": "invalid api key"}}, status_code=401)
        m = meters(account)
        # The Code API names the membership tier; 2,048 requests a week is the Moderato tier.
        user = {"userId": f"sim-user-{account}", "membership": {"level": "LEVEL_BASIC"}}
        return JSONResponse({"usage": m["detail"], "limits": m["limits"], "user": user})

    def connect_error(code: str, message: str, status: int) -> Response:
        return JSONResponse({"code": code, "message": message}, status_code=status)

    def web_account(request: Request) -> str | Response:
        """The account of a gateway call, or the ConnectRPC error upstream would send."""
        if request.headers.get("connect-protocol-version") != "1":
            return connect_error("invalid_argument", "missing connect-protocol-version header", 400)
        account = sim.bearer_account(request, PROVIDER.id, "auth_token") or sim.cookie_account(
            request, PROVIDER.id, "auth_token", "kimi-auth"
        )
        return account or connect_error("unauthenticated", "token is invalid or expired", 401)

    async def get_usages(request: Request) -> Response:
        account = web_account(request)
        if isinstance(account, Response):
            return account
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return connect_error("invalid_argument", "request body is not JSON", 400)
        scope = obj(body).get("scope")
        if not isinstance(scope, list):
            return connect_error("invalid_argument", "scope must be a list", 400)
        m = meters(account)
        usages = (
            [{"scope": CODING_SCOPE, "detail": m["detail"], "limits": m["limits"]}] if CODING_SCOPE in scope else []
        )
        return JSONResponse({"usages": usages})

    async def get_subscription(request: Request) -> Response:
        account = web_account(request)
        if isinstance(account, Response):
            return account
        return JSONResponse(
            {
                "subscription": {
                    "id": "sim-subscription",
                    "status": "ACTIVE",
                    "goods": {"id": "sim-goods", "title": "Moderato"},
                }
            }
        )

    async def get_stats(request: Request) -> Response:
        account = web_account(request)
        if isinstance(account, Response):
            return account
        session_ratio, session_reset, weekly_ratio, weekly_reset = meters(account)["ratios"]
        return JSONResponse(
            {
                "ratelimitCode5h": {
                    "ratio": round(session_ratio, 4),
                    "enabled": True,
                    "resetTime": _nano_iso(session_reset),
                },
                "ratelimitCode7d": {
                    "ratio": round(weekly_ratio, 4),
                    "enabled": True,
                    "resetTime": _nano_iso(weekly_reset),
                },
            }
        )

    return {
        "api_url": [Route(CODE_USAGES_PATH, code_usages)],
        "web_url": [
            Route(USAGES_PATH, get_usages, methods=["POST"]),
            Route(SUBSCRIPTION_PATH, get_subscription, methods=["POST"]),
            Route(STATS_PATH, get_stats, methods=["POST"]),
        ],
    }
