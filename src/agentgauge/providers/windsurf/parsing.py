"""Pure parser for Windsurf's plan status, from the web API or the app's local cache.

Web (``proto.decode_response``): ``{plan_status: {plan_info: {plan_name}, plan_end,
daily_quota_remaining_percent, weekly_quota_remaining_percent, daily_quota_reset_at_unix,
weekly_quota_reset_at_unix}}``: percents **remaining**, resets in epoch seconds.

Local cache (``windsurf.settings.cachedPlanInfo``): ``{planName, startTimestamp, endTimestamp
(epoch ms), usage: {messages, usedMessages, remainingMessages, flowActions, usedFlowActions,
remainingFlowActions, flexCredits, ...}, quotaUsage: {dailyRemainingPercent,
weeklyRemainingPercent, dailyResetAtUnix, weeklyResetAtUnix}}``. Newer caches may lack
``quotaUsage``: then the plan period's counters are the windows (CodexBar's reading).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time

QUOTAS = (("daily", "Daily", 86400), ("weekly", "Weekly", 604800))
COUNTERS = (
    ("messages", "Messages", "messages", "usedMessages", "remainingMessages"),
    ("flow_actions", "Flow actions", "flowActions", "usedFlowActions", "remainingFlowActions"),
    ("flex_credits", "Flex credits", "flexCredits", "usedFlexCredits", "remainingFlexCredits"),
)


def _quota(
    node: dict[str, Any], keys: tuple[str, str], name: str, label: str, seconds: int, where: str
) -> Window | None:
    """A daily or weekly quota from its percent *remaining* and its reset (epoch seconds)."""
    remaining_key, reset_key = keys
    left = opt_num(node.get(remaining_key), f"{where}.{remaining_key}")
    if left is None:
        return None
    return Window(
        id=name,
        label=label,
        used_pct=round(min(100.0, max(0.0, 100.0 - left)), 4),
        resets_at=opt_time(node.get(reset_key), f"{where}.{reset_key}"),
        window_seconds=seconds,
    )


def parse_web(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Windsurf: the plan status is not an object", field="$")
    status = root.get("plan_status")
    if not isinstance(status, dict):
        raise ParseError("Windsurf: the answer has no plan_status", field="plan_status")
    salvage = Salvage()
    windows = salvage.each(
        QUOTAS,
        lambda _i, spec: _quota(
            status, (f"{spec[0]}_quota_remaining_percent", f"{spec[0]}_quota_reset_at_unix"), *spec, "plan_status"
        ),
    )
    plan = opt_str(obj(status.get("plan_info")).get("plan_name"))
    return Usage(windows=tuple(windows), plan=plan, warnings=salvage.warnings())


def parse_cached(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Windsurf: the cached plan is not an object", field="$")
    salvage = Salvage()
    quota = obj(root.get("quotaUsage"))
    windows = salvage.each(
        QUOTAS,
        lambda _i, spec: _quota(quota, (f"{spec[0]}RemainingPercent", f"{spec[0]}ResetAtUnix"), *spec, "quotaUsage"),
    )
    if not windows:
        end = salvage.keep(lambda: opt_time(root.get("endTimestamp"), "endTimestamp"))
        start = salvage.keep(lambda: opt_time(root.get("startTimestamp"), "startTimestamp"))
        usage = obj(root.get("usage"))
        windows = salvage.each(COUNTERS, lambda _i, spec: _counter(usage, *spec, start, end))
    return Usage(windows=tuple(windows), plan=opt_str(root.get("planName")), warnings=salvage.warnings())


def _counter(
    usage: dict[str, Any],
    wid: str,
    label: str,
    total_key: str,
    used_key: str,
    left_key: str,
    start: datetime | None,
    end: datetime | None,
) -> Window | None:
    total = opt_num(usage.get(total_key), f"usage.{total_key}")
    if not total or total <= 0:
        return None
    used = opt_num(usage.get(used_key), f"usage.{used_key}")
    if used is None:
        left = opt_num(usage.get(left_key), f"usage.{left_key}")
        used = max(0.0, total - left) if left is not None else None
    if used is None:
        return None
    used = min(total, max(0.0, used))
    seconds = int((end - start).total_seconds()) if start and end and end > start else None
    return Window(
        id=wid,
        label=label,
        used_pct=round(used / total * 100.0, 4),
        resets_at=end,
        window_seconds=seconds,
        used=used,
        limit=total,
        unit=label.lower(),
    )
