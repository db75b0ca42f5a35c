"""The simulator's minimax endpoints: the API host's remains paths and the web platform's remains,
Coding Plan page and billing history (loaded only by the simulator).

Like MiniMax, failures come as ``base_resp`` envelopes inside HTTP 200: 1004 for a missing or
refused login, 2049 for an unknown key. The ``default`` account is on a Token Plan (percent
based, a video lane the plan does not include, a boosted weekly lane); ``legacy`` (``…#legacy``
keys) has an older Coding Plan, which the Token Plan path refuses with 1004 and the coding-plan
path answers with counts (``current_interval_usage_count`` is what is LEFT). The web remains
path wants a Bearer (the stored access token or the session cookie's value) beside the cookie,
as the real one does, and checks ``GroupId`` when given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .._capture import cookie_value
from ..simkit import SimContext
from . import BILLING_PATH, CODING_PLAN_PATH, PAGE_PATH, PROVIDER, TOKEN_PLAN_PATH

GROUP_ID = "1987654321012345678"
LOGIN_PAGE = "<html><body><main><h1>MiniMax</h1><a href='/login'>Log in</a></main></body></html>"


def _refused(code: int, message: str) -> Response:
    return JSONResponse({"base_resp": {"status_code": code, "status_msg": message}})


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def ms(value: Any) -> int:
        return int(value.timestamp() * 1000)

    def token_plan(account: str) -> dict[str, Any]:
        session, reset = sim.window(f"minimax:{account}:5h", 18000)
        weekly, weekly_reset = sim.window(f"minimax:{account}:weekly", 604800, high=70)
        now = sim.now()
        return {
            "base_resp": {"status_code": 0, "status_msg": "success"},
            "data": {
                "current_subscribe_title": "Token Plan Plus",
                "points_balance": "14000",
                "model_remains": [
                    {
                        "model_name": "general",
                        "start_time": ms(reset - timedelta(hours=5)),
                        "end_time": ms(reset),
                        "remains_time": int((reset - now).total_seconds() * 1000),
                        "current_interval_total_count": 0,
                        "current_interval_usage_count": 0,
                        "current_interval_status": 1,
                        "current_interval_remaining_percent": round(100 - session),
                        "weekly_start_time": ms(weekly_reset - timedelta(days=7)),
                        "weekly_end_time": ms(weekly_reset),
                        "weekly_remains_time": int((weekly_reset - now).total_seconds() * 1000),
                        "current_weekly_total_count": 0,
                        "current_weekly_usage_count": 0,
                        "current_weekly_status": 1,
                        "current_weekly_remaining_percent": round(100 - weekly),
                        "weekly_boost_permille": 1500,
                    },
                    {
                        "model_name": "video",
                        "start_time": ms(now - timedelta(hours=2)),
                        "end_time": ms(now + timedelta(hours=22)),
                        "current_interval_total_count": 0,
                        "current_interval_usage_count": 0,
                        "current_interval_status": 3,
                        "current_interval_remaining_percent": 100,
                        "current_weekly_status": 3,
                        "current_weekly_remaining_percent": 100,
                    },
                ],
            },
        }

    def coding_plan(account: str) -> dict[str, Any]:
        used_pct, reset = sim.window(f"minimax:{account}:5h", 18000)
        left = 300 - round(300 * used_pct / 100)
        return {
            "base_resp": {"status_code": 0, "status_msg": "success"},
            "model_remains": [
                {
                    "model_name": "MiniMax-M2",
                    "start_time": int((reset - timedelta(hours=5)).timestamp()),
                    "end_time": int(reset.timestamp()),
                    "remains_time": int((reset - sim.now()).total_seconds()),
                    "current_interval_total_count": 300,
                    "current_interval_usage_count": left,  # what is LEFT, as upstream names it
                }
            ],
            "plan_name": "Coding Plan Plus",
        }

    def api_account(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "api_key")

    async def api_token_plan(request: Request) -> Response:
        if not request.headers.get("authorization"):
            return _refused(1004, "login fail: Please carry the API secret key in the 'Authorization' field")
        account = api_account(request)
        if account is None:
            return _refused(2049, "invalid api key")
        if account == "legacy":
            return _refused(1004, "token not match group")
        return JSONResponse(token_plan(account))

    async def api_coding_plan(request: Request) -> Response:
        account = api_account(request)
        if account is None:
            return _refused(2049, "invalid api key")
        return JSONResponse(token_plan(account) if account != "legacy" else coding_plan(account))

    def web_account(request: Request) -> str | None:
        """The cookie's account when the request also carries an acceptable Bearer."""
        header = request.headers.get("cookie", "")
        session = cookie_value(header, "HERTZ-SESSION") or cookie_value(header, "_token")
        account = sim.account_of(PROVIDER.id, "cookie", f"HERTZ-SESSION={session}") if session else None
        if account is None:
            return None
        bearer = request.headers.get("authorization", "")[7:].strip()
        accepted = (
            sim.account_of(PROVIDER.id, "web_token", bearer),
            sim.account_of(PROVIDER.id, "cookie", f"HERTZ-SESSION={bearer}"),
        )
        return account if account in accepted else None

    async def web_remains(request: Request) -> Response:
        group = request.query_params.get("GroupId")
        if group is not None and group != GROUP_ID:
            return _refused(1004, "token not match group")
        account = web_account(request)
        if account is None:
            return _refused(1004, "cookie is missing, log in again")
        return JSONResponse(token_plan(account) if account != "legacy" else coding_plan(account))

    async def page(request: Request) -> Response:
        account = web_account(request)
        if account is None:
            return HTMLResponse(LOGIN_PAGE)
        data = {"props": {"pageProps": {"codingPlan": token_plan(account)["data"]}}}
        return HTMLResponse(
            '<html><head><script id="__NEXT_DATA__" type="application/json">'
            f'{json.dumps(data)}</script></head><body><div id="__next">Coding Plan</div></body></html>'
        )

    async def billing(request: Request) -> Response:
        account = web_account(request)
        if account is None:
            return _refused(1004, "cookie is missing, log in again")
        today = sim.now().date()
        records = [
            {
                "consume_token": 12000 + 900 * i,
                "ymd": (today - timedelta(days=i)).isoformat(),
                "method": "chat",
                "model": model,
            }
            for i, model in enumerate(("MiniMax-M2", "MiniMax-M2", "MiniMax-M1", "speech-2.8"))
        ]
        return JSONResponse({"base_resp": {"status_code": 0}, "charge_records": records, "total_cnt": len(records)})

    return {
        "url": [Route(TOKEN_PLAN_PATH, api_token_plan), Route(CODING_PLAN_PATH, api_coding_plan)],
        "web_url": [Route(CODING_PLAN_PATH, web_remains), Route(PAGE_PATH, page), Route(BILLING_PATH, billing)],
    }
