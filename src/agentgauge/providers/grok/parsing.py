"""Pure reading of the Grok CLI's billing answers (``/v1/billing?format=credits``, ``/v1/settings``)
and of its login file (``~/.grok/auth.json``)."""

from __future__ import annotations

import re
from typing import Any

from ...errors import ParseError
from ...models import Balance, Breakdown, BreakdownItem, Usage, Window
from .._parse import Salvage, label_for, obj, opt_num, opt_str, opt_time, window_id_for

OIDC_PREFIX = "https://auth.x.ai::"
LEGACY_SCOPE = "https://accounts.x.ai/sign-in"
PERIOD_TYPES = {"USAGE_PERIOD_TYPE_WEEKLY": ("weekly", 604800), "USAGE_PERIOD_TYPE_MONTHLY": ("monthly", None)}
SHARE_TOLERANCE = 1.0  # percentage points: product shares must add up to the total within this


def login_entry(root: Any) -> tuple[str, dict[str, Any]] | None:
    """The auth.json entry to use: one under ``https://auth.x.ai::<client>`` (SuperGrok OIDC), else the
    legacy ``https://accounts.x.ai/sign-in`` session; only entries with a non-empty ``key`` count."""
    oidc = legacy = None
    for scope, entry in obj(root).items():
        if not isinstance(entry, dict) or not opt_str(entry.get("key")):
            continue
        if scope.startswith(OIDC_PREFIX):
            oidc = oidc or (scope, entry)
        elif scope == LEGACY_SCOPE or "/sign-in" in scope:
            legacy = legacy or (scope, entry)
    return oidc or legacy


def plan_name(raw: Any) -> str | None:
    """``SuperGrok`` / ``SuperGrok Heavy`` from any spelling (``SUPERGROK_HEAVY``, ``heavy``), else as given."""
    text = opt_str(raw)
    if not text:
        return None
    compact = re.sub(r"[^a-z]", "", text.lower())
    if compact in ("supergrokheavy", "heavy"):
        return "SuperGrok Heavy"
    if compact == "supergrok":
        return "SuperGrok"
    return text


def _credit_window(config: dict[str, Any], percent: float) -> Window:
    period = obj(config.get("currentPeriod"))
    start = opt_time(period.get("start"), "config.currentPeriod.start")
    end = opt_time(period.get("end"), "config.currentPeriod.end")
    resets = end or opt_time(config.get("billingPeriodEnd"), "config.billingPeriodEnd")
    seconds = int((end - start).total_seconds()) if start and end and start < end else None
    kind = (opt_str(period.get("type")) or "").upper()
    if kind in PERIOD_TYPES:
        window_id, named = PERIOD_TYPES[kind]
        seconds = named  # weekly is 7 days; a month has no one length (as every monthly window here)
    else:
        window_id = window_id_for(seconds) if seconds else "credits"
        window_id = window_id if window_id in ("weekly", "monthly", "daily") else "credits"
        seconds = None if window_id == "monthly" else seconds
    label = "Credits" if window_id == "credits" else f"Credits ({label_for(window_id).lower()})"
    return Window(
        id=window_id,
        label=label,
        used_pct=round(min(max(percent, 0.0), 100.0), 4),
        resets_at=resets,
        window_seconds=seconds,
        unit=None,
    )


def _products(config: dict[str, Any], percent: float) -> Breakdown | None:
    """``productUsage``: each product's share of the same credit pool. Shown only whole: every entry
    readable and the shares adding up to the total, so a partial list never passes as complete."""
    raw = config.get("productUsage")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ParseError("Grok: 'config.productUsage' is not a list", field="config.productUsage")
    shares: list[tuple[str, float]] = []
    for index, entry in enumerate(raw):
        where = f"config.productUsage[{index}]"
        product = opt_str(obj(entry).get("product"))
        share = opt_num(obj(entry).get("usagePercent"), f"{where}.usagePercent")
        if product is None or share is None:
            raise ParseError(f"Grok: '{where}' has no product or share", field=f"{where}.usagePercent")
        shares.append((product, share))
    if abs(sum(s for _, s in shares) - percent) > SHARE_TOLERANCE:
        raise ParseError("Grok: the product shares do not add up to the credit usage", field="config.productUsage")
    ranked = sorted(((p, s) for p, s in shares if s > 0), key=lambda ps: (-ps[1], ps[0]))
    return Breakdown(
        id="credits_by_product",
        label="Credits by product",
        unit="%",
        items=tuple(BreakdownItem(key=p, value=round(s, 4)) for p, s in ranked),
    )


def parse_billing(root: Any, settings: Any, auth_mode: str | None) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Grok: billing response is not an object", field="$")
    config = root.get("config")
    if not isinstance(config, dict):
        raise ParseError("Grok: billing response has no 'config' object", field="config")
    salvage = Salvage()
    percent = opt_num(config.get("creditUsagePercent"), "config.creditUsagePercent")
    windows: list[Window] = []
    breakdowns: list[Breakdown] = []
    if percent is not None:
        windows.append(_credit_window(config, percent))
        products = salvage.keep(lambda: _products(config, percent))
        if products is not None:
            breakdowns.append(products)
    balances: list[Balance] = []
    cap = opt_num(obj(config.get("onDemandCap")).get("val"), "config.onDemandCap.val")
    used = opt_num(obj(config.get("onDemandUsed")).get("val"), "config.onDemandUsed.val")
    if cap is not None and cap > 0:  # cents; a cap of 0 means on-demand spending is off
        spent = (used or 0.0) / 100.0
        balances.append(
            Balance(
                id="on_demand",
                label="On-demand spend",
                unit="usd",
                used=round(spent, 2),
                limit=round(cap / 100.0, 2),
                remaining=round(cap / 100.0 - spent, 2),
                resets_at=opt_time(config.get("billingPeriodEnd"), "config.billingPeriodEnd"),
            )
        )
    plan = (
        plan_name(obj(settings).get("subscription_tier_display"))
        or plan_name(config.get("subscriptionTier"))
        or plan_name(root.get("subscriptionTier"))
        or ("SuperGrok" if (auth_mode or "").lower() == "oidc" else None)
    )
    note = None
    if not windows:
        has_period = obj(config.get("currentPeriod")) or config.get("billingPeriodEnd")
        if not has_period and not balances:
            raise ParseError("Grok: billing response has neither usage nor a period", field="config.creditUsagePercent")
        # A period without a percentage is unknown usage, not 0 % (SuperGrok Heavy answers so).
        note = "Grok reported the billing period but no credit usage percentage."
    return Usage(
        windows=tuple(windows),
        balances=tuple(balances),
        breakdowns=tuple(breakdowns),
        plan=plan,
        note=note,
        warnings=salvage.warnings(),
    )
