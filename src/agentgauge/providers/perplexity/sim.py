"""The simulator's perplexity endpoint: the same protocol as www.perplexity.ai (loaded only by the simulator).

``/rest/billing/credits`` needs ``version`` and ``source`` and the session cookie under any of the
NextAuth / Auth.js names, whole or chunked (``<name>.0``, ``<name>.1``... joined in order); without
it the answer is HTTP 401. The demo account ``topped`` has purchased and bonus credits too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import CREDITS_PATH, PROVIDER, SESSION_COOKIES

RECURRING = 5000  # cents


def session_value(cookies: Mapping[str, str]) -> str | None:
    for name in SESSION_COOKIES:
        if name in cookies:
            return cookies[name]
        chunks: list[str] = []
        while f"{name}.{len(chunks)}" in cookies:
            chunks.append(cookies[f"{name}.{len(chunks)}"])
        if chunks:
            return "".join(chunks)
    return None


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def credits(request: Request) -> Response:
        account = sim.account_of(PROVIDER.id, "cookie", session_value(request.cookies))
        if account is None:
            return JSONResponse({"detail": "Unauthorized"}, status_code=401)
        if "version" not in request.query_params or "source" not in request.query_params:
            return JSONResponse({"detail": "version and source are required"}, status_code=422)
        pct, renews = sim.window(f"perplexity:{account}:credits", 30 * 86400, high=95)
        used = int(RECURRING * pct / 100)
        grants: list[dict[str, Any]] = [
            {"type": "recurring", "amount_cents": RECURRING, "expires_at_ts": int(renews.timestamp())}
        ]
        purchased = 0
        if account == "topped":
            purchased = 2000
            expiry = int((sim.now() + timedelta(days=20)).timestamp())
            grants.append({"type": "promotional", "amount_cents": 1000, "expires_at_ts": expiry})
            used += RECURRING  # past the monthly credits, into the purchased ones
        total = RECURRING + purchased + (1000 if account == "topped" else 0)
        return JSONResponse(
            {
                "balance_cents": total - used,
                "renewal_date_ts": int(renews.timestamp()),
                "current_period_purchased_cents": purchased,
                "credit_grants": grants,
                "total_usage_cents": used,
            }
        )

    return {"url": [Route(CREDITS_PATH, credits)]}
