"""The simulator's kimik2 endpoint: the same protocol as the real service (loaded only by the simulator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import CREDITS_PATH, PROVIDER

GRANTED = 10000


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def credits(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        pct, _ = sim.window(f"kimik2:{account}:credits", 30 * 86400)
        consumed = round(GRANTED * pct / 100)
        remaining = GRANTED - consumed
        headers = {"X-Credits-Remaining": str(remaining)}
        if account == "header":  # some answers carry the remaining credits only in the header
            return JSONResponse({"total_credits_consumed": consumed}, headers=headers)
        body = {
            "data": {
                "usage": {
                    "total": consumed,
                    "credits_remaining": remaining,
                    "average_tokens": 1830,
                    "updated_at": iso(sim.now()),
                }
            }
        }
        return JSONResponse(body, headers=headers)

    return {"url": [Route(CREDITS_PATH, credits)]}
