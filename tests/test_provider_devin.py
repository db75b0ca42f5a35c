"""Devin: the shared sample parsed exactly, both percent scales, the older nested shape, the overage
balance, organization ids/slugs/URLs and the paths tried for them, the request sent (Bearer,
x-cog-org-id), Devin's own variables, and every failure through the simulator."""

from __future__ import annotations

import json
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
from agentgauge.providers.devin import PROVIDER, bare_token, organization_paths
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings
from tests.test_browser_unit import firefox_profile, lsng

NOW = datetime(2026, 6, 10, 12, tzinfo=UTC)
TOKEN = "auth1_simdevinsessiontoken0123456789"
ORG = "org_SimDevinOrg01"
PREFIX = "/devin/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"quota": payload}, NOW)


# -- the shared sample ---------------------------------------------------------------------------------
def test_sample_daily_and_weekly_with_offset_resets() -> None:
    assert parse(fixture_json("devin", "quota-usage.json")) == Usage(
        windows=(
            Window(
                id="daily",
                label="Daily",
                used_pct=0,
                resets_at=datetime(2026, 6, 11, 8, tzinfo=UTC),
                window_seconds=86400,
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=0,
                resets_at=datetime(2026, 6, 14, 8, tzinfo=UTC),
                window_seconds=604800,
            ),
        )
    )


# -- hand-made variations ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "pct"), [(0.12, 12), ("0.5", 50), (1, 1), (1.5, 1.5), (42, 42), (130, 130)])
def test_both_percent_scales(value: Any, pct: float) -> None:
    usage = parse({"daily_percentage": value, "weekly_percentage": value})
    assert [w.used_pct for w in usage.windows] == [pct, pct]


def test_hidden_daily_quota_is_no_window_and_overage_cents_a_balance() -> None:
    usage = parse(
        {"weekly_percentage": 25, "hide_daily_quota": True, "daily_percentage": 3, "overage_balance_cents": "7087"}
    )
    assert [w.id for w in usage.windows] == ["weekly"]
    assert usage.balances == (Balance(id="overage", label="Extra usage (overage balance)", unit="usd", used=70.87),)


@pytest.mark.parametrize("bad", [-1, "NaN", "n/a"])
def test_an_unusable_overage_is_left_out(bad: Any) -> None:
    usage = parse({"weekly_percentage": 25, "overage_balance": bad})
    assert usage.balances == () and usage.windows


def test_older_nested_shape_with_limits_fractions_and_epoch_resets() -> None:
    usage = parse(
        {
            "plan_name": "pro_plus",
            "quota_usage": {
                "daily_quota": {"used": 3, "limit": 10, "reset_at": "2026-06-01T08:00:00Z"},
                "weekly_quota": {"remaining_percent": 0.25, "next_reset_at": 1780560000},
            },
        }
    )
    daily, weekly = usage.windows
    assert (daily.used_pct, daily.used, daily.limit) == (30, 3, 10)
    assert daily.resets_at == datetime(2026, 6, 1, 8, tzinfo=UTC)
    assert (weekly.used_pct, weekly.resets_at) == (75, datetime.fromtimestamp(1780560000, UTC))
    assert usage.plan == "Pro Plus"


def test_nested_boundaries_are_the_older_ones() -> None:
    usage = parse({"quota_usage": {"daily_quota": {"used_percent": 1}, "weekly_quota": {"remaining_percent": 1}}})
    assert [w.used_pct for w in usage.windows] == [100, 0]


def test_one_broken_window_is_a_warning() -> None:
    usage = parse({"weekly_percentage": 10, "daily_reset_at": "not a time", "daily_percentage": 5})
    assert [w.id for w in usage.windows] == ["weekly"]
    assert "daily_reset_at" in usage.warnings[0].message


@pytest.mark.parametrize(("payload", "field"), [([], "$"), ({"is_quota_plan": True}, "weekly_percentage")])
def test_unknown_shapes_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_tokens_as_pasted() -> None:
    assert bare_token(f"Authorization: Bearer {TOKEN}") == TOKEN
    assert bare_token(json.dumps({"token": TOKEN, "expires": 1})) == TOKEN
    assert bare_token("{broken") == ""


@pytest.mark.parametrize(
    ("raw", "paths", "internal"),
    [
        ("org_ABC123", ["org_ABC123", "organizations/org_ABC123"], "org_ABC123"),
        ("organizations/org-b31f95", ["org-b31f95", "organizations/org-b31f95"], "org-b31f95"),
        ("acme", ["org/acme", "acme"], None),
        ("https://app.devin.ai/org/acme/settings/usage", ["org/acme", "acme"], None),
    ],
)
def test_organization_paths(raw: str, paths: list[str], internal: str | None) -> None:
    assert organization_paths(raw) == (paths, internal)


def test_a_nonsense_organization_is_a_config_error() -> None:
    with pytest.raises(ProviderConfigError):
        organization_paths("a/b/c")


# -- through the simulator --------------------------------------------------------------------------------------
async def test_fetch_sends_bearer_and_org_header(sim: Any) -> None:
    usage = await fetch_usage("devin", sim_settings("devin", sim.url))
    assert [w.id for w in usage.windows] == ["daily", "weekly"]
    assert all(3 <= w.used_pct <= 92 for w in usage.windows)
    assert usage.balances[0].used == 12.5
    request = next(r for r in reversed(sim_requests(sim)) if r["path"].startswith(PREFIX))
    assert request["path"] == f"{PREFIX}api/{ORG}/billing/quota/usage"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["x-cog-org-id"] == ORG


async def test_a_slug_tries_both_paths_then_says_so(sim: Any) -> None:
    with pytest.raises(UpstreamError, match="no quota endpoint answered") as info:
        await fetch_usage("devin", sim_settings("devin", sim.url, organization="acme"))
    assert info.value.status_code == 404
    paths = [r["path"] for r in sim_requests(sim) if r["path"].startswith(PREFIX)][-2:]
    assert paths == [f"{PREFIX}api/org/acme/billing/quota/usage", f"{PREFIX}api/acme/billing/quota/usage"]


async def test_devin_variables_are_honoured(sim: Any) -> None:
    env = {"DEVIN_AUTHORIZATION": f"Bearer {TOKEN}", "DEVIN_ORG": f"https://app.devin.ai/organizations/{ORG}"}
    usage = await fetch_usage("devin", {"url": f"{sim.url}/devin/url"}, env=env)
    assert usage.windows


async def test_no_organization_is_a_config_error(sim: Any) -> None:
    settings = sim_settings("devin", sim.url)
    settings.pop("organization")
    with pytest.raises(ProviderConfigError, match="no organization"):
        await fetch_usage("devin", settings)


async def test_wrong_token_stops_at_once(sim: Any) -> None:
    wrong = "auth1_wrongwrongwrongwrong"
    with pytest.raises(AuthError) as info:
        await fetch_usage("devin", sim_settings("devin", sim.url, api_key=wrong))
    assert "app.devin.ai" in info.value.hint and "wrongwrong" not in str(info.value)
    sent = [r for r in sim_requests(sim) if r["headers"].get("authorization") == f"Bearer {wrong}"]
    assert len(sent) == 1


async def test_429_500_timeout_and_bad_bodies(sim: Any) -> None:
    settings = sim_settings("devin", sim.url)
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("devin", settings)
    add_fault(sim, PREFIX, "status", status=500, body="oops", remaining=1)
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("devin", settings)
    assert info.value.status_code == 500
    add_fault(sim, PREFIX, "html", remaining=1)
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("devin", settings)
    add_fault(sim, PREFIX, "truncate", remaining=1)
    with pytest.raises(ParseError, match="truncated"):
        await fetch_usage("devin", settings)
    add_fault(sim, PREFIX, "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("devin", settings, timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("devin", sim_settings("devin", sim.url))
    assert [w.id for w in usage.windows] == ["daily", "weekly"] and usage.warnings == ()


async def test_the_session_and_organization_are_found_in_firefox(sim: Any, tmp_path: Path) -> None:
    profile = firefox_profile(tmp_path / ".mozilla/firefox", "a.default", [])
    lsng(
        profile,
        "https://app.devin.ai",
        [
            ("auth1_session", json.dumps({"token": TOKEN, "expiresAt": 1}).encode(), 0, 1),
            ("devin_primary_org_id", json.dumps(ORG).encode(), 0, 1),
        ],
    )
    usage = await fetch_usage("devin", {"url": f"{sim.url}/devin/url"}, home=tmp_path)
    assert [w.id for w in usage.windows] == ["daily", "weekly"]
    request = next(r for r in reversed(sim_requests(sim)) if r["path"].startswith(PREFIX))
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
