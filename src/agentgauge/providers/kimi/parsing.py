"""Pure parsers for Kimi Code's answers: the Code API's ``{usage, limits, user}`` and the web
gateway's ``GetUsages`` / ``GetSubscription`` / ``GetSubscriptionStats``.

Both carry a weekly request quota (``usage`` / ``usages[scope=FEATURE_CODING].detail``) and short
rate-limit windows in ``limits[]`` sized by ``window.duration`` x ``window.timeUnit`` (300 minutes
is ``session``). Counts arrive as strings; ``used`` may be missing (then ``limit - remaining``);
reset times are ISO with nanoseconds. Each window is read on its own (``_parse.Salvage``): one that
drifted becomes a warning naming its field while the others are shown. A window keeps its id when
its length is missing, from the other facts it has (its time unit, its name, its position), so a
history series is never renamed by one null field; that inference is a warning too.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import Salvage, label_for, obj, opt_num, opt_str, opt_time, pct_from_fraction, unique_id, window_id_for

CODING_SCOPE = "FEATURE_CODING"
SESSION = 18000
WEEK = 604800
TIME_UNITS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": WEEK}
RESET_KEYS = ("resetTime", "resetAt", "reset_at", "reset_time")
# The Code API's ``user.membership.level`` as the tier names Kimi sells (seed 002: Andante,
# Moderato, Allegretto...). Only the pairs every public client agrees on are named here; any
# other level is shown in words ("LEVEL_TRIAL" -> "Trial") rather than as a guessed tier.
LEVELS = {"LEVEL_BASIC": "Moderato", "LEVEL_INTERMEDIATE": "Allegretto", "LEVEL_ADVANCED": "Allegro"}
# What a limit's own name may say about its length, when its duration is missing.
_NAMED = (
    (re.compile(r"\b(5\s*h|5[\s_-]*hours?|five[\s_-]*hours?|300\s*min)", re.I), "session", SESSION),
    (re.compile(r"week", re.I), "weekly", WEEK),
    (re.compile(r"\b(day|daily|24\s*h)", re.I), "daily", 86400),
)


def plan_from_level(level: Any) -> str | None:
    text = (opt_str(level) or "").upper()
    if not text:
        return None
    return LEVELS.get(text) or text.removeprefix("LEVEL_").replace("_", " ").title() or None


def _length(entry: dict[str, Any], index: int, where: str, salvage: Salvage) -> tuple[str, int | None]:
    """The id base and length of ``limits[index]``: ``duration`` x ``timeUnit`` when both are there.
    Without a duration the limit keeps the id it has always had, from what else it says: a
    minute/hour unit is Kimi's 5-hour limit, a day or week unit its one-day/one-week length, a name
    that states a length, else its position (the first limit is the 5-hour one on every tier)."""
    window = obj(entry.get("window"))
    raw_unit = window.get("timeUnit") or window.get("time_unit")
    unit = str(raw_unit or "").upper().removeprefix("TIME_UNIT_").removesuffix("S")
    duration = opt_num(window.get("duration"), f"{where}.window.duration")
    if duration is not None and duration > 0:
        if unit in TIME_UNITS:
            seconds = int(duration * TIME_UNITS[unit])
            return window_id_for(seconds), seconds
        if not unit:  # Kimi states its lengths in minutes
            salvage.problems.append(
                ParseError(
                    f"Kimi: '{where}.window.timeUnit' is missing; read as minutes", field=f"{where}.window.timeUnit"
                )
            )
            return window_id_for(int(duration * 60)), int(duration * 60)
        salvage.problems.append(
            ParseError(
                f"Kimi: '{where}.window.timeUnit' {str(raw_unit)[:30]!r} is unknown", field=f"{where}.window.timeUnit"
            )
        )
        return "window", None
    wid, length, why = _inferred(entry, window, unit, index)
    field = f"{where}.window.duration"
    if wid == "window":
        salvage.problems.append(
            ParseError(f"Kimi: '{field}' is missing, so the limit's length is unknown", field=field)
        )
    else:
        salvage.problems.append(ParseError(f"Kimi: '{field}' is missing; kept as '{wid}' by {why}", field=field))
    return wid, length


def _inferred(entry: dict[str, Any], window: dict[str, Any], unit: str, index: int) -> tuple[str, int | None, str]:
    if unit in ("MINUTE", "HOUR"):
        return "session", SESSION, "its time unit"
    if unit in ("DAY", "WEEK"):
        return window_id_for(TIME_UNITS[unit]), TIME_UNITS[unit], "its time unit"
    name = " ".join(
        text for text in (opt_str(entry.get("name")), opt_str(entry.get("title")), opt_str(window.get("name"))) if text
    )
    for pattern, wid, seconds in _NAMED:
        if pattern.search(name):
            return wid, seconds, "its name"
    if index == 0 and not unit:
        return "session", SESSION, "its position"
    return "window", None, ""


def _quota_window(detail: dict[str, Any], where: str, wid: str, label: str, seconds: int | None) -> Window | None:
    """One request meter; ``None`` when it has no positive limit (never divide by zero)."""
    limit = opt_num(detail.get("limit"), f"{where}.limit")
    if limit is None or limit <= 0:
        return None
    used = opt_num(detail.get("used"), f"{where}.used")
    if used is None:
        remaining = opt_num(detail.get("remaining"), f"{where}.remaining")
        if remaining is None:
            raise ParseError(f"Kimi: '{where}.used' is missing and so is 'remaining'", field=f"{where}.used")
        used = max(limit - remaining, 0.0)
    reset = next((detail.get(k) for k in RESET_KEYS if detail.get(k) not in (None, "")), None)
    return Window(
        id=wid,
        label=label,
        used_pct=round(used / limit * 100.0, 4),
        resets_at=opt_time(reset, f"{where}.resetTime"),
        window_seconds=seconds,
        used=used,
        limit=limit,
        unit="requests",
    )


def quota_windows(weekly: Any, limits: Any, where_weekly: str, where_limits: str, salvage: Salvage) -> list[Window]:
    taken = {"weekly"}  # the weekly quota owns the id; a 7-day rate limit becomes weekly_2

    def build(index: int, entry: Any) -> Window | None:
        where = f"{where_limits}[{index}]"
        if not isinstance(entry, dict):
            raise ParseError(f"Kimi: '{where}' is not an object", field=where)
        base, seconds = _length(entry, index, where, salvage)
        wid = unique_id(base, taken)
        return _quota_window(obj(entry.get("detail")), f"{where}.detail", wid, label_for(wid, seconds), seconds)

    windows = salvage.each(limits if isinstance(limits, list) else [], build)
    windows.sort(key=lambda w: (w.window_seconds is None, w.window_seconds or 0))
    weekly_window = salvage.keep(lambda: _quota_window(obj(weekly), where_weekly, "weekly", "Weekly", WEEK))
    if weekly_window is not None:
        windows.append(weekly_window)
    return windows


def stats_windows(stats: Any, have: set[str], salvage: Salvage) -> list[Window]:
    """Windows from GetSubscriptionStats ratios, only for the ids GetUsages did not give."""

    def build(_index: int, item: tuple[str, str, int]) -> Window | None:
        key, wid, seconds = item
        entry = obj(obj(stats).get(key))
        if wid in have or entry.get("enabled") is False:
            return None
        pct = pct_from_fraction(entry.get("ratio"), f"{key}.ratio")
        if pct is None:
            return None
        reset = opt_time(entry.get("resetTime"), f"{key}.resetTime")
        return Window(id=wid, label=label_for(wid, seconds), used_pct=pct, resets_at=reset, window_seconds=seconds)

    return salvage.each((("ratelimitCode5h", "session", SESSION), ("ratelimitCode7d", "weekly", WEEK)), build)


def parse_code(root: Any) -> Usage:
    """The Code API's ``{usage, limits, user: {membership: {level}}}`` payload."""
    if not isinstance(root, dict):
        raise ParseError("Kimi: usages response is not an object", field="$")
    if not obj(root.get("usage")) and not isinstance(root.get("limits"), list):
        raise ParseError("Kimi: usages response has neither 'usage' nor 'limits'", field="usage")
    salvage = Salvage()
    windows = quota_windows(root.get("usage"), root.get("limits"), "usage", "limits", salvage)
    plan = plan_from_level(obj(obj(root.get("user")).get("membership")).get("level"))
    return Usage(windows=tuple(windows), plan=plan, warnings=salvage.warnings())


def coding_entry(root: Any) -> dict[str, Any] | None:
    """The FEATURE_CODING entry of a GetUsages answer (or its only entry when none names a scope)."""
    if not isinstance(root, dict):
        raise ParseError("Kimi: GetUsages response is not an object", field="$")
    usages = root.get("usages")
    entries = [e for e in usages if isinstance(e, dict)] if isinstance(usages, list) else []
    entry = next((e for e in entries if str(e.get("scope") or "").upper() == CODING_SCOPE), None)
    if entry is None and len(entries) == 1 and not entries[0].get("scope"):
        entry = entries[0]
    return entry


def parse_web(web: Any, subscription: Any, stats: Any) -> Usage:
    """GetUsages, with the plan from GetSubscription (``subscription.goods.title``, the tier name
    Kimi shows) and GetSubscriptionStats ratios for the windows GetUsages did not give."""
    entry = coding_entry(web)
    detail, limits = obj(obj(entry).get("detail")), obj(entry).get("limits")
    salvage = Salvage()
    windows: list[Window] = []
    if detail or isinstance(limits, list):
        windows = quota_windows(detail, limits, "usages[0].detail", "usages[0].limits", salvage)
    windows += stats_windows(stats, {w.id for w in windows}, salvage)
    if not windows and not detail and not isinstance(limits, list):
        field = "usages[0].detail" if entry is not None else "usages[scope=FEATURE_CODING]"
        raise ParseError(f"Kimi: GetUsages has no FEATURE_CODING quota ('{field}')", field=field)
    windows.sort(key=lambda w: (w.window_seconds is None, w.window_seconds or 0))
    goods = obj(obj(obj(subscription).get("subscription")).get("goods"))
    return Usage(windows=tuple(windows), plan=opt_str(goods.get("title")), warnings=salvage.warnings())
