"""Command Code: the shared samples parsed exactly (credits as balances, the rolling limits as windows,
the plan from the subscription), hand-made variations, the session cookie picked from what is pasted,
the requests sent, and every failure through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.errors import (
    AuthError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.commandcode import PROVIDER, session_cookie
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings
from tests.test_browser_unit import FUTURE, firefox_profile

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
COOKIE = "__Secure-better-auth.session_token=sim-commandcode-session.sig"
PREFIX = "/commandcode/url/"


def parse(credits: Any, subscription: Any = None) -> Usage:
    return PROVIDER.parse({"credits": credits, "subscription": subscription}, NOW)


def usd(bid: str, label: str, remaining: float, **extra: Any) -> Balance:
    return Balance(id=bid, label=label, unit="usd", remaining=remaining, **extra)


def epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# -- the shared samples ------------------------------------------------------------------------------------
def test_credits_sample_is_balances_only() -> None:
    assert parse(fixture_json("commandcode", "credits-sample.json")) == Usage(
        balances=(
            usd("monthly", "Monthly credits", 8.7784, period="monthly"),
            usd("opensource_monthly", "Open-source monthly credits", 8.7784, period="monthly"),
        )
    )


def test_nested_window_limits_strings_seconds_and_milliseconds() -> None:
    usage = parse(fixture_json("commandcode", "credits-window-limits-nested.json"))
    assert usage.windows == (
        Window(
            id="session",
            label="Session (5h)",
            used_pct=25,
            resets_at=epoch(1780200000),
            window_seconds=18000,
            used=1,
            limit=4,
        ),
        Window(
            id="weekly",
            label="Weekly",
            used_pct=20,
            resets_at=epoch(1780300000),
            window_seconds=604800,
            used=4,
            limit=20,
        ),
    )
    assert usage.balances == (
        usd("monthly", "Monthly credits", 7.25, period="monthly"),
        usd("purchased", "Purchased credits", 2),
    )


def test_window_limits_at_the_root() -> None:
    usage = parse(fixture_json("commandcode", "credits-window-limits-root.json"))
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [
        ("session", 25, epoch(1780000000)),
        ("weekly", 10, epoch(1780100000)),
    ]


def test_subscription_sample_names_the_plan_and_the_period_end() -> None:
    usage = parse({"credits": {"monthlyCredits": 1}}, fixture_json("commandcode", "subscription-sample.json"))
    assert usage.plan == "Go"
    assert usage.balances == (
        usd("monthly", "Monthly credits", 1, period="monthly", resets_at=datetime(2026, 6, 6, 7, 28, 50, tzinfo=UTC)),
    )


# -- hand-made variations -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("subscription", "plan", "warnings"),
    [
        ({"success": True, "data": None}, "Free", 0),
        ({"success": True, "data": {"planId": "individual-new", "status": "active"}}, "individual-new", 0),
        ({"success": True, "data": {"planId": "INDIVIDUAL-MAX", "status": "past_due"}}, "Max (past_due)", 0),
        ({"success": False, "error": "boom"}, None, 1),
        ({"data": None}, None, 1),
        ({"success": True, "data": {"status": "active"}}, None, 1),
    ],
)
def test_plans_and_unreadable_subscriptions(subscription: Any, plan: str | None, warnings: int) -> None:
    usage = parse({"credits": {"monthlyCredits": "3.5"}}, subscription)
    assert (usage.plan, len(usage.warnings)) == (plan, warnings)
    assert usage.balances[0].remaining == 3.5


def test_a_limit_without_a_cap_is_no_window_and_a_broken_one_a_warning() -> None:
    usage = parse(
        {"credits": {"monthlyCredits": 0}, "windowLimits": {"fiveHour": {"cap": 0, "used": 1}, "weekly": "junk"}}
    )
    assert usage.windows == () and len(usage.warnings) == 1
    assert usage.balances == (usd("monthly", "Monthly credits", 0, period="monthly"),)


@pytest.mark.parametrize(
    ("payload", "field"),
    [([], "$"), ({"windowLimits": {}}, "credits"), ({"credits": {"purchasedCredits": 1}}, "credits.monthlyCredits")],
)
def test_unknown_shapes_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


# -- the session cookie ------------------------------------------------------------------------------------------------
def test_the_session_cookie_from_what_is_pasted() -> None:
    assert session_cookie("tok123") == "__Secure-better-auth.session_token=tok123"
    assert session_cookie("Cookie: _ga=1; __Secure-commandcode_prod_.session_token=abc; x=y") == (
        "__Secure-commandcode_prod_.session_token=abc"
    )
    assert session_cookie("better-auth.session_token=dev") == "better-auth.session_token=dev"
    assert session_cookie(f"curl https://api.commandcode.ai -H 'Cookie: a=1; {COOKIE}'") == COOKIE
    with pytest.raises(ProviderConfigError):
        session_cookie("_ga=1; other=2")


# -- through the simulator ------------------------------------------------------------------------------
def requests_to(sim: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == PREFIX.rstrip("/") + path]


async def test_fetch_sends_only_the_session_cookie(sim: Any) -> None:
    settings = sim_settings("commandcode", sim.url, cookie=f"_ga=GA1; {COOKIE}; theme=dark")
    usage = await fetch_usage("commandcode", settings)
    assert [w.id for w in usage.windows] == ["session", "weekly"]
    assert [b.id for b in usage.balances] == ["monthly", "purchased"] and usage.plan == "Go"
    assert usage.balances[0].resets_at is not None
    for path in ("/internal/billing/credits", "/internal/billing/subscriptions"):
        headers = requests_to(sim, path)[-1]["headers"]
        assert headers["cookie"] == COOKIE
        assert (headers["origin"], headers["referer"]) == ("https://commandcode.ai", "https://commandcode.ai/")


async def test_the_free_demo_account(sim: Any) -> None:
    usage = await fetch_usage("commandcode", sim_settings("commandcode", sim.url, cookie=f"{COOKIE}#free"))
    assert (usage.windows, usage.plan, [b.id for b in usage.balances]) == ((), "Free", ["monthly"])


async def test_a_failing_subscription_keeps_the_credits(sim: Any) -> None:
    add_fault(sim, PREFIX + "internal/billing/subscriptions", "status", status=500, body="oops")
    usage = await fetch_usage("commandcode", sim_settings("commandcode", sim.url))
    assert usage.plan is None and usage.windows and usage.balances


async def test_a_stale_session_is_an_auth_error_with_the_hint(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("commandcode", sim_settings("commandcode", sim.url, cookie="stale-token"))
    assert "commandcode.ai" in info.value.hint and "stale-token" not in str(info.value)


async def test_429_500_timeout_and_bad_bodies(sim: Any) -> None:
    settings = sim_settings("commandcode", sim.url)
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=2)
    with pytest.raises(RateLimitedError):
        await fetch_usage("commandcode", settings)
    add_fault(sim, PREFIX + "internal/billing/credits", "status", status=503, body="down", remaining=1)
    with pytest.raises(UpstreamError):
        await fetch_usage("commandcode", settings)
    add_fault(sim, PREFIX + "internal/billing/credits", "html", remaining=1)
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("commandcode", settings)
    add_fault(sim, PREFIX + "internal/billing/credits", "truncate", remaining=1)
    with pytest.raises(ParseError, match="truncated"):
        await fetch_usage("commandcode", settings)
    add_fault(sim, PREFIX + "internal/billing/credits", "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("commandcode", settings, timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("commandcode", sim_settings("commandcode", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly"] and usage.plan == "Go" and usage.warnings == ()


# -- the browser's login -------------------------------------------------------------------------------------
async def test_the_session_cookie_is_found_in_firefox(sim: Any, tmp_path: Path) -> None:
    name, value = COOKIE.split("=", 1)
    firefox_profile(
        tmp_path / ".mozilla/firefox",
        "a.default",
        [(".commandcode.ai", "_ga", "GA1.1", FUTURE), ("commandcode.ai", name, value, FUTURE)],
    )
    usage = await fetch_usage("commandcode", {"url": f"{sim.url}/commandcode/url"}, home=tmp_path)
    assert usage.windows and usage.plan == "Go"
    assert requests_to(sim, "/internal/billing/credits")[-1]["headers"]["cookie"] == COOKIE
