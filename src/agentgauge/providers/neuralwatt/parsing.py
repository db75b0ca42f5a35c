"""Pure reading of Neuralwatt's ``/v1/quota`` answer (money in US dollars, energy in kWh)."""

from __future__ import annotations

from typing import Any

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Balance, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, slug

NAME = "Neuralwatt"


def _non_negative(value: Any, field: str) -> float | None:
    number = opt_num(value, field)
    return number if number is not None and number >= 0 else None


def prepaid_balance(balance: dict[str, Any]) -> Balance:
    """The prepaid credits: what is left of everything topped up (no reset, no period)."""
    remaining = _non_negative(balance.get("credits_remaining_usd"), "balance.credits_remaining_usd")
    total = _non_negative(balance.get("total_credits_usd"), "balance.total_credits_usd")
    used = _non_negative(balance.get("credits_used_usd"), "balance.credits_used_usd")
    if used is None and total is not None and remaining is not None:
        used = max(total - remaining, 0.0)
    if remaining is None and total is not None and used is not None:
        remaining = max(total - used, 0.0)
    if remaining is None and used is None:
        raise ParseError(f"{NAME}: the balance has no credit figures", field="balance.credits_remaining_usd")
    return Balance(
        id="prepaid",
        label="Prepaid credits",
        unit="usd",
        remaining=remaining,
        used=round(used, 6) if used is not None else None,
        limit=total if total else None,
    )


def energy_window(subscription: dict[str, Any]) -> Window | None:
    """The subscription's kWh allowance for the current billing period (over 100 % in overage)."""
    included = _non_negative(subscription.get("kwh_included"), "subscription.kwh_included")
    used = _non_negative(subscription.get("kwh_used"), "subscription.kwh_used")
    remaining = _non_negative(subscription.get("kwh_remaining"), "subscription.kwh_remaining")
    if not included and used is not None and remaining is not None:
        included = used + remaining
    if used is None and included and remaining is not None:
        used = max(included - remaining, 0.0)
    if not included:
        return None  # a subscription without an energy allowance has nothing to meter
    if used is None:
        raise ParseError(f"{NAME}: the subscription has no 'subscription.kwh_used'", field="subscription.kwh_used")
    return Window(
        id="energy",
        label="Subscription energy",
        used_pct=round(used / included * 100.0, 4),
        resets_at=opt_time(subscription.get("current_period_end"), "subscription.current_period_end"),
        used=used,
        limit=included,
        unit="kwh",
    )


def key_allowance(allowance: dict[str, Any]) -> Window | Balance | None:
    """The key's own spending allowance: a window when it names its period, else a balance."""
    limit = _non_negative(allowance.get("limit_usd"), "key.allowance.limit_usd")
    spent = _non_negative(allowance.get("spent_usd"), "key.allowance.spent_usd")
    remaining = _non_negative(allowance.get("remaining_usd"), "key.allowance.remaining_usd")
    blocked = allowance.get("blocked") is True
    if spent is None and limit is not None and remaining is not None:
        spent = max(limit - remaining, 0.0)
    period = (opt_str(allowance.get("period")) or "").lower()
    if period and ((limit and spent is not None) or blocked):
        if limit and spent is not None:
            used_pct = round(spent / limit * 100.0, 4)
            used_pct = max(used_pct, 100.0) if blocked else used_pct
        else:
            used_pct = 100.0  # blocked, with no figures: nothing can be spent
        return Window(
            id=f"key_{slug(period)}",
            label=f"API key allowance ({period})",
            used_pct=used_pct,
            used=spent,
            limit=limit or None,
            unit="usd",
        )
    if limit or blocked:
        return Balance(
            id="key_allowance",
            label="API key allowance",
            unit="usd",
            remaining=0.0 if blocked and remaining is None else remaining,
            used=spent,
            limit=limit or None,
        )
    return None


def month_balances(current: dict[str, Any]) -> list[Balance]:
    """This month's spend and energy: what was used, with no stated limit."""
    out = []
    cost = _non_negative(current.get("cost_usd"), "usage.current_month.cost_usd")
    if cost is not None:
        out.append(Balance(id="spend_month", label="Spend this month", unit="usd", used=cost, period="monthly"))
    energy = _non_negative(current.get("energy_kwh"), "usage.current_month.energy_kwh")
    if energy is not None:
        out.append(Balance(id="energy_month", label="Energy this month", unit="kwh", used=energy, period="monthly"))
    return out


def error_in(root: dict[str, Any]) -> Exception | None:
    """An error body (``{"error": ...}`` or ``{"detail": ...}``) where the quota was expected."""
    error = root.get("error", root.get("detail"))
    if error is None or "balance" in root:
        return None
    message = (opt_str(error) or opt_str(obj(error).get("message")) or "request failed")[:200]
    lowered = message.lower()
    if "key" in lowered or "auth" in lowered:
        return AuthError(f"{NAME}: the quota request was refused: {message}", status_code=401)
    if "rate" in lowered or "too many" in lowered:
        return RateLimitedError(f"{NAME}: the quota request was rate limited: {message}")
    return UpstreamError(f"{NAME}: the quota request failed: {message}")


def plan_name(subscription: dict[str, Any]) -> str | None:
    plan = opt_str(subscription.get("plan"))
    return plan.replace("_", " ").title() if plan else None


def parse_quota(payload: Any) -> Usage:
    if not isinstance(payload, dict):
        raise ParseError(f"{NAME}: quota response is not an object", field="$")
    failure = error_in(payload)
    if failure is not None:
        raise failure
    balance = payload.get("balance")
    if not isinstance(balance, dict):
        raise ParseError(f"{NAME}: quota response has no 'balance' object", field="balance")
    salvage = Salvage()
    windows: list[Window] = []
    balances: list[Balance] = [prepaid_balance(balance)]
    subscription = obj(payload.get("subscription"))
    if subscription:
        energy = salvage.keep(lambda: energy_window(subscription))
        if energy is not None:
            windows.append(energy)
    allowance = obj(obj(payload.get("key")).get("allowance"))
    if allowance:
        part = salvage.keep(lambda: key_allowance(allowance))
        if isinstance(part, Window):
            windows.append(part)
        elif isinstance(part, Balance):
            balances.append(part)
    current = obj(obj(payload.get("usage")).get("current_month"))
    balances.extend(salvage.keep(lambda: month_balances(current)) or [])
    return Usage(
        windows=tuple(windows),
        balances=tuple(balances),
        plan=plan_name(subscription),
        warnings=salvage.warnings(),
    )
