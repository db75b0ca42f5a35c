"""Pure parsing of Factory's answers (no I/O).

Two billing models exist. Accounts on token-rate-limits billing (``/api/billing/limits`` with
``usesTokenRateLimitsBilling: true``) have rolling windows per pool (``standard``, optionally
``core``): ``fiveHour``, ``weekly``, ``monthly`` each ``{usedPercent, secondsRemaining,
windowEnd}``, plus an extra-usage balance in cents. Older plans report Standard and Premium
token allowances for the billing period (``/api/organization/subscription/usage``: epoch-ms
``startDate``/``endDate``, per tier ``userTokens``, ``totalAllowance``, ``usedRatio`` 0-1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window
from .._parse import Salvage, after, obj, opt_num, opt_str, opt_time

# (key in limits.<pool>, window id suffix, label, seconds)
RATE_WINDOWS = (
    ("fiveHour", "session", "Session (5h)", 18000),
    ("weekly", "weekly", "Weekly", 604800),
    ("monthly", "monthly", "Monthly", None),
)
TIERS = (("standard", "Standard tokens"), ("premium", "Premium tokens"))
# Allowances above this are Factory's "unlimited" sentinel, not a real cap.
UNLIMITED_ALLOWANCE = 1_000_000_000_000


def plan_of(me: Any) -> str | None:
    """``organization.subscription``: the Orb plan's name, else the Factory tier ("team" -> "Team")."""
    subscription = obj(obj(obj(me).get("organization")).get("subscription"))
    name = opt_str(obj(obj(subscription.get("orbSubscription")).get("plan")).get("name"))
    tier = opt_str(subscription.get("factoryTier"))
    return name or (tier.title() if tier else None)


def user_id(me: Any) -> str | None:
    return opt_str(obj(obj(me).get("userProfile")).get("id"))


def _rate_window(entry: dict[str, Any], where: str, wid: str, label: str, seconds: int | None, now: datetime) -> Window:
    pct = opt_num(entry.get("usedPercent"), f"{where}.usedPercent")
    if pct is None:
        raise ParseError(f"Factory: {where} has no usedPercent", field=f"{where}.usedPercent")
    remaining = opt_num(entry.get("secondsRemaining"), f"{where}.secondsRemaining")
    end = opt_time(entry.get("windowEnd"), f"{where}.windowEnd")
    resets = after(now, remaining, f"{where}.secondsRemaining") if remaining and remaining > 0 else None
    if resets is None and end is not None and end > now:
        resets = end
    if resets is None and end is not None and remaining is None:
        pct = 0.0  # the window ended and Factory kept the old figure: its web app shows it as reset
    return Window(id=wid, label=label, used_pct=round(max(pct, 0.0), 4), resets_at=resets, window_seconds=seconds)


def _pool_has_data(pool: dict[str, Any]) -> bool:
    return any(
        (opt_num(obj(pool.get(k)).get("usedPercent")) or 0) > 0
        or obj(pool.get(k)).get("windowEnd") is not None
        or obj(pool.get(k)).get("secondsRemaining") is not None
        for k, *_ in RATE_WINDOWS
    )


def _pool_windows(
    pool: dict[str, Any], pool_name: str, prefix: str, label_prefix: str, now: datetime, salvage: Salvage
) -> list[Window]:
    present = [spec for spec in RATE_WINDOWS if isinstance(pool.get(spec[0]), dict)]

    def build(_: int, spec: tuple[str, str, str, int | None]) -> Window:
        key, wid, label, seconds = spec
        return _rate_window(pool[key], f"limits.{pool_name}.{key}", prefix + wid, label_prefix + label, seconds, now)

    return salvage.each(present, build)


def rate_limit_usage(limits: dict[str, Any], now: datetime, salvage: Salvage) -> tuple[list[Window], list[Balance]]:
    """Token-rate-limits billing: the standard pool's windows, the core pool's when it has data."""
    pools = obj(limits.get("limits"))
    windows = _pool_windows(obj(pools.get("standard")), "standard", "", "", now, salvage)
    core = obj(pools.get("core"))
    if core and _pool_has_data(core):
        windows += _pool_windows(core, "core", "core_", "Core · ", now, salvage)
    balances: list[Balance] = []
    cents = opt_num(limits.get("extraUsageBalanceCents"), "extraUsageBalanceCents")
    if cents is not None and (cents > 0 or limits.get("extraUsageAllowed") is True):
        balances.append(Balance(id="extra_usage", label="Extra usage balance", unit="usd", remaining=cents / 100))
    return windows, balances


def _tier_percent(used: float | None, allowance: float | None, ratio: float | None, where: str) -> float | None:
    reliable = allowance is not None and 0 < allowance <= UNLIMITED_ALLOWANCE
    # usedRatio is a 0-1 fraction; a 0 beside tokens used against a real allowance is stale, so computed instead.
    if ratio is not None and -0.001 <= ratio <= 1.001 and not (ratio == 0 and (used or 0) > 0 and reliable):
        return min(max(ratio, 0.0), 1.0) * 100.0
    if ratio is not None and not reliable and -0.1 <= ratio <= 100.1:
        return min(max(ratio, 0.0), 100.0)  # some answers give a percent where no allowance is known
    if reliable and used is not None and allowance:
        return used / allowance * 100.0
    if not used and not allowance:
        return None  # the plan has no such tier
    raise ParseError(f"Factory: {where} has neither usedRatio nor an allowance", field=f"{where}.usedRatio")


def _tier_window(
    entry: dict[str, Any], tier: str, label: str, start: datetime | None, end: datetime | None
) -> Window | None:
    where = f"usage.{tier}"
    used = opt_num(entry.get("userTokens"), f"{where}.userTokens")
    allowance = opt_num(entry.get("totalAllowance"), f"{where}.totalAllowance")
    ratio = opt_num(entry.get("usedRatio"), f"{where}.usedRatio")
    seconds = int((end - start).total_seconds()) if start and end and end > start else None
    unlimited = allowance is not None and allowance > UNLIMITED_ALLOWANCE
    pct = 0.0 if unlimited else _tier_percent(used, allowance, ratio, where)
    if pct is None:
        return None  # left out, never shown as 0 %
    return Window(
        id=tier,
        label=label,
        used_pct=round(pct, 4),
        resets_at=end,
        window_seconds=seconds,
        used=used,
        limit=None if unlimited or not allowance or allowance <= 0 else allowance,
        unit="tokens",
        unlimited=unlimited,
    )


def legacy_usage(root: dict[str, Any], salvage: Salvage) -> list[Window]:
    usage = obj(root.get("usage"))
    if not usage:
        raise ParseError("Factory: the usage answer has no 'usage'", field="usage")
    start = opt_time(usage.get("startDate"), "usage.startDate")
    end = opt_time(usage.get("endDate"), "usage.endDate")
    present = [(tier, label) for tier, label in TIERS if isinstance(usage.get(tier), dict)]
    built = salvage.each(present, lambda _, t: _tier_window(usage[t[0]], t[0], t[1], start, end))
    return [w for w in built if w is not None]


def parse(raw: dict[str, Any], now: datetime) -> Usage:
    salvage = Salvage()
    limits = obj(raw.get("limits"))
    windows: list[Window] = []
    balances: list[Balance] = []
    if limits.get("usesTokenRateLimitsBilling") is True and isinstance(limits.get("limits"), dict):
        windows, balances = rate_limit_usage(limits, now, salvage)
    elif raw.get("usage") is not None:
        windows = legacy_usage(obj(raw.get("usage")), salvage)
    else:
        raise ParseError("Factory: neither token-rate limits nor subscription usage came back", field="usage.standard")
    if not windows and not balances and salvage.problems:
        raise salvage.problems[0]
    plan = plan_of(raw.get("me"))
    return Usage(windows=tuple(windows), balances=tuple(balances), plan=plan, warnings=salvage.warnings())
