"""The simulator's grok endpoints: the same protocol as the Grok CLI's billing API (loaded only by the simulator).

Like cli-chat-proxy.grok.com, both endpoints take the login token as ``Authorization: Bearer`` with
``x-xai-token-auth: xai-grok-cli``; without either the answer is HTTP 401. The billing answer needs
``format=credits``. Demo accounts: ``heavy`` (a period without a percentage, as SuperGrok Heavy
answers) and ``ondemand`` (on-demand spending switched on).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import BILLING_PATH, PROVIDER, SETTINGS_PATH, TOKEN_AUTH

WEEK = 7 * 86400


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def login(request: Request) -> str | None:
        if request.headers.get("x-xai-token-auth") != TOKEN_AUTH:
            return None
        return sim.bearer_account(request, PROVIDER.id, "api_key")

    def refused() -> Response:
        return JSONResponse({"error": "unauthorized"}, status_code=401)

    async def billing(request: Request) -> Response:
        account = login(request)
        if account is None:
            return refused()
        if request.query_params.get("format") != "credits":
            return JSONResponse({"error": "unsupported format"}, status_code=400)
        pct, resets = sim.window(f"grok:{account}:credits", WEEK, high=85)
        period = {
            "type": "USAGE_PERIOD_TYPE_WEEKLY",
            "start": iso(resets - timedelta(seconds=WEEK)),
            "end": iso(resets),
        }
        config: dict[str, Any] = {
            "currentPeriod": period,
            "billingPeriodEnd": iso(resets + timedelta(days=21)),
            "onDemandCap": {"val": 0},
            "onDemandUsed": {"val": 0},
        }
        if account != "heavy":
            build = round(pct * 0.7, 2)
            config["creditUsagePercent"] = pct
            config["productUsage"] = [
                {"product": "GrokBuild", "usagePercent": build},
                {"product": "GrokChat", "usagePercent": round(pct - build, 2)},
            ]
        if account == "ondemand":
            spent, _ = sim.window(f"grok:{account}:ondemand", 30 * 86400)
            config["onDemandCap"] = {"val": 5000}
            config["onDemandUsed"] = {"val": round(5000 * spent / 100)}
        tier = "SuperGrok Heavy" if account == "heavy" else "SuperGrok"
        return JSONResponse({"config": config, "subscriptionTier": tier})

    async def settings(request: Request) -> Response:
        account = login(request)
        if account is None:
            return refused()
        display = "SuperGrok Heavy" if account == "heavy" else "SuperGrok"
        return JSONResponse(
            {"subscription_tier_display": display, "subscription_tier": display.upper().replace(" ", "_")}
        )

    return {"url": [Route(BILLING_PATH, billing), Route(SETTINGS_PATH, settings)]}
