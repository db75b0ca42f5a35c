"""OpenRouter: the key, credits and activity samples parsed exactly, periodic key limits as windows and
everything else as balances, the requests sent (keys, attribution headers), the optional parts
(credits behind a management key, activity) and every failure through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Breakdown, BreakdownItem, Usage, Window
from agentgauge.providers.openrouter import PROVIDER
from tests.harness import add_challenge, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 8, 20, 12, 30, tzinfo=UTC)  # a Thursday
KEY = "sim-openrouter-key"
MANAGEMENT = "sim-openrouter-management-key"
PREFIX = "/openrouter/url/"
TOMORROW = datetime(2026, 8, 21, tzinfo=UTC)
MONDAY = datetime(2026, 8, 24, tzinfo=UTC)
FIRST = datetime(2026, 9, 1, tzinfo=UTC)


def parse(limits: Any = None, credits: Any = None, activity: Any = None) -> Usage:
    return PROVIDER.parse({"limits": limits, "credits": credits, "activity": activity}, NOW)


def spend(period: str, used: float) -> Balance:
    words = {"daily": "today", "weekly": "this week", "monthly": "this month"}[period]
    resets = {"daily": TOMORROW, "weekly": MONDAY, "monthly": FIRST}[period]
    return Balance(
        id=f"spend_{period}", label=f"API key spend {words}", unit="usd", used=used, period=period, resets_at=resets
    )


def requests_to(sim: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == PREFIX.rstrip("/") + path]


def without_management(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("openrouter", sim.url, **overrides)
    settings.pop("management_key")
    return settings


# -- samples ------------------------------------------------------------------------------------
def test_key_with_monthly_limit_is_a_window() -> None:
    assert parse(fixture_json("openrouter", "key-monthly-limit.json")) == Usage(
        windows=(
            Window(
                id="key_monthly",
                label="API key limit (monthly)",
                used_pct=9.0915,
                resets_at=FIRST,
                used=45.457405021,
                limit=500,
                unit="usd",
            ),
        ),
        balances=(spend("daily", 3.404645509), spend("weekly", 3.404645509)),
    )


def test_key_limit_without_period_is_a_balance() -> None:
    # No limit_remaining, no limit_reset: the limit is what is left of the key's whole budget.
    assert parse(fixture_json("openrouter", "key-basic.json")) == Usage(
        balances=(
            Balance(id="key_limit", label="API key limit", unit="usd", remaining=19.5, used=0.5, limit=20),
            spend("daily", 0.12),
            spend("weekly", 0.74),
            spend("monthly", 4.56),
        )
    )


def test_docs_key_example_with_every_field() -> None:
    usage = parse(fixture_json("openrouter", "key-docs-example.json"))
    assert usage.windows == (
        Window(
            id="key_monthly",
            label="API key limit (monthly)",
            used_pct=25.5,
            resets_at=FIRST,
            used=25.5,
            limit=100,
            unit="usd",
        ),
    )
    assert [b.id for b in usage.balances] == ["spend_daily", "spend_weekly"]
    assert usage.plan is None


def test_credits_sample_is_a_balance() -> None:
    assert parse(credits=fixture_json("openrouter", "credits-docs-example.json")) == Usage(
        balances=(Balance(id="credits", label="Credits", unit="usd", remaining=74.75, used=25.75, limit=100.5),)
    )


def test_activity_sample_gives_spend_per_day_and_model() -> None:
    assert parse(activity=fixture_json("openrouter", "activity.json")).breakdowns == (
        Breakdown(
            id="spend_per_day",
            label="Spend per day (30 days)",
            unit="usd",
            items=(BreakdownItem(key="2026-08-16", value=27.44), BreakdownItem(key="2026-08-17", value=12.35)),
        ),
        Breakdown(
            id="spend_per_model",
            label="Spend per model (30 days)",
            unit="usd",
            items=(
                BreakdownItem(key="anthropic/claude-opus-4.1", value=27.44),
                BreakdownItem(key="openai/gpt-5.6", value=12.345),
                BreakdownItem(key="x-ai/grok-4", value=0.005),
            ),
        ),
    )


def test_all_three_together_credits_first() -> None:
    usage = parse(
        fixture_json("openrouter", "key-monthly-limit.json"),
        fixture_json("openrouter", "credits-docs-example.json"),
        fixture_json("openrouter", "activity.json"),
    )
    assert [w.id for w in usage.windows] == ["key_monthly"]
    assert [b.id for b in usage.balances] == ["credits", "spend_daily", "spend_weekly"]
    assert [b.id for b in usage.breakdowns] == ["spend_per_day", "spend_per_model"]
    assert usage.warnings == ()


# -- hand-made variations ------------------------------------------------------------------------
@pytest.mark.parametrize(("period", "seconds", "resets"), [("daily", 86400, TOMORROW), ("weekly", 604800, MONDAY)])
def test_daily_and_weekly_limits_with_numbers_as_strings(period: str, seconds: int, resets: datetime) -> None:
    data = {"limit": "10", "limit_remaining": "7.5", "limit_reset": period.upper(), "usage": "99", "mystery": [1]}
    (window,) = parse({"data": data, "extra": True}).windows
    assert window == Window(
        id=f"key_{period}",
        label=f"API key limit ({period})",
        used_pct=25,
        resets_at=resets,
        window_seconds=seconds,
        used=2.5,
        limit=10,
        unit="usd",
    )


def test_overspent_key_goes_past_100_percent_and_no_remaining_uses_period_spend() -> None:
    over = parse({"data": {"limit": 10, "limit_remaining": -2.5, "limit_reset": "monthly"}}).windows[0]
    assert (over.used, over.used_pct) == (12.5, 125)
    by_spend = parse({"data": {"limit": 20, "limit_reset": "daily", "usage_daily": 5, "usage": 400}}).windows[0]
    assert (by_spend.id, by_spend.used, by_spend.used_pct) == ("key_daily", 5, 25)
    # More left than the limit (a raised limit): nothing is used, never a negative amount.
    assert parse({"data": {"limit": 10, "limit_remaining": 12, "limit_reset": "weekly"}}).windows[0].used == 0


def test_periodic_limit_without_any_usage_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse({"data": {"limit": 10, "limit_reset": "monthly"}})
    assert info.value.field == "data.limit_remaining"


def test_unknown_reset_period_and_expiry_make_a_balance() -> None:
    usage = parse(
        {"data": {"limit": 10, "limit_remaining": 4, "limit_reset": "yearly", "expires_at": "2027-12-31T23:59:59Z"}}
    )
    assert usage == Usage(
        balances=(
            Balance(
                id="key_limit",
                label="API key limit",
                unit="usd",
                remaining=4,
                used=6,
                limit=10,
                expires_at=datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC),
            ),
        )
    )


@pytest.mark.parametrize("limit", [None, 0, "0"])
def test_no_limit_means_no_window_only_spend(limit: Any) -> None:
    data = {
        "limit": limit,
        "limit_remaining": None,
        "limit_reset": None,
        "usage": 3,
        "usage_daily": 1,
        "usage_weekly": None,
    }
    assert parse({"data": data}) == Usage(balances=(spend("daily", 1),))


def test_free_tier_is_the_plan() -> None:
    assert parse({"data": {"limit": None, "is_free_tier": True}}).plan == "Free tier"


@pytest.mark.parametrize(("data", "field"), [(None, "data"), ([], "data"), ("x", "data")])
def test_key_without_data_names_the_field(data: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse({"data": data})
    assert info.value.field == field


def test_root_not_an_object_and_nothing_at_all() -> None:
    with pytest.raises(ParseError) as info:
        parse(["data"])
    assert info.value.field == "$"
    with pytest.raises(ParseError) as info:
        parse()
    assert info.value.field == "$"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"code": 401, "message": "User not found."}, AuthError),
        ({"code": "403", "message": "Key disabled"}, AuthError),
        ({"code": 429, "message": "Slow down"}, RateLimitedError),
        ({"code": 402, "message": "Insufficient credits"}, UpstreamError),
        ({"code": "weird", "message": "odd"}, UpstreamError),
        ("plain text error", UpstreamError),
    ],
)
def test_error_envelopes_in_a_200(error: Any, expected: type[Exception]) -> None:
    with pytest.raises(expected) as info:
        parse({"error": error})
    assert type(info.value) is expected
    assert "OpenRouter: key request failed" in str(info.value)


def test_a_broken_credits_or_activity_row_is_a_warning_not_the_end() -> None:
    usage = parse(
        fixture_json("openrouter", "key-monthly-limit.json"),
        {"data": {"total_credits": 10}},
        {"data": [{"date": "2026-08-17", "usage": "1.5", "model": "a/b"}, {"date": None, "usage": 1}, "junk"]},
    )
    assert [w.id for w in usage.windows] == ["key_monthly"]
    assert "credits" not in [b.id for b in usage.balances]
    assert usage.breakdowns[0].items == (BreakdownItem(key="2026-08-17", value=1.5),)
    assert [w.kind for w in usage.warnings] == ["parse", "parse"]
    assert "data.total_usage" in usage.warnings[0].message
    assert "data[1].date" in usage.warnings[1].message


def test_activity_without_a_list_is_a_warning() -> None:
    usage = parse(credits=fixture_json("openrouter", "credits-docs-example.json"), activity={"data": None})
    assert usage.breakdowns == () and len(usage.warnings) == 1


def test_activity_adds_byok_and_falls_back_to_the_permaslug() -> None:
    rows = [
        {"date": "2026-08-17T00:00:00Z", "model_permaslug": "m/x-2026", "usage": 1, "byok_usage_inference": "0.5"},
        {"date": "2026-08-17", "model": "m/x-2026", "usage": 2},
        {"date": "2026-08-18", "usage": 0.25},
    ]
    day, model = parse(activity={"data": rows}).breakdowns
    assert day.items == (BreakdownItem(key="2026-08-17", value=3.5), BreakdownItem(key="2026-08-18", value=0.25))
    assert model.items == (BreakdownItem(key="m/x-2026", value=3.5), BreakdownItem(key="unknown", value=0.25))


def test_declarations() -> None:
    assert {s.name: (s.env_var("openrouter"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_OPENROUTER_API_KEY", ("OPENROUTER_API_KEY",)),
        "url": ("AGENTGAUGE_OPENROUTER_URL", ("OPENROUTER_API_URL",)),
        "http_referer": ("AGENTGAUGE_OPENROUTER_HTTP_REFERER", ("OPENROUTER_HTTP_REFERER",)),
        "x_title": ("AGENTGAUGE_OPENROUTER_X_TITLE", ("OPENROUTER_X_TITLE",)),
        "management_key": ("AGENTGAUGE_OPENROUTER_MANAGEMENT_KEY", ("OPENROUTER_MANAGEMENT_API_KEY",)),
    }
    assert PROVIDER.urls == {"url": "https://openrouter.ai/api/v1"}
    assert [(a.id, a.source, a.requires, a.optional) for a in PROVIDER.auth] == [
        ("api_key", "api_key", ("api_key",), ("management_key",))
    ]


# -- fetch through the simulator -----------------------------------------------------------------------
async def test_fetch_with_a_management_key(sim: Any) -> None:
    usage = await fetch_usage("openrouter", sim_settings("openrouter", sim.url))
    (window,) = usage.windows
    assert (window.id, window.limit, window.unit) == ("key_monthly", 50, "usd")
    assert window.used is not None and 0 <= window.used_pct <= 100
    credits = usage.balances[0]
    assert (credits.id, credits.limit) == ("credits", 400)
    assert credits.remaining == pytest.approx(400 - (credits.used or 0))
    assert [b.id for b in usage.balances[1:]] == ["spend_daily", "spend_weekly"]
    day, model = usage.breakdowns
    assert len(day.items) == 30 and len(model.items) == 3
    key_request = requests_to(sim, "/key")[-1]
    assert key_request["method"] == "GET"
    assert key_request["headers"]["authorization"] == f"Bearer {KEY}"
    assert key_request["headers"]["x-title"] == "agentgauge"
    assert "http-referer" not in key_request["headers"]
    # The management key goes only where it is needed.
    assert requests_to(sim, "/credits")[-1]["headers"]["authorization"] == f"Bearer {MANAGEMENT}"
    assert requests_to(sim, "/activity")[-1]["headers"]["authorization"] == f"Bearer {MANAGEMENT}"


async def test_fetch_with_the_api_key_alone(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("openrouter", without_management(sim, x_title="My tool", http_referer="https://me.dev"))
    assert usage.balances[0].id == "credits"
    assert usage.breakdowns == ()
    assert [r for r in since.requests() if r["path"].endswith("/activity")] == []  # no management key: not asked
    credits_request = requests_to(sim, "/credits")[-1]
    assert credits_request["headers"]["authorization"] == f"Bearer {KEY}"
    assert credits_request["headers"]["x-title"] == "My tool"
    assert credits_request["headers"]["http-referer"] == "https://me.dev"


async def test_credits_refused_to_a_plain_key_are_left_out(sim: Any) -> None:
    add_fault(sim, PREFIX + "credits", "status", status=403, body='{"error":{"code":403,"message":"Forbidden"}}')
    usage = await fetch_usage("openrouter", without_management(sim))
    assert [w.id for w in usage.windows] == ["key_monthly"]
    assert "credits" not in [b.id for b in usage.balances]


async def test_credits_rejecting_the_api_key_is_an_auth_error(sim: Any) -> None:
    add_fault(sim, PREFIX + "credits", "status", status=401, body='{"error":{"code":401,"message":"nope"}}')
    with pytest.raises(AuthError):
        await fetch_usage("openrouter", without_management(sim))


async def test_wrong_management_key_leaves_credits_and_activity_out(sim: Any) -> None:
    usage = await fetch_usage("openrouter", sim_settings("openrouter", sim.url, management_key="wrong-mgmt"))
    assert [w.id for w in usage.windows] == ["key_monthly"]
    assert [b.id for b in usage.balances] == ["spend_daily", "spend_weekly"]
    assert usage.breakdowns == ()


async def test_activity_failure_keeps_the_rest(sim: Any) -> None:
    add_fault(sim, PREFIX + "activity", "status", status=500, body="oops")
    usage = await fetch_usage("openrouter", sim_settings("openrouter", sim.url))
    assert usage.breakdowns == () and usage.balances[0].id == "credits"


async def test_api_key_cannot_read_activity_in_the_simulator_either(sim: Any) -> None:
    # What OpenRouter answers a plain key on /activity: the simulator refuses it the same way.
    usage = await fetch_usage("openrouter", sim_settings("openrouter", sim.url, management_key=KEY))
    assert usage.breakdowns == () and usage.balances[0].id == "credits"


async def test_wrong_api_key_is_an_auth_error_without_the_key(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("openrouter", without_management(sim, api_key="sk-or-v1-wrong"))
    assert info.value.status_code == 401
    assert "sk-or-v1-wrong" not in str(info.value) and "sk-or-v1-wrong" not in info.value.hint


async def test_error_envelope_over_http(sim: Any) -> None:
    add_fault(sim, PREFIX + "key", "body", body='{"error":{"code":429,"message":"Rate limit exceeded"}}')
    with pytest.raises(RateLimitedError, match="Rate limit exceeded"):
        await fetch_usage("openrouter", sim_settings("openrouter", sim.url))


# -- discovery from OpenRouter's own variables -----------------------------------------------------------
async def test_openrouter_variables_are_honoured(sim: Any) -> None:
    env = {
        "OPENROUTER_API_KEY": KEY,
        "OPENROUTER_API_URL": f"{sim.url}/openrouter/url",
        "OPENROUTER_X_TITLE": "env title",
        "OPENROUTER_HTTP_REFERER": "https://env.example",
        "OPENROUTER_MANAGEMENT_API_KEY": MANAGEMENT,
    }
    usage = await fetch_usage("openrouter", {}, env=env)
    assert usage.windows and usage.breakdowns
    request = requests_to(sim, "/key")[-1]
    assert (request["headers"]["x-title"], request["headers"]["http-referer"]) == ("env title", "https://env.example")


def test_agentgauge_variable_wins_over_openrouter_api_key(tmp_path: Path) -> None:
    empty = tmp_path / "config.toml"
    empty.write_text("", encoding="utf-8")
    env = {"OPENROUTER_API_KEY": "ecosystem-key", "AGENTGAUGE_OPENROUTER_API_KEY": "own-key"}
    config = load(empty, env=env, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "openrouter")
    (creds,) = auth.resolve(PROVIDER, account, config)
    assert creds.get("api_key") == "own-key"
    config = load(empty, env={"OPENROUTER_API_KEY": "ecosystem-key"}, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "openrouter")
    (creds,) = auth.resolve(PROVIDER, account, config)
    assert (creds.get("api_key"), creds.origin) == ("ecosystem-key", "environment variable OPENROUTER_API_KEY")


# -- failures ------------------------------------------------------------------------------------------
async def test_cloudflare_challenge(sim: Any) -> None:
    add_challenge(sim, PREFIX)
    with pytest.raises(ChallengeError):
        await fetch_usage("openrouter", sim_settings("openrouter", sim.url))


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}")
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("openrouter", sim_settings("openrouter", sim.url))
    assert info.value.retry_after == pytest.approx(30, abs=1)


async def test_500_is_upstream(sim: Any) -> None:
    add_fault(sim, PREFIX + "key", "status", status=502, body="bad gateway")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("openrouter", sim_settings("openrouter", sim.url))
    assert info.value.status_code == 502


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX + "key", kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("openrouter", sim_settings("openrouter", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("openrouter", sim_settings("openrouter", sim.url))
    assert [w.id for w in usage.windows] == ["key_monthly"] and usage.balances[0].id == "credits"
    assert len(usage.breakdowns[0].items) == 30 and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX + "key", "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("openrouter", sim_settings("openrouter", sim.url), timeout=0.5)
