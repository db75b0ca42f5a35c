"""The simulator's deepseek endpoints: the same protocol as the real services (loaded only by the simulator).

``url`` is api.deepseek.com: ``/user/balance`` takes ``Authorization: Bearer <API key>`` and answers a
bad key with HTTP 401 and an OpenAI-style error. ``platform_url`` is platform.deepseek.com's dashboard
API: ``Bearer <userToken>``; a bad session answers HTTP 200 with ``code: 40003`` (the envelope the
Platform uses), and the usage endpoints need ``month`` and ``year``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import AMOUNT_PATH, BALANCE_PATH, COST_PATH, PROVIDER, SUMMARY_PATH

TOPPED_UP = 40.0
GRANTED = 10.0
MODELS = ("deepseek-chat", "deepseek-reasoner")
PRICES = {"PROMPT_CACHE_HIT_TOKEN": 0.07e-6, "PROMPT_CACHE_MISS_TOKEN": 0.27e-6, "RESPONSE_TOKEN": 1.10e-6}


def _envelope(biz_data: Any) -> dict[str, Any]:
    return {"code": 0, "msg": "", "data": {"biz_code": 0, "biz_msg": "", "biz_data": biz_data}}


def _day_usage(account: str, day: date, model: str) -> dict[str, int]:
    """Tokens and requests of one model on one day; past days stay put."""
    seed = zlib.crc32(f"{account}:{day}:{model}".encode()) % 1000
    requests = 20 + seed
    return {
        "PROMPT_CACHE_HIT_TOKEN": requests * 900,
        "PROMPT_CACHE_MISS_TOKEN": requests * 300,
        "RESPONSE_TOKEN": requests * 150,
        "REQUEST": requests,
    }


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def spent(account: str) -> float:
        pct, _ = sim.window(f"deepseek:{account}:balance", 30 * 86400)
        return round((TOPPED_UP + GRANTED) * pct / 100, 2)

    def wallets(account: str) -> tuple[float, float]:
        """Paid and granted money left: the grant is spent first."""
        used = spent(account)
        granted = max(GRANTED - used, 0.0)
        return round(TOPPED_UP - max(used - GRANTED, 0.0), 2), round(granted, 2)

    async def balance(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            error = {
                "message": "Authentication Fails, Your api key is invalid",
                "type": "authentication_error",
                "param": None,
                "code": "invalid_request_error",
            }
            return JSONResponse({"error": error}, status_code=401)
        paid, granted = wallets(account)
        info = {
            "currency": "USD",
            "total_balance": f"{paid + granted:.2f}",
            "granted_balance": f"{granted:.2f}",
            "topped_up_balance": f"{paid:.2f}",
        }
        return JSONResponse({"is_available": paid + granted > 0, "balance_infos": [info]})

    def session(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "platform_token")

    def refused() -> Response:
        return JSONResponse({"code": 40003, "msg": "Authorization Failed (invalid token)", "data": None})

    async def summary(request: Request) -> Response:
        account = session(request)
        if account is None:
            return refused()
        paid, granted = wallets(account)
        return JSONResponse(
            _envelope(
                {
                    "normal_wallets": [{"balance": f"{paid:.2f}", "currency": "USD", "token_estimation": "0"}],
                    "bonus_wallets": [{"balance": f"{granted:.2f}", "currency": "USD", "token_estimation": "0"}],
                }
            )
        )

    def month(request: Request) -> tuple[int, int] | None:
        try:
            return int(request.query_params["year"]), int(request.query_params["month"])
        except (KeyError, ValueError):
            return None

    def days(year: int, month_no: int) -> list[date]:
        today = sim.now().date()
        if (year, month_no) != (today.year, today.month):
            return []
        return [date(year, month_no, d) for d in range(1, today.day + 1)]

    def rows(per_day: list[tuple[date, dict[str, dict[str, Any]]]]) -> dict[str, Any]:
        total: dict[str, dict[str, float]] = {}
        out_days = []
        for day, models in per_day:
            for model, usage in models.items():
                bucket = total.setdefault(model, {})
                for kind, value in usage.items():
                    bucket[kind] = bucket.get(kind, 0) + float(value)
            out_days.append(
                {
                    "date": day.isoformat(),
                    "data": [
                        {"model": m, "usage": [{"type": k, "amount": str(v)} for k, v in u.items()]}
                        for m, u in models.items()
                    ],
                }
            )
        return {
            "total": [
                {"model": m, "usage": [{"type": k, "amount": f"{v:g}"} for k, v in u.items()]} for m, u in total.items()
            ],
            "days": out_days,
        }

    async def amount(request: Request) -> Response:
        account, period = session(request), month(request)
        if account is None:
            return refused()
        if period is None:
            return JSONResponse({"code": 40000, "msg": "month and year are required", "data": None}, status_code=400)
        per_day = [(d, {m: _day_usage(account, d, m) for m in MODELS}) for d in days(*period)]
        return JSONResponse(_envelope(rows(per_day)))

    async def cost(request: Request) -> Response:
        account, period = session(request), month(request)
        if account is None:
            return refused()
        if period is None:
            return JSONResponse({"code": 40000, "msg": "month and year are required", "data": None}, status_code=400)
        per_day = []
        for d in days(*period):
            priced = {}
            for model in MODELS:
                usage = _day_usage(account, d, model)
                priced[model] = {k: f"{usage[k] * p:.10f}" for k, p in PRICES.items()} | {"REQUEST": "0"}
            per_day.append((d, priced))
        block = rows(per_day) | {"currency": "USD"}
        return JSONResponse(_envelope([block]))

    return {
        "url": [Route(BALANCE_PATH, balance)],
        "platform_url": [Route(SUMMARY_PATH, summary), Route(AMOUNT_PATH, amount), Route(COST_PATH, cost)],
    }
