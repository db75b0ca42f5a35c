"""Pure reading of Synthetic's ``/v2/quotas`` answer.

Two of the lanes regenerate continuously instead of resetting: the rolling five-hour limit gives back
``tickPercent`` of its maximum at ``nextTickAt``, the weekly token credits ``nextRegenCredits`` at
``nextRegenAt``. Neither time is a reset (only a slice comes back), so those windows carry no
``resets_at``: a countdown to a tick would read as "back to 0 %" when it is not.
"""

from __future__ import annotations

from typing import Any

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Usage, Window
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time, slug, unique_id

NAME = "Synthetic"
PLAN_KEYS = ("plan", "planName", "plan_name", "tier")


def money(value: Any, field: str) -> float | None:
    """A dollar amount sent as ``"$36.00"`` (or a plain number)."""
    if isinstance(value, str):
        value = value.strip().replace("$", "").replace(",", "")
    return opt_num(value, field)


def _pct(used: float, limit: float) -> float:
    return round(used / limit * 100.0, 4)


def rolling_window(block: dict[str, Any]) -> Window | None:
    """``rollingFiveHourLimit``: requests left of ``max`` over a rolling five hours."""
    limit = opt_num(block.get("max"), "rollingFiveHourLimit.max")
    remaining = opt_num(block.get("remaining"), "rollingFiveHourLimit.remaining")
    if limit is None or limit <= 0:
        return None
    if remaining is None:
        if block.get("limited") is not True:
            raise ParseError(
                f"{NAME}: the rolling limit has no 'rollingFiveHourLimit.remaining'",
                field="rollingFiveHourLimit.remaining",
            )
        remaining = 0.0  # rate limited with nothing said about what is left: nothing is
    used = max(limit - remaining, 0.0)
    return Window(
        id="session",
        label="Rolling 5h requests",
        used_pct=_pct(used, limit),
        window_seconds=18000,
        used=used,
        limit=limit,
        unit="requests",
    )


def weekly_window(block: dict[str, Any]) -> Window | None:
    """``weeklyTokenLimit``: the week's token credits in dollars, with the percent left."""
    left_pct = opt_num(block.get("percentRemaining"), "weeklyTokenLimit.percentRemaining")
    limit = money(block.get("maxCredits"), "weeklyTokenLimit.maxCredits")
    remaining = money(block.get("remainingCredits"), "weeklyTokenLimit.remainingCredits")
    used = max(limit - remaining, 0.0) if limit is not None and remaining is not None else None
    if left_pct is not None:
        used_pct = round(100.0 - left_pct, 4)
    elif used is not None and limit:
        used_pct = _pct(used, limit)
    else:
        raise ParseError(
            f"{NAME}: the weekly limit has no 'weeklyTokenLimit.percentRemaining'",
            field="weeklyTokenLimit.percentRemaining",
        )
    return Window(
        id="weekly",
        label="Weekly token credits",
        used_pct=used_pct,
        window_seconds=604800,
        used=round(used, 6) if used is not None else None,
        limit=limit,
        unit="usd",
    )


def request_window(block: dict[str, Any], where: str, window_id: str, label: str, seconds: int | None) -> Window | None:
    """A ``{limit, requests, renewsAt}`` lane; a limit of 0 is a lane the plan does not have."""
    limit = opt_num(block.get("limit"), f"{where}.limit")
    if not limit or limit <= 0:
        return None
    used = opt_num(block.get("requests"), f"{where}.requests")
    if used is None:
        raise ParseError(f"{NAME}: the lane has no '{where}.requests'", field=f"{where}.requests")
    return Window(
        id=window_id,
        label=label,
        used_pct=_pct(used, limit),
        resets_at=opt_time(block.get("renewsAt"), f"{where}.renewsAt"),
        window_seconds=seconds,
        used=used,
        limit=limit,
        unit="requests",
    )


def listed_window(entry: dict[str, Any], where: str, taken: set[str]) -> Window | None:
    """One entry of the older ``quotas[]`` list: a limit (``limit``/``max``) with ``used`` or ``remaining``."""
    limit = opt_num(entry.get("limit", entry.get("max")), f"{where}.limit")
    used = opt_num(entry.get("used"), f"{where}.used")
    remaining = opt_num(entry.get("remaining"), f"{where}.remaining")
    if limit is None and used is not None and remaining is not None:
        limit = used + remaining
    if used is None and limit is not None and remaining is not None:
        used = max(limit - remaining, 0.0)
    if limit is None or limit <= 0 or used is None:
        raise ParseError(f"{NAME}: the quota has no '{where}.limit' with usage", field=f"{where}.limit")
    minutes = opt_num(entry.get("window_minutes", entry.get("windowMinutes")), f"{where}.window_minutes")
    name = opt_str(entry.get("name")) or opt_str(entry.get("label")) or where
    return Window(
        id=unique_id(f"quota_{slug(name)}", taken),
        label=name,
        used_pct=_pct(used, limit),
        resets_at=opt_time(entry.get("reset_at", entry.get("resetAt")), f"{where}.reset_at"),
        window_seconds=int(minutes * 60) if minutes and minutes > 0 else None,
        used=used,
        limit=limit,
        unit=opt_str(entry.get("unit")),
    )


def error_in(root: dict[str, Any]) -> Exception | None:
    """Synthetic's error body ``{"error": "..."}`` or ``{"error": {"message": ...}}``, even in a 200."""
    error = root.get("error")
    if error is None:
        return None
    message = (opt_str(error) or opt_str(obj(error).get("message")) or "request failed")[:200]
    lowered = message.lower()
    if any(word in lowered for word in ("api key", "unauthorized", "invalid token", "authentication")):
        return AuthError(f"{NAME}: the quota request was refused: {message}", status_code=401)
    if "rate limit" in lowered or "too many" in lowered:
        return RateLimitedError(f"{NAME}: the quota request was rate limited: {message}")
    return UpstreamError(f"{NAME}: the quota request failed: {message}")


def parse_quotas(payload: Any) -> Usage:
    if isinstance(payload, list):
        payload = {"quotas": payload}
    if not isinstance(payload, dict):
        raise ParseError(f"{NAME}: quota response is not an object", field="$")
    failure = error_in(payload)
    if failure is not None:
        raise failure
    root: dict[str, Any] = obj(payload.get("data")) or payload
    salvage = Salvage()
    windows: list[Window] = []

    def add(window: Window | None) -> None:
        if window is not None:
            windows.append(window)

    rolling, weekly = obj(root.get("rollingFiveHourLimit")), obj(root.get("weeklyTokenLimit"))
    hourly = obj(obj(root.get("search")).get("hourly"))
    subscription, tools = obj(root.get("subscription")), obj(root.get("freeToolCalls"))
    if rolling:
        add(salvage.keep(lambda: rolling_window(rolling)))
    if weekly:
        add(salvage.keep(lambda: weekly_window(weekly)))
    if hourly:
        add(salvage.keep(lambda: request_window(hourly, "search.hourly", "search_hourly", "Search (hourly)", 3600)))
    if subscription:
        add(
            salvage.keep(
                lambda: request_window(subscription, "subscription", "subscription", "Subscription requests", None)
            )
        )
    if tools:
        add(salvage.keep(lambda: request_window(tools, "freeToolCalls", "free_tool_calls", "Free tool calls", None)))
    taken: set[str] = set()
    listed = salvage.each(items(root.get("quotas")), lambda i, e: listed_window(e, f"quotas[{i}]", taken))
    windows.extend(listed)
    plan = next((p for p in (opt_str(root.get(k)) or opt_str(payload.get(k)) for k in PLAN_KEYS) if p), None)
    if not windows and not salvage.problems:
        raise ParseError(f"{NAME}: the quota response has no quota lanes", field="rollingFiveHourLimit")
    return Usage(windows=tuple(windows), plan=plan, warnings=salvage.warnings())
