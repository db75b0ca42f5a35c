"""Pure parsers for everything Claude reports usage in.

* the JSON of ``/api/oauth/usage`` (OAuth) and ``claude.ai/api/organizations/{org}/usage``
  (web), which share one shape: keyed windows, a newer ``limits[]`` list and ``extra_usage``;
* the ``/usage`` panel the Claude Code CLI draws in a terminal (ANSI, bars, local reset times
  with an IANA zone in parentheses) and the ``/status`` identity lines;
* CodexBar's already-extracted form of that panel (``session_5h`` / ``week_all_models``...).

Nothing here does I/O; ``now`` is always passed in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Usage, Window
from .._parse import items, obj, opt_num, opt_str, opt_time, pct_of, slug

SESSION_SECONDS = 18000
WEEK_SECONDS = 604800
# Keyed windows of the usage JSON, in display order.
KEYED: dict[str, tuple[str, str, int]] = {
    "five_hour": ("session", "Session (5h)", SESSION_SECONDS),
    "seven_day": ("weekly", "Weekly", WEEK_SECONDS),
    "seven_day_opus": ("weekly_opus", "Weekly · Opus", WEEK_SECONDS),
    "seven_day_sonnet": ("weekly_sonnet", "Weekly · Sonnet", WEEK_SECONDS),
}
# Claude Design variants draw from the main weekly limit; showing them would double count it.
SHARED_WITH_MAIN = frozenset({"seven_day_design", "seven_day_omelette"})


# -- plan ---------------------------------------------------------------------------------
def plan_from(tier: str | None, subscription: str | None) -> str | None:
    """``rateLimitTier`` names the Max multiplier; otherwise ``subscriptionType`` (pro, team...)."""
    lowered = (tier or "").lower()
    for multiplier in ("max_20x", "max_5x"):
        if multiplier in lowered:
            return multiplier
    return subscription.strip().lower() if subscription and subscription.strip() else None


def plan_from_org(org: dict[str, Any]) -> str | None:
    """A claude.ai organization names its plan by ``rate_limit_tier`` or a ``claude_*`` capability."""
    capabilities = [c for c in org.get("capabilities") or [] if isinstance(c, str)]
    subscription = next((c.removeprefix("claude_") for c in capabilities
                         if c in ("claude_max", "claude_pro", "claude_team", "claude_enterprise")), None)
    return plan_from(opt_str(org.get("rate_limit_tier")), subscription)


# -- the usage JSON ----------------------------------------------------------------------
def parse_usage(payload: Any, plan: str | None) -> Usage:
    if not isinstance(payload, dict):
        raise ParseError("Claude: usage response is not an object", field="$")
    known = any(k in payload for k in ("five_hour", "seven_day", "limits", "extra_usage")) or any(
        isinstance(k, str) and k.startswith("seven_day_") for k in payload
    )
    if not known:
        raise ParseError("Claude: usage response has none of five_hour, seven_day, limits or extra_usage",
                         field="five_hour")
    windows: list[Window] = []
    for key, (wid, label, seconds) in KEYED.items():
        window = _keyed(payload.get(key), key, wid, label, seconds, strict=True)
        if window:
            windows.append(window)
    for key, value in payload.items():
        if not key.startswith("seven_day_") or key in KEYED or key in SHARED_WITH_MAIN:
            continue
        suffix = key.removeprefix("seven_day_")
        label = f"Weekly · {suffix.replace('_', ' ').capitalize()}"
        # Unknown variants may be flags rather than windows; only objects are read.
        window = _keyed(value, key, f"weekly_{slug(suffix)}", label, WEEK_SECONDS, strict=False)
        if window:
            windows.append(window)
    taken = {w.id for w in windows}
    windows += _limits(payload.get("limits"), taken)
    extra = _extra_usage(payload.get("extra_usage"))
    if extra:
        windows.append(extra)
    return Usage(windows=tuple(windows), plan=plan)


def _keyed(value: Any, key: str, wid: str, label: str, seconds: int, *, strict: bool) -> Window | None:
    if value is None:
        return None  # the plan has no such window (enterprise accounts send five_hour: null)
    if not isinstance(value, dict):
        if strict:
            raise ParseError(f"Claude: '{key}' is not an object", field=key)
        return None
    pct = opt_num(value.get("utilization"), f"{key}.utilization")
    if pct is None:
        return None
    return Window(id=wid, label=label, used_pct=pct, window_seconds=seconds,
                  resets_at=opt_time(value.get("resets_at"), f"{key}.resets_at"))


def _name_of(value: Any) -> str | None:
    if isinstance(value, str):
        return opt_str(value)
    node = obj(value)
    return opt_str(node.get("display_name")) or opt_str(node.get("name")) or opt_str(node.get("id"))


# Claude model families: a scoped limit's id names the family, not the version, so the history of
# ``weekly_opus`` survives "Opus 4.5" becoming "Opus 5" (and matches the keyed seven_day_opus).
FAMILIES = ("opus", "sonnet", "haiku")


def scoped_id(name: str) -> str:
    words = slug(name).split("_")
    family = next((f for f in FAMILIES if f in words), None)
    return f"weekly_{family or slug(name)}"


def _limits(value: Any, taken: set[str]) -> list[Window]:
    """Entries of the newer ``limits[]`` list that the keyed fields did not already give.

    A ``weekly_scoped`` entry names its model (``weekly_<model>``) or, failing that, its
    surface; one naming neither is skipped, since no id or label would say what it limits.
    """
    out: list[Window] = []
    for index, entry in enumerate(items(value)):
        where = f"limits[{index}]"
        kind = (opt_str(entry.get("kind")) or "").lower()
        if kind == "session":
            wid, label, seconds = "session", "Session (5h)", SESSION_SECONDS
        elif kind in ("weekly_all", "weekly"):
            wid, label, seconds = "weekly", "Weekly", WEEK_SECONDS
        elif kind == "weekly_scoped":
            scope = obj(entry.get("scope"))
            name = _name_of(scope.get("model")) or _name_of(scope.get("surface"))
            if not name:
                continue
            wid, label, seconds = scoped_id(name), f"Weekly · {name}", WEEK_SECONDS
        else:
            continue  # an unknown kind has no agreed id; leave it out rather than guess
        if wid in taken:
            continue
        pct = opt_num(entry.get("percent"), f"{where}.percent")
        if pct is None:
            pct = opt_num(entry.get("utilization"), f"{where}.utilization")
        if pct is None:
            continue
        taken.add(wid)
        out.append(Window(id=wid, label=label, used_pct=pct, window_seconds=seconds,
                          resets_at=opt_time(entry.get("resets_at"), f"{where}.resets_at")))
    return out


def _extra_usage(value: Any) -> Window | None:
    """The monthly pay-as-you-go cap. Amounts are minor units (cents) of ``currency``."""
    extra = obj(value)
    if not extra or extra.get("is_enabled") is False:
        return None
    limit_minor = opt_num(extra.get("monthly_limit"), "extra_usage.monthly_limit")
    if limit_minor is None:
        return None
    used_minor = opt_num(extra.get("used_credits"), "extra_usage.used_credits")
    limit = limit_minor / 100
    used = used_minor / 100 if used_minor is not None else None
    pct = opt_num(extra.get("utilization"), "extra_usage.utilization")
    if pct is None:
        pct = pct_of(used, limit)
    if pct is None:
        return None
    unit = (opt_str(extra.get("currency")) or "usd").lower()
    return Window(id="extra_usage", label="Extra usage (monthly)", used_pct=pct, used=used, limit=limit,
                  unit=unit)


# -- reset text of the CLI panel ---------------------------------------------------------
MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DATE = r"(?P<mon>[A-Za-z]{3,9})\.?\s*(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:\s*,\s*(?P<year>\d{4}))?"
_TIME = r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[ap])?\.?m?\.?"
_RESET = re.compile(rf"^(?:{_DATE}\s*(?:,|at)?\s*)?{_TIME}$", re.IGNORECASE)
_RESET_DATE = re.compile(rf"^{_DATE}$", re.IGNORECASE)
_RESET_IN = re.compile(r"^in\s*(?:(?P<d>\d+)\s*d\w*)?\s*(?:(?P<h>\d+)\s*h\w*)?\s*(?:(?P<m>\d+)\s*m\w*)?$",
                       re.IGNORECASE)
_WITH_ZONE = re.compile(r"^(?P<text>.*?)\s*\(\s*(?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)*)\s*\)\s*$")


def zone_of(name: str | None) -> tzinfo:
    """The named IANA zone; the machine's own zone when none is given or it is unknown here
    (the CLI prints reset times in the local zone of the machine it runs on)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return datetime.now().astimezone().tzinfo or UTC


def reset_time(text: str, now: datetime, zone: str | None = None) -> datetime | None:
    """``5am``, ``3:59pm``, ``Dec 2 at 12am``, ``Jan 2, 2026, 10:59pm``, ``in 2h 5m`` -> UTC.

    A time without a year is the next occurrence after ``now`` in ``zone``; ``text`` may end
    in ``(Zone/Name)``, which wins over ``zone``. Unreadable text gives ``None``.
    """
    cleaned = text.strip().rstrip(".")
    with_zone = _WITH_ZONE.match(cleaned)
    if with_zone:
        cleaned, zone = with_zone["text"].strip(), with_zone["zone"]
    relative = _RESET_IN.match(cleaned)
    if relative and any(relative.groups()):
        return now + timedelta(days=int(relative["d"] or 0), hours=int(relative["h"] or 0),
                               minutes=int(relative["m"] or 0))
    tz = zone_of(zone)
    local_now = now.astimezone(tz)
    match = _RESET.match(cleaned) or _RESET_DATE.match(cleaned)
    if not match:
        return None
    fields = match.groupdict()
    hour, minute = int(fields.get("h") or 0), int(fields.get("m") or 0)
    if fields.get("ap"):
        hour = hour % 12 + (12 if fields["ap"].lower() == "p" else 0)
    try:
        if fields.get("mon"):
            month = MONTHS.get(fields["mon"][:3].lower())
            if month is None:
                return None
            year = int(fields["year"]) if fields.get("year") else local_now.year
            when = datetime(year, month, int(fields["day"]), hour, minute, tzinfo=tz)
            if not fields.get("year") and when <= local_now:
                when = when.replace(year=year + 1)
        else:
            when = datetime(local_now.year, local_now.month, local_now.day, hour, minute, tzinfo=tz)
            if when <= local_now:
                tomorrow = local_now.date() + timedelta(days=1)
                when = datetime(tomorrow.year, tomorrow.month, tomorrow.day, hour, minute, tzinfo=tz)
    except ValueError:
        return None
    return when.astimezone(UTC)


# -- the CLI /usage panel ------------------------------------------------------------------
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_SECTIONS: tuple[tuple[re.Pattern[str], str, str, int], ...] = (
    (re.compile(r"Current\s*session", re.I), "session", "Session (5h)", SESSION_SECONDS),
    (re.compile(r"Current\s*week\s*\(\s*all\s*models\s*\)", re.I), "weekly", "Weekly", WEEK_SECONDS),
    (re.compile(r"Current\s*week\s*\(\s*Opus[^)]*\)", re.I), "weekly_opus", "Weekly · Opus", WEEK_SECONDS),
    (re.compile(r"Current\s*week\s*\(\s*Sonnet[^)]*\)", re.I), "weekly_sonnet", "Weekly · Sonnet",
     WEEK_SECONDS),
)
# Where a section's text ends: the next section, or the panel's extra-usage block.
_SECTION_END = re.compile(r"Current\s*session|Current\s*week\s*\(|Extra\s*usage", re.I)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*(used|remaining|left)", re.I)
_RESETS = re.compile(r"Resets\s*(?P<text>[^()\n]*?)\s*"
                     r"(?:\(\s*(?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+|UTC)\s*\)|$)", re.I | re.M)
_LOAD_ERROR = re.compile(r"Failed\s*to\s*load\s*usage\s*data", re.I)
_ERROR_TYPE = re.compile(r'"type"\s*:\s*"(\w+_error)"')
_LOGIN_METHOD = re.compile(r"Login\s*method:\s*(?P<value>[^\n]+)", re.I)
_ACCOUNT = re.compile(r"Account:\s*(?P<value>\S+@\S+)", re.I)
_ORG = re.compile(r"Org:\s*(?P<value>[^\n]+)", re.I)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


def panel_error(text: str) -> None:
    """Raise the typed error an inline ``Error: Failed to load usage data: {json}`` stands for."""
    found = _LOAD_ERROR.search(text)
    if not found:
        return
    kind_match = _ERROR_TYPE.search(text, found.end())
    kind = kind_match.group(1) if kind_match else "unknown_error"
    if kind in ("authentication_error", "permission_error"):
        raise AuthError(f"Claude CLI: /usage could not load usage data ({kind})",
                        hint="Run `claude` and log in again (/login), then refresh.")
    if kind == "rate_limit_error":
        raise RateLimitedError("Claude CLI: /usage was rate limited (rate_limit_error)")
    raise UpstreamError(f"Claude CLI: /usage could not load usage data ({kind})")


def identity(text: str) -> dict[str, str]:
    """``Login method`` / ``Account`` / ``Org`` lines of ``/status`` (or the usage panel)."""
    clean = strip_ansi(text)
    out: dict[str, str] = {}
    for key, pattern in (("login_method", _LOGIN_METHOD), ("account", _ACCOUNT), ("org", _ORG)):
        match = pattern.search(clean)
        if match:
            out[key] = match["value"].strip()
    return out


def plan_from_login_method(method: str | None) -> str | None:
    """"Claude Max Account" -> "max", "Claude Pro Account" -> "pro"; API-key logins have no plan."""
    match = re.search(r"Claude\s*(Max|Pro|Team|Enterprise)", method or "", re.I)
    return match.group(1).lower() if match else None


def parse_panel(text: str, now: datetime, plan: str | None = None) -> Usage:
    """The ``/usage`` panel text -> windows. A redrawn panel appears several times in a PTY
    capture; the last complete drawing of each section wins."""
    clean = strip_ansi(text)
    panel_error(clean)
    found: dict[str, Window] = {}
    for pattern, wid, label, seconds in _SECTIONS:
        for header in pattern.finditer(clean):
            end = _SECTION_END.search(clean, header.end())
            segment = clean[header.end(): end.start() if end else len(clean)]
            percent = _PERCENT.search(segment)
            if not percent:
                continue
            value = float(percent.group(1))
            used = value if percent.group(2).lower() == "used" else 100.0 - value
            resets = _RESETS.search(segment)
            when = reset_time(resets["text"], now, resets["zone"]) if resets and resets["text"] else None
            found[wid] = Window(id=wid, label=label, used_pct=used, resets_at=when, window_seconds=seconds)
    if not found:
        raise ParseError("Claude CLI: the /usage panel showed no 'Current session' usage",
                         field="Current session")
    order = [wid for _, wid, _, _ in _SECTIONS]
    windows = tuple(found[wid] for wid in order if wid in found)
    return Usage(windows=windows, plan=plan or plan_from_login_method(identity(clean).get("login_method")))


# CodexBar's extracted panel JSON: key -> (window id, label, seconds).
_EXTRACTED = {
    "session_5h": ("session", "Session (5h)", SESSION_SECONDS),
    "week_all_models": ("weekly", "Weekly", WEEK_SECONDS),
    "week_opus": ("weekly_opus", "Weekly · Opus", WEEK_SECONDS),
    "week_sonnet": ("weekly_sonnet", "Weekly · Sonnet", WEEK_SECONDS),
}


def parse_extracted(payload: Any, now: datetime) -> Usage:
    """CodexBar's JSON form of the panel: ``{session_5h: {pct_used, resets}, ...}``."""
    root = obj(payload)
    if root.get("ok") is False:
        raise UpstreamError("Claude CLI: the usage probe reported a failure")
    windows: list[Window] = []
    for key, (wid, label, seconds) in _EXTRACTED.items():
        entry = root.get(key)
        if not isinstance(entry, dict):
            continue
        pct = opt_num(entry.get("pct_used"), f"{key}.pct_used")
        if pct is None:
            continue
        resets = opt_str(entry.get("resets"))
        windows.append(Window(id=wid, label=label, used_pct=pct, window_seconds=seconds,
                              resets_at=reset_time(resets, now) if resets else None))
    if not windows:
        raise ParseError("Claude CLI: extracted usage has no session_5h or week_all_models",
                         field="session_5h")
    return Usage(windows=tuple(windows), plan=plan_from_login_method(opt_str(root.get("login_method"))))
