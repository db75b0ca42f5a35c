"""The simulator's copilot endpoint: ``GET /copilot_internal/user`` as api.github.com answers it
(loaded only by the simulator).

GitHub takes the token as ``Authorization: token <t>`` or ``Bearer <t>``, rejects a request
without a ``User-Agent`` (HTTP 403, as its REST API documents) and a bad token with HTTP 401
``{"message": "Bad credentials"}``. Demo accounts: ``default`` is a paid seat (premium requests
metered, chat and completions unlimited), ``free`` has the free plan's three quotas, ``business``
is a seat billed by tokens (placeholder snapshots, one with a ``credits_used`` counter).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import PROVIDER, USER_PATH

MONTH = 30 * 86400


def _first_of_next_month(now: datetime) -> str:
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return f"{year:04d}-{month:02d}-01"


def _metered(entitlement: int, pct: float, quota_id: str) -> dict[str, Any]:
    remaining = round(entitlement * (100 - pct) / 100, 1)
    return {
        "entitlement": entitlement,
        "remaining": remaining,
        "percent_remaining": round(100 - pct, 1),
        "overage_count": 0,
        "overage_permitted": False,
        "unlimited": False,
        "quota_id": quota_id,
    }


def _unlimited(quota_id: str) -> dict[str, Any]:
    return {"entitlement": 0, "remaining": 0, "percent_remaining": 100, "unlimited": True, "quota_id": quota_id}


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def token_of(request: Request) -> str | None:
        scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
        return value.strip() if scheme.lower() in ("token", "bearer") else None

    async def user(request: Request) -> Response:
        if not request.headers.get("user-agent"):
            return JSONResponse({"message": "Request forbidden by administrative rules."}, status_code=403)
        account = sim.account_of(PROVIDER.id, "api_key", token_of(request))
        if account is None:
            return JSONResponse(
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"},
                status_code=401,
            )
        now = sim.now()
        premium, _ = sim.window(f"copilot:{account}:premium", MONTH)
        body: dict[str, Any] = {
            "login": "octocat",
            "access_type_sku": "plus_monthly_subscriber_quota",
            "analytics_tracking_id": "0123456789abcdef",
            "assigned_date": "2025-06-01T00:00:00-07:00",
            "chat_enabled": True,
            "copilot_plan": "individual",
            "quota_reset_date": _first_of_next_month(now),
            "quota_snapshots": {
                "premium_interactions": _metered(300, premium, "premium_interactions"),
                "chat": _unlimited("chat"),
                "completions": _unlimited("completions"),
            },
        }
        if account == "free":
            chat, _ = sim.window(f"copilot:{account}:chat", MONTH)
            completions, _ = sim.window(f"copilot:{account}:completions", MONTH, high=40)
            body["copilot_plan"] = "free"
            body["quota_snapshots"] = {
                "premium_interactions": _metered(50, premium, "premium_interactions"),
                "chat": _metered(50, chat, "chat"),
                "completions": _metered(2000, completions, "completions"),
            }
        elif account == "business":
            placeholder = {"entitlement": 0, "remaining": 0, "percent_remaining": 100}
            body["copilot_plan"] = "business"
            body["token_based_billing"] = True
            body["quota_snapshots"] = {
                "premium_interactions": {
                    **placeholder,
                    "quota_id": "premium_interactions",
                    "credits_used": round(premium * 12.5, 2),
                },
                "chat": {**placeholder, "quota_id": "chat"},
            }
        return JSONResponse(body)

    return {"url": [Route(USER_PATH, user)]}
