"""Pure parsers for what the Claude Code CLI prints: the ``/usage`` panel drawn in a terminal (ANSI,
bars, local reset times with an IANA zone in parentheses), the ``/status`` identity lines, and
CodexBar's already-extracted form of that panel (``session_5h`` / ``week_all_models``...).

Nothing here does I/O; ``now`` is always passed in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str
from .parsing import SESSION_SECONDS, WEEK_SECONDS

# -- reset text of the CLI panel ---------------------------------------------------------
MONTHS = {
    name: i
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_DATE = r"(?P<mon>[A-Za-z]{3,9})\.?\s*(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:\s*,\s*(?P<year>\d{4}))?"
_TIME = r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[ap])?\.?m?\.?"
_RESET = re.compile(rf"^(?:{_DATE}\s*(?:,|at)?\s*)?{_TIME}$", re.IGNORECASE)
_RESET_DATE = re.compile(rf"^{_DATE}$", re.IGNORECASE)
_RESET_IN = re.compile(
    r"^in\s*(?:(?P<d>\d+)\s*d\w*)?\s*(?:(?P<h>\d+)\s*h\w*)?\s*(?:(?P<m>\d+)\s*m\w*)?$", re.IGNORECASE
)
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
        return now + timedelta(
            days=int(relative["d"] or 0), hours=int(relative["h"] or 0), minutes=int(relative["m"] or 0)
        )
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
    (re.compile(r"Current\s*week\s*\(\s*Sonnet[^)]*\)", re.I), "weekly_sonnet", "Weekly · Sonnet", WEEK_SECONDS),
)
# Where a section's text ends: the next section, or the panel's extra-usage block.
_SECTION_END = re.compile(r"Current\s*session|Current\s*week\s*\(|Extra\s*usage", re.I)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*(used|remaining|left)", re.I)
_RESETS = re.compile(
    r"Resets\s*(?P<text>[^()\n]*?)\s*"
    r"(?:\(\s*(?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+|UTC)\s*\)|$)",
    re.I | re.M,
)
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
        raise AuthError(
            f"Claude CLI: /usage could not load usage data ({kind})",
            hint="Run `claude` and log in again (/login), then refresh.",
        )
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
    """ "Claude Max Account" -> "max", "Claude Pro Account" -> "pro"; API-key logins have no plan."""
    match = re.search(r"Claude\s*(Max|Pro|Team|Enterprise)", method or "", re.I)
    return match.group(1).lower() if match else None


def parse_panel(text: str, now: datetime, plan: str | None = None) -> Usage:
    """The ``/usage`` panel text -> windows. A redrawn panel appears several times in a PTY
    capture; the last complete drawing of each section wins. A reset text that cannot be read
    leaves that window without a reset time and becomes a warning naming the section."""
    clean = strip_ansi(text)
    panel_error(clean)
    found: dict[str, tuple[Window, ParseError | None]] = {}
    for pattern, wid, label, seconds in _SECTIONS:
        for header in pattern.finditer(clean):
            end = _SECTION_END.search(clean, header.end())
            segment = clean[header.end() : end.start() if end else len(clean)]
            percent = _PERCENT.search(segment)
            if not percent:
                continue
            value = float(percent.group(1))
            used = value if percent.group(2).lower() == "used" else 100.0 - value
            resets = _RESETS.search(segment)
            when, problem = None, None
            if resets and resets["text"]:
                when = reset_time(resets["text"], now, resets["zone"])
                if when is None:
                    where = f"{header.group(0).strip()}.Resets"
                    shown = resets["text"].strip()[:40]
                    problem = ParseError(f"Claude CLI: '{where}' text {shown!r} is not a time I can read", field=where)
            window = Window(id=wid, label=label, used_pct=used, resets_at=when, window_seconds=seconds)
            found[wid] = (window, problem)
    if not found:
        raise ParseError("Claude CLI: the /usage panel showed no 'Current session' usage", field="Current session")
    order = [wid for _, wid, _, _ in _SECTIONS]
    salvage = Salvage()
    salvage.problems += [problem for wid in order if wid in found and (problem := found[wid][1]) is not None]
    return Usage(
        windows=tuple(found[wid][0] for wid in order if wid in found),
        plan=plan or plan_from_login_method(identity(clean).get("login_method")),
        warnings=salvage.warnings(),
    )


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
    salvage = Salvage()
    windows = salvage.each(_EXTRACTED.items(), lambda _i, kv: _extracted(root.get(kv[0]), kv[0], *kv[1], now=now))
    if not windows and not salvage.problems:
        raise ParseError("Claude CLI: extracted usage has no session_5h or week_all_models", field="session_5h")
    return Usage(
        windows=tuple(windows),
        plan=plan_from_login_method(opt_str(root.get("login_method"))),
        warnings=salvage.warnings(),
    )


def _extracted(entry: Any, key: str, wid: str, label: str, seconds: int, *, now: datetime) -> Window | None:
    if not isinstance(entry, dict):
        return None  # the plan has no such section
    pct = opt_num(entry.get("pct_used"), f"{key}.pct_used")
    if pct is None:
        raise ParseError(f"Claude CLI: '{key}.pct_used' is null, so the window is not shown", field=f"{key}.pct_used")
    resets = opt_str(entry.get("resets"))
    return Window(
        id=wid,
        label=label,
        used_pct=pct,
        window_seconds=seconds,
        resets_at=reset_time(resets, now) if resets else None,
    )
