"""Pure parsing of the OpenAI organization API (admin key) and of the rate-limit headers.

- ``GET /v1/organization/spend_limit``: ``{object, threshold_amount (integer cents), currency,
  interval: "month", enforcement: {status}}``; absent (404) when the organization has none.
- ``GET /v1/organization/costs`` (``bucket_width=1d``, ``group_by=line_item``): pages of
  ``{object: "bucket", start_time, end_time (epoch s, UTC days), results: [{amount: {value
  (dollars, a number or a numeric string), currency}, line_item}]}``. Note the units: the spend
  limit is in cents, costs in dollars.
- ``GET /v1/organization/usage/completions`` (``group_by=model``): buckets of results with
  ``input_tokens`` (cached included), ``output_tokens``, ``num_model_requests``, ``model``.
- ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` on an inference answer: the reset is
  a Go-style duration until the bucket is full again (``6m0s``, ``1s``, ``12ms``, ``1h2m3s``).

A spend limit states a cap and a period (a calendar month), so spend against it is a window;
without one, this month's and today's spend are balances.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Balance, Breakdown, BreakdownItem, ErrorInfo, Usage, Window
from .._parse import (
    Salvage,
    after,
    duration,
    items,
    limit_and_used,
    lower_keys,
    obj,
    opt_num,
    opt_str,
    recorded_warning,
    slug,
)
from .._time import day_start, next_midnight, next_month

RATE_KINDS = (("requests", "Requests (rate limit)"), ("tokens", "Tokens (rate limit)"))


# -- costs and usage pages ---------------------------------------------------------------------
def buckets(payload: Any, name: str) -> list[dict[str, Any]]:
    root = obj(payload)
    data = root.get("data")
    if not isinstance(data, list):
        raise ParseError(f"OpenAI: the {name} answer has no 'data' list", field=f"{name}.data")
    return items(data)


def _cost_of(result: dict[str, Any], where: str) -> float:
    amount = obj(result.get("amount"))
    currency = (opt_str(amount.get("currency")) or "usd").lower()
    if currency != "usd":
        raise ParseError(f"OpenAI: {where}.amount.currency {currency[:8]!r} is not usd", field=f"{where}.amount")
    value = opt_num(amount.get("value"), f"{where}.amount.value")
    if value is None:
        raise ParseError(f"OpenAI: {where}.amount.value is missing", field=f"{where}.amount.value")
    return value


def costs(payload: Any, today: datetime, salvage: Salvage) -> tuple[float, float | None, dict[str, float]]:
    """(spend over every bucket, spend in today's bucket or None when it has not come yet, per line item)."""
    total, today_total = 0.0, None
    by_item: dict[str, float] = {}
    for i, bucket in enumerate(buckets(payload, "costs")):
        start = opt_num(bucket.get("start_time"), f"costs.data[{i}].start_time")
        is_today = start is not None and start >= today.timestamp()
        if is_today and today_total is None:
            today_total = 0.0

        def one(j: int, result: dict[str, Any], i: int = i) -> tuple[dict[str, Any], float]:
            return result, _cost_of(result, f"costs.data[{i}].results[{j}]")

        for result, value in salvage.each(items(bucket.get("results")), one):
            total += value
            if is_today:
                today_total = (today_total or 0.0) + value
            item = opt_str(result.get("line_item")) or "other"
            by_item[item] = by_item.get(item, 0.0) + value
    return round(total, 6), (round(today_total, 6) if today_total is not None else None), by_item


def tokens_by_model(payload: Any, salvage: Salvage) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, bucket in enumerate(buckets(payload, "usage")):

        def one(j: int, result: dict[str, Any], i: int = i) -> tuple[str, float]:
            where = f"usage.data[{i}].results[{j}]"
            inp = opt_num(result.get("input_tokens"), f"{where}.input_tokens") or 0.0
            out_ = opt_num(result.get("output_tokens"), f"{where}.output_tokens") or 0.0
            return opt_str(result.get("model")) or "all models", inp + out_

        for model, count in salvage.each(items(bucket.get("results")), one):
            out[model] = out.get(model, 0.0) + count
    return out


# -- the spend limit ---------------------------------------------------------------------------------
def spend_window(limit: Any, spent: float, now: datetime) -> Window | None:
    """The hard monthly spend limit as a window; None when the limit is not a monthly USD one."""
    root = obj(limit)
    cents = opt_num(root.get("threshold_amount"), "spend_limit.threshold_amount")
    if cents is None or cents <= 0:
        raise ParseError("OpenAI: the spend limit has no threshold_amount", field="spend_limit.threshold_amount")
    interval = (opt_str(root.get("interval")) or "").lower()
    currency = (opt_str(root.get("currency")) or "usd").lower()
    if interval != "month" or currency != "usd":
        raise ParseError(
            f"OpenAI: a spend limit per {interval[:12] or '?'} in {currency[:8]} is not known",
            field="spend_limit.interval",
        )
    dollars = cents / 100.0
    status = opt_str(obj(root.get("enforcement")).get("status"))
    label = "Monthly spend limit" + (" (enforcing)" if status == "enforcing" else "")
    return Window(
        id="monthly_spend",
        label=label,
        used_pct=round(spent / dollars * 100.0, 4),
        resets_at=next_month(now),
        used=spent,
        limit=dollars,
        unit="usd",
    )


# -- rate-limit headers --------------------------------------------------------------------------
def rate_windows(headers: Mapping[str, Any], now: datetime, salvage: Salvage) -> list[Window]:
    lowered = lower_keys(headers)

    def one(_: int, kind: tuple[str, str]) -> Window | None:
        name, label = kind
        found = limit_and_used(lowered, f"x-ratelimit-limit-{name}", f"x-ratelimit-remaining-{name}", name="OpenAI")
        if found is None:
            return None
        limit, used = found
        reset_field = f"x-ratelimit-reset-{name}"
        reset = lowered.get(reset_field)
        seconds = duration(str(reset), reset_field, name="OpenAI") if reset not in (None, "") else None
        # "0s" means the bucket is full again: no pending reset to count down to (a reset at
        # `now` would read as passed and make the scheduler chase it).
        return Window(
            id=f"rate_{name}",
            label=label,
            used_pct=round(used / limit * 100.0, 4),
            resets_at=after(now, seconds, reset_field) if seconds else None,
            used=used,
            limit=limit,
            unit=name,
        )

    return salvage.each(RATE_KINDS, one)


# -- the whole answer ----------------------------------------------------------------------------
def parse(raw: Mapping[str, Any], now: datetime) -> Usage:
    salvage = Salvage()
    windows: list[Window] = []
    balances: list[Balance] = []
    breakdowns: list[Breakdown] = []
    warnings: list[ErrorInfo] = []
    if raw.get("costs") is not None:
        spent, today, by_item = costs(raw["costs"], day_start(now), salvage)
        limit = raw.get("spend_limit")
        window = salvage.keep(lambda: spend_window(limit, spent, now)) if limit is not None else None
        if window is not None:
            windows.append(window)
        else:
            balances.append(
                Balance(
                    id="spend_month",
                    label="Spend this month",
                    unit="usd",
                    used=spent,
                    period="monthly",
                    resets_at=next_month(now),
                )
            )
        if today is not None:
            balances.append(
                Balance(
                    id="spend_today",
                    label="Spend today",
                    unit="usd",
                    used=today,
                    period="daily",
                    resets_at=next_midnight(now),
                )
            )
        if by_item:
            ranked = sorted(by_item.items(), key=lambda kv: -kv[1])
            breakdowns.append(
                Breakdown(
                    id="costs",
                    label="Spend this month by line item",
                    unit="usd",
                    items=tuple(BreakdownItem(key=slug(k), label=k, value=round(v, 6)) for k, v in ranked),
                )
            )
    if raw.get("usage") is not None:
        tokens = salvage.keep(lambda: tokens_by_model(raw["usage"], salvage))
        if tokens:
            ranked = sorted(tokens.items(), key=lambda kv: -kv[1])
            breakdowns.append(
                Breakdown(
                    id="tokens",
                    label="Tokens this month by model",
                    unit="tokens",
                    items=tuple(BreakdownItem(key=k, value=v) for k, v in ranked),
                )
            )
    probe = raw.get("probe")
    if isinstance(probe, dict):
        windows += rate_windows(obj(probe.get("headers")), now, salvage)
        warning = recorded_warning(probe.get("error"), "Check the API key used for the rate-limit call (api_key).")
        if warning is not None:
            warnings.append(warning)
    elif probe is not None:
        raise ParseError("OpenAI: the rate-limit call's record is not an object", field="probe")
    if raw.get("costs") is None and probe is None:
        raise ParseError("OpenAI: nothing was fetched", field="costs")
    return Usage(
        windows=tuple(windows),
        balances=tuple(balances),
        breakdowns=tuple(breakdowns),
        warnings=(*salvage.warnings(), *warnings),
    )
