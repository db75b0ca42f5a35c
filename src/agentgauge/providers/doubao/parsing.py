"""Pure reading of Doubao (Volcengine Ark) plan usage: the signed OpenAPI's ``GetCodingPlanUsage`` and
``GetAFPUsage`` answers, ``arkcli usage plan --format json``, and the Ark API's rate-limit headers.

Plans: the Coding Plan (``coding``), the Agent Plan (``agent``, counted in AFP, "agent flow points")
and their team editions. Each has five-hour (``session``), weekly and monthly windows, and the
Agent Plan a daily one; window ids are ``<plan>_<period>`` except the personal Coding Plan's, which
use the shared names (``session``, ``weekly``, ``monthly``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Usage, Window
from .._parse import Salvage, duration, items, obj, opt_num, opt_str, opt_time

NAME = "Doubao"
PERIODS = {
    "session": ("session", "Session (5h)", 18000),
    "5h": ("session", "Session (5h)", 18000),
    "5-hour": ("session", "Session (5h)", 18000),
    "five_hour": ("session", "Session (5h)", 18000),
    "daily": ("daily", "Daily", 86400),
    "weekly": ("weekly", "Weekly", 604800),
    "week": ("weekly", "Weekly", 604800),
    "monthly": ("monthly", "Monthly", None),
    "month": ("monthly", "Monthly", None),
}
PLANS = {
    "coding-plan": "coding",
    "agent-plan": "agent",
    "coding-plan-team": "coding_team",
    "agent-plan-team": "agent_team",
}
PLAN_WORDS = {"coding": "", "agent": "Agent · ", "coding_team": "Team · ", "agent_team": "Agent team · "}
AFP = (("AFPFiveHour", "5h"), ("AFPDaily", "daily"), ("AFPWeekly", "weekly"), ("AFPMonthly", "monthly"))
AUTH_CODES = ("signature", "accesskey", "authfailure", "invalidcredential", "unauthorized", "forbidden")


def window_for(plan: str, period: str, used_pct: float, resets: datetime | None, **extra: Any) -> Window | None:
    known = PERIODS.get(period.strip().lower())
    if known is None:
        return None
    base, label, seconds = known
    return Window(
        id=base if plan == "coding" else f"{plan}_{base}",
        label=PLAN_WORDS[plan] + label,
        used_pct=round(used_pct, 4),
        resets_at=resets,
        window_seconds=seconds,
        **extra,
    )


def openapi_error(root: dict[str, Any], action: str) -> Exception | None:
    """Volcengine's ``{"ResponseMetadata": {"Error": {"Code", "Message"}}}``."""
    error = obj(obj(root.get("ResponseMetadata")).get("Error"))
    code = opt_str(error.get("Code"))
    if code is None:
        return None
    message = (opt_str(error.get("Message")) or code)[:200]
    text = f"{NAME}: {action} failed ({code}): {message}"
    lowered = code.lower().replace("_", "").replace(".", "")
    if any(word in lowered for word in AUTH_CODES):
        return AuthError(text, status_code=401)
    if "throttl" in lowered or "flowlimit" in lowered or "ratelimit" in lowered:
        return RateLimitedError(text)
    return UpstreamError(text)


def _result(root: Any, action: str) -> dict[str, Any]:
    if not isinstance(root, dict):
        raise ParseError(f"{NAME}: {action} answer is not an object", field="$")
    failure = openapi_error(root, action)
    if failure is not None:
        raise failure
    result = root.get("Result")
    if not isinstance(result, dict):
        raise ParseError(f"{NAME}: {action} answer has no 'Result' object", field="Result")
    return result


def coding_plan(root: Any, salvage: Salvage) -> tuple[list[Window], str | None]:
    """``GetCodingPlanUsage``: ``QuotaUsage[]{Level, Percent (0-100), ResetTimestamp (epoch s)}``; a
    reclaimed plan answers ``Status`` alone."""
    result = _result(root, "GetCodingPlanUsage")

    def build(index: int, entry: dict[str, Any]) -> Window | None:
        where = f"Result.QuotaUsage[{index}]"
        level = opt_str(entry.get("Level"))
        pct = opt_num(entry.get("Percent"), f"{where}.Percent")
        if level is None or pct is None:
            raise ParseError(f"{NAME}: a quota has no '{where}.Percent'", field=f"{where}.Percent")
        return window_for("coding", level, pct, opt_time(entry.get("ResetTimestamp"), f"{where}.ResetTimestamp"))

    windows = salvage.each(items(result.get("QuotaUsage")), build)
    return windows, opt_str(result.get("Status"))


def agent_plan(root: Any, salvage: Salvage) -> tuple[list[Window], str | None]:
    """``GetAFPUsage``: ``AFPFiveHour``/``AFPDaily``/``AFPWeekly``/``AFPMonthly`` ``{Quota, Used, ResetTime}``
    (epoch ms; -1 when the window has not started)."""
    result = _result(root, "GetAFPUsage")
    windows = []
    for key, period in AFP:
        block = obj(result.get(key))
        if not block:
            continue

        def build(block: dict[str, Any] = block, key: str = key, period: str = period) -> Window | None:
            quota = opt_num(block.get("Quota"), f"Result.{key}.Quota")
            used = opt_num(block.get("Used"), f"Result.{key}.Used")
            if not quota or quota <= 0:
                return None
            if used is None:
                raise ParseError(f"{NAME}: {key} has no 'Result.{key}.Used'", field=f"Result.{key}.Used")
            resets = opt_time(block.get("ResetTime"), f"Result.{key}.ResetTime")
            return window_for("agent", period, used / quota * 100.0, resets, used=used, limit=quota, unit="afp")

        window = salvage.keep(build)
        if window is not None:
            windows.append(window)
    return windows, opt_str(result.get("PlanType"))


def arkcli_usage(root: Any, salvage: Salvage) -> list[Window]:
    """``arkcli usage plan --format json``: ``items[]{product, subscribed, periods[]{label, percent,
    used, total, reset_at}, error}``; ``viewer.auth_method: none`` means not logged in."""
    if not isinstance(root, dict):
        raise ParseError(f"{NAME}: arkcli printed no JSON object", field="$")
    if (opt_str(obj(root.get("viewer")).get("auth_method")) or "").lower() == "none":
        raise AuthError(f"{NAME}: arkcli is not logged in", hint="Run `arkcli auth login`, then refresh.")
    windows: list[Window] = []
    errors = []
    for index, entry in enumerate(items(root.get("items"))):
        plan = PLANS.get((opt_str(entry.get("product")) or "").lower())
        if plan is None or entry.get("subscribed") is False:
            continue
        if opt_str(entry.get("error")) and not entry.get("periods"):
            errors.append(opt_str(entry.get("error")))

        def build(i: int, period: dict[str, Any], plan: str = plan, index: int = index) -> Window | None:
            where = f"items[{index}].periods[{i}]"
            pct = opt_num(period.get("percent"), f"{where}.percent")
            if pct is None:
                raise ParseError(f"{NAME}: a period has no '{where}.percent'", field=f"{where}.percent")
            used, total = opt_num(period.get("used"), f"{where}.used"), opt_num(period.get("total"), f"{where}.total")
            resets = opt_time(period.get("reset_at"), f"{where}.reset_at")
            unit = "afp" if plan.startswith("agent") and total else None
            return window_for(plan, opt_str(period.get("label")) or "", pct, resets, used=used, limit=total, unit=unit)

        windows += salvage.each(items(entry.get("periods")), build)
    if not windows and errors:
        raise UpstreamError(f"{NAME}: arkcli could not read the plan usage: {str(errors[0])[:160]}")
    return windows


# -- the Ark API's rate-limit headers (the opt-in probe) -----------------------------------------------
def reset_after(value: str | None, now: datetime) -> datetime | None:
    """``x-ratelimit-reset-requests``: an ISO time, a duration (``1m30s``, ``6ms``, ``1d``) or seconds."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return now + timedelta(seconds=duration(text, "x-ratelimit-reset-requests", days=True))
    except ParseError:
        pass
    try:
        return opt_time(text, "x-ratelimit-reset-requests")
    except ParseError:
        return None


def probe_window(probe: dict[str, Any], now: datetime) -> Window | None:
    headers = {k.lower(): v for k, v in obj(probe.get("headers")).items()}
    limit = opt_num(headers.get("x-ratelimit-limit-requests"), "x-ratelimit-limit-requests")
    remaining = opt_num(headers.get("x-ratelimit-remaining-requests"), "x-ratelimit-remaining-requests")
    if not limit or limit <= 0 or remaining is None:
        return None  # a key that answered without a request window: nothing honest to show
    used = max(limit - remaining, 0.0)
    return Window(
        id="requests",
        label="Requests (Ark API key)",
        used_pct=round(used / limit * 100.0, 4),
        resets_at=reset_after(headers.get("x-ratelimit-reset-requests"), now),
        used=used,
        limit=limit,
        unit="requests",
    )


def parse_all(raw: dict[str, Any], now: datetime) -> Usage:
    salvage = Salvage()
    windows: list[Window] = []
    plans: list[str] = []
    if raw.get("coding") is not None:
        found, status = coding_plan(raw["coding"], salvage)
        windows += found
        if found or (status and status.lower() != "reclaimed"):
            running = not status or status.lower() in ("running", "active", "normal")
            plans.append("Coding Plan" if running else f"Coding Plan ({status})")
    if raw.get("agent") is not None:
        found, plan_type = agent_plan(raw["agent"], salvage)
        windows += found
        if found:
            plans.append(f"Agent Plan ({plan_type})" if plan_type else "Agent Plan")
    if raw.get("arkcli") is not None:
        windows += arkcli_usage(raw["arkcli"], salvage)
    if raw.get("probe") is not None:
        window = salvage.keep(lambda: probe_window(raw["probe"], now))
        if window is not None:
            windows.append(window)
    note = None
    if not windows and not salvage.problems:
        note = "No Coding Plan or Agent Plan usage, and no request limit in the answer"
    return Usage(windows=tuple(windows), plan=" + ".join(plans) or None, note=note, warnings=salvage.warnings())
