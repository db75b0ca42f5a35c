"""The simulator's opencodego endpoints: the same protocol as the real service (loaded only by the simulator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import PROVIDER, SERVER_PATH, USAGE_PATH
from .web import WORKSPACES_FUNCTION

WORKSPACE = "wrk_01SIMGOWORKSPACE0000000000"
LENGTHS = {"rolling": 18000, "weekly": 604800, "monthly": 30 * 86400}
SIGNED_OUT = (
    ';0x00000263;((self.$R=self.$R||{})["server-fn:sim"]=[],'
    '($R=>$R[0]=Object.assign(new Error("actor of type \\"public\\" is not associated with an account"),'
    '{stack:"Error: actor of type \\"public\\" is not associated with an account"}))($R["server-fn:sim"]))'
)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def meters(account: str) -> dict[str, tuple[float, Any]]:
        return {name: sim.window(f"opencodego:{account}:{name}", seconds) for name, seconds in LENGTHS.items()}

    def web_account(request: Request) -> str | None:
        value = request.cookies.get("auth") or request.cookies.get("__Host-auth")
        return sim.account_of(PROVIDER.id, "cookie", f"auth={value}") if value else None

    async def usage(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = {name: {"percent": round(pct), "resetsAt": iso(reset)} for name, (pct, reset) in meters(account).items()}
        return JSONResponse({"usage": body})

    async def server(request: Request) -> Response:
        if (
            request.query_params.get("id") != WORKSPACES_FUNCTION
            or request.headers.get("x-server-id") != WORKSPACES_FUNCTION
        ):
            return Response("Server function not found", status_code=404, media_type="text/plain")
        account = web_account(request)
        if account is None:
            return Response(SIGNED_OUT, media_type="text/javascript")
        listed = (
            ';0x00000089;((self.$R=self.$R||{})["server-fn:sim"]=[],'
            f'($R=>$R[0]=[$R[1]={{id:"{WORKSPACE}",name:"Default",slug:null}}])($R["server-fn:sim"]))'
        )
        return Response(listed, media_type="text/javascript")

    async def go_page(request: Request) -> Response:
        account = web_account(request)
        if account is None:
            return RedirectResponse("/auth/authorize", status_code=302)
        if request.path_params["workspace"] != WORKSPACE:
            return Response("<html><title>Not Found</title></html>", status_code=404, media_type="text/html")
        now = sim.now()
        parts = []
        for index, (name, (pct, reset)) in enumerate(meters(account).items()):
            seconds = max(0, int((reset - now).total_seconds()))
            parts.append(f'{name}Usage:$R[{28 + index}]={{status:"ok",resetInSec:{seconds},usagePercent:{round(pct)}}}')
        hydration = (
            f'_$HY.r["lite.subscription.get[\\"{WORKSPACE}\\"]"]=$R[17]=$R[2]($R[18]={{p:0,s:0,f:0}});'
            f"$R[24]($R[18],$R[27]={{mine:!0,useBalance:!1,{','.join(parts)}}});"
            '$R[40]={customerID:"cus_SIM",paymentMethodID:"pm_SIM",balance:1250000000,reload:!0,monthlyLimit:20};'
        )
        page = (
            "<!DOCTYPE html><html><head><title>OpenCode Go</title></head>"
            f"<body><main></main><script>{hydration}</script></body></html>"
        )
        return Response(page, media_type="text/html")

    return {
        "url": [
            Route(USAGE_PATH, usage),
            Route(SERVER_PATH, server),
            Route("/workspace/{workspace}/go", go_page),
        ]
    }
