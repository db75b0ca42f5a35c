"""Pure reading of Alibaba Cloud Model Studio's plan answers.

- **Coding Plan** (``queryCodingPlanInstanceInfoV2``): ``codingPlanInstanceInfos[]{planName, status,
  endTime, codingPlanQuotaInfo?}`` and ``codingPlanQuotaInfo`` with ``per5Hour…``, ``perWeek…`` and
  ``perBillMonth…`` ``UsedQuota`` / ``TotalQuota`` / ``QuotaNextRefreshTime`` (epoch ms): requests
  per window. With several instances the active one (``VALID``/``ACTIVE``) counts.
- **Token Plan, personal** (``tokenplan/personal/api/v2/usage``, ``subscription``, ``quota-config``):
  five-hour and weekly fractions used, the plan's ``specCode`` and its credit limits.
- **Token Plan, team** (``GetSubscriptionSummary``): a credit pool (``TotalValue``,
  ``TotalSurplusValue``, ``TotalCount``), a balance.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window, evolve
from .._aliyun import console_error, expand, find_object, find_value
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time

NAME = "Alibaba"
ACTIVE = ("VALID", "ACTIVE", "NORMAL", "RUNNING")
CODING_LANES = (
    (
        ("per5HourUsedQuota", "perFiveHourUsedQuota"),
        ("per5HourTotalQuota", "perFiveHourTotalQuota"),
        ("per5HourQuotaNextRefreshTime", "perFiveHourQuotaNextRefreshTime"),
        "session",
        "Session (5h)",
        18000,
    ),
    (("perWeekUsedQuota",), ("perWeekTotalQuota",), ("perWeekQuotaNextRefreshTime",), "weekly", "Weekly", 604800),
    (
        ("perBillMonthUsedQuota", "perMonthUsedQuota"),
        ("perBillMonthTotalQuota", "perMonthTotalQuota"),
        ("perBillMonthQuotaNextRefreshTime", "perMonthQuotaNextRefreshTime"),
        "monthly",
        "Monthly",
        None,
    ),
)
TOKEN_PLANS = {"lite": "Lite", "standard": "Standard", "pro": "Pro", "max": "Max"}
TOKEN_LANES = (
    ("per5Hour", "session", "Session (5h)", 18000, "five_hour"),
    ("per1Week", "weekly", "Weekly", 604800, "weekly"),
)
SUMMARY_KEYS = ("TotalValue", "TotalSurplusValue", "TotalCount", "CycleTotalValue", "CycleSurplusValue")


def _first(block: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((block[k] for k in keys if block.get(k) not in (None, "")), None)


def _checked(root: Any, hint: str) -> Any:
    if not isinstance(root, dict):
        raise ParseError(f"{NAME}: the answer is not an object", field="$")
    expanded = expand(root)
    failure = console_error(expanded, NAME, hint)
    if failure is not None:
        raise failure
    return expanded


# -- Coding Plan ----------------------------------------------------------------------------------------
def active_instance(root: Any) -> dict[str, Any] | None:
    infos = items(find_value(root, ["codingPlanInstanceInfos"]))
    active = [i for i in infos if (opt_str(i.get("status")) or "").upper() in ACTIVE]
    chosen = active or infos
    return chosen[0] if chosen else None


def coding_window(quota: dict[str, Any], lane: tuple[Any, ...]) -> Window | None:
    used_keys, total_keys, reset_keys, window_id, label, seconds = lane
    total = opt_num(_first(quota, total_keys), total_keys[0])
    used = opt_num(_first(quota, used_keys), used_keys[0])
    if not total or total <= 0:
        return None  # a window the plan does not have
    if used is None:
        raise ParseError(f"{NAME}: the quota has no '{used_keys[0]}'", field=used_keys[0])
    return Window(
        id=window_id,
        label=label,
        used_pct=round(used / total * 100.0, 4),
        resets_at=opt_time(_first(quota, reset_keys), reset_keys[0]),
        window_seconds=seconds,
        used=used,
        limit=total,
        unit="requests",
    )


def coding_windows(quota: dict[str, Any], salvage: Salvage) -> list[Window]:
    found = (salvage.keep(partial(coding_window, quota, lane)) for lane in CODING_LANES)
    return [window for window in found if window is not None]


def parse_coding(answer: Any, hint: str) -> Usage:
    root = _checked(answer, hint)
    instance = active_instance(root)
    quota = obj(obj(instance).get("codingPlanQuotaInfo")) or obj(find_value(root, ["codingPlanQuotaInfo"]))
    plan = opt_str(obj(instance).get("planName")) or opt_str(obj(instance).get("instanceName"))
    salvage = Salvage()
    windows = coding_windows(quota, salvage) if quota else []
    note = None
    if not windows and not salvage.problems:
        if instance is None:
            note = "No Coding Plan on this account"
        elif (opt_str(instance.get("status")) or "VALID").upper() not in ACTIVE:
            note = f"The Coding Plan is {str(instance.get('status')).lower()}"
        else:
            note = "The Coding Plan states no quota counters"
    return Usage(windows=tuple(windows), plan=plan, note=note, warnings=salvage.warnings())


# -- Token Plan ----------------------------------------------------------------------------------------
def token_window(usage: dict[str, Any], limits: dict[str, Any], lane: tuple[Any, ...]) -> Window | None:
    prefix, window_id, label, seconds, limit_key = lane
    if f"{prefix}Percentage" not in usage:
        return None
    fraction = opt_num(usage.get(f"{prefix}Percentage"), f"{prefix}Percentage")
    if fraction is None:
        raise ParseError(f"{NAME}: the usage has no '{prefix}Percentage'", field=f"{prefix}Percentage")
    limit = opt_num(limits.get(limit_key), limit_key)
    fraction = max(fraction, 0.0)
    return Window(
        id=window_id,
        label=label,
        used_pct=round(fraction * 100.0, 4),
        resets_at=opt_time(usage.get(f"{prefix}ResetTime"), f"{prefix}ResetTime"),
        window_seconds=seconds,
        used=round(limit * fraction, 4) if limit else None,
        limit=limit or None,
        unit="credits" if limit else None,
    )


def token_windows(usage: dict[str, Any], limits: dict[str, Any], salvage: Salvage) -> list[Window]:
    found = (salvage.keep(partial(token_window, usage, limits, lane)) for lane in TOKEN_LANES)
    return [window for window in found if window is not None]


def summary(root: Any) -> Usage:
    """A Token Plan credit summary: a balance, or a note for an account without a Token Plan."""
    found = find_object(root, ("CycleTotalValue", "CycleSurplusValue")) or find_object(root, SUMMARY_KEYS)
    if found is None:
        raise ParseError(f"{NAME}: the answer has no Token Plan usage or summary", field="TotalValue")
    total = opt_num(found.get("CycleTotalValue", found.get("TotalValue")), "TotalValue")
    left = opt_num(found.get("CycleSurplusValue", found.get("TotalSurplusValue")), "TotalSurplusValue")
    count = opt_num(find_value(root, ["TotalCount"]), "TotalCount")
    if count == 0 or (not total and not left):
        return Usage(note="No active Token Plan subscription")
    used = round(total - left, 6) if total is not None and left is not None else None
    expires = opt_time(find_value(root, ["EndTime", "NearestExpireDate"]), "EndTime")
    credits = Balance(
        id="credits",
        label="Token Plan credits",
        unit="credits",
        remaining=left,
        used=used,
        limit=total,
        expires_at=expires,
    )
    return Usage(balances=(credits,))


def parse_token(usage_answer: Any, subscription: Any, quota_config: Any, hint: str) -> Usage:
    root = _checked(usage_answer, hint)
    code = None
    if subscription is not None:
        plan_block = find_object(expand(subscription), ("specCode",))
        code = (opt_str(obj(plan_block).get("specCode")) or "").lower() or None
    usage = find_object(root, ("per5HourPercentage", "per1WeekPercentage"))
    if usage is None:
        return summary(root)
    limits = obj(find_value(expand(quota_config), [code])) if code and quota_config is not None else {}
    salvage = Salvage()
    windows = token_windows(usage, limits, salvage)
    plan = TOKEN_PLANS.get(code or "", code.title() if code else None)
    return Usage(
        windows=tuple(windows), plan=f"Token Plan {plan}" if plan else "Token Plan", warnings=salvage.warnings()
    )


def parse_team(answer: Any, hint: str) -> Usage:
    found = summary(_checked(answer, hint))
    return evolve(found, plan="Token Plan (team)") if found.balances else found
