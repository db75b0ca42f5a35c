"""ZenMux: the subscription and balance samples parsed exactly (fractions as percent, Flows, the monthly
cap as a balance), hand-made variations (a window not started yet, a non-healthy account, envelopes
with success false), the requests sent, ZenMux's 422 rate limit, and failures through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.zenmux import PROVIDER
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 3, 24, 6, 0, tzinfo=UTC)
KEY = "sim-zenmux-management-key"
PREFIX = "/zenmux/url/"
PAYG = Balance(id="payg", label="Pay-as-you-go credits", unit="usd", remaining=482.74)


def parse(subscription: Any = None, balance: Any = None) -> Usage:
    return PROVIDER.parse({"subscription": subscription, "balance": balance}, NOW)


def subscription(**data: Any) -> dict[str, Any]:
    return {"success": True, "data": {"plan": {"tier": "pro"}, "account_status": "healthy", **data}}


# -- samples ------------------------------------------------------------------------------------
def test_subscription_and_balance_samples() -> None:
    usage = parse(fixture_json("zenmux", "subscription-ultra.json"), fixture_json("zenmux", "payg-balance.json"))
    assert usage == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=7.15,
                resets_at=datetime(2026, 3, 24, 8, 35, 9, tzinfo=UTC),
                window_seconds=18000,
                used=57.2,
                limit=800,
                unit="flows",
            ),
            Window(
                id="weekly",
                label="Weekly (7d)",
                used_pct=6.73,
                resets_at=datetime(2026, 3, 26, 2, 15, 5, tzinfo=UTC),
                window_seconds=604800,
                used=416.11,
                limit=6182,
                unit="flows",
            ),
        ),
        balances=(PAYG,),
        plan="Ultra",
    )


def test_balance_sample_alone() -> None:
    assert parse(balance=fixture_json("zenmux", "payg-balance.json")) == Usage(balances=(PAYG,))


# -- variations ---------------------------------------------------------------------------------
def test_window_not_started_and_numbers_as_strings() -> None:
    block = {
        "usage_percentage": "0",
        "resets_at": None,
        "max_flows": "800",
        "used_flows": "0",
        "remaining_flows": "800",
    }
    (window,) = parse(subscription(quota_5_hour=block, quota_7_day=None)).windows
    assert (window.used_pct, window.resets_at, window.used, window.limit) == (0.0, None, 0.0, 800.0)


def test_percentage_missing_falls_back_to_flows() -> None:
    (window,) = parse(subscription(quota_7_day={"max_flows": 200, "remaining_flows": 150})).windows
    assert (window.id, window.used, window.used_pct) == ("weekly", 50.0, 25.0)


def test_a_broken_quota_is_a_warning() -> None:
    usage = parse(subscription(quota_5_hour={"max_flows": 800}, quota_7_day={"usage_percentage": 0.5}))
    assert [w.id for w in usage.windows] == ["weekly"]
    assert "data.quota_5_hour.usage_percentage" in usage.warnings[0].message


def test_non_healthy_account_is_named_in_the_plan() -> None:
    assert (
        parse(subscription(account_status="monitored", quota_7_day={"usage_percentage": 0.1})).plan == "Pro (monitored)"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"success": False, "error": {"code": "401", "message": "Invalid management API key"}}, AuthError),
        ({"success": False, "error": {"code": "422", "message": "Too many requests"}}, RateLimitedError),
        ({"success": False, "message": "internal"}, UpstreamError),
    ],
)
def test_success_false_envelopes(body: dict[str, Any], expected: type[Exception]) -> None:
    with pytest.raises(expected):
        parse(body)


def test_a_broken_balance_is_a_warning_and_no_data_is_a_parse_error() -> None:
    usage = parse(subscription(quota_7_day={"usage_percentage": 0.1}), {"success": True, "data": {"currency": "usd"}})
    assert [b.id for b in usage.balances] == [] and len(usage.warnings) == 1
    with pytest.raises(ParseError):
        parse({"success": True, "data": None})
    with pytest.raises(ParseError):
        parse()


def test_declarations() -> None:
    assert {s.name: (s.env_var("zenmux"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_ZENMUX_API_KEY", ("ZENMUX_MANAGEMENT_API_KEY", "ZENMUX_MANAGEMENT_KEY")),
        "url": ("AGENTGAUGE_ZENMUX_URL", ()),
    }


# -- fetch through the simulator ------------------------------------------------------------------
async def test_fetch_sends_the_management_key_to_both(sim: Any) -> None:
    usage = await fetch_usage("zenmux", sim_settings("zenmux", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly"]
    assert [b.id for b in usage.balances] == ["payg"] and usage.plan == "Ultra"
    for path in ("/zenmux/url/subscription/detail", "/zenmux/url/payg/balance"):
        request = [r for r in sim_requests(sim) if r["path"] == path][-1]
        assert request["method"] == "GET" and request["headers"]["authorization"] == f"Bearer {KEY}"


async def test_variable_alias(sim: Any) -> None:
    env = {"ZENMUX_MANAGEMENT_KEY": KEY}
    usage = await fetch_usage("zenmux", {"url": f"{sim.url}/zenmux/url"}, env=env)
    assert usage.windows


async def test_wrong_key(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("zenmux", sim_settings("zenmux", sim.url, api_key="zm-inference-key"))
    assert "zm-inference-key" not in str(info.value)


async def test_422_is_zenmux_rate_limit(sim: Any) -> None:
    add_fault(sim, PREFIX + "subscription", "status", status=422, body='{"success":false}')
    with pytest.raises(RateLimitedError, match="422"):
        await fetch_usage("zenmux", sim_settings("zenmux", sim.url))


async def test_balance_failure_keeps_the_quotas(sim: Any) -> None:
    add_fault(sim, PREFIX + "payg", "status", status=500, body="oops")
    usage = await fetch_usage("zenmux", sim_settings("zenmux", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly"]
    assert usage.balances == ()


async def test_balance_rejecting_the_key_is_an_auth_error(sim: Any) -> None:
    add_fault(sim, PREFIX + "payg", "status", status=401, body='{"success":false}')
    with pytest.raises(AuthError):
        await fetch_usage("zenmux", sim_settings("zenmux", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("zenmux", sim_settings("zenmux", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly"] and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX + "subscription", "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("zenmux", sim_settings("zenmux", sim.url), timeout=0.5)
