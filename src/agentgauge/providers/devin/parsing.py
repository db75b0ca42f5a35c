"""Pure parser for Devin's ``/api/<org>/billing/quota/usage`` answer.

Current shape: ``{daily_percentage, weekly_percentage, daily_reset_at, weekly_reset_at,
hide_daily_quota, overage_balance | overage_balance_cents, is_quota_plan, ...}``. Percentages
come in two scales: a value below 1 is a fraction (``0.12`` is 12 %), anything else a percent
(CodexBar's reading of live answers). ``hide_daily_quota: true`` means the plan has no daily
quota, so no daily window is shown. Older answers nest ``quota_usage.daily_quota`` /
``weekly_quota`` objects with ``used``/``limit``, ``used_percent`` or ``remaining_percent`` and a
``reset_at`` / ``next_reset_at``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time

WINDOWS = {"daily": ("Daily", 86400), "weekly": ("Weekly", 604800)}


def _pct(value: float, *, nested: bool = False) -> float:
    """A percent from either scale. The current fields treat only values below 1 as fractions; the
    older nested ones also 1 itself (CodexBar's tests pin both boundaries)."""
    fraction = value <= 1 if nested else value < 1
    return round(value * 100.0 if fraction else value, 4)


def parse(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Devin: the quota answer is not an object", field="$")
    salvage = Salvage()
    windows: list[Window] = []
    nested = obj(root.get("quota_usage"))
    for name, (label, seconds) in WINDOWS.items():
        if name == "daily" and root.get("hide_daily_quota") is True:
            continue
        built = salvage.keep(partial(_window, root, nested, name, label, seconds))
        if built is not None:
            windows.append(built)
    if not windows and not salvage.problems:
        raise ParseError("Devin: the answer has no daily or weekly quota", field="weekly_percentage")
    balance = salvage.keep(lambda: _overage(root))
    plan = next((opt_str(root.get(k)) for k in ("plan_name", "planName", "plan") if opt_str(root.get(k))), None)
    return Usage(
        windows=tuple(windows),
        balances=(balance,) if balance else (),
        plan=plan.replace("_", " ").title() if plan else None,
        warnings=salvage.warnings(),
    )


def _window(root: dict[str, Any], nested: dict[str, Any], name: str, label: str, seconds: int) -> Window | None:
    field = f"{name}_percentage"
    percent = opt_num(root.get(field), field)
    if percent is not None:
        resets = opt_time(root.get(f"{name}_reset_at"), f"{name}_reset_at")
        return Window(id=name, label=label, used_pct=max(0.0, _pct(percent)), resets_at=resets, window_seconds=seconds)
    quota = nested.get(f"{name}_quota")
    if quota is None:
        return None
    return _nested(quota, f"quota_usage.{name}_quota", name, label, seconds)


def _nested(quota: Any, where: str, name: str, label: str, seconds: int) -> Window:
    if not isinstance(quota, dict):
        raise ParseError(f"Devin: '{where}' is not an object", field=where)
    used = opt_num(quota.get("used"), f"{where}.used")
    limit = opt_num(quota.get("limit"), f"{where}.limit")
    used_percent = opt_num(quota.get("used_percent"), f"{where}.used_percent")
    remaining_percent = opt_num(quota.get("remaining_percent"), f"{where}.remaining_percent")
    if used_percent is not None:
        pct = _pct(used_percent, nested=True)
    elif remaining_percent is not None:
        pct = 100.0 - _pct(remaining_percent, nested=True)
    elif used is not None and limit:
        pct = used / limit * 100.0
    else:
        raise ParseError(f"Devin: '{where}' has no percent", field=f"{where}.used_percent")
    resets = opt_time(quota.get("reset_at"), f"{where}.reset_at") or opt_time(
        quota.get("next_reset_at"), f"{where}.next_reset_at"
    )
    return Window(
        id=name,
        label=label,
        used_pct=round(max(0.0, pct), 4),
        resets_at=resets,
        window_seconds=seconds,
        used=used if limit else None,
        limit=limit or None,
    )


def _overage(root: dict[str, Any]) -> Balance | None:
    """The extra-usage (overage) balance in USD: dollars, or cents in ``overage_balance_cents``."""
    dollars = opt_num(root.get("overage_balance"), "overage_balance")
    if dollars is None:
        cents = opt_num(root.get("overage_balance_cents"), "overage_balance_cents")
        dollars = cents / 100.0 if cents is not None else None
    if dollars is None or dollars < 0:
        return None
    return Balance(id="overage", label="Extra usage (overage balance)", unit="usd", used=round(dollars, 4))
