"""The simulator's alibaba endpoints (loaded only by the simulator), for both sites (intl and cn):

- ``url`` (the Model Studio / Bailian console): the plan pages (HTML with the page's ``secToken``;
  without a session a redirect to the passport login), ``/tool/user/info.json``, and
  ``POST /data/api.json`` for the Coding Plan with an API key (``action=zeldaEasy...``, JSON body, the
  key as Bearer, ``x-api-key`` and ``X-DashScope-API-Key``) and for the team Token Plan summary
  (``action=GetSubscriptionSummary&product=BssOpenAPI-V3``, a form with the session).
- ``rpc_url`` (the console RPC gateway): ``POST /data/api.json?action=<Intl>BroadScopeAspnGateway&
  product=sfm_bailian&api=...``: the Coding Plan and the personal Token Plan's three apis, checking the
  ``sec_token``, the ``x-xsrf-token`` against the ``login_aliyunid_csrf`` cookie, ``params`` naming the
  api, and the site's region id and commodity codes.

Failures come in HTTP 200 as the console sends them: ``ConsoleNeedLogin`` without a session (and for
the API key of the account ``keyless``, whose site answers API-key calls so), ``PostonlyOrTokenError``
for a wrong token. The account ``noplan`` has no Coding Plan or Token Plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import CODING_API, PROVIDER, TOKEN_API
from .regions import CN, INTL, Region

SITES = {INTL.action: INTL, CN.action: CN}
CODING_LIMITS = (("per5Hour", 1200, 18000), ("perWeek", 9000, 604800), ("perBillMonth", 18000, 30 * 86400))
TOKEN_LIMITS = {"lite": (700, 2500), "standard": (3000, 10000), "pro": (12000, 40000)}
NEED_LOGIN = {
    "code": "ConsoleNeedLogin",
    "message": "You need to log in.",
    "requestId": "sim",
    "successResponse": False,
}
TOKEN_ERROR = {
    "code": "PostonlyOrTokenError",
    "message": "Request has expired, please refresh page.",
    "successResponse": False,
}


def _wrapped(data: Any) -> dict[str, Any]:
    inner = {"data": {"success": True, "data": data}, "success": True, "httpStatus": 200}
    return {"code": "200", "data": {"DataV2": inner}, "successResponse": True}


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    expected_ticket = sim.credential(PROVIDER.id, "cookie").split(";")[0].split("=", 1)[1]

    def session_of(request: Request) -> str | None:
        ticket = request.cookies.get("login_aliyunid_ticket")
        if not ticket:
            return None
        if ticket == expected_ticket:
            return "default"
        return ticket[len(expected_ticket) + 1 :] if ticket.startswith(expected_ticket + "#") else None

    def token_for(account: str) -> str:
        return f"sim-alibaba-sec-{account}"

    def coding_answer(account: str) -> dict[str, Any]:
        if account == "noplan":
            return {"data": {"codingPlanInstanceInfos": []}, "status_code": 0}
        quota: dict[str, Any] = {}
        for prefix, total, seconds in CODING_LIMITS:
            pct, reset = sim.window(f"alibaba:{account}:coding:{prefix}", seconds)
            quota[f"{prefix}UsedQuota"] = round(total * pct / 100)
            quota[f"{prefix}TotalQuota"] = total
            quota[f"{prefix}QuotaNextRefreshTime"] = int(reset.timestamp() * 1000)
        instance = {"planName": "Coding Plan Pro", "status": "VALID", "codingPlanQuotaInfo": quota}
        expired = {"planName": "Coding Plan Lite", "status": "EXPIRED", "endTime": "2025-04-01 17:00"}
        return {"data": {"codingPlanInstanceInfos": [expired, instance]}, "status_code": 0}

    def session_ok(request: Request, form: Any, account: str) -> bool:
        csrf = request.cookies.get("login_aliyunid_csrf")
        return form.get("sec_token") == token_for(account) and (
            csrf is None or request.headers.get("x-xsrf-token") == csrf
        )

    async def page(request: Request) -> Response:
        account = session_of(request)
        if account is None:
            return RedirectResponse("https://passport.alibabacloud.com/login.htm", status_code=302)
        script = f'<script>window.ALIYUN_CONSOLE_CONFIG = {{"secToken": "{token_for(account)}"}};</script>'
        return HTMLResponse(
            f"<!DOCTYPE html><html><head>{script}<title>Model Studio</title></head><body>{'.' * 600}</body></html>"
        )

    async def user_info(request: Request) -> Response:
        account = session_of(request)
        if account is None:
            return JSONResponse(NEED_LOGIN)
        return JSONResponse({"code": "200", "data": {"secToken": token_for(account)}, "successResponse": True})

    async def console_api(request: Request) -> Response:
        action = request.query_params.get("action", "")
        if action == CODING_API:  # the API-key path
            key = request.headers.get("x-api-key")
            account = sim.bearer_account(request, PROVIDER.id, "api_key")
            if account is None or key != request.headers.get("authorization", "")[7:].strip():
                return JSONResponse(
                    {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "successResponse": False},
                    status_code=401,
                )
            if account == "keyless":
                return JSONResponse(NEED_LOGIN)
            body = await request.json()
            region = INTL if request.query_params.get("currentRegionId") == INTL.region_id else CN
            commodity = body.get("queryCodingPlanInstanceInfoRequest", {}).get("commodityCode")
            if commodity != region.coding_commodity:
                return JSONResponse({"code": "InvalidParameter", "message": "commodityCode", "successResponse": False})
            return JSONResponse(coding_answer(account))
        if action == "GetSubscriptionSummary" and request.query_params.get("product") == "BssOpenAPI-V3":
            account = session_of(request)
            if account is None:
                return JSONResponse(NEED_LOGIN)
            form = await request.form()
            if not session_ok(request, form, account):
                return JSONResponse(TOKEN_ERROR)
            if account == "noplan":
                return JSONResponse(
                    {"Success": True, "Data": {"TotalCount": 0, "TotalValue": 0, "TotalSurplusValue": 0}}
                )
            pct, _ = sim.window(f"alibaba:{account}:team", 30 * 86400)
            left = round(20000 * (100 - pct) / 100)
            return JSONResponse(
                {"Success": True, "Data": {"TotalCount": 1, "TotalValue": 20000, "TotalSurplusValue": left}}
            )
        return JSONResponse(
            {"code": "InvalidAction", "message": f"unknown action {action}", "successResponse": False}, status_code=404
        )

    async def rpc(request: Request) -> Response:
        account = session_of(request)
        if account is None:
            return JSONResponse(NEED_LOGIN)
        site: Region | None = SITES.get(request.query_params.get("action", ""))
        form = await request.form()
        api = request.query_params.get("api", "")
        try:
            params = json.loads(str(form.get("params") or "{}"))
        except ValueError:
            params = {}
        data = params.get("Data", {}) if isinstance(params, dict) else {}
        if (
            site is None
            or form.get("region") != site.region_id
            or not session_ok(request, form, account)
            or params.get("Api") != api
        ):
            return JSONResponse(TOKEN_ERROR)
        if api == CODING_API:
            if data.get("queryCodingPlanInstanceInfoRequest", {}).get("commodityCode") != site.coding_commodity:
                return JSONResponse({"code": "InvalidParameter", "message": "commodityCode", "successResponse": False})
            return JSONResponse(_wrapped(coding_answer(account)["data"]))
        name = api.removeprefix(TOKEN_API)
        if name == "usage":
            if account == "noplan":
                return JSONResponse(_wrapped({"TotalCount": 0, "TotalValue": "0", "TotalSurplusValue": "0"}))
            five, five_reset = sim.window(f"alibaba:{account}:token:5h", 18000)
            week, week_reset = sim.window(f"alibaba:{account}:token:week", 604800)
            usage = {
                "per5HourPercentage": round(five / 100, 6),
                "per5HourResetTime": int(five_reset.timestamp() * 1000),
                "per1WeekPercentage": round(week / 100, 6),
                "per1WeekResetTime": int(week_reset.timestamp() * 1000),
            }
            return JSONResponse(_wrapped(usage))
        if name == "subscription":
            if data.get("commodityCode") != site.token_commodity:
                return JSONResponse({"code": "InvalidParameter", "message": "commodityCode", "successResponse": False})
            return JSONResponse(_wrapped({"specCode": "standard", "status": "VALID", "remainingDays": 29}))
        if name == "quota-config":
            return JSONResponse(
                _wrapped({plan: {"five_hour": f, "weekly": w} for plan, (f, w) in TOKEN_LIMITS.items()})
            )
        return JSONResponse(
            {"code": "NotFound", "message": f"unknown api {api}", "successResponse": False}, status_code=404
        )

    pages = [Route(path, page) for path in ("/ap-southeast-1/", "/cn-beijing/", "/cn-beijing")]
    return {
        "url": [
            *pages,
            Route("/tool/user/info.json", user_info),
            Route("/data/api.json", console_api, methods=["POST"]),
        ],
        "rpc_url": [Route("/data/api.json", rpc, methods=["POST"])],
    }
