"""The simulator's opencode endpoints: ``/_server`` answering in seroval's ``text/javascript``
(loaded only by the simulator).

Like opencode.ai: the function id comes from ``?id=`` (GET) or ``X-Server-Id`` (POST), the
arguments from ``?args=`` or the JSON body; a request without the ``auth`` cookie gets the
"actor of type public" error object in a 200; an unknown function id is a 404. The account's
first workspace has a subscription (rolling and weekly usage); the second is pay-as-you-go
(``subscription.get`` resolves to null, billing carries the money).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import BILLING_FN, PROVIDER, SERVER_PATH, SUBSCRIPTION_FN, WORKSPACES_FN


def _seroval(instance: str, value: str) -> str:
    body = f'((self.$R=self.$R||{{}})["{instance}"]=[],{value})'
    return f";0x{len(body):08x};{body}"


def _ref(instance: str, value: str) -> str:
    return f'($R=>$R[0]={value})($R["{instance}"])'


def workspace_ids(account: str) -> tuple[str, str]:
    tag = "".join(ch for ch in account.upper() if ch.isalnum()) or "X"
    return f"wrk_01SIM{tag}SUB", f"wrk_01SIM{tag}PAYG"


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def answer(request: Request, text: str, status: int = 200) -> Response:
        return PlainTextResponse(text, status_code=status, media_type="text/javascript")

    async def server(request: Request) -> Response:
        instance = request.headers.get("x-server-instance") or "server-fn:0"
        if request.method == "GET":
            function = request.query_params.get("id") or ""
            raw_args = request.query_params.get("args")
        else:
            function = request.headers.get("x-server-id") or ""
            raw_args = (await request.body()).decode() or None
        if function not in (WORKSPACES_FN, SUBSCRIPTION_FN, BILLING_FN):
            return PlainTextResponse("Not Found", status_code=404)
        try:
            args = orjson.loads(raw_args) if raw_args else []
        except orjson.JSONDecodeError:
            return answer(request, _seroval(instance, _ref(instance, 'new Error("Invalid arguments")')), 500)
        account = sim.cookie_account(request, PROVIDER.id, "cookie", "auth") or sim.cookie_account(
            request, PROVIDER.id, "cookie", "__Host-auth"
        )
        if account is None:
            error = (
                'Object.assign(new Error("actor of type \\"public\\" is not associated with an account"),'
                '{stack:"Error: actor of type \\"public\\" is not associated with an account"})'
            )
            return answer(request, _seroval(instance, _ref(instance, error)))
        subscribed, payg = workspace_ids(account)
        if function == WORKSPACES_FN:
            listed = ",".join(
                f'$R[{i + 1}]={{id:"{wid}",name:"{name}",slug:null}}'
                for i, (wid, name) in enumerate(((subscribed, "Default"), (payg, "Side projects")))
            )
            return answer(request, _seroval(instance, _ref(instance, f"[{listed}]")))
        workspace = args[0] if isinstance(args, list) and args else None
        if workspace not in (subscribed, payg):
            return answer(request, _seroval(instance, "null"))
        if function == SUBSCRIPTION_FN:
            if workspace == payg:
                return answer(request, _seroval(instance, "null"))
            rolling, rolling_reset = sim.window(f"opencode:{account}:rolling", 18000)
            weekly, weekly_reset = sim.window(f"opencode:{account}:weekly", 604800)
            now = sim.now()
            value = (
                f'{{rollingUsage:$R[1]={{status:"ok",resetInSec:{int((rolling_reset - now).total_seconds())},'
                f"usagePercent:{round(rolling)}}},"
                f'weeklyUsage:$R[2]={{status:"ok",resetInSec:{int((weekly_reset - now).total_seconds())},'
                f"usagePercent:{round(weekly)}}}}}"
            )
            return answer(request, _seroval(instance, _ref(instance, value)))
        spent_pct, _ = sim.window(f"opencode:{account}:spend", 30 * 86400, high=85)
        subscription = "null" if workspace == payg else '$R[3]={id:"sub_SIM"}'
        value = (
            f'{{customerID:"cus_SIM",paymentMethodID:"pm_SIM",paymentMethodType:"card",paymentMethodLast4:"4242",'
            f"balance:{round((25 - 20 * spent_pct / 100) * 1e8)},reload:!1,reloadAmount:20,monthlyLimit:20,"
            f"monthlyUsage:{round(20 * spent_pct / 100 * 1e8)},"
            f'timeMonthlyUsageUpdated:$R[1]=new Date("{iso(sim.now())}"),reloadError:null,'
            f"subscription:{subscription},subscriptionID:null,lite:$R[2]={{}}}}"
        )
        return answer(request, _seroval(instance, _ref(instance, value)))

    async def billing_page(request: Request) -> Response:
        """The workspace billing page: SSR HTML whose hydration scripts carry the billing and usage objects
        in seroval (``$R[n]=`` indices differ from the server functions', as they do between deploys)."""
        if "text/html" not in request.headers.get("accept", ""):
            return PlainTextResponse("Not Acceptable", status_code=406)
        account = sim.cookie_account(request, PROVIDER.id, "cookie", "auth") or sim.cookie_account(
            request, PROVIDER.id, "cookie", "__Host-auth"
        )
        if account is None:  # the real site serves its sign-in page, not a 401
            return HTMLResponse(LOGIN_PAGE)
        subscribed, payg = workspace_ids(account)
        workspace = request.path_params["workspace"]
        if workspace not in (subscribed, payg):
            return HTMLResponse("<!DOCTYPE html><html><head><title>Not Found</title></head></html>", status_code=404)
        now = sim.now()
        spent_pct, _ = sim.window(f"opencode:{account}:spend", 30 * 86400, high=85)
        if workspace == subscribed:
            rolling, rolling_reset = sim.window(f"opencode:{account}:rolling", 18000)
            weekly, weekly_reset = sim.window(f"opencode:{account}:weekly", 604800)
            usage = (
                f'{{plan:"200",useBalance:!1,rollingUsage:$R[52]={{status:"ok",'
                f"resetInSec:{int((rolling_reset - now).total_seconds())},usagePercent:{round(rolling)}}},"
                f'weeklyUsage:$R[53]={{status:"ok",resetInSec:{int((weekly_reset - now).total_seconds())},'
                f"usagePercent:{round(weekly)}}}}}"
            )
            subscription = '$R[44]={plan:"200",seats:1,status:"active"}'
        else:
            usage = "{plan:null,useBalance:!0,rollingUsage:null,weeklyUsage:null}"
            subscription = "null"
        subscription_id = '"sub_SIM"' if workspace == subscribed else "null"
        billing = (
            f'{{customerID:"cus_SIM",paymentMethodID:"pm_SIM",balance:{round((25 - 20 * spent_pct / 100) * 1e8)},'
            f"reload:!1,monthlyLimit:{20 if workspace == payg else 'null'},"
            f"monthlyUsage:{round(20 * spent_pct / 100 * 1e8)},"
            f'timeMonthlyUsageUpdated:$R[43]=new Date("{iso(now)}"),subscription:{subscription},'
            f"subscriptionID:{subscription_id},lite:$R[45]={{}}}}"
        )
        html = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Billing | opencode</title></head>'
            '<body><div id="app"><h1>Billing</h1></div>'
            f"<script>self.$R=self.$R||{{}};$R[20]($R[11],$R[42]={billing});</script>"
            f"<script>$R[20]($R[12],$R[51]={usage});</script>"
            "</body></html>"
        )
        return HTMLResponse(html)

    return {
        "url": [
            Route(SERVER_PATH, server, methods=["GET", "POST"]),
            Route("/workspace/{workspace}/billing", billing_page, methods=["GET"]),
        ]
    }


LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>OpenAuth</title></head><body><form method=post>"
    "<input name=email><input name=password type=password></form></body></html>"
)
