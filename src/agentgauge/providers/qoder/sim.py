"""The simulator's qoder endpoint (loaded only by the simulator).

``GET /api/v2/me/usages/big_model_credits`` answers the session cookie the simulator knows
(``qoder_session``: the real site's session cookie name is not known, so the simulator picks one)
with the credit summary; anything else is an HTTP 401 (Qoder's own error body is not known). The
``team`` demo account also has a shared team pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso, unauthorized
from . import PROVIDER, USAGE_PATH

MONTH = 30 * 86400


def _summary(limit: int, pct: float) -> dict[str, Any]:
    used = round(limit * pct / 100)
    return {
        "usedValue": used,
        "limitValue": limit,
        "remainingValue": limit - used,
        "usagePercentage": round(used / limit * 100, 2),
        "unit": "credit",
    }


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def credits(request: Request) -> Response:
        presented = request.cookies.get("qoder_session")
        account = sim.account_of(PROVIDER.id, "cookie", f"qoder_session={presented}") if presented else None
        if account is None:
            return unauthorized("not signed in")
        pct, reset = sim.window(f"qoder:{account}:credits", MONTH)
        body: dict[str, Any] = {
            "userId": f"user-{account}",
            "quotaKey": "big_model_credits",
            "nextResetAt": iso(reset),
            "status": "active",
            "totalQuota": {"quotaSummary": _summary(2000, pct), "quotaDetail": []},
        }
        if account == "team":
            shared, _ = sim.window(f"qoder:{account}:shared", MONTH, high=60)
            body["sharedQuota"] = {"quotaSummary": _summary(10000, shared), "quotaDetail": []}
        return JSONResponse(body)

    return {"url": [Route(USAGE_PATH, credits)]}
