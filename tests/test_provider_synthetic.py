"""Synthetic: the quota samples parsed exactly (regenerating lanes without a reset time, dollar strings,
the older quotas[] list), hand-made variations and error bodies, the request sent, the key found in
other agents' files, and failures through the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Usage, Window
from agentgauge.providers.synthetic import PROVIDER
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 3, 30, 15, 20, tzinfo=UTC)
KEY = "sim-synthetic-key"
PREFIX = "/synthetic/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"quotas": payload}, NOW)


# -- samples ------------------------------------------------------------------------------------
def test_all_lanes_sample() -> None:
    usage = parse(fixture_json("synthetic", "quotas-v2-all-lanes.json"))
    assert usage == Usage(
        windows=(
            Window(
                id="session",
                label="Rolling 5h requests",
                used_pct=25.0,
                window_seconds=18000,
                used=150,
                limit=600,
                unit="requests",
            ),
            Window(id="weekly", label="Weekly token credits", used_pct=25.0, window_seconds=604800, unit="usd"),
            Window(
                id="search_hourly",
                label="Search (hourly)",
                used_pct=6.0,
                resets_at=datetime(2026, 3, 30, 16, 18, 54, tzinfo=UTC),
                window_seconds=3600,
                used=15,
                limit=250,
                unit="requests",
            ),
            Window(
                id="subscription",
                label="Subscription requests",
                used_pct=20.0,
                resets_at=datetime(2026, 4, 30, 20, 18, 54, tzinfo=UTC),
                used=120,
                limit=600,
                unit="requests",
            ),
        )
    )  # freeToolCalls has a limit of 0: a lane this plan does not have, left out


def test_weekly_token_limit_sample_with_dollar_strings() -> None:
    weekly, search = parse(fixture_json("synthetic", "quotas-weekly-token-limit.json")).windows
    assert weekly == Window(
        id="weekly",
        label="Weekly token credits",
        used_pct=2.0,
        window_seconds=604800,
        used=0.7,
        limit=36.0,
        unit="usd",
    )
    assert weekly.resets_at is None  # nextRegenAt gives back a slice, it is not a reset
    assert (search.id, search.used, search.limit, search.used_pct) == ("search_hourly", 2, 250, 0.8)


def test_generic_quotas_list_sample() -> None:
    usage = parse(fixture_json("synthetic", "quotas-generic.json"))
    assert usage.plan == "Starter"
    assert usage.windows == (
        Window(
            id="quota_monthly",
            label="Monthly",
            used_pct=25.0,
            resets_at=datetime(2025, 1, 1, tzinfo=UTC),
            used=250,
            limit=1000,
        ),
        Window(id="quota_daily", label="Daily", used_pct=75.0, window_seconds=86400, used=150, limit=200),
    )


# -- variations ---------------------------------------------------------------------------------
def test_numbers_as_strings_extra_fields_and_data_envelope() -> None:
    payload = {
        "data": {
            "rollingFiveHourLimit": {"max": "500", "remaining": "490", "limited": False, "tickPercent": "0.05"},
            "weeklyTokenLimit": {"percentRemaining": "90", "maxCredits": "$24.00", "remainingCredits": "21.60"},
            "surprise": {"nested": [1, 2]},
        },
        "plan": "Pro",
    }
    session, weekly = parse(payload).windows
    assert (session.used, session.limit, session.used_pct) == (10, 500, 2.0)
    assert (weekly.used, weekly.limit, weekly.used_pct) == (2.4, 24.0, 10.0)
    assert parse(payload).plan == "Pro"


def test_rate_limited_lane_with_nothing_left() -> None:
    (window,) = parse({"rollingFiveHourLimit": {"max": 600, "remaining": 0, "limited": True}}).windows
    assert (window.used, window.used_pct) == (600, 100.0)
    (window,) = parse({"rollingFiveHourLimit": {"max": 600, "remaining": None, "limited": True}}).windows
    assert window.used_pct == 100.0


def test_weekly_without_credits_uses_the_percent_and_credits_alone_work() -> None:
    (only_pct,) = parse({"weeklyTokenLimit": {"percentRemaining": 60, "nextRegenAt": "2026-04-01T00:00:00Z"}}).windows
    assert (only_pct.used_pct, only_pct.used, only_pct.limit) == (40.0, None, None)
    (only_credits,) = parse({"weeklyTokenLimit": {"maxCredits": "$100.00", "remainingCredits": "$40.00"}}).windows
    assert (only_credits.used_pct, only_credits.used) == (60.0, 60.0)


def test_a_broken_lane_is_a_warning_while_the_others_show() -> None:
    usage = parse({"rollingFiveHourLimit": {"max": 600}, "search": {"hourly": {"limit": 250, "requests": 3}}})
    assert [w.id for w in usage.windows] == ["search_hourly"]
    assert len(usage.warnings) == 1 and "rollingFiveHourLimit.remaining" in usage.warnings[0].message


def test_array_root_is_the_quotas_list() -> None:
    (window,) = parse([{"name": "Daily", "limit": 10, "used": 5}]).windows
    assert (window.id, window.used_pct) == ("quota_daily", 50.0)


@pytest.mark.parametrize("payload", [{}, {"plan": "Free"}, {"freeToolCalls": {"limit": 0, "requests": 0}}])
def test_no_lane_at_all_is_a_parse_error(payload: dict[str, Any]) -> None:
    with pytest.raises(ParseError):
        parse(payload)


def test_root_not_an_object() -> None:
    with pytest.raises(ParseError) as info:
        parse("nope")
    assert info.value.field == "$"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("Invalid API key", AuthError),
        ({"message": "Too many requests"}, RateLimitedError),
        ({"message": "Credits required for this feature."}, UpstreamError),
    ],
)
def test_error_bodies_in_a_200(error: Any, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        parse({"error": error})


def test_declarations() -> None:
    assert {s.name: (s.env_var("synthetic"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_SYNTHETIC_API_KEY", ("SYNTHETIC_API_KEY",)),
        "url": ("AGENTGAUGE_SYNTHETIC_URL", ()),
    }
    assert PROVIDER.urls == {"url": "https://api.synthetic.new"}


# -- fetch through the simulator ------------------------------------------------------------------
async def test_fetch_sends_the_bearer_key(sim: Any) -> None:
    usage = await fetch_usage("synthetic", sim_settings("synthetic", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly", "search_hourly", "subscription"]
    assert all(0 <= w.used_pct <= 100 for w in usage.windows)
    request = [r for r in sim_requests(sim) if r["path"] == "/synthetic/url/v2/quotas"][-1]
    assert request["method"] == "GET"
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["headers"]["accept"] == "application/json"


async def test_wrong_key_is_an_auth_error_without_the_key(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("synthetic", sim_settings("synthetic", sim.url, api_key="syn_wrong"))
    assert "syn_wrong" not in str(info.value)


async def test_error_body_over_http(sim: Any) -> None:
    add_fault(sim, PREFIX, "body", body='{"error": {"message": "Credits required for this feature."}}')
    with pytest.raises(UpstreamError, match="Credits required"):
        await fetch_usage("synthetic", sim_settings("synthetic", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("synthetic", sim_settings("synthetic", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly", "search_hourly", "subscription"]
    assert usage.warnings == ()


async def test_429_and_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("synthetic", sim_settings("synthetic", sim.url))
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("synthetic", sim_settings("synthetic", sim.url), timeout=0.5)


# -- the key where other agents keep it ---------------------------------------------------------------
def _resolve(tmp_path: Path, env: dict[str, str]) -> Any:
    config_file = tmp_path / "config.toml"
    config_file.write_text("", encoding="utf-8")
    config = load(config_file, env=env, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "synthetic")
    return auth.resolve(PROVIDER, account, config)


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_ecosystem_variable_is_the_setting(tmp_path: Path) -> None:
    (creds,) = _resolve(tmp_path, {"SYNTHETIC_API_KEY": "syn_env"})
    assert (creds.get("api_key"), creds.origin) == ("syn_env", "environment variable SYNTHETIC_API_KEY")


def test_key_from_opencode_auth_json(tmp_path: Path) -> None:
    _write(tmp_path / ".local/share/opencode/auth.json", {"synthetic": {"type": "api", "key": "syn_opencode"}})
    (creds,) = _resolve(tmp_path, {})
    assert creds.get("api_key") == "syn_opencode" and creds.source == "local_file"
    assert creds.origin.endswith("opencode/auth.json")


def test_key_from_pi_then_factory_with_their_variables(tmp_path: Path) -> None:
    pi = tmp_path / "pi-home"
    _write(pi / "models.json", {"providers": {"synthetic.new": {"apiKey": "syn_pi_models"}}})
    (creds,) = _resolve(tmp_path, {"PI_CODING_AGENT_DIR": str(pi)})
    assert creds.get("api_key") == "syn_pi_models"
    _write(pi / "auth.json", {"syn": {"type": "api_key", "key": "syn_pi_auth"}})
    (creds,) = _resolve(tmp_path, {"PI_CODING_AGENT_DIR": str(pi)})
    assert creds.get("api_key") == "syn_pi_auth"
    factory = {"customModels": [{"baseUrl": "https://api.openai.com/v1", "apiKey": "sk-other"}]}
    factory["customModels"].append({"baseUrl": "https://api.synthetic.new/openai/v1", "apiKey": "syn_factory"})
    _write(tmp_path / ".factory/settings.json", factory)
    (creds,) = _resolve(tmp_path, {})
    assert creds.get("api_key") == "syn_factory"


def test_malformed_files_are_no_source(tmp_path: Path) -> None:
    path = tmp_path / ".local/share/opencode/auth.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    _write(tmp_path / ".pi/agent/auth.json", {"synthetic": {"key": "  "}})
    assert _resolve(tmp_path, {}) == []
