"""Pure reading of OpenRouter's ``/key``, ``/credits`` and ``/activity`` payloads (money in US dollars)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from ...errors import AuthError, ParseError, ProviderError, RateLimitedError, UpstreamError
from ...models import Balance, Breakdown, BreakdownItem, Window
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time
from .._time import next_reset

# ``limit_reset`` values; OpenRouter resets at midnight UTC, weeks run Monday to Sunday.
PERIOD_SECONDS: dict[str, int | None] = {"daily": 86400, "weekly": 604800, "monthly": None}
PERIOD_WORDS = {"daily": "today", "weekly": "this week", "monthly": "this month"}


def envelope_error(root: dict[str, Any], what: str) -> ProviderError | None:
    """OpenRouter's error body ``{"error": {"code", "message"}}`` as a typed error (it can come with HTTP 200)."""
    error = root.get("error")
    if error is None or "data" in root:
        return None
    body = obj(error)
    try:
        code = opt_num(body.get("code"), "error.code")
    except ParseError:
        code = None  # a word instead of a number: still an error, just without a code
    message = (opt_str(body.get("message")) or opt_str(error) or "request failed")[:200]
    text = f"OpenRouter: {what} request failed ({int(code) if code is not None else '?'}): {message}"
    if code in (401, 403):
        return AuthError(text, status_code=int(code))
    if code == 429:
        return RateLimitedError(text)
    return UpstreamError(text, status_code=int(code) if code is not None else None)


def _data(root: Any, what: str) -> dict[str, Any]:
    if not isinstance(root, dict):
        raise ParseError(f"OpenRouter: {what} response is not an object", field="$")
    error = envelope_error(root, what)
    if error is not None:
        raise error
    data = root.get("data")
    if not isinstance(data, dict):
        raise ParseError(f"OpenRouter: {what} response has no 'data' object", field="data")
    return data


def key_parts(root: Any, now: datetime) -> tuple[list[Window], list[Balance], str | None]:
    """The ``/key`` answer: a limit with a ``limit_reset`` period is a window; a limit without one is a
    balance; the key's spend today / this week / this month are balances of what was spent."""
    data = _data(root, "key")
    limit = opt_num(data.get("limit"), "data.limit")
    remaining = opt_num(data.get("limit_remaining"), "data.limit_remaining")
    period = (opt_str(data.get("limit_reset")) or "").lower()
    period = period if period in PERIOD_SECONDS else ""
    total = opt_num(data.get("usage"), "data.usage")
    spend = {p: opt_num(data.get(f"usage_{p}"), f"data.usage_{p}") for p in PERIOD_SECONDS}
    windows: list[Window] = []
    balances: list[Balance] = []
    if limit is not None and limit > 0:
        if remaining is not None:
            used: float | None = max(limit - remaining, 0.0)  # limit_remaining can go below zero
        else:
            used = spend.get(period) if period else total
        if period:
            if used is None:
                raise ParseError(
                    "OpenRouter: key limit has neither limit_remaining nor usage", field="data.limit_remaining"
                )
            windows.append(
                Window(
                    id=f"key_{period}",
                    label=f"API key limit ({period})",
                    used_pct=round(used / limit * 100.0, 4),
                    resets_at=next_reset(period, now),
                    window_seconds=PERIOD_SECONDS[period],
                    used=used,
                    limit=limit,
                    unit="usd",
                )
            )
        else:
            balances.append(
                Balance(
                    id="key_limit",
                    label="API key limit",
                    unit="usd",
                    remaining=remaining if remaining is not None else (limit - used if used is not None else None),
                    used=used,
                    limit=limit,
                    expires_at=opt_time(data.get("expires_at"), "data.expires_at"),
                )
            )
    for name, value in spend.items():
        if value is None or (name == period and windows):
            continue  # the limit window already shows this period's spend
        balances.append(
            Balance(
                id=f"spend_{name}",
                label=f"API key spend {PERIOD_WORDS[name]}",
                unit="usd",
                used=value,
                period=name,
                resets_at=next_reset(name, now),
            )
        )
    plan = "Free tier" if data.get("is_free_tier") is True else None
    return windows, balances, plan


def credits_balance(root: Any) -> Balance:
    """``/credits``: everything ever purchased and used; the balance is their difference."""
    data = _data(root, "credits")
    total = opt_num(data.get("total_credits"), "data.total_credits")
    used = opt_num(data.get("total_usage"), "data.total_usage")
    if total is None or used is None:
        field = "data.total_credits" if total is None else "data.total_usage"
        raise ParseError(f"OpenRouter: credits response has no '{field}'", field=field)
    return Balance(id="credits", label="Credits", unit="usd", remaining=round(total - used, 6), used=used, limit=total)


def activity_breakdowns(root: Any, salvage: Salvage) -> list[Breakdown]:
    """``/activity`` (last 30 completed UTC days, one row per day x model x endpoint): spend per day and
    per model, BYOK inference spend included. One malformed row is a warning, not the end."""
    if not isinstance(root, dict) or not isinstance(root.get("data"), list):
        raise ParseError("OpenRouter: activity response has no 'data' list", field="data")

    def row(index: int, entry: dict[str, Any]) -> tuple[str, str, float]:
        where = f"data[{index}]"
        day = opt_str(entry.get("date"))
        if day is None:
            raise ParseError(f"OpenRouter: activity row has no '{where}.date'", field=f"{where}.date")
        cost = opt_num(entry.get("usage"), f"{where}.usage")
        if cost is None:
            raise ParseError(f"OpenRouter: activity row has no '{where}.usage'", field=f"{where}.usage")
        cost += opt_num(entry.get("byok_usage_inference"), f"{where}.byok_usage_inference") or 0.0
        model = opt_str(entry.get("model")) or opt_str(entry.get("model_permaslug")) or "unknown"
        return day[:10], model, cost

    per_day: defaultdict[str, float] = defaultdict(float)
    per_model: defaultdict[str, float] = defaultdict(float)
    for day, model, cost in salvage.each(items(root["data"]), row):
        per_day[day] += cost
        per_model[model] += cost
    days = tuple(BreakdownItem(key=d, value=round(v, 6)) for d, v in sorted(per_day.items()))
    models = tuple(
        BreakdownItem(key=m, value=round(v, 6)) for m, v in sorted(per_model.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return [
        Breakdown(id="spend_per_day", label="Spend per day (30 days)", unit="usd", items=days),
        Breakdown(id="spend_per_model", label="Spend per model (30 days)", unit="usd", items=models),
    ]
