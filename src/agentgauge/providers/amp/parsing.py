"""Pure parsing of Amp's usage display text (``amp usage`` and the ``userDisplayBalanceInfo`` API
return the same text) and of the legacy settings page's ``freeTierUsage`` data.

The text has changed format twice, and every version seen is read:

- Amp Free in dollars, replenishing: ``Amp Free: $4.71/$10 remaining (replenishes +$0.42/hour)``;
- Amp Free as a daily percent: ``Amp Free: 61% remaining today (resets daily)``;
- subscriptions, older ``Subscription Megawatt: 97% other usage and 100% orb usage remaining - resets
  upon renewal in 29 days`` and current ``Amp Megawatt Subscription: ...`` (two pools, each a window);
- ``Individual credits: $25.64 remaining`` and ``Workspace <name>: $1,234.56 remaining`` (balances).

``Signed in as <email> (<name>)`` heads the text; without it, a text that asks to sign in is a
logout.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Balance, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, slug
from .._process import strip_ansi
from .._time import add_months

LOGIN_HINT = "Run `amp login` (or set AMP_API_KEY to an Amp access token), then refresh."
AMOUNT = r"(\d[\d,]*(?:\.\d+)?)"
_IDENTITY = re.compile(r"^\s*Signed in as\s+(\S+?)(?:\s+\(([^)\n]+)\))?\s*$", re.I | re.M)
_FREE_DOLLARS = re.compile(
    r"^\s*Amp Free:\s*\$?" + AMOUNT + r"\s*/\s*\$?" + AMOUNT + r"\s+remaining"
    r"(?:\s*\(replenishes\s*\+\s*\$?" + AMOUNT + r"\s*/\s*hour\))?",
    re.I,
)
_FREE_PERCENT = re.compile(
    r"^\s*Amp Free:\s*" + AMOUNT + r"\s*%\s+remaining(?:\s+today)?(\s*\(resets\s+daily\))?", re.I
)
_POOLS = (
    r"\s*" + AMOUNT + r"\s*%\s+other\s+usage\s+and\s+" + AMOUNT + r"\s*%\s+orb\s+usage\s+remaining"
    r"\s*-\s*resets\s+upon\s+renewal\s+in\s+(\d[\d,]*)\s+(days?|months?)\b"
)
_SUBSCRIPTION = (
    re.compile(r"^\s*Subscription\s+(.+?):" + _POOLS, re.I),  # the older wording
    re.compile(r"^\s*Amp\s+(.+?)\s+Subscription:" + _POOLS, re.I),  # the current one
)
_INDIVIDUAL = re.compile(r"^\s*Individual credits:\s*\$?" + AMOUNT + r"\s+remaining", re.I)
_WORKSPACE = re.compile(r"^\s*Workspace\s+(.+?):\s*\$?" + AMOUNT + r"\s+remaining", re.I)
_SIGNED_OUT = ("sign in", "log in", "login", "not logged in", "not signed in")
DAY = 86400


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def looks_signed_out(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in _SIGNED_OUT)


# -- resets ----------------------------------------------------------------------------------------
def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _new_york_8pm(day: date) -> datetime:
    """20:00 in New York on ``day`` as UTC: US daylight time runs from the second Sunday of March to
    the first Sunday of November (by 20:00 the day's switch has happened). Computed here so the
    result does not depend on the platform's time zone database."""
    daylight = _nth_sunday(day.year, 3, 2) <= day < _nth_sunday(day.year, 11, 1)
    return datetime(day.year, day.month, day.day, 20, tzinfo=UTC) + timedelta(hours=4 if daylight else 5)


def next_free_reset(now: datetime) -> datetime:
    """Amp Free's daily reset: the next 8 pm America/New_York."""
    today = now.astimezone(UTC).date()
    for offset in (-1, 0, 1, 2):
        candidate = _new_york_8pm(today + timedelta(days=offset))
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: one of four consecutive evenings is after now")


# -- the display text ------------------------------------------------------------------------------
def _free_dollars(found: re.Match[str], now: datetime) -> Window:
    remaining, quota = _num(found.group(1)), _num(found.group(2))
    hourly = _num(found.group(3)) if found.group(3) else 0.0
    used = max(quota - remaining, 0.0)
    hours = max(1, round(quota / hourly)) if hourly > 0 else None
    return Window(
        id="free",
        label="Amp Free",
        used_pct=min(round(used / quota * 100.0, 4), 100.0) if quota > 0 else 0.0,
        # Replenishing at a rate: full again once the used part has flowed back (nothing used: full now).
        resets_at=now + timedelta(hours=used / hourly) if hourly > 0 and used > 0 else None,
        window_seconds=hours * 3600 if hours else None,
        used=round(used, 6),
        limit=quota,
        unit="usd",
    )


def _free_percent(found: re.Match[str], now: datetime) -> Window:
    remaining = min(max(_num(found.group(1)), 0.0), 100.0)
    return Window(
        id="free",
        label="Amp Free",
        used_pct=round(100.0 - remaining, 4),
        # Only when the text says so: a bare percent does not prove a daily reset.
        resets_at=next_free_reset(now) if found.group(2) else None,
        window_seconds=DAY,
    )


def _subscription(found: re.Match[str], now: datetime) -> tuple[str, list[Window]]:
    plan = found.group(1).strip()
    other, orb = (min(max(_num(found.group(i)), 0.0), 100.0) for i in (2, 3))
    count = int(found.group(4).replace(",", ""))
    renews = add_months(now, count) if found.group(5).lower().startswith("month") else now + timedelta(days=count)
    pools = [("other", "Other usage", other), ("orb", "Orb usage", orb)]
    windows = [
        Window(id=wid, label=label, used_pct=round(100.0 - left, 4), resets_at=renews) for wid, label, left in pools
    ]
    return plan, windows


def _unknown(field: str) -> ParseError:
    return ParseError(f"Amp: the '{field}' line has a format agentgauge does not know", field=field)


def _free(line: str, now: datetime) -> Window:
    if found := _FREE_DOLLARS.match(line):
        return _free_dollars(found, now)
    if found := _FREE_PERCENT.match(line):
        return _free_percent(found, now)
    raise _unknown("Amp Free")


def _subscription_line(line: str, now: datetime) -> tuple[str, list[Window]]:
    for pattern in _SUBSCRIPTION:
        if found := pattern.match(line):
            return _subscription(found, now)
    raise _unknown("Subscription")


def _individual(line: str) -> Balance:
    if found := _INDIVIDUAL.match(line):
        return Balance(id="individual_credits", label="Individual credits", unit="usd", remaining=_num(found[1]))
    raise _unknown("Individual credits")


def _workspace(line: str, taken: set[str]) -> Balance:
    found = _WORKSPACE.match(line)
    if not found:
        raise _unknown("Workspace")
    name = found.group(1).strip()
    bid, n = f"workspace_{slug(name)}", 2
    while bid in taken:
        bid, n = f"workspace_{slug(name)}_{n}", n + 1
    taken.add(bid)
    return Balance(id=bid, label=f"Workspace {name}", unit="usd", remaining=_num(found.group(2)))


def _starting(lines: list[str], pattern: str) -> list[str]:
    return [line for line in lines if re.match(pattern, line, re.I)]


def parse_display_text(raw: str, now: datetime) -> Usage:
    text = strip_ansi(raw)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    salvage = Salvage()
    # The dollar figures say more (used, limit, refill) than the percent when both are printed.
    free_lines = sorted(_starting(lines, r"Amp Free:"), key=lambda line: 0 if _FREE_DOLLARS.match(line) else 1)
    windows = salvage.each(free_lines[:1], lambda _, line: _free(line, now))
    plan: str | None = "Amp Free" if windows else None
    subscriptions = _starting(lines, r"(?:Subscription\s|Amp\s+.+?\s+Subscription:)")[:1]
    for subscription_plan, pool_windows in salvage.each(subscriptions, lambda _, line: _subscription_line(line, now)):
        plan = subscription_plan  # a subscription names the plan better than its free allowance
        windows += pool_windows
    balances = salvage.each(_starting(lines, r"Individual credits:")[:1], lambda _, line: _individual(line))
    taken: set[str] = set()
    balances += salvage.each(_starting(lines, r"Workspace\s"), lambda _, line: _workspace(line, taken))
    if not windows and not balances:
        if _IDENTITY.search(text) is None and looks_signed_out(text):
            raise AuthError("Amp: not signed in", hint=LOGIN_HINT)
        if salvage.problems:
            raise salvage.problems[0]
        raise ParseError("Amp: the usage text holds no usage line agentgauge knows", field="usage_text")
    return Usage(windows=tuple(windows), balances=tuple(balances), plan=plan, warnings=salvage.warnings())


# -- the access-token API ----------------------------------------------------------------------
def display_text_of(payload: Any) -> str:
    """``{"ok": true, "result": {"displayText": ...}}``; ``ok: false`` envelopes as typed errors."""
    if not isinstance(payload, dict):
        raise ParseError("Amp: the balance answer is not an object", field="balance")
    if payload.get("ok") is not True:
        error = obj(payload.get("error"))
        code = opt_str(error.get("code"))
        if payload.get("ok") is False and code == "auth-required":
            raise AuthError("Amp: the access token was rejected (auth-required)", hint=LOGIN_HINT)
        if payload.get("ok") is False:
            shown = code if code and re.fullmatch(r"[\w.-]{1,60}", code) else "unknown"
            raise UpstreamError(f"Amp: the balance request failed ({shown})")
        raise ParseError("Amp: the balance answer has no 'ok'", field="balance.ok")
    text = obj(payload.get("result")).get("displayText")
    if not isinstance(text, str) or not text.strip():
        raise ParseError("Amp: the balance answer has no display text", field="balance.result.displayText")
    return text


# -- the legacy settings page --------------------------------------------------------------------
def _object_after(token: str, html: str) -> str | None:
    """The ``{...}`` literal that follows ``token`` (strings and nesting respected)."""
    start = html.find(token)
    brace = html.find("{", start) if start >= 0 else -1
    if brace < 0:
        return None
    depth, in_string, escaped = 0, False, False
    for index in range(brace, len(html)):
        char = html[index]
        if in_string:
            escaped, in_string = (False, in_string) if escaped else (char == "\\", char != '"')
            continue
        if char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return html[brace : index + 1]
    return None


def _field(literal: str, key: str) -> float | None:
    found = re.search(r"\b" + re.escape(key) + r"\b\"?\s*:\s*\"?(-?\d+(?:\.\d+)?)", literal)
    return float(found.group(1)) if found else None


_BALANCE = re.compile(
    r"""<span[^>]*class="[^"]*\bbreak-all\b[^"]*"[^>]*>\s*\$?\s*(-?\d[\d,]*(?:\.\d+)?)\s*</span>\s*"""
    r"""(?:<!--[^>]*-->\s*)*<span[^>]*>\s*USD\s*</span>""",
    re.I,
)


def settings_balance(html: str) -> Balance | None:
    """The paid credits balance the settings page shows (``<span class="break-all…">1.10</span>`` then a
    ``USD`` span), as seed 001 reads it."""
    found = _BALANCE.search(html)
    if found is None:
        return None
    return Balance(id="credits", label="Credits balance", unit="usd", remaining=_num(found.group(1)))


def free_window(entry: dict[str, Any], now: datetime, where: str) -> Window:
    """Amp Free from its ``{quota, used, hourlyReplenishment, windowHours?}`` figures, in cents (the
    page's ``quota:1000, hourlyReplenishment:42`` is the CLI's ``$10 ... +$0.42/hour``)."""
    quota, used, hourly = (opt_num(entry.get(k), f"{where}.{k}") for k in ("quota", "used", "hourlyReplenishment"))
    if quota is None or used is None:
        raise ParseError(f"Amp: {where} has no quota or used", field=f"{where}.quota")
    hourly = hourly or 0.0
    hours = opt_num(entry.get("windowHours"), f"{where}.windowHours")
    if hours is None and hourly > 0:
        hours = max(1, round(quota / hourly))
    used_usd, quota_usd = max(used, 0.0) / 100.0, quota / 100.0
    return Window(
        id="free",
        label="Amp Free",
        used_pct=min(round(used_usd / quota_usd * 100.0, 4), 100.0) if quota_usd > 0 else 0.0,
        resets_at=now + timedelta(hours=used / hourly) if hourly > 0 and used > 0 else None,
        window_seconds=int(hours * 3600) if hours and hours > 0 else None,
        used=round(used_usd, 6),
        limit=quota_usd,
        unit="usd",
    )


def parse_remote(payload: Any, now: datetime) -> Window:
    """The ``getFreeTierUsage`` remote function's ``{"type": "result", "result": "<devalue>"}``."""
    from .devalue import decode

    root = obj(payload)
    kind = opt_str(root.get("type"))
    if kind == "redirect":
        raise AuthError("Amp: the free-tier query redirected to sign-in (the session has expired)", hint=LOGIN_HINT)
    if kind == "error":
        status = opt_num(root.get("status"), "status")
        if status in (401, 403):
            raise AuthError("Amp: the free-tier query needs a signed-in session", hint=LOGIN_HINT)
        raise UpstreamError(f"Amp: the free-tier query failed ({int(status) if status else 'error'})")
    if kind != "result" or not isinstance(root.get("result"), str):
        raise ParseError("Amp: the free-tier answer is not a result", field="remote.type")
    value = decode(root["result"], "remote.result")
    if not isinstance(value, dict):
        raise ParseError("Amp: the free-tier result is not an object", field="remote.result")
    return free_window(value, now, "remote.result")


def parse_cookie(raw: dict[str, Any], now: datetime) -> Usage:
    """The web login's answers: the remote function's Amp Free (else the settings page's legacy data)
    and the settings page's credits balance."""
    html = raw.get("settings_html")
    page = html if isinstance(html, str) else None
    balance = settings_balance(page) if page else None
    balances = (balance,) if balance else ()
    if raw.get("remote") is None:
        if page is None:
            raise ParseError("Amp: nothing to read", field="settings_html")
        if balance is not None and "freeTierUsage" not in page and "getFreeTierUsage" not in page:
            return Usage(balances=balances)
        usage = parse_settings_html(page, now)
        return Usage(windows=usage.windows, balances=balances, plan=usage.plan)
    window = parse_remote(raw["remote"], now)
    return Usage(windows=(window,), balances=balances, plan="Amp Free")


def parse_settings_html(html: str, now: datetime) -> Usage:
    """``freeTierUsage{quota, used, hourlyReplenishment, windowHours}`` in the page's SvelteKit data.
    The figures are cents: the page's ``quota:1000, hourlyReplenishment:42`` is the CLI's
    ``$10 ... +$0.42/hour``."""
    for token in ("freeTierUsage", "getFreeTierUsage"):
        literal = _object_after(token, html)
        if literal is None:
            continue
        fields = {k: _field(literal, k) for k in ("quota", "used", "hourlyReplenishment", "windowHours")}
        if fields["quota"] is None or fields["used"] is None or fields["hourlyReplenishment"] is None:
            continue
        window = free_window(fields, now, token)
        return Usage(windows=(window,), plan="Amp Free")
    if looks_signed_out(html):
        raise AuthError("Amp: the settings page asks to sign in (the session cookie has expired)", hint=LOGIN_HINT)
    raise ParseError("Amp: the settings page holds no Amp Free usage", field="freeTierUsage")
