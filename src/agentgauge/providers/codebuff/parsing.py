"""Pure parser for Codebuff's usage and subscription answers.

``/api/v1/usage``: ``{usage, quota, remainingBalance, next_quota_reset, autoTopupEnabled}`` in
credits (older names ``used``, ``limit``, ``remaining``). The credits are a balance: what is
left, what was used of the quota, and when the quota is next granted.

``/api/user/subscription``: ``{hasSubscription, subscription: {status, tier | displayName,
billingPeriodEnd}, rateLimit: {weeklyUsed, weeklyLimit, weeklyResetsAt}, email}``. The weekly
rate limit is a limit with a period, so it is a window; the tier is the plan.
"""

from __future__ import annotations

from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, pct_of


def parse(usage: Any, subscription: Any) -> Usage:
    if not isinstance(usage, dict):
        raise ParseError("Codebuff: the usage answer is not an object", field="usage")
    salvage = Salvage()
    credits = _credits(usage)
    windows: list[Window] = []
    plan = None
    if subscription is not None:
        weekly = salvage.keep(lambda: _weekly(subscription))
        windows = [weekly] if weekly else []
        plan = salvage.keep(lambda: _plan(subscription))
    return Usage(windows=tuple(windows), balances=(credits,), plan=plan, warnings=salvage.warnings())


def _first(node: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = opt_num(node.get(key), key)
        if value is not None:
            return value
    return None


def _credits(usage: dict[str, Any]) -> Balance:
    used = _first(usage, "usage", "used")
    limit = _first(usage, "quota", "limit")
    remaining = _first(usage, "remainingBalance", "remaining")
    if used is None and limit is None and remaining is None:
        raise ParseError("Codebuff: the usage answer has no usage, quota or remainingBalance", field="usage")
    if remaining is None and used is not None and limit is not None:
        remaining = limit - used
    return Balance(
        id="credits",
        label="Credits",
        unit="credits",
        remaining=remaining,
        used=used,
        limit=limit,
        resets_at=opt_time(usage.get("next_quota_reset"), "next_quota_reset"),
    )


def _weekly(subscription: Any) -> Window | None:
    if not isinstance(subscription, dict):
        raise ParseError("Codebuff: the subscription answer is not an object", field="subscription")
    limits = obj(subscription.get("rateLimit"))
    used = _first(limits, "weeklyUsed", "used")
    limit = _first(limits, "weeklyLimit", "limit")
    if used is None or not limit:
        return None  # no weekly limit on this account: no window, never a 0 %
    return Window(
        id="weekly",
        label="Weekly",
        used_pct=pct_of(used, limit) or 0.0,
        resets_at=opt_time(limits.get("weeklyResetsAt"), "rateLimit.weeklyResetsAt"),
        window_seconds=604800,
        used=used,
        limit=limit,
    )


def _plan(subscription: Any) -> str | None:
    root = obj(subscription)
    node = obj(root.get("subscription"))
    tier = (
        opt_str(node.get("displayName"))
        or opt_str(root.get("displayName"))
        or opt_str(node.get("tier"))
        or opt_str(root.get("tier"))
        or opt_str(node.get("scheduledTier"))
    )
    if tier is None:
        return None
    name = tier if any(c.isupper() for c in tier) else tier.replace("_", " ").title()
    status = opt_str(node.get("status"))
    return name if status in (None, "active") else f"{name} ({status})"
