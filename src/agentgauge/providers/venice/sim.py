"""The simulator's venice endpoint: the same protocol as the real service (loaded only by the simulator).

Like api.venice.ai, ``/billing/balance`` takes ``Authorization: Bearer <key>`` and only an admin key:
an inference key (``sim-venice-inference-key``), a wrong or a missing one answer HTTP 401. The DIEM
left falls through the UTC day and is whole again at midnight.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import BALANCE_PATH, PROVIDER

ALLOCATION = 25.0
USD = 40.0


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def balance(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse({"error": "Authentication failed"}, status_code=401)
        now = sim.now()
        day = (now.hour * 3600 + now.minute * 60 + now.second) / 86400
        pace = 0.4 + (zlib.crc32(account.encode()) % 50) / 100  # how much of the day's DIEM this account uses
        diem = round(ALLOCATION * (1 - min(day * pace, 1.0)), 4)
        if account == "usd":  # an account paying in dollars, without staked DIEM
            body = {"canConsume": True, "consumptionCurrency": "USD", "balances": {"diem": 0, "usd": USD}}
            return JSONResponse(body | {"diemEpochAllocation": 0})
        body = {
            "canConsume": diem > 0,
            "consumptionCurrency": "DIEM" if diem > 0 else "USD",
            "balances": {"diem": diem, "usd": USD},
            "diemEpochAllocation": ALLOCATION,
        }
        return JSONResponse(body)

    return {"url": [Route(BALANCE_PATH, balance)]}
