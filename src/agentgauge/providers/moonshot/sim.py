"""The simulator's moonshot endpoint: the same protocol as the real service (loaded only by the simulator).

Like api.moonshot.ai, the balance takes ``Authorization: Bearer <key>`` and answers a missing or
wrong key with HTTP 401 and an OpenAI-style ``{"error": {"message", "type"}}`` body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import BALANCE_PATH, PROVIDER

TOPPED_UP = 50.0
VOUCHERS = 20.0


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def balance(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            error = {"message": "Invalid Authentication", "type": "invalid_authentication_error"}
            return JSONResponse({"error": error}, status_code=401)
        pct, _ = sim.window(f"moonshot:{account}:spend", 30 * 86400)
        spent = round((TOPPED_UP + VOUCHERS) * pct / 100, 5)
        vouchers = round(max(VOUCHERS - spent, 0.0), 5)  # vouchers are spent first
        cash = round(TOPPED_UP - max(spent - VOUCHERS, 0.0), 5)
        if account == "owing":  # an account in debt: cash below zero, available = vouchers
            cash, vouchers = -3.25, 5.0
        available = round(vouchers + max(cash, 0.0), 5)
        data = {"available_balance": available, "voucher_balance": vouchers, "cash_balance": cash}
        return JSONResponse({"code": 0, "data": data, "scode": "0x0", "status": True})

    return {"url": [Route(BALANCE_PATH, balance)]}
