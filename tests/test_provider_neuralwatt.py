"""Neuralwatt: the quota samples parsed exactly (the prepaid balance and this month's spend as balances,
the subscription's kWh allowance and a key allowance with a period as windows), hand-made variations,
the request sent, the base URL with or without /v1, and failures through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.neuralwatt import PROVIDER, quota_url
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 4, 16, 18, 30, tzinfo=UTC)
KEY = "sim-neuralwatt-key"
PREFIX = "/neuralwatt/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"quota": payload}, NOW)


def month(cost: float, energy: float) -> tuple[Balance, Balance]:
    return (
        Balance(id="spend_month", label="Spend this month", unit="usd", used=cost, period="monthly"),
        Balance(id="energy_month", label="Energy this month", unit="kwh", used=energy, period="monthly"),
    )


# -- samples ------------------------------------------------------------------------------------
def test_subscriber_sample() -> None:
    assert parse(fixture_json("neuralwatt", "quota-subscriber.json")) == Usage(
        windows=(
            Window(
                id="energy",
                label="Subscription energy",
                used_pct=69.5115,
                resets_at=datetime(2026, 5, 11, 5, 5, 25, tzinfo=UTC),
                used=13.9023,
                limit=20.0,
                unit="kwh",
            ),
            Window(
                id="key_monthly",
                label="API key allowance (monthly)",
                used_pct=25.0,
                used=12.5,
                limit=50.0,
                unit="usd",
            ),
        ),
        balances=(
            Balance(id="prepaid", label="Prepaid credits", unit="usd", remaining=32.6774, used=19.6626, limit=52.34),
            *month(160.1463, 9.7278),
        ),
        plan="Standard",
    )


def test_prepaid_only_sample_has_no_window() -> None:
    usage = parse(fixture_json("neuralwatt", "quota-no-subscription.json"))
    assert usage == Usage(
        balances=(
            Balance(id="prepaid", label="Prepaid credits", unit="usd", remaining=4.5, used=0.5, limit=5.0),
            *month(0.5, 0.01),
        )
    )


def test_zero_prepaid_does_not_exhaust_the_subscription() -> None:
    usage = parse(fixture_json("neuralwatt", "quota-zero-prepaid-subscriber.json"))
    (energy,) = usage.windows
    assert (energy.used_pct, energy.used, energy.limit) == (25.0, 2.5, 10.0)
    assert usage.balances == (Balance(id="prepaid", label="Prepaid credits", unit="usd", remaining=0.0, used=0.0),)
    assert usage.plan == "Pro Energy"


def test_blocked_key_without_figures_is_exhausted() -> None:
    usage = parse(fixture_json("neuralwatt", "quota-blocked-key.json"))
    assert usage.windows == (Window(id="key_monthly", label="API key allowance (monthly)", used_pct=100.0, unit="usd"),)
    assert usage.balances == (Balance(id="prepaid", label="Prepaid credits", unit="usd", remaining=3.0),)


# -- variations ---------------------------------------------------------------------------------
def test_derived_figures_and_numbers_as_strings() -> None:
    payload = {
        "balance": {"credits_remaining_usd": "30", "total_credits_usd": "100"},
        "subscription": {"kwh_used": "4", "kwh_remaining": "6", "current_period_end": 1777593600000},
        "key": {"allowance": {"limit_usd": "10", "remaining_usd": "2.5"}},
        "extra": {"x": 1},
    }
    usage = parse(payload)
    prepaid, allowance = usage.balances
    assert (prepaid.used, prepaid.remaining, prepaid.limit) == (70.0, 30.0, 100.0)
    (energy,) = usage.windows
    assert (energy.used, energy.limit, energy.used_pct) == (4.0, 10.0, 40.0)
    assert energy.resets_at == datetime(2026, 5, 1, tzinfo=UTC)  # epoch milliseconds
    # No period: the key's allowance is a balance, not a window.
    assert allowance == Balance(
        id="key_allowance", label="API key allowance", unit="usd", remaining=2.5, used=7.5, limit=10
    )


def test_overage_goes_past_100_percent() -> None:
    payload = {
        "balance": {"credits_remaining_usd": 1},
        "subscription": {"kwh_included": 10, "kwh_used": 12.5, "in_overage": True},
        "limits": {"overage_limit_usd": 25},
    }
    usage = parse(payload)
    assert usage.windows[0].used_pct == 125.0
    assert [b.id for b in usage.balances] == ["prepaid"]  # a cap with no spend against it is not shown


def test_subscription_without_allowance_or_with_broken_usage() -> None:
    assert parse({"balance": {"credits_remaining_usd": 1}, "subscription": {"plan": "payg"}}).windows == ()
    usage = parse({"balance": {"credits_remaining_usd": 1}, "subscription": {"kwh_included": 10, "kwh_used": "lots"}})
    assert usage.windows == () and len(usage.warnings) == 1
    assert "subscription.kwh_used" in usage.warnings[0].message


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("nope", "$"),
        ({"usage": {}}, "balance"),
        ({"balance": {"accounting_method": "energy"}}, "balance.credits_remaining_usd"),
    ],
)
def test_shapes_it_cannot_read_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"detail": "Invalid API key"}, AuthError),
        ({"error": {"message": "Rate limit exceeded"}}, RateLimitedError),
        ({"error": "maintenance"}, UpstreamError),
    ],
)
def test_error_bodies(body: dict[str, Any], expected: type[Exception]) -> None:
    with pytest.raises(expected):
        parse(body)


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("https://api.neuralwatt.com", "https://api.neuralwatt.com/v1/quota"),
        ("https://api.neuralwatt.com/", "https://api.neuralwatt.com/v1/quota"),
        ("https://api.neuralwatt.com/v1", "https://api.neuralwatt.com/v1/quota"),
    ],
)
def test_quota_url(base: str, url: str) -> None:
    assert quota_url(base) == url


def test_declarations() -> None:
    assert {s.name: (s.env_var("neuralwatt"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_NEURALWATT_API_KEY", ("NEURALWATT_API_KEY",)),
        "url": ("AGENTGAUGE_NEURALWATT_URL", ("NEURALWATT_API_URL",)),
    }


# -- fetch through the simulator ------------------------------------------------------------------
async def test_fetch(sim: Any) -> None:
    usage = await fetch_usage("neuralwatt", sim_settings("neuralwatt", sim.url))
    assert [w.id for w in usage.windows] == ["energy", "key_monthly"]
    assert [b.id for b in usage.balances] == ["prepaid", "spend_month", "energy_month"]
    assert usage.plan == "Standard"
    request = [r for r in sim_requests(sim) if r["path"] == "/neuralwatt/url/v1/quota"][-1]
    assert request["method"] == "GET" and request["headers"]["authorization"] == f"Bearer {KEY}"


async def test_variables_and_a_v1_base(sim: Any) -> None:
    env = {"NEURALWATT_API_KEY": KEY, "NEURALWATT_API_URL": f"{sim.url}/neuralwatt/url/v1"}
    usage = await fetch_usage("neuralwatt", {}, env=env)
    assert usage.windows[0].id == "energy"


async def test_wrong_key(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("neuralwatt", sim_settings("neuralwatt", sim.url, api_key="sk-nope"))
    assert "sk-nope" not in str(info.value)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("neuralwatt", sim_settings("neuralwatt", sim.url))
    assert [w.id for w in usage.windows] == ["energy", "key_monthly"] and usage.warnings == ()


async def test_rate_limit_and_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "1"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("neuralwatt", sim_settings("neuralwatt", sim.url))
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("neuralwatt", sim_settings("neuralwatt", sim.url), timeout=0.5)
