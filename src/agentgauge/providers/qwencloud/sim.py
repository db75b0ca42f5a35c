"""The simulator's qwencloud endpoints (loaded only by the simulator), as the Qwen Cloud console answers:

- ``url``: the Token Plan page ``GET /billing/subscription/token-plan-individual`` (HTML carrying the
  page's ``secToken``; without a session a redirect to the passport login) and ``GET
  /tool/user/info.json``. The account ``infoonly`` gets a page without the token.
- ``api_url``: ``POST /data/api.json?action=IntlBroadScopeAspnGateway&product=sfm_bailian&api=...``:
  the form must carry the session's ``sec_token``, ``params`` naming the same api and the console
  site, and ``x-xsrf-token`` equal to the ``login_aliyunid_csrf`` cookie when there is one. Failures
  come in HTTP 200: ``ConsoleNeedLogin`` without a session, ``PostonlyOrTokenError`` for a wrong
  token. The account ``nosub`` has no Token Plan (a zero subscription summary).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import ACTION, API_PREFIX, CONSOLE_SITE, DASHBOARD_PATH, PRODUCT, PROVIDER, TICKETS

LIMITS = {"lite": (700, 2500), "standard": (3000, 10000), "pro": (12000, 40000)}


def _ticket(request: Request) -> str | None:
    return next((request.cookies[name] for name in TICKETS if request.cookies.get(name)), None)


def _wrapped(data: Any) -> dict[str, Any]:
    """The gateway's envelope around an api's answer."""
    inner = {"data": {"success": True, "data": data}, "success": True, "httpStatus": 200}
    return {"code": "200", "data": {"DataV2": inner}, "successResponse": True}


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        ticket = _ticket(request)
        expected = sim.credential(PROVIDER.id, "cookie").split(";")[0].split("=", 1)[1]
        if ticket is None:
            return None
        if ticket == expected:
            return "default"
        return ticket[len(expected) + 1 :] if ticket.startswith(expected + "#") else None

    def token_for(account: str) -> str:
        return f"sim-sec-token-{account}"

    async def page(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return RedirectResponse("https://passport.alibabacloud.com/login.htm", status_code=302)
        token = (
            ""
            if account == "infoonly"
            else f'<script>window.ALIYUN_CONSOLE_CONFIG = {{"secToken": "{token_for(account)}"}};</script>'
        )
        return HTMLResponse(
            f"<!DOCTYPE html><html><head>{token}<title>Token Plan</title></head><body>{'.' * 600}</body></html>"
        )

    async def user_info(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return JSONResponse(
                {"code": "ConsoleNeedLogin", "message": "You need to log in.", "successResponse": False}
            )
        return JSONResponse(
            {"code": "200", "data": {"secToken": token_for(account), "accountId": "sim"}, "successResponse": True}
        )

    async def gateway(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return JSONResponse(
                {"code": "ConsoleNeedLogin", "message": "You need to log in.", "successResponse": False}
            )
        form = await request.form()
        api = request.query_params.get("api", "")
        csrf = request.cookies.get("login_aliyunid_csrf")
        try:
            params = json.loads(str(form.get("params") or ""))
        except ValueError:
            params = {}
        site = (
            params.get("Data", {}).get("cornerstoneParam", {}).get("consoleSite") if isinstance(params, dict) else None
        )
        valid = (
            form.get("sec_token") == token_for(account)
            and (csrf is None or request.headers.get("x-xsrf-token") == csrf)
            and request.query_params.get("action") == form.get("action") == ACTION
            and request.query_params.get("product") == form.get("product") == PRODUCT
            and isinstance(params, dict)
            and params.get("Api") == api
            and site == CONSOLE_SITE
        )
        if not valid:
            return JSONResponse(
                {
                    "code": "PostonlyOrTokenError",
                    "message": "Request has expired, please refresh page.",
                    "successResponse": False,
                }
            )
        name = api.removeprefix(API_PREFIX)
        if account == "nosub":
            if name != "usage":
                return JSONResponse(_wrapped({}))
            summary = {
                "Uid": 7,
                "TotalSurplusValue": "0",
                "TotalCount": 0,
                "TotalValue": "0",
                "ProductCode": "sfm_tokenplansolo_public_intl",
            }
            return JSONResponse(
                {"code": "200", "data": {"Data": summary, "Code": "Success", "Success": True}, "successResponse": True}
            )
        if name == "usage":
            five, five_reset = sim.window(f"qwencloud:{account}:5h", 18000)
            week, week_reset = sim.window(f"qwencloud:{account}:week", 604800)
            usage = {
                "per5HourPercentage": round(five / 100, 6),
                "per5HourResetTime": int(five_reset.timestamp() * 1000),
                "per1WeekPercentage": round(week / 100, 6),
                "per1WeekResetTime": int(week_reset.timestamp() * 1000),
            }
            return JSONResponse(_wrapped(json.dumps(usage)))  # the inner answer comes as a JSON string
        if name == "subscription":
            if params.get("Data", {}).get("commodityCode") != "sfm_tokenplansolo_public_intl":
                return JSONResponse({"code": "InvalidParameter", "message": "commodityCode", "successResponse": False})
            return JSONResponse(
                _wrapped({"instanceCode": "sfm_tokenplansolo_public_intl-sim", "specCode": "pro", "status": "VALID"})
            )
        if name == "quota-config":
            return JSONResponse(_wrapped({plan: {"five_hour": f, "weekly": w} for plan, (f, w) in LIMITS.items()}))
        return JSONResponse(
            {"code": "NotFound", "message": f"unknown api {api}", "successResponse": False}, status_code=404
        )

    return {
        "url": [Route(DASHBOARD_PATH, page), Route("/tool/user/info.json", user_info)],
        "api_url": [Route("/data/api.json", gateway, methods=["POST"])],
    }
