"""Pure reading of Chutes' account answers.

The subscription's caps are in US dollars (``four_hour``/``monthly``: ``usage`` of ``cap``) unless the
answer names another ``unit``. The daily quotas count requests per UTC-dated day on Chutes' side
(its counter key carries the date); Chutes states no reset time for them, so none is shown.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window
from .._parse import Salvage, items, label_for, obj, opt_num, opt_str, opt_time, slug, window_id_for

NAME = "Chutes"
ROLLING_KEYS = ("four_hour", "rolling_window", "rolling", "fourHour")
MONTHLY_KEYS = ("monthly", "monthly_usage")


def _first(root: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, dict[str, Any]] | None:
    return next(((k, root[k]) for k in keys if isinstance(root.get(k), dict)), None)


def cap_window(block: dict[str, Any], where: str, window_id: str | None, default_seconds: int | None) -> Window | None:
    """One cap: ``usage``/``used``/``requests`` of ``cap``/``limit`` (else derived from ``remaining``).
    A cap of 0 (no subscription) is a window the account does not have."""
    limit = opt_num(block.get("cap", block.get("limit")), f"{where}.cap")
    used = opt_num(block.get("usage", block.get("used", block.get("requests"))), f"{where}.usage")
    remaining = opt_num(block.get("remaining"), f"{where}.remaining")
    if limit is None and used is not None and remaining is not None:
        limit = used + remaining
    if used is None and limit is not None and remaining is not None:
        used = max(limit - remaining, 0.0)
    if not limit or limit <= 0:
        return None
    if used is None:
        raise ParseError(f"{NAME}: the cap has no '{where}.usage'", field=f"{where}.usage")
    minutes = opt_num(block.get("window_minutes"), f"{where}.window_minutes")
    seconds = int(minutes * 60) if minutes and minutes > 0 else default_seconds
    wid = window_id or window_id_for(seconds)
    unit = (opt_str(block.get("unit")) or "usd").lower()
    return Window(
        id=wid,
        label="Monthly cap" if wid == "monthly" else f"{label_for(wid, seconds)} cap".replace("window cap", "cap"),
        used_pct=round(used / limit * 100.0, 4),
        resets_at=opt_time(block.get("reset_at", block.get("resets_at")), f"{where}.reset_at"),
        window_seconds=seconds if wid != "monthly" else None,
        used=round(used, 6),
        limit=round(limit, 6),
        unit=unit,
    )


def subscription_parts(root: Any, salvage: Salvage) -> tuple[list[Window], str | None, bool | None]:
    """The caps, the plan name and whether a subscription is active (None when not said)."""
    if not isinstance(root, dict):
        raise ParseError(f"{NAME}: subscription usage is not an object", field="$")
    root = obj(root.get("data")) or root
    windows: list[Window] = []
    rolling = _first(root, ROLLING_KEYS)
    if rolling:
        key, block = rolling
        window = salvage.keep(lambda: cap_window(block, key, None, 14400))
        if window is not None:
            windows.append(window)
    monthly = _first(root, MONTHLY_KEYS)
    if monthly:
        key, block = monthly
        window = salvage.keep(lambda: cap_window(block, key, "monthly", None))
        if window is not None:
            windows.append(window)
    subscription = root.get("subscription")
    details = obj(subscription)
    active: bool | None
    if isinstance(subscription, bool):
        active = subscription
    elif isinstance(details.get("active"), bool):
        active = details["active"]
    else:
        active = None
    plan = opt_str(details.get("plan_name")) or opt_str(root.get("plan_name")) or opt_str(details.get("plan"))
    return windows, plan, active


def quota_rows(payload: Any) -> list[tuple[str, float | str | None]]:
    """The daily quota rows ``(chute_id, quota)``: a list of rows (bare, under ``items``/``quotas``/``data``)
    or Chutes' default ``{"*": 200}`` mapping. An empty object means no quota (free or invoiced)."""
    if isinstance(payload, dict):
        listed = next((payload[k] for k in ("items", "quotas", "data") if isinstance(payload.get(k), list)), None)
        if listed is None:
            return [(k, v) for k, v in payload.items() if isinstance(v, int | float | str) and not isinstance(v, bool)]
        payload = listed
    rows = []
    for row in items(payload):
        chute = opt_str(row.get("chute_id")) or opt_str(row.get("chuteId"))
        if chute:
            quota = row.get("quota")
            rows.append(
                (chute, quota if isinstance(quota, int | float | str) and not isinstance(quota, bool) else None)
            )
    return rows


def daily_window(chute: str, quota: Any, usage: dict[str, Any]) -> Window | None:
    where = f"quota_usage[{chute}]"
    limit_value = usage.get("quota", quota)
    window_id = "daily" if chute == "*" else f"daily_{slug(chute)}"
    label = "Daily requests" if chute == "*" else f"Daily requests ({chute})"
    if isinstance(limit_value, str) and limit_value.strip().lower() == "unlimited":
        return Window(id=window_id, label=label, used_pct=0.0, window_seconds=86400, unit="requests", unlimited=True)
    limit = opt_num(limit_value, f"{where}.quota")
    used = opt_num(usage.get("used"), f"{where}.used")
    if not limit or limit <= 0:
        return None
    if used is None:
        raise ParseError(f"{NAME}: the quota usage has no '{where}.used'", field=f"{where}.used")
    return Window(
        id=window_id,
        label=label,
        used_pct=round(used / limit * 100.0, 4),
        window_seconds=86400,
        used=used,
        limit=limit,
        unit="requests",
    )


def account_balance(me: Any) -> Balance | None:
    balance = opt_num(obj(me).get("balance"), "balance")
    return None if balance is None else Balance(id="balance", label="Balance", unit="usd", remaining=round(balance, 6))


def parse_all(subscription: Any, quotas: Any, usage: Any, me: Any) -> Usage:
    salvage = Salvage()
    windows, plan, active = subscription_parts(subscription, salvage)
    usages = obj(usage)
    for chute, quota in quota_rows(quotas):
        found = usages.get(chute)
        if isinstance(found, dict):
            window = salvage.keep(partial(daily_window, chute, quota, found))
            if window is not None:
                windows.append(window)
    balance = salvage.keep(lambda: account_balance(me)) if me is not None else None
    balances = (balance,) if balance is not None else ()
    note = None
    if not windows and not balances and active is False:
        note = "No active Chutes subscription"
    return Usage(windows=tuple(windows), balances=balances, plan=plan, note=note, warnings=salvage.warnings())
