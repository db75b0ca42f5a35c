"""One number format for web and CLI: the dashboard's format.js (run in real Chromium) and the CLI's
formats.py get the same values and must print the same strings, character for character.

The cases are fixed edge cases (rounding ties, thresholds of each rule, DST changes) plus a few
thousand seeded random values, so a rule that is changed on one side only fails here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page

from agentgauge.cli import formats

from .harness_web import ServerInfo, chromium, serve

TZ_NAME = "Europe/Berlin"  # has DST, and is not the machine's zone, so a forgotten tz shows
TZ = ZoneInfo(TZ_NAME)
UNITS = [None, "usd", "USD", "eur", "gbp", "cny", "requests", "tokens", "credits", "calls"]

JS_DISPATCH = """async (cases) => {
  const f = await import(new URL("static/format.js", document.baseURI).href);
  const call = {
    pct: (x) => f.fmtPct(x),
    number: (x) => f.fmtNumber(x),
    amount: (x, unit) => f.fmtAmount(x, unit),
    pair: (used, limit, unit) => f.fmtPair(used, limit, unit),
    duration: (s) => f.fmtDuration(s),
    age: (s) => f.fmtAge(s),
    clock: (when, now) => f.fmtClock(when, now),
    source: (label, source) => f.sourceLabel({ source_label: label, source }),
    headline: (kind, name, clock) => f.errorHeadline(kind, name, clock),
    retry: (message, fetchedAt) => f.retryAt({ error: { message }, fetched_at: fetchedAt }),
    balance: (b) => f.fmtBalance(b),
    breakdown: (values, unit) => f.fmtBreakdownTotal({ unit, items: values.map((value) => ({ value })) }),
    forecast: (verdict, runsOutAt, now) => f.fmtForecast({ verdict, runs_out_at: runsOutAt }, now),
    range: (low, expected, high) => f.fmtForecastRange({ low_pct: low, expected_pct: expected, high_pct: high }),
    cycle: (row, now) => f.cycleCells(row, now),
  };
  return cases.map(([name, args]) => call[name](...args));
}"""


def _ms(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _retry(message: str, fetched_at: str | None) -> float | None:
    again = formats.retry_at(message, _ms(fetched_at) if fetched_at else None)
    return again.timestamp() * 1000 if again else None


def _forecast(verdict: str | None, runs_out_at: str | None, now: float) -> str:
    when = _ms(runs_out_at) if runs_out_at else None
    return formats.fmt_forecast(verdict, when, datetime.fromtimestamp(now / 1000, UTC), TZ)


PY_DISPATCH: dict[str, Callable[..., Any]] = {
    "pct": formats.fmt_pct,
    "number": formats.fmt_number,
    "amount": formats.fmt_amount,
    "pair": formats.fmt_pair,
    "duration": formats.fmt_duration,
    "age": formats.fmt_age,
    "clock": lambda when, now: formats.fmt_clock(
        datetime.fromtimestamp(when / 1000, UTC), datetime.fromtimestamp(now / 1000, UTC), TZ
    ),
    "source": formats.source_label,
    "headline": formats.error_headline,
    "retry": _retry,
    "balance": lambda b: formats.fmt_balance(**b),
    "breakdown": formats.fmt_breakdown_total,
    "forecast": _forecast,
    "range": formats.fmt_forecast_range,
    "cycle": lambda row, now: formats.cycle_cells(row, datetime.fromtimestamp(now / 1000, UTC), TZ),
}


def _fixed_cases() -> list[tuple[str, list[Any]]]:
    cases: list[tuple[str, list[Any]]] = []
    for x in (
        0,
        0.0,
        0.01,
        0.04,
        0.049,
        0.05,
        0.06,
        0.25,
        0.5,
        1,
        1.05,
        7.25,
        7.35,
        9.94,
        9.949,
        9.95,
        9.96,
        10,
        10.5,
        11.5,
        42,
        42.0,
        42.4999,
        42.5,
        99.5,
        99.94,
        100,
        112.3,
        1234.5,
        -0.01,
        -3.3,
        -42.5,
        None,
    ):
        cases.append(("pct", [x]))
    for x in (
        0,
        1,
        0.1 + 0.2,
        0.125,
        0.5,
        2.675,
        12.345,
        99.995,
        99.999,
        100,
        100.5,
        1000,
        2048,
        12_345.5,
        999_999,
        999_999.6,
        1_000_000,
        1_234_567,
        45_123_456_789,
        -5,
        -0.125,
        None,
    ):
        cases.append(("number", [x]))
        for unit in UNITS:
            cases.append(("amount", [x, unit]))
    for used, limit in (
        (102, 200),
        (9.15, 50),
        (3, 10),
        (1_500_000, 5_000_000),
        (0.5, 2),
        (1290, 2048),
        (None, 10),
        (12.5, None),
    ):
        for unit in UNITS:
            cases.append(("pair", [used, limit, unit]))
    for s in (
        -5,
        0,
        0.5,
        1,
        44.9,
        45,
        59,
        60,
        61,
        119,
        3599,
        3600,
        3659,
        7500,
        86_399,
        86_400,
        90_000,
        273_600,
        31 * 86_400 + 5,
        None,
    ):
        cases.append(("duration", [s]))
        cases.append(("age", [s]))
    for now_iso in ("2026-11-26T12:00:00Z", "2026-03-29T00:30:00Z", "2026-10-24T22:30:00Z", "2026-12-31T23:30:00Z"):
        now = _ms(now_iso)
        for hours in (-24 * 8, -24 * 7, -24 * 6 - 23, -25, -1, 0, 0.5, 2, 11, 12, 23, 30, 24 * 6, 24 * 7, 24 * 30):
            when = now + timedelta(hours=hours)
            cases.append(("clock", [when.timestamp() * 1000, now.timestamp() * 1000]))
    for label, source in (
        ("Claude Code login", "oauth"),
        (None, "oauth"),
        (None, "api_key"),
        (None, "cookie"),
        (None, "browser"),
        (None, "cli"),
        (None, "local_file"),
        (None, "some_new_source"),
        (None, None),
        ("", "api_key"),
    ):
        cases.append(("source", [label, source]))
    for kind in ("auth", "network", "timeout", "rate_limited", "upstream", "parse", "config", "internal", "new_kind"):
        cases.append(("headline", [kind, "Claude", None]))
        cases.append(("headline", [kind, "z.ai", "14:05"]))
    for message, fetched in (
        ("z.ai: usage was rate limited (HTTP 429); retry after 600 s", "2026-11-26T12:00:00Z"),
        ("rate limited (HTTP 429)", "2026-11-26T12:00:00Z"),
        ("retry after 30 s", None),
    ):
        cases.append(("retry", [message, fetched]))
    balances: list[dict[str, Any]] = [
        {"unit": "usd", "remaining": 12.5, "limit": 50},
        {"unit": "usd", "used": 3.2, "limit": 10, "period": "monthly"},
        {"unit": "credits", "remaining": 1250, "limit": 5000},
        {"unit": "credits", "remaining": 1250.75},
        {"unit": "eur", "used": 0.125},
        {"unit": "cny", "remaining": 88, "limit": 100, "period": "daily"},
        {"unit": "usd", "unlimited": True, "used": 4},
        {"unit": "tokens"},
    ]
    cases += [("balance", [b]) for b in balances]
    for values, unit in (
        ([120_000, 340_500, 98_000, 1_204_000], "tokens"),
        ([120, 80, 3], "calls"),
        ([5], None),
        ([], "usd"),
        ([0.1, 0.2, 0.3], "usd"),
    ):
        cases.append(("breakdown", [values, unit]))
    cases += _forecast_cases()
    return cases


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _forecast_cases() -> list[tuple[str, list[Any]]]:
    """The forecast's words (verdicts, run-out times near and far, passed), its range, and ledger rows."""
    cases: list[tuple[str, list[Any]]] = []
    for now_iso in ("2026-11-26T12:00:00Z", "2026-03-29T00:30:00Z", "2026-10-24T22:30:00Z"):
        now = _ms(now_iso)
        ms = now.timestamp() * 1000
        for verdict in ("ok", "watch", "surplus", "learning", "some_new_verdict", None, ""):
            cases.append(("forecast", [verdict, None, ms]))
        for minutes in (-30, 0, 1, 45, 125, 60 * 11 + 59, 60 * 30, 60 * 24 * 3, 60 * 24 * 9):
            cases.append(("forecast", ["will_run_out", _iso(now + timedelta(minutes=minutes)), ms]))
        cases.append(("forecast", ["will_run_out", None, ms]))
        base = {
            "started_at": _iso(now - timedelta(hours=5)),
            "resets_at": _iso(now),
            "ended": True,
            "peak_pct": 100.0,
            "hit_100_at": _iso(now - timedelta(hours=1, minutes=25)),
            "blocked_seconds": 5100,
            "unused_pct_at_reset": 0.0,
        }
        cases.append(("cycle", [base, ms]))
        cases.append(("cycle", [{**base, "peak_pct": 62.45, "hit_100_at": None, "blocked_seconds": 0,
                                 "unused_pct_at_reset": 37.55}, ms]))  # fmt: skip
        running = {
            **base,
            "started_at": _iso(now - timedelta(days=9)),
            "resets_at": _iso(now + timedelta(days=2)),
            "ended": False,
            "unused_pct_at_reset": None,
            "blocked_seconds": 3 * 86400 + 7,
        }
        cases.append(("cycle", [running, ms]))
    for low, expected, high in (
        (45.0, 62.0, 80.0),
        (92.1, 131.4, 176.0),
        (0.01, 0.04, 7.25),
        (None, None, None),
        (None, 50.0, None),
        (9.949, 9.95, 10.5),
    ):
        cases.append(("range", [low, expected, high]))
    return cases


def _random_cases(seed: int = 20261126, n: int = 400) -> list[tuple[str, list[Any]]]:
    rng = random.Random(seed)
    cases: list[tuple[str, list[Any]]] = []
    now = _ms("2026-11-26T12:00:00Z").timestamp() * 1000
    for _ in range(n):
        scale = rng.choice((0.2, 12, 150, 5000, 3e7))
        x = rng.uniform(0, scale)
        tie = rng.randrange(0, 20_000) / 20  # values ending in .x5 / .5: the rounding ties
        cases += [
            ("pct", [x]),
            ("pct", [tie]),
            ("number", [x]),
            ("amount", [x, rng.choice(UNITS)]),
            ("amount", [tie, rng.choice(UNITS)]),
            ("pair", [tie, x, rng.choice(UNITS)]),
            ("duration", [rng.uniform(0, 40 * 86_400)]),
            ("age", [rng.uniform(0, 3 * 86_400)]),
            ("clock", [now + rng.uniform(-40, 40) * 86_400_000, now]),
            (
                "forecast",
                ["will_run_out", _iso(datetime.fromtimestamp(now / 1000 + rng.uniform(-1, 9) * 86_400, UTC)), now],
            ),
            ("range", [tie, x, tie + x]),
        ]
    return cases


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    browser: Browser
    with chromium() as browser, serve(demo=False) as info:
        context = browser.new_context(timezone_id=TZ_NAME)
        page = context.new_page()
        page.goto(_url(info))
        yield page
        context.close()


def _url(info: ServerInfo) -> str:
    return info.url + "/"


def _compare(page: Page, cases: list[tuple[str, list[Any]]]) -> list[str]:
    shown = page.evaluate(JS_DISPATCH, [[name, args] for name, args in cases])
    assert len(shown) == len(cases)
    problems = []
    for (name, args), js in zip(cases, shown, strict=True):
        py = PY_DISPATCH[name](*args)
        if py != js:
            problems.append(f"{name}{tuple(args)}: python {py!r} != javascript {js!r}")
    return problems


def test_fixed_cases_print_the_same_in_web_and_cli(page: Page) -> None:
    cases = _fixed_cases()
    problems = _compare(page, cases)
    assert not problems, "\n".join(problems[:40])
    assert len(cases) > 400


def test_random_values_print_the_same_in_web_and_cli(page: Page) -> None:
    problems = _compare(page, _random_cases())
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42.0, "42%"),
        (42.4999, "42%"),
        (42.5, "43%"),
        (7.25, "7.3%"),
        (7.0, "7%"),
        (9.96, "10%"),
        (0.01, "<0.1%"),
        (0, "0%"),
        (112.3, "112%"),
    ],
)
def test_percent_rules(value: float, expected: str) -> None:
    """The documented rules themselves (docs/dashboard.md), so both sides cannot drift together."""
    assert formats.fmt_pct(value) == expected


def test_amount_duration_and_clock_rules() -> None:
    assert formats.fmt_pair(102, 200, "requests") == "102 / 200 requests"
    assert formats.fmt_pair(9.15, 50, "usd") == "$9.15 / $50.00"
    assert formats.fmt_amount(1234.5, "usd") == "$1,234.50"
    assert formats.fmt_amount(2048, "requests") == "2,048 requests"
    assert formats.fmt_amount(1_234_567, "tokens") == "1.2M tokens"
    assert formats.fmt_amount(12.345, "credits") == "12.35 credits"
    assert formats.fmt_amount(12, "cny") == "12.00 CNY"
    assert formats.fmt_duration(2 * 3600 + 5 * 60 + 59) == "2h 05m"
    assert formats.fmt_duration(3 * 86400 + 4 * 3600 + 59 * 60) == "3d 4h"
    assert formats.fmt_duration(12 * 60 + 5) == "12m 05s"
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert formats.fmt_clock(now + timedelta(hours=2, minutes=5), now, TZ) == "15:05"
    assert formats.fmt_clock(now + timedelta(days=2), now, TZ) == "Sat 13:00"
    assert formats.fmt_clock(now + timedelta(days=9), now, TZ) == "Dec 5 13:00"


def test_forecast_words_and_ledger_cells() -> None:
    """The documented forecast words (docs/forecast.md, docs/dashboard.md) and ledger cells."""
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert formats.fmt_forecast("will_run_out", now + timedelta(hours=2, minutes=5), now, TZ) == "runs out ~15:05"
    assert formats.fmt_forecast("will_run_out", now + timedelta(days=2), now, TZ) == "runs out ~Sat 13:00"
    assert formats.fmt_forecast("will_run_out", now, now, TZ) == "at the limit"
    assert [formats.fmt_forecast(v, None, now) for v in ("watch", "ok", "surplus", "learning", None)] == [
        "may run out",
        "on pace",
        "surplus",
        "learning",
        "",
    ]
    assert formats.fmt_forecast_range(45.0, 62.0, 80.0) == "at reset: 62% expected, 45%–80% likely (p10–p90)"
    assert formats.fmt_forecast_range(None, None, None) == "too little history for a forecast yet"
    row = {"started_at": "2026-11-26T06:00:00Z", "resets_at": "2026-11-26T11:00:00Z", "ended": True,
           "peak_pct": 100.0, "hit_100_at": "2026-11-26T09:35:00Z", "blocked_seconds": 5100,
           "unused_pct_at_reset": 0.0}  # fmt: skip
    assert formats.cycle_cells(row, now, TZ) == {
        "started": "07:00",
        "reset": "12:00",
        "peak": "100%",
        "hit": "10:35",
        "blocked": "1h 25m",
        "unused": "0%",
    }
    running = {**row, "ended": False, "hit_100_at": None, "unused_pct_at_reset": None}
    assert formats.cycle_cells(running, now, TZ)["unused"] == "open"
    week = {**row, "started_at": "2026-11-20T17:00:00Z", "resets_at": "2026-11-27T17:00:00Z"}
    assert (formats.cycle_cells(week, now, TZ)["started"], formats.cycle_cells(week, now, TZ)["reset"]) == (
        "Nov 20 18:00",
        "Nov 27 18:00",
    )  # a weekly cycle's ends are told apart by their dates, not a weekday
    assert formats.cycle_cells(running, now, TZ)["blocked"] == "–"
