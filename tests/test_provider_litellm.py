"""LiteLLM: the key, user and team samples parsed exactly (a budget with a duration is a window, one
without a balance, spend without a budget is spend), budget durations, error bodies, the requests sent
(no ?key=, /v1 dropped, user or team record), the CLI login file, and failures through the simulator."""

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
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.litellm import PROVIDER, management_base
from agentgauge.providers.litellm.parsing import duration_seconds
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
KEY = "sk-sim-litellm-key"
PREFIX = "/litellm/url/"
EXPIRES = datetime(2026, 9, 11, 0, 12, 55, tzinfo=UTC)  # the key's own expiry


def parse(key: Any, user: Any = None, team: Any = None) -> Usage:
    return PROVIDER.parse({"key": key, "user": user, "team": team}, NOW)


# -- samples ------------------------------------------------------------------------------------
def test_user_key_with_its_user_and_team_samples() -> None:
    usage = parse(fixture_json("litellm", "key-info-user.json"), fixture_json("litellm", "user-info.json"))
    assert usage == Usage(
        windows=(
            Window(
                id="team_budget",
                label="Team budget (7d)",
                used_pct=21.5325,
                resets_at=datetime(2026, 6, 15, tzinfo=UTC),
                window_seconds=604800,
                used=215.324566,
                limit=1000.0,
                unit="usd",
            ),
        ),
        balances=(
            Balance(id="key_spend", label="API key spend", unit="usd", used=212.353716, expires_at=EXPIRES),
            Balance(id="user_budget", label="User budget", unit="usd", remaining=87.646284, used=212.353716, limit=300),
        ),
    )  # the unrelated team of the same user is not shown


def test_team_key_with_its_team_sample() -> None:
    usage = parse(fixture_json("litellm", "key-info-team-only.json"), team=fixture_json("litellm", "team-info.json"))
    assert usage.windows == (
        Window(
            id="team_budget",
            label="Team budget (30d)",
            used_pct=25.0,
            resets_at=datetime(2026, 7, 1, tzinfo=UTC),
            window_seconds=2592000,
            used=25.0,
            limit=100,
            unit="usd",
        ),
    )
    assert usage.balances == (Balance(id="key_spend", label="API key spend", unit="usd", used=25.0),)


def test_key_sample_alone() -> None:
    assert parse(fixture_json("litellm", "key-info-user.json")).balances == (
        Balance(id="key_spend", label="API key spend", unit="usd", used=212.353716, expires_at=EXPIRES),
    )


# -- variations ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", (2592000, "30d")),
        ("1mo", (None, "1mo")),
        ("24h", (86400, "24h")),
        ("7D", (604800, "7d")),
        ("30m", (1800, "30m")),
        ("monthly", (2592000, "30d")),
        ("daily", (86400, "24h")),
        ("every now and then", (None, "every now and then")),
        (None, (None, None)),
    ],
)
def test_budget_durations(text: str | None, expected: tuple[int | None, str | None]) -> None:
    assert duration_seconds(text) == expected


def test_key_budget_with_a_duration_is_a_window_and_without_one_a_balance_with_its_expiry() -> None:
    info = {"spend": "12.5", "max_budget": "50", "budget_duration": "1mo", "budget_reset_at": "2026-07-01T00:00:00Z"}
    (window,) = parse({"info": info}).windows
    assert (window.id, window.label, window.used_pct, window.window_seconds) == (
        "key_budget",
        "API key budget (1mo)",
        25.0,
        None,
    )
    info = {"spend": 60, "max_budget": 50, "expires": "2026-09-11T00:12:55.950000+00:00"}
    (balance,) = parse({"info": info}).balances
    assert balance == Balance(
        id="key_budget",
        label="API key budget",
        unit="usd",
        remaining=0.0,
        used=60,
        limit=50,
        expires_at=datetime(2026, 9, 11, 0, 12, 55, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "Authentication Error", "type": "auth_error", "code": "401"}}, AuthError),
        ({"error": {"message": "Too many", "type": "rate_limit", "code": "429"}}, RateLimitedError),
        ({"detail": "Internal"}, UpstreamError),
    ],
)
def test_error_bodies_in_a_200(body: dict[str, Any], expected: type[Exception]) -> None:
    with pytest.raises(expected):
        parse(body)


@pytest.mark.parametrize(("payload", "field"), [("x", "$"), ({"key": "h"}, "info"), ({"info": None}, "info")])
def test_shapes_it_cannot_read(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_a_broken_budget_is_a_warning() -> None:
    usage = parse({"info": {"spend": 1, "user_id": "u"}}, {"user_info": {"spend": "lots", "max_budget": 10}})
    assert [b.id for b in usage.balances] == ["key_spend"] and len(usage.warnings) == 1


@pytest.mark.parametrize(
    ("url", "base"),
    [("https://l.example.com/v1", "https://l.example.com"), ("http://10.0.0.5:4000/", "http://10.0.0.5:4000")],
)
def test_management_base(url: str, base: str) -> None:
    assert management_base(url) == base


def test_declarations() -> None:
    assert {s.name: (s.env_var("litellm"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_LITELLM_API_KEY", ("LITELLM_API_KEY", "LITELLM_PROXY_API_KEY")),
        "url": ("AGENTGAUGE_LITELLM_URL", ("LITELLM_BASE_URL", "LITELLM_PROXY_URL", "LITELLM_PROXY_BASE_URL")),
    }


# -- fetch through the simulator ------------------------------------------------------------------
def requests_to(sim: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == path]


async def test_user_key(sim: Any) -> None:
    usage = await fetch_usage("litellm", sim_settings("litellm", sim.url))
    assert [w.id for w in usage.windows] == ["key_budget", "user_budget", "team_budget"]
    key_request = requests_to(sim, "/litellm/url/key/info")[-1]
    assert key_request["query"] == "" and key_request["headers"]["authorization"] == f"Bearer {KEY}"
    assert requests_to(sim, "/litellm/url/user/info")[-1]["query"] == "user_id=user-sim"


async def test_team_key_and_a_v1_url(sim: Any) -> None:
    settings = sim_settings("litellm", sim.url, api_key=f"{KEY}#team", url=f"{sim.url}/litellm/url/v1")
    usage = await fetch_usage("litellm", settings)
    assert [w.id for w in usage.windows] == ["key_budget", "team_budget"]
    assert requests_to(sim, "/litellm/url/team/info")[-1]["query"] == "team_id=team-sim"


async def test_user_record_refused_keeps_the_key_budget(sim: Any) -> None:
    add_fault(sim, PREFIX + "user/info", "status", status=403, body='{"error":{"message":"not allowed"}}')
    usage = await fetch_usage("litellm", sim_settings("litellm", sim.url))
    assert [w.id for w in usage.windows] == ["key_budget"]


async def test_wrong_key_and_no_url(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("litellm", sim_settings("litellm", sim.url, api_key="sk-nope"))
    assert "sk-nope" not in str(info.value)
    with pytest.raises(ProviderConfigError):
        await fetch_usage("litellm", {"api_key": KEY})


async def test_litellm_cli_variables(sim: Any) -> None:
    env = {"LITELLM_PROXY_API_KEY": KEY, "LITELLM_PROXY_URL": f"{sim.url}/litellm/url"}
    assert (await fetch_usage("litellm", {}, env=env)).windows


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("litellm", sim_settings("litellm", sim.url))
    assert [w.id for w in usage.windows] == ["key_budget", "user_budget", "team_budget"] and usage.warnings == ()


async def test_rate_limit_and_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX + "key", "status", status=429, headers={"retry-after": "2"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("litellm", sim_settings("litellm", sim.url))
    add_fault(sim, PREFIX + "key", "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("litellm", sim_settings("litellm", sim.url), timeout=0.5)


# -- the LiteLLM CLI's login ------------------------------------------------------------------------
def test_cli_login_file_is_the_second_source(tmp_path: Path) -> None:
    token = tmp_path / ".litellm" / "token.json"
    token.parent.mkdir()
    token.write_text(json.dumps({"key": "sk-from-cli", "user_id": "u"}), encoding="utf-8")
    config_file = tmp_path / "config.toml"
    config_file.write_text("", encoding="utf-8")
    config = load(config_file, env={"LITELLM_PROXY_URL": "http://127.0.0.1:4000"}, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "litellm")
    (creds,) = auth.resolve(PROVIDER, account, config)
    assert (creds.get("api_key"), creds.auth.id, creds.source) == ("sk-from-cli", "cli", "local_file")
    token.write_text("{broken", encoding="utf-8")
    assert auth.resolve(PROVIDER, account, config) == []
