"""The simulator's zed endpoint (loaded only by the simulator).

``GET /client/users/me`` wants ``Authorization: <user id> <access token>`` as the Zed editor
sends it (the token is the whole stored string) and answers the plan with its edit-prediction
meter; a wrong pair is an HTTP 401. ``default`` is on the free plan (a limited meter), the ``pro``
demo account has unlimited edit predictions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import PROVIDER, USER_PATH

LIMIT = 2000


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def me(request: Request) -> Response:
        user_id, _, token = request.headers.get("authorization", "").strip().partition(" ")
        account = sim.account_of(PROVIDER.id, "api_key", token.strip())
        if account is None or user_id != sim.credential(PROVIDER.id, "user_id"):
            return JSONResponse({"message": "Unauthorized"}, status_code=401)
        pct, end = sim.window(f"zed:{account}:predictions", 30 * 86400)
        pro = account == "pro"
        return JSONResponse(
            {
                "user": {"id": int(user_id), "github_login": "octocat", "name": "The Octocat"},
                "feature_flags": [],
                "plan": {
                    "plan_v3": "zed_pro" if pro else "zed_free",
                    "subscription_period": {"started_at": iso(end - timedelta(days=30)), "ended_at": iso(end)},
                    "usage": {
                        "edit_predictions": {
                            "used": round(LIMIT * pct / 100),
                            "limit": "unlimited" if pro else LIMIT,
                        }
                    },
                    "has_overdue_invoices": False,
                },
            }
        )

    return {"url": [Route(USER_PATH, me)]}
