"""The simulator's anthropic endpoints, checking what api.anthropic.com checks (loaded only by the simulator).

Every request needs ``x-api-key`` and ``anthropic-version`` (400 without it). Organization paths take
only an admin key (another valid key: 403 ``permission_error``; unknown: 401 ``authentication_error``);
``/v1/messages`` only an API key. The reports check ``starting_at`` (RFC 3339, or a plain UTC date for
``claude_code``), ``bucket_width`` and ``limit`` per endpoint and the ``group_by[]`` values each knows,
and serve at most eight daily buckets per page (``has_more``/``next_page``). Amounts are decimal strings
of cents. Errors use ``{"type": "error", "error": {type, message}}``. Demo account ``nocode`` has no
Claude Code (404 on that report).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import CLAUDE_CODE_PATH, COST_PATH, MESSAGES_PATH, PROVIDER, RATE_LIMITS_PATH, USAGE_PATH

PAGE = 8
MODELS = (("claude-sonnet-4-5-20250929", 0.7), ("claude-haiku-4-5-20251001", 0.3))
WIDTHS = {COST_PATH: {"1d": 31}, USAGE_PATH: {"1d": 31, "1h": 168, "1m": 1440}}
GROUPS = {
    COST_PATH: {"workspace_id", "description"},
    USAGE_PATH: {"api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo"},
}
USERS = ("dev1@example.com", "dev2@example.com")


def error(status: int, kind: str, message: str) -> Response:
    return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status_code=status)


def _cursor(offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(offset.to_bytes(8, "big")).decode()


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        return int.from_bytes(base64.urlsafe_b64decode(cursor.removeprefix("page_")), "big")
    except ValueError:
        return None


def _rfc3339(text: str | None) -> datetime | None:
    if not text or "T" not in text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else None


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def caller(request: Request, *, admin: bool) -> str | Response:
        if not request.headers.get("anthropic-version"):
            return error(400, "invalid_request_error", "anthropic-version: header is required")
        key = request.headers.get("x-api-key", "")
        admin_account = sim.account_of(PROVIDER.id, "admin_key", key)
        key_account = sim.account_of(PROVIDER.id, "api_key", key)
        if admin_account is None and key_account is None:
            return error(401, "authentication_error", "invalid x-api-key")
        if admin and admin_account is None:
            return error(403, "permission_error", "This endpoint requires an admin API key.")
        if not admin and key_account is None:
            return error(401, "authentication_error", "invalid x-api-key")
        return str(admin_account if admin else key_account)

    def spend_cents(account: str) -> float:
        pct, _ = sim.window(f"anthropic:{account}:spend", 30 * 86400, high=90)
        return 50_000 * pct / 100  # up to $500 a month

    def paged(buckets: list[dict[str, Any]], offset: int, limit: int) -> Response:
        size = min(limit, PAGE)
        chunk = buckets[offset : offset + size]
        more = offset + size < len(buckets)
        return JSONResponse({"data": chunk, "has_more": more, "next_page": _cursor(offset + size) if more else None})

    def report_query(request: Request, path: str) -> dict[str, Any] | Response:
        query = request.query_params
        start = _rfc3339(query.get("starting_at"))
        if start is None:
            return error(400, "invalid_request_error", "starting_at: must be an RFC 3339 timestamp")
        width = query.get("bucket_width", "1d")
        if width not in WIDTHS[path]:
            return error(400, "invalid_request_error", f"bucket_width: '{width}' is not supported here")
        limit = int(query["limit"]) if (query.get("limit") or "").isdigit() else 7
        if not 1 <= limit <= WIDTHS[path][width]:
            return error(400, "invalid_request_error", f"limit: must be between 1 and {WIDTHS[path][width]}")
        groups = query.getlist("group_by[]")
        if any(g not in GROUPS[path] for g in groups):
            return error(400, "invalid_request_error", "group_by[]: unknown value")
        offset = _offset(query.get("page"))
        if offset is None:
            return error(400, "invalid_request_error", "page: invalid cursor")
        first = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        days = [first + timedelta(days=n) for n in range(max(1, (sim.now() - first).days + 1))][:400]
        weights = [1 + n % 4 for n in range(len(days))]
        shares = [(d, w / sum(weights)) for d, w in zip(days, weights, strict=True)]
        return {"shares": shares, "groups": groups, "limit": limit, "offset": offset}

    async def cost_report(request: Request) -> Response:
        account = caller(request, admin=True)
        if isinstance(account, Response):
            return account
        query = report_query(request, COST_PATH)
        if isinstance(query, Response):
            return query
        total = spend_cents(account)
        buckets = []
        for day, share in query["shares"]:
            if "description" in query["groups"]:
                rows = [
                    {"model": model, "cost_type": "tokens", "token_type": kind, "cents": total * share * cut * part}
                    for model, cut in MODELS
                    for kind, part in (("uncached_input_tokens", 0.4), ("output_tokens", 0.6))
                ]
            else:
                rows = [{"model": None, "cost_type": None, "token_type": None, "cents": total * share}]
            results = [
                {
                    "currency": "USD",
                    "amount": f"{row['cents']:.4f}",
                    "workspace_id": None,
                    "description": f"{row['model']} {row['token_type']}" if row["model"] else None,
                    "cost_type": row["cost_type"],
                    "context_window": "0-200k" if row["model"] else None,
                    "model": row["model"],
                    "service_tier": "standard" if row["model"] else None,
                    "token_type": row["token_type"],
                }
                for row in rows
            ]
            buckets.append({"starting_at": iso(day), "ending_at": iso(day + timedelta(days=1)), "results": results})
        return paged(buckets, query["offset"], query["limit"])

    async def usage_report(request: Request) -> Response:
        account = caller(request, admin=True)
        if isinstance(account, Response):
            return account
        query = report_query(request, USAGE_PATH)
        if isinstance(query, Response):
            return query
        tokens = spend_cents(account) * 1500
        buckets = []
        for day, share in query["shares"]:
            split = MODELS if "model" in query["groups"] else ((None, 1.0),)
            results = []
            for model, cut in split:
                count = tokens * share * cut
                results.append(
                    {
                        "uncached_input_tokens": round(count * 0.3),
                        "cache_creation": {
                            "ephemeral_1h_input_tokens": 0,
                            "ephemeral_5m_input_tokens": round(count * 0.1),
                        },
                        "cache_read_input_tokens": round(count * 0.5),
                        "output_tokens": round(count * 0.1),
                        "server_tool_use": {"web_search_requests": 0},
                        "model": model,
                        "api_key_id": None,
                        "workspace_id": None,
                        "service_tier": None,
                    }
                )
            buckets.append({"starting_at": iso(day), "ending_at": iso(day + timedelta(days=1)), "results": results})
        return paged(buckets, query["offset"], query["limit"])

    async def claude_code(request: Request) -> Response:
        account = caller(request, admin=True)
        if isinstance(account, Response):
            return account
        text = request.query_params.get("starting_at") or ""
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return error(400, "invalid_request_error", "starting_at: must be a date (YYYY-MM-DD)")
        if "T" in text:
            return error(400, "invalid_request_error", "starting_at: must be a date (YYYY-MM-DD)")
        limit = int(request.query_params["limit"]) if (request.query_params.get("limit") or "").isdigit() else 20
        if not 1 <= limit <= 1000:
            return error(400, "invalid_request_error", "limit: must be between 1 and 1000")
        if account == "nocode":
            return error(404, "not_found_error", "No Claude Code usage for this organization.")
        pct, _ = sim.window(f"anthropic:{account}:code", 86400, high=80)
        rows = []
        for n, user in enumerate(USERS):
            cents = 2000 * pct / 100 * (0.65 if n == 0 else 0.35)
            rows.append(
                {
                    "date": f"{day.isoformat()}T00:00:00Z",
                    "actor": {"type": "user_actor", "email_address": user},
                    "organization_id": "12345678-1234-5678-1234-567812345678",
                    "customer_type": "api",
                    "terminal_type": "vscode",
                    "core_metrics": {
                        "num_sessions": 3 + n,
                        "lines_of_code": {"added": 120, "removed": 40},
                        "commits_by_claude_code": 2,
                        "pull_requests_by_claude_code": 1,
                    },
                    "model_breakdown": [
                        {
                            "model": MODELS[0][0],
                            "tokens": {"input": 1000, "output": 500, "cache_read": 20000, "cache_creation": 800},
                            "estimated_cost": {"currency": "USD", "amount": round(cents, 2)},
                        }
                    ],
                }
            )
        return JSONResponse({"data": rows, "has_more": False, "next_page": None})

    async def rate_limits(request: Request) -> Response:
        account = caller(request, admin=True)
        if isinstance(account, Response):
            return account
        data = [
            {
                "type": "rate_limit",
                "id": f"rl_{n}",
                "group": {"type": "model_group"},
                "group_type": "model_group",
                "models": [model],
                "limits": [
                    {"type": "requests_per_minute", "value": 4000},
                    {"type": "input_tokens_per_minute", "value": 2_000_000 if n else 400_000},
                    {"type": "output_tokens_per_minute", "value": 400_000 if n else 80_000},
                ],
            }
            for n, (model, _) in enumerate(MODELS)
        ]
        return JSONResponse({"data": data, "next_page": None})

    async def messages(request: Request) -> Response:
        account = caller(request, admin=False)
        if isinstance(account, Response):
            return account
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return error(400, "invalid_request_error", "The request body is not valid JSON.")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return error(400, "invalid_request_error", "model: Field required")
        if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
            return error(400, "invalid_request_error", "max_tokens: Field required")
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return error(400, "invalid_request_error", "messages: at least one message is required")
        now = sim.now()
        headers: dict[str, str] = {}
        for name, limit in (("requests", 4000), ("input-tokens", 400_000), ("output-tokens", 80_000)):
            pct, _ = sim.window(f"anthropic:{account}:{name}", 60, high=75)
            # A continuously refilling bucket: full again in proportion to what is used.
            full_in = timedelta(seconds=max(1, round(60 * pct / 100)))
            headers[f"anthropic-ratelimit-{name}-limit"] = str(limit)
            headers[f"anthropic-ratelimit-{name}-remaining"] = str(round(limit * (1 - pct / 100)))
            headers[f"anthropic-ratelimit-{name}-reset"] = iso((now + full_in).replace(microsecond=0))
        answer = {
            "id": "msg_sim",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": "Hi"}],
            "stop_reason": "max_tokens",
            "usage": {"input_tokens": 8, "output_tokens": 1},
        }
        return JSONResponse(answer, headers=headers)

    return {
        "url": [
            Route(COST_PATH, cost_report, methods=["GET"]),
            Route(USAGE_PATH, usage_report, methods=["GET"]),
            Route(CLAUDE_CODE_PATH, claude_code, methods=["GET"]),
            Route(RATE_LIMITS_PATH, rate_limits, methods=["GET"]),
            Route(MESSAGES_PATH, messages, methods=["POST"]),
        ]
    }


def demo_settings(sim_url: str, workdir: Any) -> dict[str, str]:
    """The demo shows the opt-in rate-limit call too (free against the simulator)."""
    return {"probe": "on"}
