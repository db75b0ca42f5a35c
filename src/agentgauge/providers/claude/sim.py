"""The simulator's claude endpoints: the same protocol as the real service (loaded only by the simulator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso, unauthorized
from . import BOOTSTRAP_PATH, CLIENT_ID, OAUTH_BETA, OAUTH_PATH, ORGS_PATH, PROVIDER, TOKEN_PATH


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def payload(account: str) -> dict[str, Any]:
        session, session_reset = sim.window(f"claude:{account}:session", 18000)
        weekly, weekly_reset = sim.window(f"claude:{account}:weekly", 604800)
        sonnet, _ = sim.window(f"claude:{account}:weekly_sonnet", 604800, high=70)
        opus, _ = sim.window(f"claude:{account}:weekly_opus", 604800, high=50)
        extra, _ = sim.window(f"claude:{account}:extra", 30 * 86400, high=45)
        week = {"resets_at": iso(weekly_reset)}
        return {
            "five_hour": {"utilization": session, "resets_at": iso(session_reset)},
            "seven_day": {"utilization": weekly, **week},
            "seven_day_opus": None,
            "seven_day_sonnet": {"utilization": sonnet, **week},
            "seven_day_oauth_apps": None,
            "seven_day_design": {"utilization": weekly, **week},  # shares the main limit: ignored
            "limits": [
                {
                    "kind": "session",
                    "group": "session",
                    "percent": round(session),
                    "scope": None,
                    "resets_at": iso(session_reset),
                    "is_active": True,
                },
                {"kind": "weekly_all", "group": "weekly", "percent": round(weekly), "scope": None, **week},
                {
                    "kind": "weekly_scoped",
                    "group": "weekly",
                    "percent": round(opus),
                    **week,
                    "scope": {"model": {"id": None, "display_name": "Opus"}, "surface": None},
                },
            ],
            "extra_usage": {
                "is_enabled": True,
                "monthly_limit": 5000,
                "used_credits": round(50 * extra),
                "utilization": extra,
                "currency": "USD",
            },
        }

    def bad_request(message: str) -> Response:
        error = {"type": "invalid_request_error", "message": message}
        return JSONResponse({"type": "error", "error": error}, status_code=400)

    async def oauth_usage(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "oauth_token")
        if account is None:
            return unauthorized("OAuth token is invalid or expired")
        if request.headers.get("anthropic-beta") != OAUTH_BETA:
            return bad_request("OAuth authentication is currently not supported.")
        return JSONResponse(payload(account))

    def cookie_account(request: Request) -> str | None:
        return sim.cookie_account(request, PROVIDER.id, "session_key", "sessionKey")

    def permission_error() -> Response:
        error = {"type": "permission_error", "message": "Invalid authorization"}
        return JSONResponse({"type": "error", "error": error}, status_code=403)

    def orgs_of(account: str) -> list[dict[str, Any]]:
        return [
            {"uuid": f"sim-api-org-{account}", "name": "API credits", "capabilities": ["api"]},
            {
                "uuid": f"sim-org-{account}",
                "name": "Personal",
                "capabilities": ["chat", "claude_max"],
                "rate_limit_tier": "default_claude_max_5x",
            },
        ]

    async def organizations(request: Request) -> Response:
        account = cookie_account(request)
        if account is None:
            return permission_error()
        return JSONResponse(["unexpected-entry", *orgs_of(account)])

    async def bootstrap(request: Request) -> Response:
        """What claude.ai's page loads first: the account, its org memberships and the last active
        org. A signed-out (or unknown) cookie gets ``account: null`` with HTTP 200, not an error."""
        account = cookie_account(request)
        if account is None:
            return JSONResponse({"account": None, "locale": "en-US"})
        return JSONResponse(
            {
                "account": {
                    "uuid": f"sim-account-{account}",
                    "email_address": f"{account}@example.com",
                    "lastActiveOrgId": f"sim-org-{account}",
                    "memberships": [{"role": "admin", "organization": org} for org in orgs_of(account)],
                },
                "locale": "en-US",
            }
        )

    async def org_usage(request: Request) -> Response:
        account = cookie_account(request)
        if account is None or request.path_params["org"] != f"sim-org-{account}":
            return permission_error()
        body = payload(account)
        del body["limits"]  # claude.ai answers with the keyed windows only
        return JSONResponse(body)

    async def token(request: Request) -> Response:
        """The OAuth token endpoint: a form-encoded refresh_token grant, answered like upstream."""
        # Parsed by hand: starlette's form parser needs python-multipart, which nothing else needs.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if form.get("client_id") != CLIENT_ID:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        account = sim.account_of(PROVIDER.id, "refresh_token", str(form.get("refresh_token") or ""))
        if account is None:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "Refresh token not found or invalid"}, status_code=400
            )
        suffix = "" if account == "default" else f"#{account}"
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": 28800,
                "access_token": PROVIDER.sim_credentials["oauth_token"] + suffix,
                "refresh_token": PROVIDER.sim_credentials["refresh_token"] + suffix,
                "scope": "user:inference user:profile",
            }
        )

    return {
        "token_url": [Route(TOKEN_PATH, token, methods=["POST"])],
        "api_url": [Route(OAUTH_PATH, oauth_usage)],
        "web_url": [
            Route(BOOTSTRAP_PATH, bootstrap),
            Route(ORGS_PATH, organizations),
            Route(ORGS_PATH + "/{org}/usage", org_usage),
        ],
    }
