"""The simulator's chutes endpoints, as api.chutes.ai answers them (loaded only by the simulator).

Like Chutes, the key is the last word of ``Authorization`` (``Bearer`` optional); a missing or unknown
key is FastAPI's HTTP 401 ``{"detail": ...}``. The daily quota counts requests per day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import ME_PATH, PROVIDER, QUOTAS_PATH, SUBSCRIPTION_PATH

MONTHLY_CAP = 100.0
FOUR_HOUR_CAP = round(MONTHLY_CAP / 12, 6)
DAILY_REQUESTS = 5000


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        header = request.headers.get("authorization", "").strip()
        return sim.account_of(PROVIDER.id, "api_key", header.split(" ")[-1] if header else None)

    def rejected() -> Response:
        return JSONResponse({"detail": "Can't find a user with that api key in our db :("}, status_code=401)

    async def subscription_usage(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return rejected()
        four_pct, four_reset = sim.window(f"chutes:{account}:four_hour", 14400)
        month_pct, month_reset = sim.window(f"chutes:{account}:monthly", 30 * 86400, high=80)
        four_used = round(FOUR_HOUR_CAP * four_pct / 100, 6)
        month_used = round(MONTHLY_CAP * month_pct / 100, 6)
        return JSONResponse(
            {
                "subscription": True,
                "custom": False,
                "monthly_price": 20,
                "four_hour": {
                    "usage": four_used,
                    "cap": FOUR_HOUR_CAP,
                    "remaining": round(FOUR_HOUR_CAP - four_used, 6),
                    "reset_at": iso(four_reset),
                },
                "monthly": {
                    "usage": month_used,
                    "cap": MONTHLY_CAP,
                    "remaining": round(MONTHLY_CAP - month_used, 6),
                    "reset_at": iso(month_reset),
                },
            }
        )

    async def quotas(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return rejected()
        rows = [{"is_default": True, "chute_id": "*", "quota": DAILY_REQUESTS, "updated_at": iso(sim.now())}]
        if account == "multi":  # an account with a quota of its own for one chute
            rows.append({"is_default": False, "chute_id": "my-chute", "quota": 250, "updated_at": iso(sim.now())})
        return JSONResponse(rows)

    async def quota_usage(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return rejected()
        chute = request.path_params["chute_id"]
        quota = DAILY_REQUESTS if chute == "*" else 250 if (account, chute) == ("multi", "my-chute") else 0
        pct, _ = sim.window(f"chutes:{account}:daily:{chute}", 86400, high=50)
        return JSONResponse({"quota": quota, "used": float(round(quota * pct / 100))})

    async def me(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return rejected()
        return JSONResponse(
            {
                "username": f"sim-{account}",
                "user_id": "00000000-0000-4000-8000-000000000000",
                "logo_id": None,
                "created_at": "2026-01-02T03:04:05Z",
                "hotkey": "5SimHotkey",
                "coldkey": "5SimColdkey",
                "payment_address": "5SimPayment",
                "permissions_bitmask": 0,
                "balance": 12.345678,
            }
        )

    return {
        "url": [
            Route(SUBSCRIPTION_PATH, subscription_usage),
            Route(QUOTAS_PATH, quotas),
            Route("/users/me/quota_usage/{chute_id:path}", quota_usage),
            Route(ME_PATH, me),
        ]
    }
