"""The simulator's zai endpoints: the same protocol as the real service (loaded only by the simulator).

Like api.z.ai, the quota endpoint takes the key in ``Authorization`` with or without ``Bearer``,
or an HS256 JWT built from an ``id.secret`` key (header ``{alg: HS256, sign_type: SIGN}``, payload
``{api_key: id, exp, timestamp}`` in epoch milliseconds, signed with the secret), which is what
z.ai's SDKs send. A missing credential is an HTTP 401; a wrong key or a bad or expired token is an
HTTP 200 envelope with ``code: 401`` and ``success: false``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import PROVIDER, QUOTA_PATH, SUBSCRIPTIONS_PATH


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jwt_account(sim: SimContext, token: str) -> str | None:
    """The demo account of an HS256 JWT signed with the simulator key's secret, or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, payload = json.loads(_b64(parts[0])), json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(payload, dict) or header.get("alg") != "HS256":
        return None
    key_id, _, secret = sim.credential(PROVIDER.id, "api_key").partition(".")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        return None
    exp = payload.get("exp")
    if not isinstance(exp, int | float) or exp <= sim.now().timestamp() * 1000:
        return None  # z.ai's exp is in milliseconds; a seconds value has long expired
    presented = payload.get("api_key")
    if not isinstance(presented, str) or not (presented == key_id or presented.startswith(key_id + "#")):
        return None
    # ``<id>#<account>`` selects a demo account, as ``<key>#<account>`` does for a raw key.
    return sim.account_of(PROVIDER.id, "api_key", f"{key_id}.{secret}{presented[len(key_id) :]}")


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def rejected(message: str) -> Response:
        return JSONResponse({"code": 401, "msg": message, "success": False})

    async def quota(request: Request) -> Response:
        header = request.headers.get("authorization", "").strip()
        if not header:
            return JSONResponse({"code": 1001, "msg": "Authorization Token Missing", "success": False}, status_code=401)
        token = header[7:].strip() if header.lower().startswith("bearer ") else header
        account = sim.account_of(PROVIDER.id, "api_key", token) or jwt_account(sim, token)
        if account is None:
            return rejected("token expired or incorrect")
        session_pct, session_reset = sim.window(f"zai:{account}:session", 18000)
        weekly_pct, weekly_reset = sim.window(f"zai:{account}:weekly", 604800)
        tools_pct, tools_reset = sim.window(f"zai:{account}:tools", 30 * 86400, high=60)
        used_calls = round(1000 * tools_pct / 100)
        search = round(used_calls * 0.6)
        reader = round(used_calls * 0.3)
        limits = [
            {
                "type": "TOKENS_LIMIT",
                "unit": 3,
                "number": 5,
                "percentage": round(session_pct),
                "nextResetTime": int(session_reset.timestamp() * 1000),
            },
            {
                "type": "TOKENS_LIMIT",
                "unit": 6,
                "number": 1,
                "percentage": round(weekly_pct),
                "nextResetTime": int(weekly_reset.timestamp() * 1000),
            },
            {
                "type": "TIME_LIMIT",
                "unit": 5,
                "number": 1,
                "usage": 1000,
                "currentValue": used_calls,
                "remaining": 1000 - used_calls,
                "percentage": round(tools_pct),
                "nextResetTime": int(tools_reset.timestamp() * 1000),
                "usageDetails": [
                    {"modelCode": "search-prime", "usage": search},
                    {"modelCode": "web-reader", "usage": reader},
                    {"modelCode": "zread", "usage": used_calls - search - reader},
                ],
            },
        ]
        # The plan comes as ``level`` here (other answers name it ``planName``).
        return JSONResponse(
            {"code": 200, "msg": "success", "success": True, "data": {"level": "pro", "limits": limits}}
        )

    async def subscription_list(request: Request) -> Response:
        header = request.headers.get("authorization", "").strip()
        if not header:
            return JSONResponse({"code": 1001, "msg": "Authorization Token Missing", "success": False}, status_code=401)
        token = header[7:].strip() if header.lower().startswith("bearer ") else header
        account = sim.account_of(PROVIDER.id, "api_key", token) or jwt_account(sim, token)
        if account is None:
            return rejected("token expired or incorrect")
        now = sim.now()
        started = (now - timedelta(days=40)).replace(microsecond=0)
        ends = (now + timedelta(days=50)).replace(microsecond=0)
        stamp = "%Y-%m-%d %H:%M:%S"
        rows = [
            {
                "id": 1001, "customerId": "cus_sim", "agreementNo": "AG-SIM-1", "productId": "glm-coding-pro",
                "productName": "GLM Coding Pro", "description": "GLM Coding Pro (quarterly)", "status": "VALID",
                "purchaseTime": started.strftime(stamp), "valid": f"{started.strftime(stamp)}-{ends.strftime(stamp)}",
                "autoRenew": True, "initialPrice": 45, "standardPrice": 90, "billingCycle": "QUARTERLY",
                "paymentChannel": "STRIPE",
            },
            {
                "id": 900, "customerId": "cus_sim", "agreementNo": "AG-SIM-0", "productId": "glm-coding-lite",
                "productName": "GLM Coding Lite", "description": "GLM Coding Lite (monthly)", "status": "EXPIRED",
                "purchaseTime": "2026-01-01 00:00:00", "valid": "2026-01-01 00:00:00-2026-02-01 00:00:00",
                "autoRenew": False, "initialPrice": 3, "standardPrice": 6, "billingCycle": "MONTHLY",
                "paymentChannel": "STRIPE",
            },
        ]  # fmt: skip
        return JSONResponse({"code": 200, "msg": "success", "success": True, "data": rows})

    return {"url": [Route(QUOTA_PATH, quota), Route(SUBSCRIPTIONS_PATH, subscription_list)]}
