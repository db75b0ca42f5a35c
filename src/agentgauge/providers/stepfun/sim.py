"""The simulator's stepfun endpoints: the same protocol as platform.stepfun.com (loaded only by the simulator).

The dashboard calls take the ``Oasis-Token`` cookie; the token's ``device_id`` must come back as the
``oasis-webid`` header (else "oasis-token is embezzled"), and an unknown or expired token is refused,
all with HTTP 401. The password login is the web app's: ``GET /`` sets ``INGRESSCOOKIE``;
``RegisterDevice`` (with it and an ``oasis-webid``) hands out an anonymous token for that device;
``SignInByPassword`` (with both, the anonymous token, the username and password) the user's.
Demo account ``credit`` is on the Token Plan (a monthly credit pool).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import PLAN_STATUS_PATH, PROVIDER, RATE_LIMIT_PATH, REGISTER_PATH, SIGN_IN_PATH
from .parsing import device_id, halves


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    issued: dict[str, tuple[str | None, float]] = {}  # token -> (account or None when anonymous, exp)
    ingress: set[str] = set()

    def mint(account: str | None, device: str, lifetime: timedelta) -> str:
        exp = (sim.now() + lifetime).timestamp()
        pair = []
        for kind in ("access", "refresh"):
            claims = {"device_id": device, "exp": int(exp), "typ": kind, "jti": secrets.token_hex(6)}
            pair.append(f"{_b64({'alg': 'HS256'})}.{_b64(claims)}.{secrets.token_hex(8)}")
        token = "...".join(pair)
        issued[token] = (account, exp)
        return token

    def refused(message: str) -> Response:
        return JSONResponse({"status": 0, "code": 401, "message": message}, status_code=401)

    def session(request: Request) -> tuple[str | None, Response | None]:
        token = request.cookies.get("Oasis-Token") or ""
        account = sim.account_of(PROVIDER.id, "cookie", token)
        if account is None and token in issued:
            owner, exp = issued[token]
            if owner is None or exp <= sim.now().timestamp():
                return None, refused("auth failed: oasis-token expired")
            account = owner
        if account is None:
            return None, refused("auth failed: invalid oasis-token")
        if request.headers.get("oasis-webid") != device_id(token) or request.headers.get("oasis-appid") != "10300":
            return None, refused("auth failed: oasis-token is embezzled")
        return account, None

    async def home(request: Request) -> Response:
        value = secrets.token_hex(8)
        ingress.add(value)
        response = HTMLResponse("<!doctype html><html><body>StepFun</body></html>")
        response.set_cookie("INGRESSCOOKIE", value, httponly=True)
        return response

    async def register(request: Request) -> Response:
        webid = request.headers.get("oasis-webid")
        if request.cookies.get("INGRESSCOOKIE") not in ingress or not webid:
            return JSONResponse({"status": 0, "message": "bad request"}, status_code=400)
        token = mint(None, webid, timedelta(hours=1))
        access, refresh = halves(token)
        return JSONResponse({"accessToken": {"raw": access}, "refreshToken": {"raw": refresh}})

    async def sign_in(request: Request) -> Response:
        anonymous = request.cookies.get("Oasis-Token") or ""
        if request.cookies.get("INGRESSCOOKIE") not in ingress or issued.get(anonymous, ("x", 0))[0] is not None:
            return JSONResponse({"status": 0, "message": "bad request"}, status_code=400)
        if request.headers.get("oasis-webid") != device_id(anonymous):
            return refused("auth failed: oasis-token is embezzled")
        try:
            body = await request.json()
        except ValueError:
            body = {}
        account = sim.account_of(PROVIDER.id, "password", str(body.get("password", "")))
        if body.get("username") != sim.credential(PROVIDER.id, "username") or account is None:
            return refused("wrong username or password")
        access, refresh = halves(mint(account, device_id(anonymous) or "", timedelta(days=1)))
        return JSONResponse({"accessToken": {"raw": access}, "refreshToken": {"raw": refresh}})

    async def rate_limit(request: Request) -> Response:
        account, problem = session(request)
        if problem is not None or account is None:
            return problem or refused("auth failed")
        if account == "credit":
            pct, resets = sim.window(f"stepfun:{account}:credits", 30 * 86400)
            left = round(1 - pct / 100, 6)
            return JSONResponse(
                {
                    "status": 1,
                    "five_hour_usage_left_rate": 0,
                    "five_hour_usage_reset_time": "0",
                    "weekly_usage_left_rate": 0,
                    "weekly_usage_reset_time": "0",
                    "plan_family": 2,
                    "plan_credit_rate_limit": {
                        "subscription_credit_left_rate": left,
                        "subscription_credit_reset_time": str(int(resets.timestamp())),
                        "topup_credit_left_rate": 0,
                        "credit_buckets": [
                            {
                                "type": 1,
                                "credit_total": "400000000",
                                "credit_residual": str(int(400000000 * left)),
                                "next_reset_at": str(int(resets.timestamp())),
                            }
                        ],
                    },
                }
            )
        session_pct, session_reset = sim.window(f"stepfun:{account}:session", 18000)
        weekly_pct, weekly_reset = sim.window(f"stepfun:{account}:weekly", 7 * 86400)
        return JSONResponse(
            {
                "status": 1,
                "desc": "",
                "five_hour_usage_left_rate": round(1 - session_pct / 100, 6),
                "five_hour_usage_reset_time": str(int(session_reset.timestamp())),
                "weekly_usage_left_rate": round(1 - weekly_pct / 100, 6),
                "weekly_usage_reset_time": str(int(weekly_reset.timestamp())),
            }
        )

    async def plan_status(request: Request) -> Response:
        account, problem = session(request)
        if problem is not None or account is None:
            return problem or refused("auth failed")
        name = "Mini" if account == "credit" else "Plus"
        return JSONResponse({"status": 1, "subscription": {"name": name, "plan_type": 2, "status": 1}})

    return {
        "url": [
            Route("/", home),
            Route(REGISTER_PATH, register, methods=["POST"]),
            Route(SIGN_IN_PATH, sign_in, methods=["POST"]),
            Route(RATE_LIMIT_PATH, rate_limit, methods=["POST"]),
            Route(PLAN_STATUS_PATH, plan_status, methods=["POST"]),
        ]
    }
