"""Grok: the credits samples parsed exactly (the period's credit percent is a window named by the
period, on-demand spend a balance, product shares a breakdown only when whole), the plan from the
settings, ~/.grok/auth.json discovery (OIDC before legacy, expiry, GROK_HOME), token checks, the
CLI's headers over real HTTP and every failure through the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    ConfigError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.grok import PROVIDER, bearer
from agentgauge.providers.grok.parsing import plan_name
from tests.harness import FIXTURES, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 8, 10, 12, 0, tzinfo=UTC)
TOKEN = "sim-grok-token"
PREFIX = "/grok/url/"


def parse(billing: Any, settings: Any = None, auth_mode: str | None = None) -> Usage:
    return PROVIDER.parse({"billing": billing, "settings": settings, "auth_mode": auth_mode}, NOW)


def weekly(pct: float, end: datetime, seconds: int = 604800) -> Window:
    return Window(id="weekly", label="Credits (weekly)", used_pct=pct, resets_at=end, window_seconds=seconds)


# -- samples ------------------------------------------------------------------------------------
def test_weekly_sample_with_on_demand() -> None:
    usage = parse(fixture_json("grok", "credits-weekly.json"))
    assert usage == Usage(
        windows=(weekly(12.5, datetime(2026, 8, 13, tzinfo=UTC)),),
        balances=(
            Balance(
                id="on_demand",
                label="On-demand spend",
                unit="usd",
                used=2.5,
                limit=10.0,
                remaining=7.5,
                resets_at=datetime(2026, 8, 13, tzinfo=UTC),
            ),
        ),
    )


def test_heavy_period_only_sample_is_unknown_usage_not_zero() -> None:
    usage = parse(fixture_json("grok", "credits-heavy-period-only.json"))
    assert usage.windows == () and usage.balances == ()  # a cap of 0: on-demand is off
    assert usage.plan == "SuperGrok Heavy" and usage.note and "no credit usage percentage" in usage.note


def test_on_demand_only_sample_is_a_balance_not_a_window() -> None:
    usage = parse(fixture_json("grok", "credits-on-demand-only.json"))
    assert usage.windows == ()
    assert usage.balances == (
        Balance(id="on_demand", label="On-demand spend", unit="usd", used=2.5, limit=10.0, remaining=7.5),
    )


def test_product_usage_sample_and_the_settings_plan() -> None:
    usage = parse(fixture_json("grok", "credits-product-usage.json"), fixture_json("grok", "settings-heavy.json"))
    assert usage.windows == (weekly(12.5, datetime(2026, 8, 13, tzinfo=UTC)),)
    (products,) = usage.breakdowns
    assert [(i.key, i.value) for i in products.items] == [("GrokBuild", 10.0), ("GrokChat", 2.5)]
    assert usage.plan == "SuperGrok Heavy"  # the settings win over the billing's tier
    assert parse(fixture_json("grok", "credits-product-usage.json")).plan == "SuperGrok"


# -- hand-made variations ------------------------------------------------------------------------
def test_periods_and_clamping() -> None:
    monthly = parse(
        {
            "config": {
                "creditUsagePercent": "104.2",
                "currentPeriod": {
                    "type": "USAGE_PERIOD_TYPE_MONTHLY",
                    "start": "2026-08-01T00:00:00Z",
                    "end": "2026-09-01T00:00:00Z",
                },
            }
        }
    )
    assert (monthly.windows[0].id, monthly.windows[0].used_pct, monthly.windows[0].window_seconds) == (
        "monthly",
        100.0,
        None,
    )
    measured = parse({"config": {"creditUsagePercent": -3, "currentPeriod": {"start": 1786000000, "end": 1786604800}}})
    assert (measured.windows[0].id, measured.windows[0].used_pct) == ("weekly", 0.0)
    bare = parse({"config": {"creditUsagePercent": 8, "billingPeriodEnd": "2026-08-13T00:00:00Z"}})
    assert bare.windows == (
        Window(id="credits", label="Credits", used_pct=8.0, resets_at=datetime(2026, 8, 13, tzinfo=UTC)),
    )
    assert parse({"config": {"creditUsagePercent": 1}}, auth_mode="oidc").plan == "SuperGrok"


def test_product_shares_are_shown_only_whole() -> None:
    base = {"creditUsagePercent": 10, "billingPeriodEnd": "2026-08-13T00:00:00Z"}
    short = parse({"config": {**base, "productUsage": [{"product": "GrokBuild", "usagePercent": 4}]}})
    assert short.breakdowns == () and "do not add up" in short.warnings[0].message
    broken = parse(
        {"config": {**base, "productUsage": [{"product": "GrokBuild"}, {"product": "X", "usagePercent": 10}]}}
    )
    assert broken.breakdowns == () and broken.windows[0].used_pct == 10.0
    assert parse({"config": {**base, "productUsage": "all"}}).warnings


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "$"),
        ({}, "config"),
        ({"config": {}}, "config.creditUsagePercent"),
        ({"config": {"creditUsagePercent": "high"}}, "config.creditUsagePercent"),
    ],
)
def test_shapes_it_does_not_know_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_plan_names() -> None:
    assert [plan_name(v) for v in ("SUPERGROK_HEAVY", "heavy", "supergrok", "X Premium+", "", None)] == [
        "SuperGrok Heavy",
        "SuperGrok Heavy",
        "SuperGrok",
        "X Premium+",
        None,
        None,
    ]


def test_tokens_that_are_not_grok_logins() -> None:
    assert bearer("  'Bearer abc.def'  ") == "abc.def"
    with pytest.raises(ProviderConfigError, match="xAI API key"):
        bearer("xai-123")
    with pytest.raises(ProviderConfigError, match="cookie"):
        bearer("sso=abc; sso-rw=def")


def test_declarations() -> None:
    assert {s.name: (s.env_var("grok"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_GROK_API_KEY", ("GROK_OAUTH_TOKEN",)),
        "url": ("AGENTGAUGE_GROK_URL", ()),
    }
    assert PROVIDER.env_vars == ("GROK_HOME",)


# -- discovery ------------------------------------------------------------------------------------
def _home(tmp_path: Path, name: str, **changes: Any) -> Path:
    data = json.loads((FIXTURES / "grok" / name).read_text(encoding="utf-8"))
    for entry in data.values():
        entry.update(changes)
    folder = tmp_path / ".grok"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "auth.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


def _creds(home: Path, env: dict[str, str] | None = None) -> Any:
    empty = home / "config.toml"
    empty.write_text("", encoding="utf-8")
    config = load(empty, env=env or {}, home=home)
    account = next(a for a in config.accounts if a.provider == "grok")
    return auth.resolve(PROVIDER, account, config)


def test_discovers_the_oidc_login_with_its_expiry(tmp_path: Path) -> None:
    home = _home(tmp_path, "auth-file.json")
    (creds,) = _creds(home)
    assert creds.get("api_key") == "secret-access-token-123" and creds.source == "cli"
    assert creds.details["principal_type"] == "Team" and creds.details["auth_mode"] == "oidc"
    assert creds.origin == str(home / ".grok" / "auth.json")


def test_oidc_wins_over_legacy_and_grok_home_moves_the_file(tmp_path: Path) -> None:
    legacy = json.loads((FIXTURES / "grok" / "auth-file-legacy.json").read_text(encoding="utf-8"))
    oidc = json.loads((FIXTURES / "grok" / "auth-file.json").read_text(encoding="utf-8"))
    elsewhere = tmp_path / "custom"
    elsewhere.mkdir()
    (elsewhere / "auth.json").write_text(json.dumps({**legacy, **oidc}), encoding="utf-8")
    (creds,) = _creds(tmp_path, {"GROK_HOME": str(elsewhere)})
    assert creds.get("api_key") == "secret-access-token-123"
    (elsewhere / "auth.json").write_text(json.dumps({**legacy, "https://auth.x.ai::c": {"key": ""}}), encoding="utf-8")
    (creds,) = _creds(tmp_path, {"GROK_HOME": str(elsewhere)})
    assert (creds.get("api_key"), creds.details["scope"]) == ("legacy-token", "session")


def test_grok_oauth_token_wins_over_the_file(tmp_path: Path) -> None:
    home = _home(tmp_path, "auth-file.json")
    (creds,) = _creds(home, {"GROK_OAUTH_TOKEN": "pasted"})
    assert (creds.get("api_key"), creds.origin) == ("pasted", "environment variable GROK_OAUTH_TOKEN")


def test_a_broken_auth_file_is_a_config_error_and_no_login_is_nothing(tmp_path: Path) -> None:
    folder = tmp_path / ".grok"
    folder.mkdir()
    (folder / "auth.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        _creds(tmp_path)
    (folder / "auth.json").write_text('{"https://auth.x.ai::c": {"auth_mode": "oidc"}}', encoding="utf-8")
    assert _creds(tmp_path) == []


# -- fetch through the simulator -----------------------------------------------------------------
async def test_fetch_sends_the_cli_headers(sim: Any) -> None:
    usage = await fetch_usage("grok", sim_settings("grok", sim.url))
    (window,) = usage.windows
    assert window.id == "weekly" and window.window_seconds == 604800 and window.resets_at is not None
    assert usage.plan == "SuperGrok" and usage.breakdowns[0].id == "credits_by_product"
    billing = [r for r in sim_requests(sim) if r["path"] == "/grok/url/v1/billing"][-1]
    assert billing["query"] == "format=credits"
    assert billing["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert billing["headers"]["x-xai-token-auth"] == "xai-grok-cli"
    assert [r for r in sim_requests(sim) if r["path"] == "/grok/url/v1/settings"]


async def test_heavy_and_on_demand_accounts(sim: Any) -> None:
    heavy = await fetch_usage("grok", sim_settings("grok", sim.url, api_key=f"{TOKEN}#heavy"))
    assert heavy.windows == () and heavy.plan == "SuperGrok Heavy" and heavy.note
    extra = await fetch_usage("grok", sim_settings("grok", sim.url, api_key=f"{TOKEN}#ondemand"))
    assert extra.windows and extra.balances[0].id == "on_demand" and extra.balances[0].limit == 50.0


async def test_the_discovered_login_over_http(sim: Any, tmp_path: Path) -> None:
    home = _home(tmp_path, "auth-file.json", key=TOKEN, expires_at="2999-01-01T00:00:00Z", principal_type="User")
    settings = sim_settings("grok", sim.url)
    settings.pop("api_key")
    assert (await fetch_usage("grok", settings, home=home)).windows


async def test_an_expired_login_asks_for_grok_login_before_any_request(sim: Any, tmp_path: Path) -> None:
    home = _home(tmp_path, "auth-file.json", key=f"{TOKEN}#expired", expires_at="2020-01-01T00:00:00Z")
    settings = sim_settings("grok", sim.url)
    settings.pop("api_key")
    with pytest.raises(AuthError, match="expired") as info:
        await fetch_usage("grok", settings, home=home)
    assert "grok login" in info.value.hint
    assert not [r for r in sim_requests(sim) if r["headers"].get("authorization") == f"Bearer {TOKEN}#expired"]


async def test_a_team_login_says_grok_shows_no_team_usage(sim: Any, tmp_path: Path) -> None:
    home = _home(tmp_path, "auth-file.json", key=TOKEN, expires_at="2999-01-01T00:00:00Z")
    settings = sim_settings("grok", sim.url)
    settings.pop("api_key")
    add_fault(sim, "/grok/url/v1/billing", "status", status=403, body='{"error":"personal team required"}')
    with pytest.raises(UpstreamError, match="team login") as info:
        await fetch_usage("grok", settings, home=home)
    assert "team" in info.value.hint


async def test_settings_failure_only_drops_the_plan_name(sim: Any) -> None:
    add_fault(sim, "/grok/url/v1/settings", "status", status=500, body="{}")
    usage = await fetch_usage("grok", sim_settings("grok", sim.url))
    assert usage.windows and usage.plan == "SuperGrok"  # from the billing's own tier


async def test_wrong_token_and_missing_cli_header(sim: Any) -> None:
    with pytest.raises(AuthError, match="HTTP 401") as info:
        await fetch_usage("grok", sim_settings("grok", sim.url, api_key="wrong-token"))
    assert "wrong-token" not in str(info.value) and "grok login" in info.value.hint


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=2)
    with pytest.raises(RateLimitedError):
        await fetch_usage("grok", sim_settings("grok", sim.url))
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("grok", sim_settings("grok", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("grok", sim_settings("grok", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("grok", sim_settings("grok", sim.url))
    assert usage.windows[0].id == "weekly" and usage.breakdowns and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("grok", sim_settings("grok", sim.url), timeout=0.5)
