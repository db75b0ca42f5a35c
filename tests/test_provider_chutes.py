"""Chutes: the subscription usage samples parsed exactly (the live four_hour/monthly dollar caps and the
older rolling_window shape), the daily quota rows with their usage, the balance, hand-made variations,
the requests sent (the '*' quota escaped), the enrichments' failures, and the simulator's faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.chutes import PROVIDER
from agentgauge.providers.chutes.parsing import quota_rows
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
KEY = "cpk_sim-chutes-key"
PREFIX = "/chutes/url/"
CEST = timezone(timedelta(hours=2))


def parse(subscription: Any, quotas: Any = None, usage: Any = None, me: Any = None) -> Usage:
    return PROVIDER.parse({"subscription": subscription, "quotas": quotas, "usage": usage, "me": me}, NOW)


# -- samples ------------------------------------------------------------------------------------
def test_live_shape_sample_with_the_daily_quota() -> None:
    usage = parse(
        fixture_json("chutes", "subscription-usage-live.json"),
        fixture_json("chutes", "quotas-items.json"),
        {"*": {"quota": 5000, "used": 11}},
    )
    assert usage == Usage(
        windows=(
            Window(
                id="window_4h",
                label="4h cap",
                used_pct=0.0,
                resets_at=datetime(2026, 4, 16, 2, 0, tzinfo=CEST),
                window_seconds=14400,
                used=0.0,
                limit=8.333333,
                unit="usd",
            ),
            Window(
                id="monthly",
                label="Monthly cap",
                used_pct=55.3388,
                resets_at=datetime(2026, 5, 9, 14, 40, 29, tzinfo=CEST),
                used=55.338789,
                limit=100.0,
                unit="usd",
            ),
            Window(
                id="daily",
                label="Daily requests",
                used_pct=0.22,
                window_seconds=86400,
                used=11,
                limit=5000,
                unit="requests",
            ),
        )
    )


def test_rolling_window_sample() -> None:
    usage = parse(fixture_json("chutes", "subscription-usage-rolling.json"))
    assert usage.plan == "Pro"
    assert usage.windows == (
        Window(
            id="window_4h",
            label="4h cap",
            used_pct=40.0,
            resets_at=datetime(2026, 6, 13, 18, 0, tzinfo=UTC),
            window_seconds=14400,
            used=40,
            limit=100,
            unit="requests",
        ),
        Window(
            id="monthly",
            label="Monthly cap",
            used_pct=25.0,
            resets_at=datetime(2026, 7, 1, tzinfo=UTC),
            used=250,
            limit=1000,
            unit="credits",
        ),
    )


def test_no_subscription_sample_is_a_note_or_the_balance() -> None:
    free = fixture_json("chutes", "subscription-usage-free.json")
    assert parse(free) == Usage(note="No active Chutes subscription")
    with_balance = parse(free, {}, {}, {"balance": "3.5", "username": "x"})
    assert with_balance == Usage(balances=(Balance(id="balance", label="Balance", unit="usd", remaining=3.5),))


def test_quota_list_sample_with_its_usage_sample() -> None:
    (window,) = parse(
        {}, fixture_json("chutes", "quotas-list.json"), {"0": fixture_json("chutes", "quota-usage.json")}
    ).windows
    assert (window.id, window.label, window.used, window.limit, window.used_pct) == (
        "daily_0",
        "Daily requests (0)",
        10,
        100,
        10.0,
    )


# -- variations ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "rows"),
    [
        ({"*": 200}, [("*", 200)]),  # Chutes' default quotas mapping
        ({}, []),  # free or invoiced accounts
        ({"quotas": [{"chute_id": "a", "quota": "5"}, {"quota": 1}, "junk"]}, [("a", "5")]),
        ([{"chute_id": "*", "quota": True}], [("*", None)]),
        (None, []),
    ],
)
def test_quota_rows(payload: Any, rows: list[Any]) -> None:
    assert quota_rows(payload) == rows


def test_unlimited_quota_and_quota_without_usage() -> None:
    usage = parse({}, [{"chute_id": "*", "quota": 0}], {"*": {"quota": "unlimited", "used": 0}})
    assert usage.windows == (
        Window(id="daily", label="Daily requests", used_pct=0.0, window_seconds=86400, unit="requests", unlimited=True),
    )
    # A quota whose usage could not be read is not shown as 0 used.
    assert parse({}, [{"chute_id": "*", "quota": 5000}], {}).windows == ()


def test_derived_figures_strings_and_data_envelope() -> None:
    payload = {"data": {"four_hour": {"cap": "10", "remaining": "7.5"}, "monthly": {"usage": "5", "remaining": "95"}}}
    four, month = parse(payload).windows
    assert (four.used, four.limit, four.used_pct) == (2.5, 10.0, 25.0)
    assert (month.used, month.limit, month.used_pct) == (5.0, 100.0, 5.0)


def test_a_broken_cap_is_a_warning() -> None:
    usage = parse({"four_hour": {"cap": 10}, "monthly": {"usage": 1, "cap": 10}})
    assert [w.id for w in usage.windows] == ["monthly"]
    assert "four_hour.usage" in usage.warnings[0].message


def test_subscription_not_an_object() -> None:
    with pytest.raises(ParseError) as info:
        parse(["x"])
    assert info.value.field == "$"


def test_declarations() -> None:
    assert {s.name: (s.env_var("chutes"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_CHUTES_API_KEY", ("CHUTES_API_KEY",)),
        "url": ("AGENTGAUGE_CHUTES_URL", ("CHUTES_API_URL",)),
    }


# -- fetch through the simulator ------------------------------------------------------------------
def requests_to(sim: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == path]


async def test_fetch_all_parts(sim: Any) -> None:
    usage = await fetch_usage("chutes", sim_settings("chutes", sim.url))
    assert [w.id for w in usage.windows] == ["window_4h", "monthly", "daily"]
    assert usage.balances == (Balance(id="balance", label="Balance", unit="usd", remaining=12.345678),)
    for path in ("subscription_usage", "quotas", "quota_usage/*", ""):
        request = requests_to(sim, f"/chutes/url/users/me{'/' + path if path else ''}")[-1]
        assert request["method"] == "GET" and request["headers"]["authorization"] == f"Bearer {KEY}"


async def test_other_quota_rows_are_asked_for_afterwards(sim: Any) -> None:
    usage = await fetch_usage("chutes", sim_settings("chutes", sim.url, api_key=f"{KEY}#multi"))
    assert [w.id for w in usage.windows] == ["window_4h", "monthly", "daily", "daily_my_chute"]
    assert usage.windows[-1].limit == 250 and usage.windows[-1].label == "Daily requests (my-chute)"
    assert requests_to(sim, "/chutes/url/users/me/quota_usage/my-chute")


async def test_variables(sim: Any) -> None:
    env = {"CHUTES_API_KEY": KEY, "CHUTES_API_URL": f"{sim.url}/chutes/url"}
    assert (await fetch_usage("chutes", {}, env=env)).windows


async def test_wrong_key(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("chutes", sim_settings("chutes", sim.url, api_key="cpk_wrong"))
    assert "cpk_wrong" not in str(info.value)


async def test_enrichment_failures_keep_the_caps(sim: Any) -> None:
    add_fault(sim, PREFIX + "users/me/quotas", "status", status=500, body="oops")
    usage = await fetch_usage("chutes", sim_settings("chutes", sim.url))
    assert [w.id for w in usage.windows] == ["window_4h", "monthly"] and usage.balances


async def test_a_part_refused_to_the_key_scope_is_left_out(sim: Any) -> None:
    add_fault(sim, PREFIX + "users/me/quota_usage", "status", status=403, body='{"detail":"Not authorized"}')
    usage = await fetch_usage("chutes", sim_settings("chutes", sim.url))
    assert [w.id for w in usage.windows] == ["window_4h", "monthly"] and usage.balances


async def test_an_enrichment_rejecting_the_key_is_an_auth_error(sim: Any) -> None:
    add_fault(sim, PREFIX + "users/me/quotas", "status", status=401, body='{"detail":"bad key"}')
    with pytest.raises(AuthError):
        await fetch_usage("chutes", sim_settings("chutes", sim.url))


def clear_faults(sim: Any) -> None:
    httpx.delete(f"{sim.url}/__sim/faults").raise_for_status()


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("chutes", sim_settings("chutes", sim.url))
    assert [w.id for w in usage.windows] == ["window_4h", "monthly", "daily"] and usage.warnings == ()


async def test_rate_limit_and_timeout(sim: Any) -> None:
    add_fault(
        sim, PREFIX + "users/me/subscription_usage", "status", status=429, headers={"retry-after": "5"}, body="{}"
    )
    with pytest.raises(RateLimitedError):
        await fetch_usage("chutes", sim_settings("chutes", sim.url))
    clear_faults(sim)
    add_fault(sim, PREFIX + "users/me/subscription_usage", "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("chutes", sim_settings("chutes", sim.url), timeout=0.5)
