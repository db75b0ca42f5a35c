"""Pure parser for Command Code's billing answers.

``/internal/billing/credits``: ``{credits: {monthlyCredits, purchasedCredits,
premiumMonthlyCredits, opensourceMonthlyCredits, windowLimits?}, windowLimits?}``. The credits
are US dollars *left* (the plan's monthly allowance is not in the answer, so they are balances).
``windowLimits.fiveHour`` / ``weekly`` (at the root or inside ``credits``) are rolling limits
``{cap, used, resetAt}`` (numbers possibly strings, ``resetAt`` epoch s or ms): windows.

``/internal/billing/subscriptions``: ``{success, data: {planId, status, currentPeriodEnd} | null}``;
``data: null`` in a successful answer is the free tier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, pct_of

# planId -> name (CodexBar's catalog of Command Code's plans; its dollar amounts are not used).
PLAN_NAMES = {
    "individual-go": "Go",
    "individual-goat": "GOAT",
    "individual-pro": "Pro",
    "individual-pro-v1": "Pro",
    "individual-max": "Max",
    "individual-ultra": "Ultra",
}
LIMITS = (("fiveHour", "session", "Session (5h)", 18000), ("weekly", "weekly", "Weekly", 604800))
EXTRA_BALANCES = (
    ("premiumMonthlyCredits", "premium_monthly", "Premium monthly credits"),
    ("opensourceMonthlyCredits", "opensource_monthly", "Open-source monthly credits"),
)


def parse(credits_answer: Any, subscription_answer: Any) -> Usage:
    if not isinstance(credits_answer, dict):
        raise ParseError("Command Code: the credits answer is not an object", field="$")
    credits = credits_answer.get("credits")
    if not isinstance(credits, dict):
        raise ParseError("Command Code: the answer has no 'credits' object", field="credits")
    salvage = Salvage()
    subscription, plan, period_end = None, None, None
    if subscription_answer is not None:
        try:
            subscription = subscription_of(subscription_answer)
            plan = plan_of(subscription)
            period_end = opt_time(obj(subscription).get("currentPeriodEnd"), "data.currentPeriodEnd")
        except ParseError as exc:  # an enrichment: the credits are still shown
            salvage.problems.append(exc)
    limits = obj(credits_answer.get("windowLimits")) or obj(credits.get("windowLimits"))
    windows = salvage.each(LIMITS, lambda _i, spec: _window(limits, *spec))
    balances = [_monthly(credits, period_end)]
    balances += salvage.each(EXTRA_BALANCES, lambda _i, spec: _extra(credits, *spec, period_end))
    purchased = opt_num(credits.get("purchasedCredits"), "credits.purchasedCredits")
    if purchased:
        balances.append(Balance(id="purchased", label="Purchased credits", unit="usd", remaining=purchased))
    return Usage(
        windows=tuple(windows),
        balances=tuple(balances),
        plan=plan,
        warnings=salvage.warnings(),
    )


def subscription_of(answer: Any) -> dict[str, Any] | None:
    """The subscription object; ``None`` for the free tier. Failure envelopes raise."""
    if not isinstance(answer, dict) or not isinstance(answer.get("success"), bool):
        raise ParseError("Command Code: the subscriptions answer has no success flag", field="success")
    if answer["success"] is not True:
        raise ParseError("Command Code: the subscriptions answer was unsuccessful", field="success")
    data = answer.get("data")
    if data is None:
        return None
    if not isinstance(data, dict) or not opt_str(data.get("planId")):
        raise ParseError("Command Code: the subscription has no planId", field="data.planId")
    return data


def plan_of(subscription: dict[str, Any] | None) -> str:
    if subscription is None:
        return "Free"
    plan_id = str(subscription["planId"]).strip()
    name = PLAN_NAMES.get(plan_id.lower(), plan_id)
    status = opt_str(subscription.get("status"))
    return name if status in (None, "active") else f"{name} ({status})"


def _window(limits: dict[str, Any], key: str, wid: str, label: str, seconds: int) -> Window | None:
    node = limits.get(key)
    if node is None:
        return None
    where = f"windowLimits.{key}"
    if not isinstance(node, dict):
        raise ParseError(f"Command Code: '{where}' is not an object", field=where)
    cap = opt_num(node.get("cap"), f"{where}.cap")
    if not cap or cap <= 0:
        return None  # no cap on this account: no window, never a 0 %
    used = opt_num(node.get("used"), f"{where}.used") or 0.0
    return Window(
        id=wid,
        label=label,
        used_pct=pct_of(used, cap) or 0.0,
        resets_at=opt_time(node.get("resetAt"), f"{where}.resetAt"),
        window_seconds=seconds,
        used=used,
        limit=cap,
    )


def _monthly(credits: dict[str, Any], period_end: datetime | None) -> Balance:
    left = opt_num(credits.get("monthlyCredits"), "credits.monthlyCredits")
    if left is None:
        raise ParseError("Command Code: 'credits.monthlyCredits' is missing", field="credits.monthlyCredits")
    return Balance(
        id="monthly", label="Monthly credits", unit="usd", remaining=left, period="monthly", resets_at=period_end
    )


def _extra(credits: dict[str, Any], key: str, bid: str, label: str, period_end: datetime | None) -> Balance | None:
    left = opt_num(credits.get(key), f"credits.{key}")
    if not left:
        return None
    return Balance(id=bid, label=label, unit="usd", remaining=left, period="monthly", resets_at=period_end)
