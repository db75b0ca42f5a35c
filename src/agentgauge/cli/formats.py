"""Number, time and wording rules shared by the terminal table and the dashboard.

``src/agentgauge/web/static/format.js`` implements the same functions line for line and
``tests/test_render_parity.py`` runs both on the same values; docs/dashboard.md states the rules.
Locale-free on purpose: both surfaces must print the very same string. Pure functions only
(no rich, no pydantic import), so the CLI's quick paths can use them.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, tzinfo
from typing import Any

__all__ = [
    "SOURCE_WORDS",
    "VERDICT_WORDS",
    "cycle_cells",
    "error_headline",
    "fmt_age",
    "fmt_amount",
    "fmt_balance",
    "fmt_breakdown_total",
    "fmt_clock",
    "fmt_duration",
    "fmt_forecast",
    "fmt_forecast_range",
    "fmt_number",
    "fmt_pair",
    "fmt_pct",
    "retry_at",
    "round_to",
    "source_label",
]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}
CURRENCY_CODES = frozenset({"cny", "jpy", "inr", "cad", "aud", "chf", "krw", "brl", "sgd", "hkd"})
SOURCE_WORDS = {
    "api_key": "API key",
    "oauth": "OAuth login",
    "cookie": "session cookie",
    "browser": "browser session",
    "cli": "CLI login",
    "local_file": "local credentials file",
}
# A forecast's verdict in words (docs/forecast.md); ``will_run_out`` says when instead.
VERDICT_WORDS = {"ok": "on pace", "watch": "may run out", "surplus": "surplus", "learning": "learning"}
_RETRY_AFTER = re.compile(r"retry after (\d+) s")


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def round_to(x: float, decimals: int) -> float:
    """Ties round up (floor(x + 0.5)) in both languages, so Python and JavaScript agree on every value."""
    factor: int = 10**decimals
    return math.floor(x * factor + 0.5) / factor


def _fixed(x: float, decimals: int) -> str:
    """A non-negative number with exactly ``decimals`` decimals and thousands separators."""
    return f"{round_to(x, decimals):,.{decimals}f}"


def _trim_zeros(s: str) -> str:
    return s.rstrip("0").rstrip(".") if "." in s else s


def fmt_pct(x: float | None) -> str:
    if x is None or not _finite(x):
        return "–"
    if 0 < x < 0.05:
        return "<0.1%"
    if abs(x) < 9.95:
        r = round_to(x, 1)
        return f"{int(r)}%" if r.is_integer() else f"{r:.1f}%"
    r = round_to(x, 0)
    return f"{'-' if r < 0 else ''}{int(abs(r)):,}%"


def fmt_number(x: float | None) -> str:
    """A plain quantity: integers with separators, small fractions with up to two decimals, millions as "1.2M"."""
    if x is None or not _finite(x):
        return "–"
    sign = "-" if x < 0 else ""
    a = abs(float(x))
    if a >= 1e9:
        return f"{sign}{_trim_zeros(_fixed(a / 1e9, 1))}B"
    if a >= 1e6:
        return f"{sign}{_trim_zeros(_fixed(a / 1e6, 1))}M"
    if a >= 100 or a.is_integer():
        return f"{sign}{_fixed(a, 0)}"
    return f"{sign}{_trim_zeros(_fixed(a, 2))}"


def _money_digits(x: float | None) -> str:
    """Money always has two decimals; a symbol in front ("$9.15") or an upper-case code after ("12.00 CNY")."""
    if x is None or not _finite(x):
        return "–"
    return f"{'-' if x < 0 else ''}{_fixed(abs(x), 2)}"


def _money(x: float | None, currency: str) -> str:
    if x is None or not _finite(x):
        return "–"
    return f"{'-' if x < 0 else ''}{CURRENCY_SYMBOLS[currency]}{_fixed(abs(x), 2)}"


def fmt_amount(x: float | None, unit: str | None) -> str:
    """One amount with its unit: "$9.15", "2,048 requests", "12.00 CNY"."""
    currency = (unit or "").lower()
    if currency in CURRENCY_SYMBOLS:
        return _money(x, currency)
    if currency in CURRENCY_CODES:
        return f"{_money_digits(x)} {currency.upper()}"
    return f"{fmt_number(x)} {unit}" if unit else fmt_number(x)


def fmt_pair(used: float | None, limit: float | None, unit: str | None) -> str:
    """Used against a limit, the unit said once: "102 / 200 requests", "$9.15 / $50.00", "3.00 / 10.00 CNY"."""
    currency = (unit or "").lower()
    if currency in CURRENCY_SYMBOLS:
        return f"{_money(used, currency)} / {_money(limit, currency)}"
    if currency in CURRENCY_CODES:
        return f"{_money_digits(used)} / {_money_digits(limit)} {currency.upper()}"
    return f"{fmt_number(used)} / {fmt_number(limit)}" + (f" {unit}" if unit else "")


def fmt_duration(seconds: float | None) -> str:
    """Countdowns and ages: "3d 4h", "2h 05m", "12m 05s", "45s" (seconds only inside the last hour)."""
    sec = max(0, math.floor(seconds if seconds is not None and _finite(seconds) else 0))
    days, rest = divmod(sec, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def fmt_age(seconds: float | None) -> str:
    if seconds is None or not _finite(seconds) or seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, math.floor(seconds / 60))}m ago"
    return f"{fmt_duration(seconds)} ago"


def fmt_clock(when: datetime, now: datetime, tz: tzinfo | None = None) -> str:
    """A moment in local time (``tz``; default the system's): "14:05" today, "Mon 14:05" within a week,
    else "Nov 3 14:05"."""
    t = when.astimezone(tz)
    n = now.astimezone(tz)
    hm = f"{t.hour:02d}:{t.minute:02d}"
    days = (t.date() - n.date()).days
    if days == 0:
        return hm
    if abs(days) < 7:
        return f"{WEEKDAYS[(t.weekday() + 1) % 7]} {hm}"
    return f"{MONTHS[t.month - 1]} {t.day} {hm}"


def source_label(source_label: str | None, source: str | None) -> str | None:
    """The credential source in words: the server's own label, else a words map of ``source``."""
    if source_label:
        return source_label
    if not source:
        return None
    return SOURCE_WORDS.get(source, source.replace("_", " "))


def retry_at(message: str | None, fetched_at: datetime | None) -> datetime | None:
    """When a rate-limited account is tried again: the server's "retry after N s" counted from the attempt."""
    match = _RETRY_AFTER.search(message or "")
    if match is None or fetched_at is None:
        return None
    return fetched_at + timedelta(seconds=int(match.group(1)))


def error_headline(kind: str, name: str, retry_clock: str | None = None) -> str:
    """A plain headline for an error kind; the server's own message and hint go below it."""
    headlines = {
        "auth": f"Signed out of {name}",
        "network": f"Can't reach {name}",
        "timeout": f"{name} did not answer in time",
        "rate_limited": f"Rate limited, retrying at {retry_clock}" if retry_clock else "Rate limited, retrying later",
        "upstream": f"{name} reported a problem on its side",
        "parse": "Unexpected response (the provider changed something)",
        "config": "Configuration problem",
        "internal": "agentgauge bug: please report",
    }
    return headlines.get(str(kind), "Refresh failed")


def fmt_balance(
    unit: str,
    *,
    remaining: float | None = None,
    used: float | None = None,
    limit: float | None = None,
    period: str | None = None,
    unlimited: bool = False,
) -> str:
    """A balance in one line, its unit once: "1,250 / 5,000 credits left", "$3.20 / $10.00 used (monthly)"."""
    if unlimited:
        text = "unlimited"
    elif _finite(remaining) and _finite(limit):
        text = f"{fmt_pair(remaining, limit, unit)} left"
    elif _finite(remaining):
        text = f"{fmt_amount(remaining, unit)} left"
    elif _finite(used) and _finite(limit):
        text = f"{fmt_pair(used, limit, unit)} used"
    elif _finite(used):
        text = f"{fmt_amount(used, unit)} used"
    else:
        text = "no figures"
    return f"{text} ({period})" if period else text


def fmt_breakdown_total(values: list[float], unit: str | None) -> str:
    """A breakdown in one line: "total 1.2M tokens over 7 entries"."""
    total = 0.0
    for value in values:  # a plain left-to-right sum, as JavaScript's reduce does (sum() compensates)
        if _finite(value):
            total += value
    return f"total {fmt_amount(total, unit)} over {len(values)} {'entry' if len(values) == 1 else 'entries'}"


def fmt_forecast(verdict: str | None, runs_out_at: datetime | None, now: datetime, tz: tzinfo | None = None) -> str:
    """A window's forecast in a few words: "runs out ~14:05", "may run out", "on pace", "surplus",
    "learning"; "at the limit" once the expected run-out time has passed."""
    if not verdict:
        return ""
    if verdict == "will_run_out":
        if runs_out_at is None:
            return "runs out"
        if runs_out_at <= now:
            return "at the limit"
        return f"runs out ~{fmt_clock(runs_out_at, now, tz)}"
    return VERDICT_WORDS.get(verdict, verdict.replace("_", " "))


def fmt_forecast_range(low: float | None, expected: float | None, high: float | None) -> str:
    """Where the forecast puts the window at its reset: "at reset: 62% expected, 45%–80% likely (p10–p90)"."""
    if not _finite(expected):
        return "too little history for a forecast yet"
    if not (_finite(low) and _finite(high)):
        return f"at reset: {fmt_pct(expected)} expected"
    return f"at reset: {fmt_pct(expected)} expected, {fmt_pct(low)}–{fmt_pct(high)} likely (p10–p90)"


def cycle_cells(row: dict[str, Any], now: datetime, tz: tzinfo | None = None) -> dict[str, str]:
    """One row of the reset-cycle ledger (``/api/cycles``) in words: start and reset times (local, with
    the date unless today), the peak, when it first hit 100 % and how long it stayed there, the share
    left unused ("open" while running)."""

    def when(iso: str | None) -> str:  # a ledger spans weeks: a date unless today ("Nov 3 14:05", "14:05")
        if not iso:
            return "–"
        t = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(tz)
        hm = f"{t.hour:02d}:{t.minute:02d}"
        return hm if t.date() == now.astimezone(tz).date() else f"{MONTHS[t.month - 1]} {t.day} {hm}"

    hit = row.get("hit_100_at")
    return {
        "started": when(row.get("started_at")),
        "reset": when(row.get("resets_at")),
        "peak": fmt_pct(row.get("peak_pct")),
        "hit": when(hit),
        "blocked": fmt_duration(row.get("blocked_seconds")) if hit else "–",
        "unused": fmt_pct(row.get("unused_pct_at_reset")) if row.get("ended") else "open",
    }
