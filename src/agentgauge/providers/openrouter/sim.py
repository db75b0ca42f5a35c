"""The simulator's openrouter endpoints: the same protocol as the real service (loaded only by the simulator)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import ACTIVITY_PATH, CREDITS_PATH, KEY_PATH, PROVIDER

MONTHLY_LIMIT = 50.0
PURCHASED = 400.0
MODELS = ("anthropic/claude-sonnet-4.5", "openai/gpt-5.1", "google/gemini-2.5-pro")


def _error(code: int, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=code)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def spend(account: str) -> dict[str, float]:
        """Dollars spent by the key this month, week and day (moving with the simulator's clock)."""
        month_pct, _ = sim.window(f"openrouter:{account}:monthly", 30 * 86400)
        week_pct, _ = sim.window(f"openrouter:{account}:weekly", 7 * 86400, high=40)
        day_pct, _ = sim.window(f"openrouter:{account}:daily", 86400, high=15)
        monthly = round(MONTHLY_LIMIT * month_pct / 100, 6)
        return {
            "monthly": monthly,
            "weekly": round(monthly * week_pct / 100, 6),
            "daily": round(monthly * day_pct / 100, 6),
        }

    def api_account(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "api_key")

    def management_account(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "management_key")

    async def key(request: Request) -> Response:
        account = api_account(request) or management_account(request)
        if account is None:
            return _error(401, "No auth credentials found")
        used = spend(account)
        data: dict[str, Any] = {
            "label": "sk-or-v1-sim...key",
            "limit": MONTHLY_LIMIT,
            "limit_remaining": round(MONTHLY_LIMIT - used["monthly"], 6),
            "limit_reset": "monthly",
            "usage": round(310.25 + used["monthly"], 6),
            "usage_daily": used["daily"],
            "usage_weekly": used["weekly"],
            "usage_monthly": used["monthly"],
            "byok_usage": 0,
            "is_free_tier": False,
            "is_management_key": management_account(request) is not None,
            "is_provisioning_key": False,
            "include_byok_in_limit": False,
            "expires_at": None,
            "rate_limit": {"requests": -1, "interval": "10s", "note": "This field is deprecated and safe to ignore."},
        }
        return JSONResponse({"data": data})

    async def credits(request: Request) -> Response:
        account = api_account(request) or management_account(request)
        if account is None:
            return _error(401, "No auth credentials found")
        total_usage = round(310.25 + spend(account)["monthly"], 6)
        return JSONResponse({"data": {"total_credits": PURCHASED, "total_usage": total_usage}})

    async def activity(request: Request) -> Response:
        account = management_account(request)
        if account is None:
            if api_account(request) is not None:
                return _error(403, "Only management keys can perform this operation")
            return _error(401, "No auth credentials found")
        today = sim.now().date()
        rows = []
        for back in range(1, 31):  # the last 30 completed UTC days
            day = today - timedelta(days=back)
            for index, model in enumerate(MODELS):
                pct = zlib.crc32(f"{account}:{day}:{model}".encode()) % 4000 / 100  # past days stay put
                rows.append(
                    {
                        "date": day.isoformat(),
                        "model": model,
                        "model_permaslug": f"{model}-sim",
                        "endpoint_id": f"endpoint-{index}",
                        "provider_name": model.split("/")[0].capitalize(),
                        "usage": round(pct / 40, 6),
                        "byok_usage_inference": 0,
                        "requests": int(pct),
                        "prompt_tokens": int(pct * 1000),
                        "completion_tokens": int(pct * 200),
                        "reasoning_tokens": int(pct * 20),
                    }
                )
        return JSONResponse({"data": rows})

    return {"url": [Route(KEY_PATH, key), Route(CREDITS_PATH, credits), Route(ACTIVITY_PATH, activity)]}
