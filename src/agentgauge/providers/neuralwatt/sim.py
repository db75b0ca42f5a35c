"""The simulator's neuralwatt endpoint: ``GET /v1/quota`` as api.neuralwatt.com answers it (loaded only by
the simulator). A missing or wrong key is an HTTP 401."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import PROVIDER

KWH_INCLUDED = 20.0
TOPPED_UP = 52.34
KEY_LIMIT = 50.0
PERIOD = 30 * 86400


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def quota(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        energy_pct, period_end = sim.window(f"neuralwatt:{account}:energy", PERIOD)
        spent_pct, _ = sim.window(f"neuralwatt:{account}:prepaid", 90 * 86400, high=70)
        key_pct, _ = sim.window(f"neuralwatt:{account}:key", PERIOD, high=60)
        kwh_used = round(KWH_INCLUDED * energy_pct / 100, 4)
        used_usd = round(TOPPED_UP * spent_pct / 100, 4)
        key_spent = round(KEY_LIMIT * key_pct / 100, 2)
        body = {
            "snapshot_at": iso(sim.now()),
            "balance": {
                "credits_remaining_usd": round(TOPPED_UP - used_usd, 4),
                "total_credits_usd": TOPPED_UP,
                "credits_used_usd": used_usd,
                "accounting_method": "energy",
            },
            "usage": {
                "lifetime": {"cost_usd": 243.9145, "requests": 37801, "tokens": 1235477176, "energy_kwh": 15.6},
                "current_month": {
                    "cost_usd": round(used_usd * 2, 4),
                    "requests": 2390,
                    "tokens": 111665899,
                    "energy_kwh": kwh_used,
                },
            },
            "limits": {"overage_limit_usd": None, "rate_limit_tier": "standard"},
            "subscription": {
                "plan": "standard",
                "status": "active",
                "billing_interval": "month",
                "current_period_start": iso(period_end - timedelta(seconds=PERIOD)),
                "current_period_end": iso(period_end),
                "auto_renew": True,
                "kwh_included": KWH_INCLUDED,
                "kwh_used": kwh_used,
                "kwh_remaining": round(KWH_INCLUDED - kwh_used, 4),
                "in_overage": False,
            },
            "key": {
                "name": "agentgauge-demo",
                "allowance": {
                    "limit_usd": KEY_LIMIT,
                    "period": "monthly",
                    "spent_usd": key_spent,
                    "remaining_usd": round(KEY_LIMIT - key_spent, 2),
                    "blocked": False,
                },
            },
        }
        return JSONResponse(body)

    return {"url": [Route("/v1/quota", quota)]}
