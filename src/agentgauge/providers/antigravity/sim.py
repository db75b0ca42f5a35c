"""The simulator's antigravity endpoints: the language server's Connect API (loaded only by the simulator).

Served over plain HTTP under ``/antigravity/url`` (the real server is HTTPS on loopback; the tests
run a separate fake server process for that). Checked like a Connect server checks: POST only,
``Content-Type: application/json`` (415 otherwise), a JSON body, and the ``X-Codeium-Csrf-Token``
the server was started with. What the real server answers for a wrong token is not documented;
the simulator answers a Connect ``unauthenticated`` error (HTTP 401).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import MODEL_CONFIGS, PROVIDER, SERVICE, SUMMARY, USER_STATUS

GROUPS = (
    ("gemini", "Gemini Models", "Gemini Flash, Gemini Pro"),
    ("3p", "Claude and GPT models", "Claude Opus, Claude Sonnet, GPT-OSS"),
)
MODELS = (
    ("Gemini 3 Pro (High)", "MODEL_PLACEHOLDER_M7", "gemini"),
    ("Gemini 3 Flash", "MODEL_PLACEHOLDER_M18", "gemini"),
    ("Claude Sonnet 4.5", "MODEL_CLAUDE_4_5_SONNET", "3p"),
    ("GPT-OSS 120B (Medium)", "MODEL_OPENAI_GPT_OSS_120B_MEDIUM", "3p"),
)


def connect_error(code: str, message: str, status: int) -> Response:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def fraction(account: str, group: str, kind: str, seconds: int) -> tuple[float, str]:
        used, reset = sim.window(f"antigravity:{account}:{group}:{kind}", seconds, high=95)
        return round(1.0 - used / 100.0, 4), iso(reset)

    async def caller(request: Request) -> str | Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return connect_error("unknown", "unsupported content type", 415)
        try:
            orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return connect_error("invalid_argument", "request body is not JSON", 400)
        account = sim.account_of(PROVIDER.id, "csrf_token", request.headers.get("x-codeium-csrf-token"))
        return account if account is not None else connect_error("unauthenticated", "invalid CSRF token", 401)

    async def summary(request: Request) -> Response:
        account = await caller(request)
        if isinstance(account, Response):
            return account
        groups = []
        for group, name, description in GROUPS:
            buckets = []
            for kind, label, seconds in (("5h", "Five Hour Limit", 18000), ("weekly", "Weekly Limit", 604800)):
                left, reset = fraction(account, group, kind, seconds)
                buckets.append(
                    {
                        "bucketId": f"{group}-{kind}",
                        "displayName": label,
                        "remaining": {"remainingFraction": left},
                        "description": "You have used some of this limit.",
                        "resetTime": reset,
                    }
                )
            groups.append(
                {"displayName": name, "description": f"Models within this group: {description}", "buckets": buckets}
            )
        return JSONResponse({"response": {"description": "Models in a group share its limits.", "groups": groups}})

    def configs(account: str) -> list[dict[str, Any]]:
        out = []
        for index, (label, model, group) in enumerate(MODELS):
            left, reset = fraction(account, group, "5h", 18000)
            out.append(
                {
                    "label": label,
                    "modelOrAlias": {"model": model},
                    "quotaInfo": {"remainingFraction": min(1.0, round(left + 0.05 * index, 4)), "resetTime": reset},
                }
            )
        return out

    async def user_status(request: Request) -> Response:
        account = await caller(request)
        if isinstance(account, Response):
            return account
        return JSONResponse(
            {
                "userStatus": {
                    "email": f"{account}@example.com",
                    "planStatus": {"planInfo": {"planName": "Pro", "teamsTier": "TEAMS_TIER_PRO"}},
                    "userTier": {"id": "g1-ultra-tier", "name": "Google AI Ultra"},
                    "cascadeModelConfigData": {"clientModelConfigs": configs(account)},
                }
            }
        )

    async def model_configs(request: Request) -> Response:
        account = await caller(request)
        if isinstance(account, Response):
            return account
        return JSONResponse({"clientModelConfigs": configs(account)})

    async def unleash(request: Request) -> Response:
        account = await caller(request)
        return account if isinstance(account, Response) else JSONResponse({})

    return {
        "url": [
            Route(SERVICE + SUMMARY, summary, methods=["POST"]),
            Route(SERVICE + USER_STATUS, user_status, methods=["POST"]),
            Route(SERVICE + MODEL_CONFIGS, model_configs, methods=["POST"]),
            Route(SERVICE + "GetUnleashData", unleash, methods=["POST"]),
        ]
    }
