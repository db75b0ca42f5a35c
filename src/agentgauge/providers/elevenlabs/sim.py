"""The simulator's elevenlabs endpoint: the same protocol as the real service (loaded only by the simulator).

Like api.elevenlabs.io, ``/v1/user/subscription`` takes the key in ``xi-api-key`` (a Bearer header is
not a key there) and answers HTTP 401 with ``{"detail": {"status": "invalid_api_key", ...}}``; the
demo account ``scoped`` stands for a key without the ``user_read`` permission (``missing_permissions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import PROVIDER, SUBSCRIPTION_PATH

LIMIT = 100_000


def _detail(status: str, message: str) -> Response:
    return JSONResponse({"detail": {"status": status, "message": message}}, status_code=401)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def subscription(request: Request) -> Response:
        account = sim.account_of(PROVIDER.id, "api_key", request.headers.get("xi-api-key"))
        if account is None:
            return _detail("invalid_api_key", "Invalid API key")
        if account == "scoped":
            return _detail(
                "missing_permissions",
                "The API key you used is missing the permission user_read to execute this operation.",
            )
        pct, resets = sim.window(f"elevenlabs:{account}:characters", 30 * 86400)
        return JSONResponse(
            {
                "tier": "creator",
                "character_count": int(LIMIT * pct / 100),
                "character_limit": LIMIT,
                "can_extend_character_limit": True,
                "allowed_to_extend_character_limit": True,
                "next_character_count_reset_unix": int(resets.timestamp()),
                "voice_slots_used": 4,
                "professional_voice_slots_used": 1,
                "voice_limit": 30,
                "professional_voice_limit": 1,
                "can_extend_voice_limit": False,
                "can_use_instant_voice_cloning": True,
                "can_use_professional_voice_cloning": True,
                "current_overage": {"amount": "0", "currency": "usd"},
                "currency": "usd",
                "status": "active",
                "billing_period": "monthly_period",
                "character_refresh_period": "monthly_period",
                "next_invoice": None,
                "has_open_invoices": False,
            }
        )

    return {"url": [Route(SUBSCRIPTION_PATH, subscription)]}
