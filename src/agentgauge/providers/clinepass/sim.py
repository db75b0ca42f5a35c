"""The simulator's clinepass endpoint (loaded only by the simulator).

Like api.cline.bot, the usage-limits endpoint wants the key as a Bearer token and answers
``{success: true, data: {limits: [...]}}``. Cline's own error body is not documented; a missing
or wrong key gets an HTTP 401 here. The ``team`` demo account has no monthly limit yet
(``resetsAt: null``), as a window that has not started looks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso, unauthorized
from . import LIMITS_PATH, PROVIDER


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def limits(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return unauthorized("invalid API key")
        entries: list[dict[str, Any]] = []
        for kind, seconds in (("five_hour", 18000), ("weekly", 604800), ("monthly", 30 * 86400)):
            pct, reset = sim.window(f"clinepass:{account}:{kind}", seconds)
            not_started = account == "team" and kind == "monthly"
            entries.append(
                {
                    "type": kind,
                    "percentUsed": 0 if not_started else pct,
                    "resetsAt": None if not_started else iso(reset),
                }
            )
        pool, pool_reset = sim.window(f"clinepass:{account}:pool", 18000, high=60)
        entries.insert(1, {"type": "experimental_pool", "percentUsed": pool, "resetsAt": iso(pool_reset)})
        return JSONResponse({"success": True, "data": {"limits": entries}})

    return {"url": [Route(LIMITS_PATH, limits)]}
