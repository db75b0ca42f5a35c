"""Pure reading of the Token Plan answers (Qwen Cloud, and the same personal Token Plan of Model Studio).

- usage (``.../tokenplan/personal/api/v2/usage``): ``per5HourPercentage`` / ``per1WeekPercentage``
  (fractions 0-1 used) with ``per5HourResetTime`` / ``per1WeekResetTime`` (epoch ms);
- subscription (``.../v2/subscription``): ``specCode`` (lite, standard, pro, max), ``status``,
  ``endTime``;
- quota-config (``.../v2/quota-config``): per plan ``{five_hour, weekly}`` credit limits.

An older (or team) answer is a subscription summary instead: ``TotalValue`` / ``TotalSurplusValue`` /
``TotalCount``, or ``EquityList[]{CycleTotalValue, CycleSurplusValue}`` with ``EndTime``: a credit
balance, ``TotalCount: 0`` meaning no subscription.
"""

from __future__ import annotations

from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window
from .._aliyun import console_error, expand, find_object, find_value
from .._parse import Salvage, obj, opt_num, opt_str, opt_time

PLANS = {"lite": "Lite", "standard": "Standard", "pro": "Pro", "max": "Max"}
USAGE_KEYS = ("per5HourPercentage", "per1WeekPercentage")
LANES = (
    ("per5Hour", "session", "Session (5h)", 18000, "five_hour"),
    ("per1Week", "weekly", "Weekly", 604800, "weekly"),
)
SUMMARY_KEYS = ("TotalValue", "TotalSurplusValue", "TotalCount", "CycleTotalValue", "CycleSurplusValue")


def plan_code(subscription: Any) -> str | None:
    found = find_object(expand(subscription), ("specCode", "spec_code"))
    code = opt_str(obj(found).get("specCode") or obj(found).get("spec_code"))
    return code.lower() if code else None


def limits_for(quota_config: Any, code: str | None) -> dict[str, Any]:
    if not code:
        return {}
    return obj(find_value(expand(quota_config), [code]))


def usage_windows(usage: dict[str, Any], limits: dict[str, Any], salvage: Salvage) -> list[Window]:
    windows = []
    for prefix, window_id, label, seconds, limit_key in LANES:
        if f"{prefix}Percentage" not in usage:
            continue

        def build(
            prefix: str = prefix,
            window_id: str = window_id,
            label: str = label,
            seconds: int = seconds,
            limit_key: str = limit_key,
        ) -> Window:
            fraction = opt_num(usage.get(f"{prefix}Percentage"), f"{prefix}Percentage")
            if fraction is None:
                raise ParseError(f"the usage has no '{prefix}Percentage'", field=f"{prefix}Percentage")
            limit = opt_num(
                limits.get(limit_key, limits.get("fiveHour" if limit_key == "five_hour" else limit_key)), limit_key
            )
            used_pct = round(max(fraction, 0.0) * 100.0, 4)
            return Window(
                id=window_id,
                label=label,
                used_pct=used_pct,
                resets_at=opt_time(usage.get(f"{prefix}ResetTime"), f"{prefix}ResetTime"),
                window_seconds=seconds,
                used=round(limit * max(fraction, 0.0), 4) if limit else None,
                limit=limit or None,
                unit="credits" if limit else None,
            )

        window = salvage.keep(build)
        if window is not None:
            windows.append(window)
    return windows


def summary_balance(root: Any) -> tuple[Balance | None, str | None]:
    """A subscription summary as a credit balance; ``(None, note)`` for an account without one."""
    summary = find_object(root, ("CycleTotalValue", "CycleSurplusValue")) or find_object(root, SUMMARY_KEYS)
    if summary is None:
        raise ParseError(
            "the answer has neither usage percentages nor a subscription summary", field="per5HourPercentage"
        )
    total = opt_num(summary.get("CycleTotalValue", summary.get("TotalValue")), "TotalValue")
    left = opt_num(summary.get("CycleSurplusValue", summary.get("TotalSurplusValue")), "TotalSurplusValue")
    count = opt_num(find_value(root, ["TotalCount"]), "TotalCount")
    if count == 0 or (not total and not left):
        return None, "No active Token Plan subscription"
    used = round(total - left, 6) if total is not None and left is not None else None
    expires = opt_time(find_value(root, ["EndTime", "endTime"]), "EndTime")
    return Balance(
        id="credits",
        label="Token Plan credits",
        unit="credits",
        remaining=left,
        used=used,
        limit=total,
        expires_at=expires,
    ), None


def parse_token_plan(usage_root: Any, subscription: Any, quota_config: Any, *, name: str, hint: str) -> Usage:
    if not isinstance(usage_root, dict):
        raise ParseError(f"{name}: the usage answer is not an object", field="$")
    root = expand(usage_root)
    failure = console_error(root, name, hint)
    if failure is not None:
        raise failure
    code = plan_code(subscription) if subscription is not None else None
    plan = PLANS.get(code or "", code.title() if code else None)
    usage = find_object(root, USAGE_KEYS)
    salvage = Salvage()
    if usage is not None:
        windows = usage_windows(usage, limits_for(quota_config, code), salvage)
        return Usage(windows=tuple(windows), plan=plan, warnings=salvage.warnings())
    balance, note = summary_balance(root)
    return Usage(balances=(balance,) if balance else (), plan=plan, note=note)
