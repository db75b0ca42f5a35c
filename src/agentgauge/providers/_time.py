"""Calendar arithmetic the providers share: when a UTC day, week or month starts and the next one
begins, calendar months later, Pacific midnight (when Google's per-day quotas reset), and RFC 3339
times for query strings. Pure and time-zone-database-free, so it behaves the same on every platform.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def day_start(now: datetime) -> datetime:
    """00:00 UTC of ``now``'s day."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def next_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC."""
    return day_start(now) + timedelta(days=1)


def week_start(now: datetime) -> datetime:
    """00:00 UTC of the Monday of ``now``'s week."""
    midnight = day_start(now)
    return midnight - timedelta(days=midnight.weekday())


def month_start(now: datetime) -> datetime:
    """00:00 UTC on the first of ``now``'s month."""
    return day_start(now).replace(day=1)


def next_month(now: datetime) -> datetime:
    """00:00 UTC on the first of the next month."""
    return (month_start(now) + timedelta(days=32)).replace(day=1)


def next_reset(period: str, now: datetime) -> datetime:
    """The next midnight UTC that starts a new ``period``: ``daily``, ``weekly`` (from Monday), else monthly."""
    if period == "daily":
        return next_midnight(now)
    if period == "weekly":
        return week_start(now) + timedelta(days=7)
    return next_month(now)


def add_months(when: datetime, months: int) -> datetime:
    """Calendar months later, the day clamped to the month's length (Jan 31 + 1 month = Feb 28)."""
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    following = date(year + month // 12, month % 12 + 1, 1)
    return when.replace(year=year, month=month, day=min(when.day, (following - timedelta(days=1)).day))


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def pacific_midnight(day: date) -> datetime:
    """00:00 in Los Angeles on ``day``, in UTC (daylight time from the second Sunday of March 02:00 to the
    first Sunday of November 02:00, so at midnight it is in effect on the days after the first up to the
    second)."""
    daylight = _nth_sunday(day.year, 3, 2) < day <= _nth_sunday(day.year, 11, 1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=7 if daylight else 8)


def last_pacific_midnight(now: datetime) -> datetime:
    today = now.astimezone(UTC).date()
    return max(m for m in (pacific_midnight(today + timedelta(days=d)) for d in (-1, 0, 1)) if m <= now)


def next_pacific_midnight(now: datetime) -> datetime:
    today = now.astimezone(UTC).date()
    return min(m for m in (pacific_midnight(today + timedelta(days=d)) for d in (0, 1, 2)) if m > now)


def rfc3339(value: datetime) -> str:
    """``2025-01-02T03:04:05Z``: UTC with a ``Z``, in whole seconds."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
