"""Poe: the balance and history samples parsed exactly (points are a balance; the history gives points
used today and in 30 days and per day, bot and type), µs/ms/s timestamps, the history's pagination
over real HTTP, its failure as a warning beside the balance, and every failure of the balance."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, ErrorKind, Usage
from agentgauge.providers.poe import PROVIDER, entry_time
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 8, 4, 12, 0, tzinfo=UTC)
KEY = "sim-poe-key"
PREFIX = "/poe/url/"


def parse(balance: Any, history: Any = None, **extra: Any) -> Usage:
    return PROVIDER.parse({"balance": balance, "history": history, **extra}, NOW)


def points(value: float) -> Balance:
    return Balance(id="points", label="Points", unit="points", remaining=value)


# -- samples ------------------------------------------------------------------------------------
def test_balance_docs_example() -> None:
    assert parse(fixture_json("poe", "balance-docs-example.json")) == Usage(balances=(points(1500),))


def test_history_reference_sample() -> None:
    usage = parse({"current_point_balance": 1500}, fixture_json("poe", "points-history-reference.json"))
    by_id = {b.id: b for b in usage.balances}
    assert by_id["points_today"] == Balance(
        id="points_today", label="Points used today", unit="points", used=459, period="daily"
    )
    assert by_id["points_30d"].used == 500  # the May entry is older than 30 days
    crumbs = {b.id: [(i.key, i.value) for i in b.items] for b in usage.breakdowns}
    assert crumbs == {
        "points_per_day": [("2026-08-03", 41), ("2026-08-04", 459)],
        "points_per_bot": [("Claude-Sonnet-4.5", 380), ("GPT-5", 120)],
        "points_per_type": [("API", 339), ("Chat", 120), ("Canvas App", 41)],
    }


def test_guide_example_in_seconds_is_older_than_30_days() -> None:
    usage = parse({"current_point_balance": 1}, fixture_json("poe", "points-history-guide-example.json"))
    assert next(b for b in usage.balances if b.id == "points_30d").used == 0
    assert all(not b.items for b in usage.breakdowns)


# -- hand-made variations ------------------------------------------------------------------------
def test_timestamps_in_seconds_ms_and_us_are_the_same_time() -> None:
    when = datetime(2026, 8, 4, 8, 0, tzinfo=UTC)
    assert entry_time(1785830400, "t") == when
    assert entry_time("1785830400000", "t") == when
    assert entry_time(1785830400000000, "t") == when
    assert entry_time(None, "t") is None and entry_time(0, "t") is None


def test_several_pages_strings_and_a_broken_entry() -> None:
    pages = [
        {"has_more": True, "data": [{"creation_time": "1785830400000000", "bot_name": "A", "cost_points": "10"}]},
        {
            "has_more": False,
            "data": [
                {"creation_time": 1785830400, "app_name": "B", "cost_points": 5, "x": 1},
                {"creation_time": 1785830400, "cost_points": None},
            ],
        },
    ]
    usage = parse({"current_point_balance": "7"}, pages)
    assert usage.balances[0] == points(7)
    assert next(b for b in usage.balances if b.id == "points_30d").used == 15
    (warning,) = usage.warnings
    assert "pages[1].data[1]" in warning.message


def test_a_history_without_data_is_a_warning_and_the_balance_stands() -> None:
    usage = parse({"current_point_balance": 3}, {"has_more": False})
    assert usage.balances == (points(3),)
    assert usage.warnings[0].kind == ErrorKind.PARSE


@pytest.mark.parametrize(
    ("payload", "field"),
    [([], "$"), ({}, "current_point_balance"), ({"current_point_balance": "x"}, "current_point_balance")],
)
def test_balance_shapes_it_does_not_know(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_an_error_body_in_a_200_is_upstream() -> None:
    with pytest.raises(UpstreamError, match="Insufficient"):
        parse({"error": {"type": "insufficient_points", "message": "Insufficient points"}})


def test_declarations() -> None:
    assert {s.name: (s.env_var("poe"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_POE_API_KEY", ("POE_API_KEY",)),
        "url": ("AGENTGAUGE_POE_URL", ()),
    }


# -- fetch through the simulator -----------------------------------------------------------------
async def test_fetch_pages_through_30_days(sim: Any) -> None:
    usage = await fetch_usage("poe", sim_settings("poe", sim.url, api_key=f"{KEY}#pages"))
    by_id = {b.id: b for b in usage.balances}
    assert set(by_id) == {"points", "points_today", "points_30d"} and usage.warnings == ()
    per_day = next(b for b in usage.breakdowns if b.id == "points_per_day")
    assert 30 <= len(per_day.items) <= 31
    calls = [
        r
        for r in sim_requests(sim)
        if r["path"] == "/poe/url/usage/points_history" and r["headers"]["authorization"] == f"Bearer {KEY}#pages"
    ]
    assert len(calls) == 4  # 360 entries, 100 a page
    assert calls[0]["query"] == "limit=100"
    assert calls[1]["query"].startswith("limit=100&starting_after=q")
    balance = [r for r in sim_requests(sim) if r["path"] == "/poe/url/usage/current_balance"][-1]
    assert balance["headers"]["authorization"] == f"Bearer {KEY}#pages"


async def test_key_from_poe_api_key(sim: Any) -> None:
    settings = sim_settings("poe", sim.url)
    settings.pop("api_key")
    assert (await fetch_usage("poe", settings, env={"POE_API_KEY": KEY})).balances


async def test_history_failure_is_a_warning(sim: Any) -> None:
    add_fault(sim, "/poe/url/usage/points_history", "status", status=500, body="{}")
    usage = await fetch_usage("poe", sim_settings("poe", sim.url))
    assert [b.id for b in usage.balances] == ["points"] and usage.breakdowns == ()
    (warning,) = usage.warnings
    assert warning.kind == ErrorKind.UPSTREAM and "points history" in warning.message


async def test_a_slow_history_is_a_warning_within_the_fetch_time(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(PROVIDER), "timeout", 2.0)  # history budget: 1.4 s
    add_fault(sim, "/poe/url/usage/points_history", "timeout", seconds=3)
    usage = await fetch_usage("poe", sim_settings("poe", sim.url))
    assert [b.id for b in usage.balances] == ["points"]
    (warning,) = usage.warnings
    assert warning.kind == ErrorKind.TIMEOUT and "1.4 s" in warning.message


async def test_wrong_key_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("poe", sim_settings("poe", sim.url, api_key="wrong-key"))
    assert info.value.status_code == 401 and "wrong-key" not in str(info.value)


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("poe", sim_settings("poe", sim.url))
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("poe", sim_settings("poe", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("poe", sim_settings("poe", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("poe", sim_settings("poe", sim.url))
    assert {b.id for b in usage.balances} == {"points", "points_today", "points_30d"} and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("poe", sim_settings("poe", sim.url), timeout=0.5)
