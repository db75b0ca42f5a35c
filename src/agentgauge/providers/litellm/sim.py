"""The simulator's litellm endpoints: a LiteLLM proxy's ``/key/info``, ``/user/info`` and ``/team/info``
(loaded only by the simulator). Like LiteLLM, the key must come as ``Authorization: Bearer <key>``; a
missing, malformed or unknown key is an HTTP 401 ``{"error": {"message", "type": "auth_error", ...}}``.
The account ``team`` is a team service key (no user)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import PROVIDER

USER_ID = "user-sim"
TEAM_ID = "team-sim"
KEY_BUDGET = 50.0
USER_BUDGET = 300.0
TEAM_BUDGET = 1000.0


def _error(message: str, kind: str, code: int) -> Response:
    body = {"error": {"message": message, "type": kind, "param": "None", "code": str(code)}}
    return JSONResponse(body, status_code=code)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "api_key")

    def rejected() -> Response:
        return _error("Authentication Error, Invalid proxy server token passed.", "auth_error", 401)

    def spend(account: str, part: str, cap: float, seconds: int) -> tuple[float, str]:
        pct, reset = sim.window(f"litellm:{account}:{part}", seconds)
        return round(cap * pct / 100, 6), iso(reset)

    async def key_info(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return rejected()
        used, reset = spend(account, "key", KEY_BUDGET, 30 * 86400)
        info: dict[str, Any] = {
            "key_name": "sk-...demo",
            "key_alias": "agentgauge-demo",
            "spend": used,
            "max_budget": KEY_BUDGET,
            "budget_duration": "30d",
            "budget_reset_at": reset,
            "expires": None,
            "user_id": None if account == "team" else USER_ID,
            "team_id": TEAM_ID,
            "models": [],
            "tpm_limit": None,
            "rpm_limit": None,
        }
        return JSONResponse({"key": "hashed-token", "info": info})

    async def user_info(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return rejected()
        if request.query_params.get("user_id") != USER_ID:
            return _error("User not found", "not_found_error", 404)
        user_spend, user_reset = spend(account, "user", USER_BUDGET, 7 * 86400)
        team_spend, team_reset = spend(account, "team", TEAM_BUDGET, 7 * 86400)
        return JSONResponse(
            {
                "user_id": USER_ID,
                "user_info": {
                    "user_id": USER_ID,
                    "user_email": "sim@example.com",
                    "max_budget": USER_BUDGET,
                    "spend": user_spend,
                    "budget_duration": "7d",
                    "budget_reset_at": user_reset,
                },
                "keys": [{"key_name": "sk-...demo", "user_id": USER_ID, "team_id": TEAM_ID}],
                "teams": [
                    {"team_alias": "other", "team_id": "team-other", "max_budget": 5.0, "spend": 4.0},
                    {
                        "team_alias": "sim",
                        "team_id": TEAM_ID,
                        "max_budget": TEAM_BUDGET,
                        "spend": team_spend,
                        "budget_duration": "7d",
                        "budget_reset_at": team_reset,
                    },
                ],
            }
        )

    async def team_info(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return rejected()
        if request.query_params.get("team_id") != TEAM_ID:
            return _error("Team not found", "not_found_error", 404)
        team_spend, team_reset = spend(account, "team", TEAM_BUDGET, 7 * 86400)
        team = {
            "team_id": TEAM_ID,
            "team_alias": "sim",
            "max_budget": TEAM_BUDGET,
            "spend": team_spend,
            "budget_duration": "7d",
            "budget_reset_at": team_reset,
        }
        return JSONResponse({"team_id": TEAM_ID, "team_info": team, "keys": []})

    return {"url": [Route("/key/info", key_info), Route("/user/info", user_info), Route("/team/info", team_info)]}
