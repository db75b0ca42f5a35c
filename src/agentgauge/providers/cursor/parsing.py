"""Pure parser for cursor.com's usage answers.

``/api/usage-summary``: ``{billingCycleStart, billingCycleEnd (ISO), membershipType, isUnlimited,
individualUsage: {plan: {used, limit, remaining, totalPercentUsed, autoPercentUsed,
apiPercentUsed}, onDemand: {used, limit, remaining}, overall: {...}}, teamUsage: {onDemand: {...},
pooled: {...}}}``. Money is in **cents**; percentages are already percents (fractions below 1 are
small percents, not fractions). Everything renews at ``billingCycleEnd``.

``/api/dashboard/get-sand-usage-status``: Grok Bot's weekly allowance ``{usagePercent,
currentPeriodStart, nextResetTimestampUtc, hasNonZeroIncludedLimit}``.

``/api/usage?user=<id>``: legacy request-based plans, ``{"gpt-4": {numRequests, numRequestsTotal,
maxRequestUsage}}``.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, pct_of

# membershipType -> plan (CodexBar's names for Cursor's tiers)
PLANS = {
    "enterprise": "Enterprise",
    "express": "Start",
    "free": "Free",
    "free_trial": "Pro Trial",
    "hobby": "Hobby",
    "pro": "Pro",
    "pro_student": "Pro",
    "pro_plus": "Pro+",
    "team": "Team",
    "ultra": "Ultra",
}
NO_LIMIT_NOTE = "Cursor reports no included-usage limit for this account."
LANES = (("autoPercentUsed", "monthly_auto", "Auto + Composer"), ("apiPercentUsed", "monthly_api", "API models"))


def _dollars(cents: float | None) -> float | None:
    return None if cents is None else round(cents / 100.0, 4)


class Cycle:
    def __init__(self, summary: dict[str, Any], salvage: Salvage) -> None:
        start = salvage.keep(lambda: opt_time(summary.get("billingCycleStart"), "billingCycleStart"))
        self.end = salvage.keep(lambda: opt_time(summary.get("billingCycleEnd"), "billingCycleEnd"))
        self.seconds = int((self.end - start).total_seconds()) if start and self.end and self.end > start else None


def parse(summary: Any, sand: Any = None, requests: Any = None) -> Usage:
    if not isinstance(summary, dict):
        raise ParseError("Cursor: the usage summary is not an object", field="$")
    salvage = Salvage()
    cycle = Cycle(summary, salvage)
    individual, team = obj(summary.get("individualUsage")), obj(summary.get("teamUsage"))
    legacy = salvage.keep(lambda: _requests(requests, cycle)) if requests is not None else None
    windows: list[Window] = []
    if legacy is not None:
        windows.append(legacy)  # a request-based plan: its token-based splits mean nothing beside it
    else:
        included = salvage.keep(lambda: _included(individual, summary.get("isUnlimited") is True, cycle))
        windows += [included] if included else []
        plan = obj(individual.get("plan"))
        for lane in LANES:
            built = salvage.keep(partial(_lane, plan, *lane, cycle))
            windows += [built] if built else []
        if sand is not None:
            grok = salvage.keep(lambda: _grok(sand))
            windows += [grok] if grok else []
    balances: list[Balance] = []
    for node, wid, label, where in (
        (individual.get("onDemand"), "on_demand", "On-demand usage", "individualUsage.onDemand"),
        (team.get("onDemand"), "team_on_demand", "Team on-demand usage", "teamUsage.onDemand"),
        (team.get("pooled"), "team_pooled", "Team pool", "teamUsage.pooled"),
    ):
        spent = salvage.keep(partial(_spend, node, wid, label, where, cycle))
        if isinstance(spent, Window):
            windows.append(spent)
        elif isinstance(spent, Balance):
            balances.append(spent)
    membership = opt_str(summary.get("membershipType"))
    note = NO_LIMIT_NOTE if not windows and not balances and not salvage.problems else None
    return Usage(
        windows=tuple(windows),
        balances=tuple(balances),
        plan=PLANS.get(membership.lower(), membership) if membership else None,
        note=note,
        warnings=salvage.warnings(),
    )


def _lane(plan: dict[str, Any], key: str, wid: str, label: str, cycle: Cycle) -> Window | None:
    """One lane of the included usage (Auto + Composer, or named API models), a percent."""
    pct = opt_num(plan.get(key), f"individualUsage.plan.{key}")
    if pct is None:
        return None
    return Window(id=wid, label=label, used_pct=max(0.0, pct), resets_at=cycle.end, window_seconds=cycle.seconds)


def _included(individual: dict[str, Any], unlimited: bool, cycle: Cycle) -> Window | None:
    """The included plan usage: ``plan`` (percent first), else an enterprise member's ``overall`` cap."""
    plan = individual.get("plan")
    where = "individualUsage.plan"
    if not isinstance(plan, dict):
        plan, where = individual.get("overall"), "individualUsage.overall"
    if not isinstance(plan, dict):
        return Window(id="monthly", label="Included usage", used_pct=0.0, unlimited=True) if unlimited else None
    used = _dollars(opt_num(plan.get("used"), f"{where}.used"))
    limit = _dollars(opt_num(plan.get("limit"), f"{where}.limit"))
    pct = opt_num(plan.get("totalPercentUsed"), f"{where}.totalPercentUsed")
    if pct is None:
        auto = opt_num(plan.get("autoPercentUsed"), f"{where}.autoPercentUsed")
        api = opt_num(plan.get("apiPercentUsed"), f"{where}.apiPercentUsed")
        parts = [p for p in (auto, api) if p is not None]
        pct = sum(parts) / len(parts) if parts else pct_of(used, limit)
    if unlimited:
        return Window(
            id="monthly",
            label="Included usage",
            used_pct=0.0,
            resets_at=cycle.end,
            window_seconds=cycle.seconds,
            used=used,
            unit="usd",
            unlimited=True,
        )
    if pct is None:
        return None  # no limit and no percent: nothing to show as a window
    return Window(
        id="monthly",
        label="Included usage",
        used_pct=round(max(0.0, pct), 4),
        resets_at=cycle.end,
        window_seconds=cycle.seconds,
        used=used if limit else None,
        limit=limit or None,
        unit="usd" if limit else None,
    )


def _spend(node: Any, wid: str, label: str, where: str, cycle: Cycle) -> Window | Balance | None:
    """On-demand spend (or a team pool): a window when it has a limit for the cycle, else the spend."""
    if node is None:
        return None
    if not isinstance(node, dict):
        raise ParseError(f"Cursor: '{where}' is not an object", field=where)
    used = _dollars(opt_num(node.get("used"), f"{where}.used"))
    limit = _dollars(opt_num(node.get("limit"), f"{where}.limit"))
    if limit:
        return Window(
            id=wid,
            label=label,
            used_pct=pct_of(used or 0.0, limit) or 0.0,
            resets_at=cycle.end,
            window_seconds=cycle.seconds,
            used=used or 0.0,
            limit=limit,
            unit="usd",
        )
    if not used:
        return None  # nothing spent and no budget: nothing to show
    return Balance(id=wid, label=label, unit="usd", used=used, period="monthly", resets_at=cycle.end)


def _grok(sand: Any) -> Window | None:
    if not isinstance(sand, dict):
        raise ParseError("Cursor: the Grok Bot answer is not an object", field="sand")
    if sand.get("hasNonZeroIncludedLimit") is not True:
        return None  # no Grok Bot allowance on this account
    pct = opt_num(sand.get("usagePercent"), "sand.usagePercent")
    if pct is None:
        return None
    start = opt_time(sand.get("currentPeriodStart"), "sand.currentPeriodStart")
    end = opt_time(sand.get("nextResetTimestampUtc"), "sand.nextResetTimestampUtc")
    seconds = int((end - start).total_seconds()) if start and end and end > start else None
    return Window(
        id="grok_bot", label="Grok Bot (weekly)", used_pct=max(0.0, pct), resets_at=end, window_seconds=seconds
    )


def _requests(requests: Any, cycle: Cycle) -> Window | None:
    if not isinstance(requests, dict):
        raise ParseError("Cursor: the request usage is not an object", field="requests")
    model = obj(requests.get("gpt-4"))
    limit = opt_num(model.get("maxRequestUsage"), "gpt-4.maxRequestUsage")
    if not limit:
        return None  # not a request-based plan
    used = opt_num(model.get("numRequestsTotal"), "gpt-4.numRequestsTotal")
    if used is None:
        used = opt_num(model.get("numRequests"), "gpt-4.numRequests") or 0.0
    end: datetime | None = cycle.end
    return Window(
        id="requests",
        label="Requests (monthly)",
        used_pct=pct_of(used, limit) or 0.0,
        resets_at=end,
        window_seconds=cycle.seconds,
        used=used,
        limit=limit,
        unit="requests",
    )
