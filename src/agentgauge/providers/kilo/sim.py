"""The simulator's kilo endpoints: the app's tRPC batch API (loaded only by the simulator).

Like the real server it answers per procedure inside one HTTP 200: a wrong token or an
organization the user is not in gives ``UNAUTHORIZED``/``FORBIDDEN`` entries, an unknown
procedure ``NOT_FOUND``; a missing or malformed ``input`` is a ``BAD_REQUEST``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import ORG_HEADER, PROVIDER, TRPC_PATH
from .parsing import CREDITS, ORGANIZATIONS, PASS, TOP_UP

ORGS = [
    {"id": "5b0f5c8e-2f4a-4b59-9a53-2b1c7e0d9a41", "name": "Acme", "role": "owner"},
    {"id": "0c3e7d52-8f16-4d7e-b1a2-6f9e4c2d8b17", "name": "Beta Labs", "role": "member"},
]


def _error(code: str, message: str, status: int, path: str) -> dict[str, Any]:
    return {
        "error": {
            "json": {"message": message, "code": -32001, "data": {"code": code, "httpStatus": status, "path": path}}
        }
    }


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "api_key") or sim.bearer_account(
            request, PROVIDER.id, "cli_token"
        )

    def credit_blocks(scope: str) -> dict[str, Any]:
        pct, _ = sim.window(f"kilo:{scope}:credits", 30 * 86400, low=5, high=80)
        now = sim.now()
        paid, free = 20_000_000, 5_000_000
        paid_left = round(paid * (1 - pct / 100))
        free_left = round(free * (1 - min(pct * 1.5, 100) / 100))
        return {
            "creditBlocks": [
                {
                    "id": f"cb-{scope}-paid",
                    "effective_date": iso(now - timedelta(days=40)),
                    "expiry_date": None,
                    "balance_mUsd": paid_left,
                    "amount_mUsd": paid,
                    "is_free": False,
                },
                {
                    "id": f"cb-{scope}-free",
                    "effective_date": iso(now - timedelta(days=3)),
                    "expiry_date": iso(now + timedelta(days=27)),
                    "balance_mUsd": free_left,
                    "amount_mUsd": free,
                    "is_free": True,
                },
            ],
            "totalBalance_mUsd": paid_left + free_left,
            "autoTopUpEnabled": False,
        }

    def pass_state(scope: str) -> dict[str, Any]:
        pct, reset = sim.window(f"kilo:{scope}:pass", 30 * 86400)
        return {
            "subscription": {
                "tier": "tier_49",
                "currentPeriodUsageUsd": round(73.5 * pct / 100, 2),
                "currentPeriodBaseCreditsUsd": 49.0,
                "currentPeriodBonusCreditsUsd": 24.5,
                "nextBillingAt": iso(reset),
            }
        }

    async def trpc(request: Request) -> Response:
        procedures = request.path_params["procedures"].split(",")
        if request.query_params.get("batch") != "1":
            return JSONResponse(_error("BAD_REQUEST", "batch=1 is required", 400, procedures[0]), status_code=400)
        try:
            batch_input = orjson.loads(request.query_params.get("input") or "")
        except orjson.JSONDecodeError:
            return JSONResponse(
                [_error("BAD_REQUEST", "input is not JSON", 400, p) for p in procedures], status_code=400
            )
        if not isinstance(batch_input, dict) or len(batch_input) != len(procedures):
            return JSONResponse(
                [_error("BAD_REQUEST", "one input per procedure", 400, p) for p in procedures], status_code=400
            )
        account = account_of(request)
        if account is None:
            return JSONResponse([_error("UNAUTHORIZED", "Unauthorized", 401, p) for p in procedures])
        org = request.headers.get(ORG_HEADER.lower())
        if org is not None and org not in {o["id"] for o in ORGS}:
            return JSONResponse([_error("FORBIDDEN", "Not a member of this organization", 403, p) for p in procedures])
        scope = f"{account}:{org or 'personal'}"
        answers = {
            CREDITS: lambda: credit_blocks(scope),
            PASS: lambda: pass_state(scope),
            TOP_UP: lambda: {"enabled": False, "amountCents": 5000, "paymentMethod": None},
            ORGANIZATIONS: lambda: ORGS,
        }
        out = []
        for procedure in procedures:
            answer = answers.get(procedure)
            if answer is None:
                out.append(_error("NOT_FOUND", f'No "query"-procedure on path "{procedure}"', 404, procedure))
            else:
                out.append({"result": {"data": {"json": answer()}}})
        return JSONResponse(out)

    return {"url": [Route(TRPC_PATH + "{procedures}", trpc)]}
