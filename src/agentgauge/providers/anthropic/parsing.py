"""Pure parsing of Anthropic's Admin API reports and of the ``anthropic-ratelimit-*`` headers.

- ``GET /v1/organizations/cost_report`` (``group_by[]=description``): daily buckets ``{starting_at,
  ending_at (RFC 3339), results: [{amount, currency, cost_type, model, token_type, description...}]}``;
  ``amount`` is a **decimal string in cents** ("123.45" = $1.2345).
- ``GET /v1/organizations/usage_report/messages`` (``group_by[]=model``): ``uncached_input_tokens``,
  ``cache_creation: {ephemeral_1h_input_tokens, ephemeral_5m_input_tokens}``,
  ``cache_read_input_tokens``, ``output_tokens`` per model.
- ``GET /v1/organizations/usage_report/claude_code`` (one UTC day): rows per actor (``user_actor``
  with ``email_address`` or ``api_actor`` with ``api_key_name``) with ``model_breakdown[{model,
  estimated_cost: {amount (cents), currency}}]``.
- ``GET /v1/organizations/rate_limits``: ``data[{group_type | group: {type}, models, limits:
  [{type: requests_per_minute | input_tokens_per_minute | ..., value}]}]``: configured limits, no use.
- ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`` on a
  Messages answer: per-minute token buckets; the reset (RFC 3339) is when the bucket is full again.

There is no spend limit in the API: spend is a balance, never a window.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from ...errors import ParseError
from ...models import Balance, Breakdown, BreakdownItem, ErrorInfo, Usage, Window
from .._parse import Salvage, items, limit_and_used, lower_keys, obj, opt_num, opt_str, opt_time, recorded_warning
from .._time import day_start, next_midnight, next_month

OTHERS_SHOWN = "The rest of the report is shown."
HEADER_KINDS = (
    ("requests", "rate_requests", "Requests per minute", "requests"),
    ("tokens", "rate_tokens", "Tokens per minute", "tokens"),
    ("input-tokens", "rate_input_tokens", "Input tokens per minute", "tokens"),
    ("output-tokens", "rate_output_tokens", "Output tokens per minute", "tokens"),
)
LIMIT_LABELS = {
    "requests_per_minute": ("Requests per minute (configured)", "requests"),
    "input_tokens_per_minute": ("Input tokens per minute (configured)", "tokens"),
    "input_tokens_per_minute_cache_aware": ("Input tokens per minute, cache-aware (configured)", "tokens"),
    "output_tokens_per_minute": ("Output tokens per minute (configured)", "tokens"),
    "tokens_per_minute": ("Tokens per minute (configured)", "tokens"),
    "tokens_per_day": ("Tokens per day (configured)", "tokens"),
}
TOKEN_FIELDS = ("uncached_input_tokens", "cache_read_input_tokens", "output_tokens")


def _buckets(payload: Any, name: str) -> list[dict[str, Any]]:
    data = obj(payload).get("data")
    if not isinstance(data, list):
        raise ParseError(f"Anthropic: the {name} has no 'data' list", field=f"{name}.data")
    return items(data)


def _cents(value: Any, currency: Any, where: str) -> float:
    code = (opt_str(currency) or "USD").upper()
    if code != "USD":
        raise ParseError(f"Anthropic: {where}.currency {code[:8]!r} is not USD", field=f"{where}.currency")
    cents = opt_num(value, f"{where}.amount")
    if cents is None:
        raise ParseError(f"Anthropic: {where}.amount is missing", field=f"{where}.amount")
    return cents


# -- reports -------------------------------------------------------------------------------------
def costs(payload: Any, today: datetime, salvage: Salvage) -> tuple[float, float | None, dict[str, float]]:
    """(dollars this month, dollars today or None before today's bucket exists, dollars per model)."""
    total, today_total = 0.0, None
    by_model: dict[str, float] = {}
    for i, bucket in enumerate(_buckets(payload, "cost report")):
        start = opt_time(bucket.get("starting_at"), f"data[{i}].starting_at")
        is_today = start is not None and start >= today
        if is_today and today_total is None:
            today_total = 0.0

        def one(j: int, result: dict[str, Any], i: int = i) -> tuple[dict[str, Any], float]:
            where = f"data[{i}].results[{j}]"
            return result, _cents(result.get("amount"), result.get("currency"), where) / 100.0

        for result, dollars in salvage.each(items(bucket.get("results")), one):
            total += dollars
            if is_today:
                today_total = (today_total or 0.0) + dollars
            key = opt_str(result.get("model")) or opt_str(result.get("cost_type")) or "other"
            by_model[key] = by_model.get(key, 0.0) + dollars
    return round(total, 6), (round(today_total, 6) if today_total is not None else None), by_model


def tokens_by_model(payload: Any, salvage: Salvage) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, bucket in enumerate(_buckets(payload, "usage report")):

        def one(j: int, result: dict[str, Any], i: int = i) -> tuple[str, float]:
            where = f"data[{i}].results[{j}]"
            count = sum(opt_num(result.get(k), f"{where}.{k}") or 0.0 for k in TOKEN_FIELDS)
            cache = obj(result.get("cache_creation"))
            for key in ("ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"):
                count += opt_num(cache.get(key), f"{where}.cache_creation.{key}") or 0.0
            return opt_str(result.get("model")) or "all models", count

        for model, count in salvage.each(items(bucket.get("results")), one):
            out[model] = out.get(model, 0.0) + count
    return out


def _actor(row: dict[str, Any], where: str) -> str:
    actor = obj(row.get("actor"))
    name = opt_str(actor.get("email_address")) or opt_str(actor.get("api_key_name"))
    if not name:
        raise ParseError(f"Anthropic: {where}.actor names nobody", field=f"{where}.actor")
    return name


def claude_code_costs(payload: Any, salvage: Salvage) -> dict[str, float]:
    """Today's estimated Claude Code cost in dollars per actor (user e-mail or API key name)."""
    out: dict[str, float] = {}

    def one(i: int, row: dict[str, Any]) -> tuple[str, float]:
        where = f"claude_code.data[{i}]"
        dollars = 0.0
        for j, model in enumerate(items(row.get("model_breakdown"))):
            cost = obj(model.get("estimated_cost"))
            dollars += _cents(cost.get("amount"), cost.get("currency"), f"{where}.model_breakdown[{j}]") / 100.0
        return _actor(row, where), dollars

    for actor, dollars in salvage.each(_buckets(payload, "Claude Code report"), one):
        out[actor] = out.get(actor, 0.0) + dollars
    return out


def configured_limits(payload: Any, salvage: Salvage) -> list[Breakdown]:
    """One breakdown per limit type, one item per model group: limits without use, as configured."""
    per_type: dict[str, list[BreakdownItem]] = {}

    def one(i: int, entry: dict[str, Any]) -> None:
        where = f"rate_limits.data[{i}]"
        listed = entry.get("models")
        models = [m for m in listed if isinstance(m, str)] if isinstance(listed, list) else []
        group = opt_str(obj(entry.get("group")).get("type")) or opt_str(entry.get("group_type")) or "group"
        key = ", ".join(models) if models else group
        for j, limit in enumerate(items(entry.get("limits"))):
            kind = opt_str(limit.get("type"))
            value = opt_num(limit.get("value"), f"{where}.limits[{j}].value")
            if kind is None or value is None:
                raise ParseError(f"Anthropic: {where}.limits[{j}] has no type or value", field=f"{where}.limits")
            per_type.setdefault(kind, []).append(BreakdownItem(key=key, value=value))

    salvage.each(_buckets(payload, "rate limits"), one)
    out = []
    for kind, found in per_type.items():
        label, unit = LIMIT_LABELS.get(kind, (kind.replace("_", " ").capitalize() + " (configured)", None))
        out.append(Breakdown(id=f"limits_{kind}", label=label, unit=unit, items=tuple(found)))
    return out


# -- headers -------------------------------------------------------------------------------------
def rate_windows(headers: Mapping[str, Any], salvage: Salvage) -> list[Window]:
    lowered = lower_keys(headers)

    def one(_: int, kind: tuple[str, str, str, str]) -> Window | None:
        name, wid, label, unit = kind
        prefix = f"anthropic-ratelimit-{name}"
        found = limit_and_used(lowered, f"{prefix}-limit", f"{prefix}-remaining", name="Anthropic")
        if found is None:
            return None  # the combined tokens set may be absent
        limit, used = found
        return Window(
            id=wid,
            label=label,
            used_pct=round(used / limit * 100.0, 4),
            resets_at=opt_time(lowered.get(f"{prefix}-reset"), f"{prefix}-reset"),
            window_seconds=60,
            used=used,
            limit=limit,
            unit=unit,
        )

    return salvage.each(HEADER_KINDS, one)


def _ranked(values: dict[str, float], digits: int = 6) -> tuple[BreakdownItem, ...]:
    return tuple(BreakdownItem(key=k, value=round(v, digits)) for k, v in sorted(values.items(), key=lambda kv: -kv[1]))


# -- the whole answer ----------------------------------------------------------------------------
def parse(raw: Mapping[str, Any], now: datetime) -> Usage:
    salvage = Salvage()
    windows: list[Window] = []
    balances: list[Balance] = []
    breakdowns: list[Breakdown] = []
    warnings: list[ErrorInfo] = []
    if raw.get("costs") is not None:
        spent, today, by_model = costs(raw["costs"], day_start(now), salvage)
        balances.append(
            Balance(
                id="spend_month", label="Spend this month", unit="usd", used=spent, period="monthly",
                resets_at=next_month(now),
            )
        )  # fmt: skip
        if today is not None:
            balances.append(
                Balance(
                    id="spend_today", label="Spend today", unit="usd", used=today, period="daily",
                    resets_at=next_midnight(now),
                )
            )  # fmt: skip
        if by_model:
            breakdowns.append(
                Breakdown(id="costs", label="Spend this month by model", unit="usd", items=_ranked(by_model))
            )
    if raw.get("usage") is not None:
        tokens = salvage.keep(lambda: tokens_by_model(raw["usage"], salvage))
        if tokens:
            breakdowns.append(
                Breakdown(id="tokens", label="Tokens this month by model", unit="tokens", items=_ranked(tokens, 0))
            )
    for name in ("claude_code", "rate_limits"):
        part = raw.get(name)
        if part is None:
            continue
        if isinstance(part, dict) and "error" in part and "data" not in part:
            warning = recorded_warning(part.get("error"), OTHERS_SHOWN)
            if warning is not None:
                warnings.append(warning)
        elif name == "claude_code":
            per_actor = salvage.keep(partial(claude_code_costs, part, salvage))
            if per_actor:
                breakdowns.append(
                    Breakdown(
                        id="claude_code", label="Claude Code cost today by user", unit="usd", items=_ranked(per_actor)
                    )
                )
        else:
            breakdowns += salvage.keep(partial(configured_limits, part, salvage)) or []
    probe = raw.get("probe")
    if isinstance(probe, dict):
        windows += rate_windows(obj(probe.get("headers")), salvage)
        warning = recorded_warning(probe.get("error"), OTHERS_SHOWN)
        if warning is not None:
            warnings.append(warning)
    elif probe is not None:
        raise ParseError("Anthropic: the rate-limit call's record is not an object", field="probe")
    if raw.get("costs") is None and probe is None:
        raise ParseError("Anthropic: nothing was fetched", field="costs")
    return Usage(
        windows=tuple(windows),
        balances=tuple(balances),
        breakdowns=tuple(breakdowns),
        warnings=(*salvage.warnings(), *warnings),
    )
