"""The simulator's t3chat endpoint (loaded only by the simulator).

``GET /api/trpc/getCustomerData?batch=1&input=...`` checks the batch query (a JSON input for
call ``0``) and the session cookie (``t3_session``: the real cookie name is not known, so the
simulator picks one), then answers one JSON line in the shape of a recorded answer:
``{"json": [2, 0, [[{customer}]]]}``. What makes Vercel's edge challenge a request is not known,
so the simulator never does; tests inject that answer (HTTP 429, ``x-vercel-mitigated: challenge``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, unauthorized
from . import PROVIDER, TRPC_PATH


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def customer(request: Request) -> Response:
        if request.query_params.get("batch") != "1":
            return JSONResponse({"error": {"message": "batch=1 is required"}}, status_code=400)
        try:
            batch = orjson.loads(request.query_params.get("input", ""))
        except orjson.JSONDecodeError:
            return JSONResponse({"error": {"message": "input is not JSON"}}, status_code=400)
        if not isinstance(batch, dict) or "0" not in batch:
            return JSONResponse({"error": {"message": "input has no call 0"}}, status_code=400)
        presented = request.cookies.get("t3_session")
        account = sim.account_of(PROVIDER.id, "cookie", f"t3_session={presented}") if presented else None
        if account is None:
            return unauthorized("UNAUTHORIZED")
        base, base_reset = sim.window(f"t3chat:{account}:base", 14400)
        month, month_reset = sim.window(f"t3chat:{account}:month", 30 * 86400, high=40)
        data = {
            "subTier": "pro",
            "usageBand": "standard",
            "usageFourHourPercentage": base,
            "usageFourHourNextResetAt": int(base_reset.timestamp() * 1000),
            "usageMonthPercentage": month,
            "billingNextResetAt": int(base_reset.timestamp() * 1000),
            "subscription": {
                "productName": "pro-monthly",
                "status": "active",
                "currentPeriodStart": int((month_reset - timedelta(days=30)).timestamp()),
                "currentPeriodEnd": int(month_reset.timestamp()),
            },
        }
        line = orjson.dumps({"json": [2, 0, [[data]]]}) + b"\n"
        return Response(line, media_type="application/jsonl")

    return {"url": [Route(TRPC_PATH, customer)]}
