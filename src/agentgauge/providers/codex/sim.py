"""The simulator's codex endpoints: the same protocol as the real service (loaded only by the simulator)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._parse import obj, opt_str
from ..simkit import SimContext
from . import CLIENT_ID, DAILY_PATH, PROVIDER, SESSION_COOKIE, SESSION_PATH, SPEND_PATH, TOKEN_PATH, USAGE_PATH


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    expected_account = PROVIDER.sim_credentials["account_id"]

    def window(key: str, seconds: int, high: float = 92.0) -> dict[str, Any]:
        pct, reset = sim.window(key, seconds, high=high)
        return {
            "used_percent": round(pct),
            "limit_window_seconds": seconds,
            "reset_after_seconds": max(0, int((reset - sim.now()).total_seconds())),
            "reset_at": int(reset.timestamp()),
        }

    def denied(detail: str, status: int) -> Response:
        return JSONResponse({"detail": detail}, status_code=status)

    def caller(request: Request) -> str | Response:
        """The demo account of a bearer call, or chatgpt.com's refusal. Without ChatGPT-Account-Id
        the token's default workspace answers; a workspace the token cannot see is a 403."""
        account = sim.bearer_account(request, PROVIDER.id, "access_token")
        if account is None:
            return denied("Could not parse your authentication token. Please try signing in again.", 401)
        workspace = request.headers.get("chatgpt-account-id")
        if workspace is not None and workspace != expected_account:
            return denied("Workspace not found or you do not have access to it.", 403)
        return account

    async def usage(request: Request) -> Response:
        account = caller(request)
        if isinstance(account, Response):
            return account
        key = f"codex:{account}"
        body: dict[str, Any] = {
            "user_id": f"user-{account}",
            "account_id": expected_account,
            "email": f"{account}@example.com",
            "plan_type": "team" if account == "team" else "pro",
            "rate_limit": {
                "allowed": True,
                "limit_reached": False,
                "primary_window": window(f"{key}:session", 18000),
                "secondary_window": window(f"{key}:weekly", 604800),
            },
            "credits": {"has_credits": True, "unlimited": False, "balance": "125.50"},
            "additional_rate_limits": [
                {
                    "limit_name": "GPT-5.3-Codex-Spark",
                    "metered_feature": "gpt_5_3_codex_spark",
                    "rate_limit": {
                        "allowed": True,
                        "limit_reached": False,
                        "primary_window": window(f"{key}:spark:session", 18000, 60),
                        "secondary_window": window(f"{key}:spark:weekly", 604800, 60),
                    },
                },
            ],
        }
        if account == "team":
            body["spend_control"] = {"reached": False, "individual_limit": None}
        return JSONResponse(body)

    async def daily(request: Request) -> Response:
        """Thirty days up to yesterday (OpenAI aggregates daily, so today is not in yet)."""
        account = caller(request)
        if isinstance(account, Response):
            return account
        units = "credits" if account == "work" else "percent"
        today = sim.now().date()
        rows = []
        for back in range(30, 0, -1):
            day = today - timedelta(days=back)
            # A past day's figure never changes, so it comes from the day itself, not the clock.
            digest = hashlib.sha256(f"codex:{account}:daily:{day.isoformat()}".encode()).digest()
            share = int.from_bytes(digest[:4], "big") % 400 / 10
            cli, ide = round(share * 0.7, 1), round(share * 0.3, 1)
            rows.append(
                {
                    "date": day.isoformat(),
                    "product_surface_usage_values": {"cli": cli, "vscode": ide},
                    "models": [{"model": "gpt-5.3-codex", "speed": "standard", "credits": round(cli + ide, 2)}],
                }
            )
        return JSONResponse({"group_by": "day", "units": units, "data": rows})

    async def spend(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "access_token")
        if account is None:
            return denied("Unauthorized", 401)
        pct, _ = sim.window(f"codex:{account}:spend", 30 * 86400, high=70)
        return JSONResponse(
            {
                "current_month_usage": round(70 * pct, 2),
                "effective_monthly_limit": {
                    "limit": 7000,
                    "enforcement_mode": "HARD_CAP",
                    "limit_mode": "amount_credits",
                },
            }
        )

    async def session(request: Request) -> Response:
        account = sim.cookie_account(request, PROVIDER.id, "session_token", SESSION_COOKIE)
        if account is None:
            return JSONResponse({})  # chatgpt.com's answer for a signed-out cookie
        token = PROVIDER.sim_credentials["access_token"] + ("" if account == "default" else f"#{account}")
        return JSONResponse(
            {
                "user": {"id": f"user-{account}", "email": f"{account}@example.com"},
                "expires": "2099-01-01T00:00:00.000Z",
                "accessToken": token,
                "account": {"id": expected_account, "planType": "pro"},
            }
        )

    async def token(request: Request) -> Response:
        """The OAuth token endpoint: a JSON refresh_token grant, answered like auth.openai.com."""
        try:
            body = obj(await request.json())
        except ValueError:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if body.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if body.get("client_id") != CLIENT_ID:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        account = sim.account_of(PROVIDER.id, "refresh_token", opt_str(body.get("refresh_token")))
        if account is None:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "Your refresh token has already been used"},
                status_code=400,
            )
        suffix = "" if account == "default" else f"#{account}"
        return JSONResponse(
            {
                "access_token": PROVIDER.sim_credentials["access_token"] + suffix,
                "refresh_token": PROVIDER.sim_credentials["refresh_token"] + suffix,
                "id_token": "sim-id-token",
            }
        )

    return {
        "token_url": [Route(TOKEN_PATH, token, methods=["POST"])],
        "url": [
            Route(USAGE_PATH, usage),
            Route(DAILY_PATH, daily),
            Route(SESSION_PATH, session),
            Route(SPEND_PATH.replace("{account}", "{account_id}"), spend),
        ],
    }
