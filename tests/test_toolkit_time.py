"""The toolkit's calendar helpers (providers/_time.py): UTC day, week and month boundaries, calendar
months, Pacific midnight across both daylight-saving switches, RFC 3339 query times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from agentgauge.providers import _time

NOW = datetime(2026, 8, 20, 12, 30, 15, 123456, tzinfo=UTC)  # a Thursday
TOMORROW = datetime(2026, 8, 21, tzinfo=UTC)
MONDAY = datetime(2026, 8, 24, tzinfo=UTC)
FIRST = datetime(2026, 9, 1, tzinfo=UTC)


def test_boundaries_of_now() -> None:
    assert _time.day_start(NOW) == datetime(2026, 8, 20, tzinfo=UTC)
    assert _time.next_midnight(NOW) == TOMORROW
    assert _time.week_start(NOW) == datetime(2026, 8, 17, tzinfo=UTC)
    assert _time.month_start(NOW) == datetime(2026, 8, 1, tzinfo=UTC)
    assert _time.next_month(NOW) == FIRST
    assert _time.next_month(datetime(2026, 12, 31, 23, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)
    assert _time.next_month(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(2026, 2, 1, tzinfo=UTC)


def test_boundaries_are_utc_whatever_the_zone_given() -> None:
    tokyo = datetime(2026, 9, 1, 3, tzinfo=timezone(timedelta(hours=9)))  # still 31 August in UTC
    assert _time.day_start(tokyo) == datetime(2026, 8, 31, tzinfo=UTC)
    assert _time.month_start(tokyo) == datetime(2026, 8, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "period", "expected"),
    [
        (NOW, "daily", TOMORROW),
        (NOW, "weekly", MONDAY),
        (datetime(2026, 8, 24, 0, 0, tzinfo=UTC), "weekly", datetime(2026, 8, 31, tzinfo=UTC)),  # a Monday
        (datetime(2026, 8, 23, 23, 59, tzinfo=UTC), "weekly", MONDAY),  # a Sunday
        (NOW, "monthly", FIRST),
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), "monthly", datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2026, 8, 20, 23, 30, tzinfo=UTC).astimezone(), "daily", TOMORROW),  # local time in, UTC out
    ],
)
def test_next_reset(now: datetime, period: str, expected: datetime) -> None:
    assert _time.next_reset(period, now) == expected


def test_months_are_calendar_months() -> None:
    assert _time.add_months(datetime(2026, 1, 31, 9, tzinfo=UTC), 1) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert _time.add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)  # leap
    assert _time.add_months(datetime(2026, 12, 15, tzinfo=UTC), 2) == datetime(2027, 2, 15, tzinfo=UTC)
    assert _time.add_months(datetime(2026, 3, 31, tzinfo=UTC), -1) == datetime(2026, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "last", "next_"),
    [
        (
            datetime(2026, 1, 15, 12, tzinfo=UTC),
            datetime(2026, 1, 15, 8, tzinfo=UTC),
            datetime(2026, 1, 16, 8, tzinfo=UTC),
        ),
        (
            datetime(2026, 7, 1, 6, 59, tzinfo=UTC),
            datetime(2026, 6, 30, 7, tzinfo=UTC),
            datetime(2026, 7, 1, 7, tzinfo=UTC),
        ),
        # 8 March 2026 is the second Sunday of March: its midnight is still standard time.
        (
            datetime(2026, 3, 8, 12, tzinfo=UTC),
            datetime(2026, 3, 8, 8, tzinfo=UTC),
            datetime(2026, 3, 9, 7, tzinfo=UTC),
        ),
        # 1 November 2026 is the first Sunday of November: its midnight is still daylight time.
        (
            datetime(2026, 11, 1, 12, tzinfo=UTC),
            datetime(2026, 11, 1, 7, tzinfo=UTC),
            datetime(2026, 11, 2, 8, tzinfo=UTC),
        ),
        # exactly at midnight: that midnight is the last one, the next is a day on
        (
            datetime(2026, 1, 15, 8, tzinfo=UTC),
            datetime(2026, 1, 15, 8, tzinfo=UTC),
            datetime(2026, 1, 16, 8, tzinfo=UTC),
        ),
    ],
)
def test_pacific_midnights(now: datetime, last: datetime, next_: datetime) -> None:
    assert (_time.last_pacific_midnight(now), _time.next_pacific_midnight(now)) == (last, next_)


def test_rfc3339() -> None:
    assert _time.rfc3339(NOW) == "2026-08-20T12:30:15Z"
    assert _time.rfc3339(datetime(2026, 8, 20, 14, 30, tzinfo=timezone(timedelta(hours=2)))) == "2026-08-20T12:30:00Z"
