"""The simulator's xai endpoints: the same protocol as the real services (loaded only by the simulator).

``url`` is api.x.ai/v1: ``GET /api-key`` with ``Bearer <API key>`` answers the key's info (its
``team_id``); an unknown key is HTTP 400, as xAI documents. ``management_url`` is
management-api.x.ai: ``Bearer <management key>``; a team the key does not belong to is HTTP 404;
``POST .../usage`` checks the analytics query (day buckets of summed ``usd``, a UTC time range).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import API_KEY_PATH, PROVIDER

TOPPED_UP_CENTS = 50_000
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def team_of(account: str) -> str:
    return "team-sim" if account == "default" else f"team-sim-{account}"


def _day_spend(account: str, day: datetime) -> float:
    """Dollars spent by the team on one UTC day; past days stay put."""
    return (zlib.crc32(f"{account}:{day.date()}".encode()) % 900) / 100


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def api_key(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            return JSONResponse(
                {"error": "Bad request. The request is invalid or an invalid API key is provided."}, status_code=400
            )
        created = int((sim.now() - timedelta(days=40)).timestamp())
        return JSONResponse(
            {
                "acls": ["api-key:endpoint:*", "api-key:model:*"],
                "api_key_blocked": False,
                "api_key_disabled": account == "disabled",
                "api_key_id": f"key-{account}",
                "create_time": str(created),
                "modified_by": "user-sim",
                "modify_time": str(created),
                "name": "agentgauge demo",
                "redacted_api_key": "xai-****key",
                "team_blocked": False,
                "team_id": team_of(account),
                "user_id": "user-sim",
            }
        )

    def management(request: Request) -> tuple[str | None, Response | None]:
        account = sim.bearer_account(request, PROVIDER.id, "management_key")
        if account is None:
            return None, JSONResponse({"code": 16, "error": "Invalid management key"}, status_code=401)
        if request.path_params["team"] != team_of(account):
            return None, JSONResponse({"code": 5, "error": "Team not found"}, status_code=404)
        return account, None

    async def balance(request: Request) -> Response:
        account, refused = management(request)
        if refused is not None or account is None:
            return refused or Response(status_code=500)
        pct, _ = sim.window(f"xai:{account}:prepaid", 30 * 86400)
        left = int(TOPPED_UP_CENTS * (1 - pct / 100))
        changes = [{"amount": {"val": str(-TOPPED_UP_CENTS)}, "changeOrigin": "PURCHASE"}]
        return JSONResponse({"changes": changes, "total": {"val": str(-left)}})

    async def usage(request: Request) -> Response:
        account, refused = management(request)
        if refused is not None or account is None:
            return refused or Response(status_code=500)
        try:
            query = (await request.json())["analyticsRequest"]
            span = query["timeRange"]
            valid = (
                query["timeUnit"] == "TIME_UNIT_DAY"
                and query["values"] == [{"name": "usd", "aggregation": "AGGREGATION_SUM"}]
                and STAMP.match(span["startTime"])
                and STAMP.match(span["endTime"])
                and span.get("timezone")
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            return JSONResponse({"code": 3, "error": "invalid analytics request"}, status_code=400)
        start = datetime.strptime(span["startTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        end = datetime.strptime(span["endTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        points = []
        day = start
        while day <= end:
            points.append({"timestamp": day.strftime("%Y-%m-%dT%H:%M:%SZ"), "values": [_day_spend(account, day)]})
            day += timedelta(days=1)
        return JSONResponse({"timeSeries": [{"dataPoints": points}], "limitReached": account == "partial"})

    return {
        "url": [Route(API_KEY_PATH, api_key)],
        "management_url": [
            Route("/v1/billing/teams/{team}/prepaid/balance", balance),
            Route("/v1/billing/teams/{team}/usage", usage, methods=["POST"]),
        ],
    }
