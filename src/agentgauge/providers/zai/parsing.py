"""Pure parser for z.ai's ``/api/monitor/usage/quota/limit`` answer.

``{code, msg, success, data: {planName | level..., limits: [...]}}``. ``TOKENS_LIMIT`` (and
``CREDIT_LIMIT``) entries are the token windows, sized by ``unit`` x ``number`` (unit 1 = day,
3 = hour, 5 = minute, 6 = week): the 5-hour one is ``session``, the weekly one ``weekly``.
``TIME_LIMIT`` is the MCP/tool-call allowance (``tools_monthly``): ``usage`` is its cap,
``currentValue`` the calls used, ``usageDetails[{modelCode, usage}]`` the calls per tool (the
``tools`` breakdown). ``nextResetTime`` is epoch milliseconds; numbers may arrive as strings.
Errors may come as HTTP 200 with ``success: false`` and a ``code``. Each entry is read on its own
(``_parse.Salvage``): one that drifted, or of an unknown type, becomes a warning naming its field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Balance, Breakdown, BreakdownItem, Usage, Window, evolve
from .._parse import (
    Salvage,
    humanize_seconds,
    items,
    label_for,
    obj,
    opt_num,
    opt_str,
    opt_time,
    slug,
    unique_id,
    window_id_for,
)

# Seconds per ``unit`` code (CodexBar's z.ai plugin: 1 day, 3 hour, 5 minute, 6 week).
UNIT_SECONDS = {1: 86400, 3: 3600, 5: 60, 6: 604800}
# Envelope codes that mean the key is missing, invalid or expired (401 also comes inside HTTP 200).
AUTH_CODES = {401, 1000, 1001, 1002, 1003, 1004}
RATE_CODES = {429, 1302, 1303}
TOKEN_TYPES = ("TOKENS_LIMIT", "CREDIT_LIMIT")
PLAN_KEYS = ("planName", "plan", "plan_type", "packageName", "level")
AUTH_HINT = (
    "Set AGENTGAUGE_ZAI_API_KEY to a key from https://z.ai/manage-apikey/apikey-list (or log in to "
    "chat.z.ai again), then refresh."
)


def envelope_error(root: dict[str, Any]) -> None:
    """Raise the typed error a ``success: false`` / non-200 ``code`` envelope stands for."""
    code = opt_num(root.get("code"), "code")
    if root.get("success") is not False and (code is None or code == 200):
        return
    message = (opt_str(root.get("msg")) or "request failed")[:200]
    if code in AUTH_CODES:
        raise AuthError(f"z.ai rejected the credential: {message}", hint=AUTH_HINT)
    if code in RATE_CODES:
        raise RateLimitedError(f"z.ai rate limited the request: {message}")
    raise UpstreamError(f"z.ai quota API error {int(code) if code is not None else '?'}: {message}")


def parse_quota(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("z.ai: quota response is not an object", field="$")
    envelope_error(root)
    data = obj(root.get("data"))
    if "limits" not in data and "data" not in root:
        raise ParseError("z.ai: response has no 'data'", field="data")
    salvage = Salvage()
    limits = data.get("limits")
    if limits is not None and not isinstance(limits, list):
        salvage.problems.append(ParseError("z.ai: 'data.limits' is not a list", field="data.limits"))
    entries = limits if isinstance(limits, list) else []
    kinds = salvage.each(entries, lambda i, entry: _kind(entry, i))
    taken: set[str] = set()
    # Token windows first, shortest first; each is built on its own.
    tokens = sorted(((i, e, s) for i, e, k, s in kinds if k in TOKEN_TYPES), key=lambda t: (t[2] is None, t[2] or 0))
    windows = salvage.each(tokens, lambda _n, t: _token_window(t[1], t[0], t[2], taken))
    tools = [(i, e, s) for i, e, k, s in kinds if k == "TIME_LIMIT"]
    windows += salvage.each(tools, lambda _n, t: _tools_window(t[1], t[0], t[2], taken))
    breakdown = salvage.keep(lambda: _tools_breakdown(tools, salvage))
    plan = next((opt_str(data.get(k)) for k in PLAN_KEYS if opt_str(data.get(k))), None)
    return Usage(
        windows=tuple(windows),
        plan=plan,
        breakdowns=(breakdown,) if breakdown else (),
        warnings=salvage.warnings(),
    )


def _kind(entry: Any, index: int) -> tuple[int, dict[str, Any], str, int | None]:
    where = f"data.limits[{index}]"
    if not isinstance(entry, dict):
        raise ParseError(f"z.ai: '{where}' is not an object", field=where)
    kind = str(entry.get("type") or "").upper()
    if kind not in (*TOKEN_TYPES, "TIME_LIMIT"):
        raise ParseError(f"z.ai: '{where}.type' {kind[:30]!r} is unknown", field=f"{where}.type")
    return index, entry, kind, _seconds(entry, where)


def _seconds(entry: dict[str, Any], where: str) -> int | None:
    unit = opt_num(entry.get("unit"), f"{where}.unit")
    number = opt_num(entry.get("number"), f"{where}.number")
    if unit is None or number is None or number <= 0 or int(unit) not in UNIT_SECONDS:
        return None
    return int(UNIT_SECONDS[int(unit)] * number)


def _token_window(entry: dict[str, Any], index: int, seconds: int | None, taken: set[str]) -> Window:
    wid = unique_id(window_id_for(seconds), taken)
    unit = "credits" if str(entry.get("type")).upper() == "CREDIT_LIMIT" else "tokens"
    return _window(entry, index, wid, label_for(wid, seconds), seconds, unit)


def _tools_window(entry: dict[str, Any], index: int, seconds: int | None, taken: set[str]) -> Window:
    unit_code = opt_num(entry.get("unit"), f"data.limits[{index}].unit")
    suffix = "monthly" if unit_code in (None, 5) or seconds is None else humanize_seconds(seconds)
    wid = unique_id(f"tools_{suffix}", taken)
    return _window(entry, index, wid, f"Tools (MCP, {suffix})", None, "requests")


def _window(entry: dict[str, Any], index: int, wid: str, label: str, seconds: int | None, unit: str) -> Window:
    where = f"data.limits[{index}]"
    cap = opt_num(entry.get("usage"), f"{where}.usage")
    current = opt_num(entry.get("currentValue"), f"{where}.currentValue")
    remaining = opt_num(entry.get("remaining"), f"{where}.remaining")
    used = current if current is not None else (cap - remaining if cap is not None and remaining is not None else None)
    pct = opt_num(entry.get("percentage"), f"{where}.percentage")
    if pct is None:
        if used is None or not cap:
            raise ParseError(f"z.ai: {where} has no percentage", field=f"{where}.percentage")
        pct = round(used / cap * 100.0, 4)
    return Window(
        id=wid,
        label=label,
        used_pct=pct,
        resets_at=opt_time(entry.get("nextResetTime"), f"{where}.nextResetTime"),
        window_seconds=seconds,
        used=used,
        limit=cap,
        unit=unit if cap is not None else None,
    )


def _tools_breakdown(tools: list[tuple[int, dict[str, Any], int | None]], salvage: Salvage) -> Breakdown | None:
    """Calls per tool of the first MCP allowance that itemises them; each item's limit is the
    allowance's cap, which the tools share."""
    itemised = next(((i, e) for i, e, _ in tools if e.get("usageDetails") is not None), None)
    if itemised is None:
        return None
    index, entry = itemised
    where = f"data.limits[{index}].usageDetails"
    details = entry["usageDetails"]
    if not isinstance(details, list):
        raise ParseError(f"z.ai: '{where}' is not a list", field=where)
    cap = opt_num(entry.get("usage"), f"data.limits[{index}].usage")
    built = salvage.each(details, lambda i, item: _tool_item(item, f"{where}[{i}]", cap))
    return Breakdown(id="tools", label="Tool calls", unit="requests", items=tuple(built))


def _tool_item(item: Any, where: str, cap: float | None) -> BreakdownItem:
    node = obj(item)
    code = opt_str(node.get("modelCode"))
    if not code:
        raise ParseError(f"z.ai: '{where}.modelCode' is missing", field=f"{where}.modelCode")
    value = opt_num(node.get("usage"), f"{where}.usage")
    if value is None:
        raise ParseError(f"z.ai: '{where}.usage' is null", field=f"{where}.usage")
    return BreakdownItem(key=code, value=value, limit=cap)


# -- subscriptions (GET /api/biz/subscription/list) -------------------------------------------------
_VALID_RANGE = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})\s*-\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})\s*$"
)


def valid_until(text: str | None, where: str) -> datetime | None:
    """The end of a ``valid`` range ``"2026-08-07 04:00:24-2026-11-07 04:00:24"`` (split by pattern: the
    dates' own dashes make a plain split wrong). z.ai does not state the zone; it is read as UTC."""
    if not text:
        return None
    found = _VALID_RANGE.match(text)
    if found is None:
        raise ParseError(f"z.ai: '{where}.valid' is not a date range", field=f"{where}.valid")
    return datetime.fromisoformat(found.group(2).replace(" ", "T")).replace(tzinfo=UTC)


def subscriptions(root: Any, now: datetime, salvage: Salvage) -> tuple[list[Balance], list[str]]:
    """Active subscriptions: the days left in each paid period (a balance) and their product names."""
    envelope_error(obj(root))
    data = obj(root).get("data")
    entries = data if isinstance(data, list) else items(obj(data).get("list") or obj(data).get("records"))

    def one(i: int, entry: dict[str, Any]) -> tuple[Balance, str] | None:
        where = f"subscriptions[{i}]"
        if (opt_str(entry.get("status")) or "").upper() != "VALID":
            return None
        name = opt_str(entry.get("productName")) or opt_str(entry.get("description"))
        if not name:
            raise ParseError(f"z.ai: '{where}.productName' is missing", field=f"{where}.productName")
        ends = valid_until(opt_str(entry.get("valid")), where)
        renews = entry.get("autoRenew") in (True, 1, "1", "true", "TRUE")
        days = round(max((ends - now).total_seconds(), 0.0) / 86400.0, 1) if ends else None
        key = slug(opt_str(entry.get("productId")) or opt_str(entry.get("id")) or name)
        balance = Balance(
            id=f"subscription_{key}",
            label=f"{name} ({'renews' if renews else 'ends'})",
            unit="days",
            remaining=days,
            expires_at=ends,
        )
        return balance, name

    found = [f for f in salvage.each(items(entries), one) if f is not None]
    return [b for b, _ in found], [n for _, n in found]


def parse(raw: dict[str, Any], now: datetime) -> Usage:
    """The quota answer, plus the active subscriptions when they were read."""
    usage = parse_quota(raw.get("quota"))
    listed = raw.get("subscriptions")
    if listed is None:
        return usage
    salvage = Salvage()
    problems = list(usage.warnings)
    if isinstance(obj(listed).get("error"), dict) and "code" not in obj(listed):
        error = obj(listed)["error"]
        problems.append(
            ParseError(
                str(error.get("message") or "z.ai: the subscription list failed")[:300], field="subscriptions"
            ).info()
        )
        return evolve(usage, warnings=tuple(problems))
    try:
        found = salvage.keep(lambda: subscriptions(listed, now, salvage))
    except AuthError:  # a credential the business endpoint does not take: nothing to show, nothing wrong
        found = None
    except (RateLimitedError, UpstreamError) as exc:
        problems.append(ParseError(f"{exc.message} (subscriptions)", field="subscriptions").info())
        found = None
    balances, names = found if found else ([], [])
    plan = usage.plan or (" + ".join(dict.fromkeys(names)) if names else None)
    return evolve(
        usage,
        plan=plan,
        balances=(*usage.balances, *balances),
        warnings=(*problems, *salvage.warnings()),
    )
