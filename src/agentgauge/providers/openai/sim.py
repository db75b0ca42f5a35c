"""The simulator's openai endpoints, checking what api.openai.com checks (loaded only by the simulator).

Organization paths take only an admin key (``Bearer sk-admin-...``; another valid key gets 403,
an unknown one 401), need ``start_time`` as an integer, accept only the bucket widths and limits
each endpoint allows (costs: ``1d`` only, limit 1-180; usage: ``1m``/``1h``/``1d`` with their own
maxima) and ``group_by`` values it knows (as ``group_by`` or ``group_by[]``). Buckets are UTC days
from ``start_time`` to now, served at most eight per page with an opaque ``next_page``.
``/chat/completions`` takes only a project key and answers with the six ``x-ratelimit-*``
headers, resets as Go durations. Errors use OpenAI's ``{"error": {message, type, param, code}}``.
The demo account ``nolimit`` has no spend limit (404).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import COSTS_PATH, PROBE_PATH, PROVIDER, SPEND_LIMIT_PATH, USAGE_PATH

PAGE = 8
LIMIT_CENTS = 12000  # the default account's $120 hard limit
USAGE_WIDTHS = {"1d": 31, "1h": 168, "1m": 1440}
COST_GROUPS = {"project_id", "line_item", "api_key_id"}
USAGE_GROUPS = {"project_id", "user_id", "api_key_id", "model", "batch", "service_tier"}
LINE_ITEMS = (("gpt-4o-mini, input", 0.55), ("gpt-4o-mini, output", 0.35), ("Web search tool calls", 0.10))
MODELS = (("gpt-4o-mini-2024-07-18", 0.8), ("gpt-4.1-2025-04-14", 0.2))


def error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status)


def _cursor(offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(offset.to_bytes(8, "big")).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        return int.from_bytes(base64.urlsafe_b64decode(cursor.removeprefix("page_")), "big")
    except ValueError:
        return None


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def caller(request: Request, *, admin: bool) -> str | Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        admin_account = sim.account_of(PROVIDER.id, "admin_key", token)
        key_account = sim.account_of(PROVIDER.id, "api_key", token)
        if admin_account is None and key_account is None:
            return error(401, "Incorrect API key provided.", code="invalid_api_key")
        if admin and admin_account is None:
            return error(403, "This endpoint requires an admin API key.", code="insufficient_permissions")
        if not admin and key_account is None:
            return error(401, "Admin keys cannot be used for model requests.", code="invalid_api_key")
        return str(admin_account if admin else key_account)

    def month_spend(account: str) -> float:
        pct, _ = sim.window(f"openai:{account}:spend", 30 * 86400, high=88)
        return round(LIMIT_CENTS / 100 * pct / 100, 2)

    def days(start: int) -> list[datetime]:
        first = datetime.fromtimestamp(start, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        count = max(1, (sim.now() - first).days + 1)
        return [first + timedelta(days=n) for n in range(min(count, 400))]

    def checked(request: Request, widths: Mapping[str, int], groups: set[str]) -> dict[str, Any] | Response:
        query = request.query_params
        start = query.get("start_time")
        if start is None or not start.isdigit():
            return error(400, "start_time is required and must be an integer (Unix seconds)", code="invalid_value")
        width = query.get("bucket_width", "1d")
        if width not in widths:
            return error(400, f"Invalid bucket_width '{width}'", code="invalid_value")
        limit_text = query.get("limit")
        limit = int(limit_text) if limit_text and limit_text.isdigit() else 7
        if not 1 <= limit <= widths[width]:
            return error(400, f"limit must be between 1 and {widths[width]}", code="invalid_value")
        wanted = query.getlist("group_by") + query.getlist("group_by[]")
        unknown = [g for g in wanted if g not in groups]
        if unknown:
            return error(400, f"Invalid group_by value '{unknown[0]}'", code="invalid_value")
        offset = _offset(query.get("page"))
        if offset is None:
            return error(400, "Invalid page cursor", code="invalid_value")
        return {"start": int(start), "limit": limit, "groups": wanted, "offset": offset}

    def page(buckets: list[dict[str, Any]], offset: int, limit: int) -> Response:
        size = min(limit, PAGE)
        chunk = buckets[offset : offset + size]
        more = offset + size < len(buckets)
        return JSONResponse(
            {"object": "page", "data": chunk, "has_more": more, "next_page": _cursor(offset + size) if more else None}
        )

    def day_shares(start: int) -> list[tuple[datetime, float]]:
        listed = days(start)
        weights = [1.0 + (n % 3) for n in range(len(listed))]
        total = sum(weights)
        return [(day, w / total) for day, w in zip(listed, weights, strict=True)]

    async def spend_limit(request: Request) -> Response:
        account = caller(request, admin=True)
        if isinstance(account, Response):
            return account
        if account == "nolimit":
            return error(404, "No hard spend limit is set for this organization.", code="not_found")
        return JSONResponse(
            {
                "object": "organization.spend_limit",
                "threshold_amount": LIMIT_CENTS,
                "currency": "USD",
                "interval": "month",
                "enforcement": {"status": "inactive"},
            }
        )

    async def costs(request: Request) -> Response:
        account = caller(request, admin=True)
        if isinstance(account, Response):
            return account
        query = checked(request, {"1d": 180}, COST_GROUPS)
        if isinstance(query, Response):
            return query
        spend = month_spend(account)
        buckets = []
        for day, share in day_shares(query["start"]):
            parts: list[tuple[str | None, float]]
            if "line_item" in query["groups"]:
                parts = [(item, spend * share * cut) for item, cut in LINE_ITEMS]
            else:
                parts = [(None, spend * share)]
            results = [
                {
                    "object": "organization.costs.result",
                    "amount": {"value": round(value, 6), "currency": "usd"},
                    "line_item": item,
                    "project_id": None,
                }
                for item, value in parts
            ]
            start = int(day.timestamp())
            buckets.append({"object": "bucket", "start_time": start, "end_time": start + 86400, "results": results})
        return page(buckets, query["offset"], query["limit"])

    async def usage(request: Request) -> Response:
        account = caller(request, admin=True)
        if isinstance(account, Response):
            return account
        query = checked(request, USAGE_WIDTHS, USAGE_GROUPS)
        if isinstance(query, Response):
            return query
        tokens = round(month_spend(account) * 2_000_000)
        buckets = []
        for day, share in day_shares(query["start"]):
            models: tuple[tuple[str | None, float], ...] = MODELS if "model" in query["groups"] else ((None, 1.0),)
            results = []
            for model, cut in models:
                count = round(tokens * share * cut)
                results.append(
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": round(count * 0.8),
                        "input_cached_tokens": round(count * 0.3),
                        "output_tokens": count - round(count * 0.8),
                        "num_model_requests": max(1, count // 1500),
                        "model": model,
                        "project_id": None,
                    }
                )
            start = int(day.timestamp())
            buckets.append({"object": "bucket", "start_time": start, "end_time": start + 86400, "results": results})
        return page(buckets, query["offset"], query["limit"])

    async def chat(request: Request) -> Response:
        account = caller(request, admin=False)
        if isinstance(account, Response):
            return account
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return error(400, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return error(400, "you must provide a model parameter", code="missing_required_parameter")
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return error(400, "'messages' must be a non-empty array", code="invalid_value")
        cap = body.get("max_completion_tokens", body.get("max_tokens"))
        if cap is not None and (not isinstance(cap, int) or cap < 1):
            return error(400, "max_completion_tokens must be a positive integer", code="invalid_value")
        requests_pct, requests_reset = sim.window(f"openai:{account}:rpm", 60, high=70)
        tokens_pct, tokens_reset = sim.window(f"openai:{account}:tpm", 60, high=85)
        now = sim.now()
        headers = {
            "x-ratelimit-limit-requests": "5000",
            "x-ratelimit-limit-tokens": "4000000",
            "x-ratelimit-remaining-requests": str(round(5000 * (1 - requests_pct / 100))),
            "x-ratelimit-remaining-tokens": str(round(4_000_000 * (1 - tokens_pct / 100))),
            "x-ratelimit-reset-requests": f"{max(1, int((requests_reset - now).total_seconds() * 1000))}ms",
            "x-ratelimit-reset-tokens": _go((tokens_reset - now).total_seconds()),
        }
        answer = {
            "id": "chatcmpl-sim",
            "object": "chat.completion",
            "created": int(now.timestamp()),
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
        }
        return JSONResponse(answer, headers=headers)

    return {
        "url": [
            Route(SPEND_LIMIT_PATH, spend_limit, methods=["GET"]),
            Route(COSTS_PATH, costs, methods=["GET"]),
            Route(USAGE_PATH, usage, methods=["GET"]),
            Route(PROBE_PATH, chat, methods=["POST"]),
        ]
    }


def _go(seconds: float) -> str:
    """A Go duration as OpenAI prints it: ``1m30.5s``, ``45s``, ``340ms``. A window that is partly
    used never prints ``0s`` (OpenAI sends that only when the bucket is full again)."""
    if seconds < 1:
        return f"{max(1, int(seconds * 1000))}ms"
    minutes, rest = divmod(round(seconds, 3), 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".")
    return f"{int(minutes)}m{text}s" if minutes else f"{text}s"


def demo_settings(sim_url: str, workdir: Any) -> dict[str, str]:
    """The demo shows the opt-in rate-limit call too (it costs nothing against the simulator)."""
    return {"probe": "on"}
