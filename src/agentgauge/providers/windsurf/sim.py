"""The simulator's windsurf endpoint: ``GetPlanStatus`` over the Connect protocol with binary
protobuf (loaded only by the simulator).

It checks what a Connect unary call needs (``POST``, ``Content-Type: application/proto``,
``Connect-Protocol-Version: 1``), the session headers against the simulator's bundle, and that the
body's ``auth_token`` is the session token. Failures answer as Connect does: a JSON error body
(``{"code": "unauthenticated" | "invalid_argument", "message"}``) with the matching HTTP status.
The answer is a ``GetPlanStatusResponse`` with remaining percents and reset times.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...errors import ParseError
from ..simkit import SimContext
from . import PLAN_STATUS_PATH, PROVIDER, proto

HEADERS = {
    "x-auth-token": "api_key",
    "x-devin-session-token": "api_key",
    "x-devin-auth1-token": "auth1_token",
    "x-devin-account-id": "account_id",
    "x-devin-primary-org-id": "primary_org_id",
}


def _connect_error(code: str, message: str, status: int) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def plan_status(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/proto":
            return Response("", status_code=415)
        if request.headers.get("connect-protocol-version") != "1":
            return _connect_error("invalid_argument", "missing Connect-Protocol-Version", 400)
        for header, setting in HEADERS.items():
            if request.headers.get(header) != sim.credential(PROVIDER.id, setting):
                return _connect_error("unauthenticated", "invalid session", 401)
        try:
            body = proto.decode_request(await request.body())
        except ParseError:
            return _connect_error("invalid_argument", "malformed request", 400)
        if body.get("auth_token") != sim.credential(PROVIDER.id, "api_key"):
            return _connect_error("unauthenticated", "invalid auth token", 401)
        daily, daily_reset = sim.window("windsurf:default:daily", 86400)
        weekly, weekly_reset = sim.window("windsurf:default:weekly", 604800)
        status = {
            "plan_info": {"teams_tier": 2, "plan_name": "Pro"},
            "plan_start": int(weekly_reset.timestamp()) - 20 * 86400,
            "plan_end": int(weekly_reset.timestamp()) + 10 * 86400,
            "daily_quota_remaining_percent": round(100 - daily),
            "weekly_quota_remaining_percent": round(100 - weekly),
            "daily_quota_reset_at_unix": int(daily_reset.timestamp()),
            "weekly_quota_reset_at_unix": int(weekly_reset.timestamp()),
        }
        return Response(proto.encode_response(status), media_type="application/proto")

    return {"url": [Route(PLAN_STATUS_PATH, plan_status, methods=["POST"])]}
