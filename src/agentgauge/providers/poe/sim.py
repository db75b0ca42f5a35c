"""The simulator's poe endpoints: the same protocol as the real service (loaded only by the simulator).

Like api.poe.com, both endpoints take ``Authorization: Bearer <key>`` (a bad key is HTTP 401 with an
``authentication_error``). The history is newest first, ``limit`` 1-100 (default 20) and
``starting_after`` a ``query_id``; it holds 30 days, one query every two hours.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import BALANCE_PATH, HISTORY_PATH, PROVIDER

STEP = 7200
DAYS = 30
BOTS = ("Claude-Sonnet-4.5", "GPT-5", "Gemini-2.5-Pro")
TYPES = ("API", "Chat", "Canvas App")
PLAN_POINTS = 1_000_000


def _error(status: int, kind: str, message: str) -> Response:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def entries(account: str) -> list[dict[str, Any]]:
        newest = int(sim.now().timestamp()) // STEP * STEP
        out = []
        for k in range(DAYS * 86400 // STEP):
            at = newest - k * STEP
            seed = zlib.crc32(f"{account}:{at}".encode())
            out.append(
                {
                    "creation_time": at * 1_000_000,  # microseconds, as Poe's reference says
                    "bot_name": BOTS[seed % len(BOTS)],
                    "query_id": f"q{at}",
                    "usage_type": TYPES[(seed >> 8) % len(TYPES)],
                    "cost_points": 20 + seed % 400,
                }
            )
        return out

    def account_of(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "api_key")

    async def balance(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return _error(401, "authentication_error", "Invalid API key")
        pct, _ = sim.window(f"poe:{account}:points", 30 * 86400)
        return JSONResponse({"current_point_balance": int(PLAN_POINTS * (1 - pct / 100))})

    async def history(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return _error(401, "authentication_error", "Invalid API key")
        try:
            limit = int(request.query_params.get("limit", "20"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            return _error(400, "invalid_request_error", "limit must be between 1 and 100")
        rows = entries(account)
        after = request.query_params.get("starting_after")
        if after:
            index = next((i for i, row in enumerate(rows) if row["query_id"] == after), None)
            if index is None:
                return _error(400, "invalid_request_error", "unknown starting_after cursor")
            rows = rows[index + 1 :]
        page = rows[:limit]
        return JSONResponse({"has_more": len(rows) > limit, "length": len(page), "data": page})

    return {"url": [Route(BALANCE_PATH, balance), Route(HISTORY_PATH, history)]}
