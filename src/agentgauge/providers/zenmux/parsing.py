"""Pure reading of ZenMux's Management API answers (Flows for the quotas, US dollars for the balance)."""

from __future__ import annotations

from functools import partial
from typing import Any

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Balance, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time

NAME = "ZenMux"
QUOTAS = (("quota_5_hour", "session", "Session (5h)", 18000), ("quota_7_day", "weekly", "Weekly (7d)", 604800))


def envelope(root: Any, what: str) -> dict[str, Any]:
    """``data`` of a ``{"success": true, "data": {...}}`` answer; ``success: false`` is an error."""
    if not isinstance(root, dict):
        raise ParseError(f"{NAME}: {what} response is not an object", field="$")
    if root.get("success") is False or ("error" in root and "data" not in root):
        error = root.get("error")
        message = (
            opt_str(obj(error).get("message")) or opt_str(error) or opt_str(root.get("message")) or "request failed"
        )[:200]
        code = str(obj(error).get("code") or root.get("code") or "")
        lowered = f"{code} {message}".lower()
        if "401" in lowered or "403" in lowered or "key" in lowered or "auth" in lowered:
            raise AuthError(f"{NAME}: {what} was refused: {message}", status_code=401)
        if "422" in lowered or "429" in lowered or "rate" in lowered:
            raise RateLimitedError(f"{NAME}: {what} was rate limited: {message}")
        raise UpstreamError(f"{NAME}: {what} failed: {message}")
    data = root.get("data")
    if not isinstance(data, dict):
        raise ParseError(f"{NAME}: {what} response has no 'data' object", field="data")
    return data


def quota_window(block: dict[str, Any], key: str, window_id: str, label: str, seconds: int) -> Window:
    fraction = opt_num(block.get("usage_percentage"), f"data.{key}.usage_percentage")
    limit = opt_num(block.get("max_flows"), f"data.{key}.max_flows")
    used = opt_num(block.get("used_flows"), f"data.{key}.used_flows")
    remaining = opt_num(block.get("remaining_flows"), f"data.{key}.remaining_flows")
    if used is None and limit is not None and remaining is not None:
        used = max(limit - remaining, 0.0)
    if fraction is not None:
        used_pct = round(fraction * 100.0, 4)
    elif used is not None and limit:
        used_pct = round(used / limit * 100.0, 4)
    else:
        raise ParseError(f"{NAME}: quota has no 'data.{key}.usage_percentage'", field=f"data.{key}.usage_percentage")
    return Window(
        id=window_id,
        label=label,
        used_pct=used_pct,
        # null until the window has started: nothing used, nothing to reset
        resets_at=opt_time(block.get("resets_at"), f"data.{key}.resets_at"),
        window_seconds=seconds,
        used=used,
        limit=limit,
        unit="flows",
    )


def plan_label(data: dict[str, Any]) -> str | None:
    tier = opt_str(obj(data.get("plan")).get("tier"))
    status = (opt_str(data.get("account_status")) or "healthy").lower()
    if tier is None:
        return None
    return tier.title() if status == "healthy" else f"{tier.title()} ({status})"


def payg_balance(root: Any) -> Balance:
    data = envelope(root, "balance request")
    currency = (opt_str(data.get("currency")) or "usd").lower()
    total = opt_num(data.get("total_credits"), "data.total_credits")
    if total is None:
        raise ParseError(f"{NAME}: balance has no 'data.total_credits'", field="data.total_credits")
    return Balance(id="payg", label="Pay-as-you-go credits", unit=currency, remaining=total)


def parse_all(subscription: Any, balance: Any) -> Usage:
    if subscription is None and balance is None:
        raise ParseError(f"{NAME}: no subscription or balance answer", field="$")
    salvage = Salvage()
    windows: list[Window] = []
    balances: list[Balance] = []
    plan = None
    if subscription is not None:
        data = envelope(subscription, "subscription request")
        for key, window_id, label, seconds in QUOTAS:
            block = obj(data.get(key))
            if block:
                window = salvage.keep(partial(quota_window, block, key, window_id, label, seconds))
                if window is not None:
                    windows.append(window)
        plan = plan_label(data)
    if balance is not None:
        credits = salvage.keep(lambda: payg_balance(balance))
        if credits is not None:
            balances.insert(0, credits)
    return Usage(windows=tuple(windows), balances=tuple(balances), plan=plan, warnings=salvage.warnings())
