"""The simulator's mistral endpoints: the same protocol as admin.mistral.ai and console.mistral.ai
(loaded only by the simulator).

The session is the ``ory_session_*`` cookie; a missing or wrong one is HTTP 401. The usage answer
needs ``month`` and ``year``. The console's ``billing.vibeUsage`` also wants the ``csrftoken``
cookie echoed in ``X-CSRFToken`` (HTTP 403 otherwise, as Django answers a CSRF failure).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import CREDITS_PATH, PROVIDER, USAGE_PATH, VIBE_PATH, cookie_pairs

MODELS = {
    "mistral-large-latest::mistral-large-2411": ("mistral-large-2411", "mistral-large-latest", 0.0000017, 0.0000051),
    "codestral-latest::codestral-2508": ("codestral-2508", "codestral-latest", 0.0000003, 0.0000009),
}
WALLET = 50.0


def _account(expected: str, presented: str | None) -> str | None:
    """``default`` for the simulator's session value, ``<name>`` for ``<value>#<name>``, else None."""
    if not presented:
        return None
    if presented == expected:
        return "default"
    if presented.startswith(expected + "#") and len(presented) > len(expected) + 1:
        return presented[len(expected) + 1 :]
    return None


def _units(account: str, day: date, metric: str, group: str) -> int:
    return 2000 + zlib.crc32(f"{account}:{day}:{metric}:{group}".encode()) % 400_000


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    expected = dict(cookie_pairs(sim.credential(PROVIDER.id, "cookie")))
    session_name = next(n for n in expected if n.startswith("ory_session_"))

    def account_of(request: Request) -> str | None:
        return _account(expected[session_name], request.cookies.get(session_name))

    def refused() -> Response:
        return JSONResponse({"detail": "Authentication credentials were not provided."}, status_code=401)

    def month_usage(account: str, year: int, month: int) -> tuple[dict[str, Any], float]:
        today = sim.now().date()
        days = (
            [date(year, month, d) for d in range(1, today.day + 1)]
            if (year, month) == (today.year, today.month)
            else []
        )
        models: dict[str, Any] = {}
        prices = []
        spend = 0.0
        for key, (metric, display, p_in, p_out) in MODELS.items():
            groups: dict[str, list[dict[str, Any]]] = {"input": [], "output": []}
            for group, price in (("input", p_in), ("output", p_out)):
                prices.append(
                    {
                        "event_type": "api_tokens",
                        "billing_metric": metric,
                        "billing_group": group,
                        "price": f"{price:.10f}",
                    }
                )
                for day in days:
                    units = _units(account, day, metric, group)
                    spend += units * price
                    groups[group].append(
                        {
                            "usage_type": "usage",
                            "event_type": "api_tokens",
                            "billing_metric": metric,
                            "billing_display_name": display,
                            "billing_group": group,
                            "timestamp": day.isoformat(),
                            "value": units,
                            "value_paid": units,
                        }
                    )
            models[key] = groups
        nxt = (year + 1, 1) if month == 12 else (year, month + 1)
        body = {
            "completion": {"models": models},
            "ocr": {"models": {}},
            "connectors": {"models": {}},
            "libraries_api": {"pages": {"models": {}}, "tokens": {"models": {}}},
            "fine_tuning": {"training": {}, "storage": {}},
            "audio": {"models": {}},
            "vibe_usage": 0.0,
            "date": f"{year:04d}-{month:02d}-01T00:00:00Z",
            "next_month": f"{nxt[0]:04d}-{nxt[1]:02d}",
            "start_date": f"{year:04d}-{month:02d}-01T00:00:00Z",
            "currency": "EUR",
            "currency_symbol": "€",
            "prices": prices,
        }
        return body, spend

    async def usage(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return refused()
        try:
            year, month = int(request.query_params["year"]), int(request.query_params["month"])
        except (KeyError, ValueError):
            return JSONResponse({"detail": "month and year are required"}, status_code=400)
        return JSONResponse(month_usage(account, year, month)[0])

    async def credits(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return refused()
        today = sim.now().date()
        _, spend = month_usage(account, today.year, today.month)
        return JSONResponse(
            {
                "wallet_amount": WALLET,
                "credit_notes_amount": 5.0,
                "ongoing_usage_balance": round(spend, 4),
                "currency": "EUR",
                "minimum_credits_purchase": 10,
                "maximum_credits_purchase": 1000,
            }
        )

    async def vibe(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return refused()
        csrf = request.cookies.get("csrftoken")
        if not csrf or request.headers.get("x-csrftoken") != csrf:
            return JSONResponse({"detail": "CSRF Failed: CSRF token missing or incorrect."}, status_code=403)
        pct, resets = sim.window(f"mistral:{account}:vibe", 30 * 86400)
        data = {
            "usage_percentage": pct,
            "quota_changed_this_month": False,
            "payg_enabled": False,
            "reset_at": iso(resets),
        }
        return JSONResponse([{"result": {"data": {"json": data}}}])

    return {
        "url": [Route(USAGE_PATH, usage), Route(CREDITS_PATH, credits)],
        "console_url": [Route(VIBE_PATH, vibe)],
    }
