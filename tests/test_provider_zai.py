"""z.ai: the quota samples parsed exactly, region and team scope, key discovery (a China key
never goes to the global host), envelope errors and every HTTP failure via the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge import auth
from agentgauge.errors import (
    AgentGaugeError,
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Usage, Window
from agentgauge.providers.zai import PROVIDER, REGION_URLS, region_of
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)
KEY = "sim-zai-key.secret"
PREFIX = "/zai/url/"
SESSION_RESET = datetime.fromtimestamp(1785816000, tz=UTC)  # nextResetTime 1785816000000 ms
WEEKLY_RESET = datetime.fromtimestamp(1786291200, tz=UTC)


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"quota": payload}, NOW)


def quota_requests(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == "/zai/url/api/monitor/usage/quota/limit"]


def keyless(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("zai", sim.url, **overrides)
    settings.pop("api_key")
    return settings


def assert_no_secret(exc: AgentGaugeError) -> None:
    assert KEY not in str(exc)
    assert KEY not in exc.hint


def assert_sim_windows(usage: Usage) -> None:
    session, weekly, tools = usage.windows
    assert (session.id, session.window_seconds, weekly.id, weekly.window_seconds) == (
        "session", 18000, "weekly", 604800)
    assert (tools.id, tools.limit, tools.unit) == ("tools_monthly", 1000, "requests")
    assert tools.used is not None and 0 <= tools.used <= 1000
    assert all(0 <= w.used_pct <= 100 and w.resets_at is not None for w in usage.windows)
    assert usage.plan == "Pro"


# -- samples ------------------------------------------------------------------------------------
def test_quota_limit_pro_sample() -> None:
    assert parse(fixture_json("zai", "quota-limit-pro.json")) == Usage(windows=(
        Window(id="session", label="Session (5h)", used_pct=25, resets_at=SESSION_RESET, window_seconds=18000),
        Window(id="weekly", label="Weekly", used_pct=9, resets_at=WEEKLY_RESET, window_seconds=604800),
        Window(id="tools_monthly", label="Tools (MCP, monthly)", used_pct=22, used=224, limit=1000,
               unit="requests"),
    ), plan="Pro")


def test_quota_limit_minimal_sample_time_limit_in_hours() -> None:
    # TIME_LIMIT with unit 3 (hours) x 5 is a 5-hour tool allowance, not a monthly one.
    assert parse(fixture_json("zai", "quota-limit-minimal.json")) == Usage(windows=(
        Window(id="session", label="Session (5h)", used_pct=25, resets_at=SESSION_RESET, window_seconds=18000),
        Window(id="tools_5h", label="Tools (MCP, 5h)", used_pct=22, resets_at=SESSION_RESET),
    ), plan=None)


def test_model_usage_sample_is_not_a_quota_payload() -> None:
    # The hourly model-usage answer has 'data' but no 'limits': no windows, never a crash.
    assert parse(fixture_json("zai", "model-usage-hourly.json")) == Usage(windows=(), plan=None)


@pytest.mark.parametrize("data", [{}, None, {"limits": None}, {"limits": []}])
def test_empty_team_scope_answer_has_no_windows(data: Any) -> None:
    assert parse({"code": 200, "msg": "success", "success": True, "data": data}) == Usage()


def test_missing_data_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse({"code": 200, "success": True})
    assert info.value.field == "data"
    with pytest.raises(ParseError) as info:
        parse(["not", "an", "object"])
    assert info.value.field == "$"


def test_numbers_as_strings_and_unknown_fields() -> None:
    payload = {"code": "200", "success": True, "extra": {"x": 1}, "data": {"planName": "Lite", "new": [1], "limits": [
        {"type": "TOKENS_LIMIT", "unit": "3", "number": "5", "percentage": "12.5",
         "nextResetTime": "1785816000000", "mystery": True},
        {"type": "TIME_LIMIT", "unit": "5", "number": "1", "usage": "100", "currentValue": "40", "remaining": "60",
         "percentage": "40"},
    ]}}
    assert parse(payload) == Usage(windows=(
        Window(id="session", label="Session (5h)", used_pct=12.5, resets_at=SESSION_RESET, window_seconds=18000),
        Window(id="tools_monthly", label="Tools (MCP, monthly)", used_pct=40, used=40, limit=100, unit="requests"),
    ), plan="Lite")


def test_credit_limit_and_computed_percentage() -> None:
    payload = {"code": 200, "success": True, "data": {"limits": [
        {"type": "CREDIT_LIMIT", "unit": 1, "number": 30, "usage": 500, "remaining": 125},
        {"type": "tokens_limit", "unit": 1, "number": 1, "percentage": 3},
        {"type": "UNKNOWN_LIMIT", "unit": 3, "number": 5, "percentage": 99},
    ]}}
    assert parse(payload).windows == (
        Window(id="daily", label="Daily", used_pct=3, window_seconds=86400),
        Window(id="monthly", label="Monthly", used_pct=75, window_seconds=2592000, used=375, limit=500,
               unit="credits"),
    )


def test_window_without_percentage_or_figures_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse({"code": 200, "data": {"limits": [{"type": "TOKENS_LIMIT", "unit": 3, "number": 5}]}})
    assert info.value.field == "data.limits[0].percentage"


@pytest.mark.parametrize(("code", "error"), [
    (1001, AuthError), (401, AuthError), (1302, RateLimitedError), (500, UpstreamError), (None, UpstreamError),
])
def test_envelope_errors(code: int | None, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        parse({"code": code, "msg": "nope", "success": False})
    assert "nope" in str(info.value)
    assert type(info.value) is error


def test_region_mapping() -> None:
    assert REGION_URLS == {"global": "https://api.z.ai", "china": "https://open.bigmodel.cn"}
    assert [region_of({"region": r}) for r in ("global", "intl", "CN", " china ", "bigmodel-cn")] == [
        "global", "global", "china", "china", "china"]
    assert region_of({}) == "global"
    with pytest.raises(ProviderConfigError, match="mars"):
        region_of({"region": "mars"})


def test_declarations() -> None:
    assert {s.name: s.env_var("zai") for s in PROVIDER.settings} == {
        "api_key": "AGENTGAUGE_ZAI_API_KEY", "region": "AGENTGAUGE_ZAI_REGION", "url": "AGENTGAUGE_ZAI_URL",
        "organization": "AGENTGAUGE_ZAI_ORGANIZATION", "project": "AGENTGAUGE_ZAI_PROJECT",
    }
    assert [(a.id, a.source) for a in PROVIDER.auth] == [("api_key", "api_key"), ("browser", "browser")]


# -- fetch through the simulator --------------------------------------------------------------------
async def test_fetch(sim: Any) -> None:
    assert_sim_windows(await fetch_usage("zai", sim_settings("zai", sim.url)))
    request = quota_requests(sim)[-1]
    assert request["method"] == "GET"
    assert request["query"] == ""
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert "bigmodel-organization" not in request["headers"]


async def test_fetch_china_region_with_url_set(sim: Any) -> None:
    assert_sim_windows(await fetch_usage("zai", sim_settings("zai", sim.url, region="china")))


async def test_unknown_region_fails_before_any_request(sim: Any) -> None:
    settings = sim_settings("zai", sim.url, region="mars")
    settings.pop("url")  # the host would come from the region
    before = len(quota_requests(sim))
    with pytest.raises(ProviderConfigError, match="unknown region"):
        await fetch_usage("zai", settings)
    assert len(quota_requests(sim)) == before


async def test_team_scope_headers_and_query(sim: Any) -> None:
    usage = await fetch_usage("zai", sim_settings("zai", sim.url, organization="org-123", project="proj-456"))
    assert_sim_windows(usage)
    request = quota_requests(sim)[-1]
    assert request["query"] == "type=2"
    assert request["headers"]["bigmodel-organization"] == "org-123"
    assert request["headers"]["bigmodel-project"] == "proj-456"


async def test_team_scope_needs_both(sim: Any) -> None:
    with pytest.raises(ProviderConfigError, match="both organization and project"):
        await fetch_usage("zai", sim_settings("zai", sim.url, organization="org-123"))


async def test_wrong_key_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url, api_key="wrong.key"))
    assert "wrong.key" not in str(info.value)


@pytest.mark.parametrize(("body", "error"), [
    ('{"code":1001,"msg":"Authorization Token Missing","success":false}', AuthError),
    ('{"code":500,"msg":"internal error","success":false}', UpstreamError),
    ('{"code":"1302","msg":"too many requests","success":false}', RateLimitedError),
])
async def test_envelope_errors_over_http(sim: Any, body: str, error: type[Exception]) -> None:
    add_fault(sim, PREFIX, "body", body=body)
    with pytest.raises(error) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url))
    assert type(info.value) is error
    assert_no_secret(info.value)  # type: ignore[arg-type]


async def test_discovers_z_ai_api_key(sim: Any) -> None:
    assert_sim_windows(await fetch_usage("zai", keyless(sim), env={"Z_AI_API_KEY": KEY}))
    assert quota_requests(sim)[-1]["headers"]["authorization"] == f"Bearer {KEY}"


async def test_china_region_discovers_bigmodel_env(sim: Any, tmp_path: Path) -> None:
    settings = keyless(sim, region="china")
    assert_sim_windows(await fetch_usage("zai", settings, env={"BIGMODEL_API_KEY": KEY}, home=tmp_path))
    config = account_config("zai", settings, env={"BIGMODEL_API_KEY": KEY}, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.origin, creds.source) == ("environment variable BIGMODEL_API_KEY", "api_key")


async def test_china_region_discovers_key_file(sim: Any, tmp_path: Path) -> None:
    key_file = tmp_path / ".config" / "bigmodel" / "api_key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(f"{KEY}\n", encoding="utf-8")
    settings = keyless(sim, region="china")
    assert_sim_windows(await fetch_usage("zai", settings, home=tmp_path))
    config = account_config("zai", settings, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert creds.origin == "~/.config/bigmodel/api_key"
    assert creds.get("api_key") == KEY


def test_china_key_is_never_used_for_the_global_region(tmp_path: Path) -> None:
    key_file = tmp_path / ".config" / "bigmodel" / "api_key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(KEY, encoding="utf-8")
    env = {"BIGMODEL_API_KEY": KEY, "ZHIPU_API_KEY": KEY, "GLM_API_KEY": KEY}
    for region in ({}, {"region": "global"}):
        config = account_config("zai", dict(region), env=env, home=tmp_path)
        assert auth.resolve(PROVIDER, config.accounts[0], config) == []
    # Z_AI_API_KEY is the global key and wins in either region.
    config = account_config("zai", {"region": "china"}, env={**env, "Z_AI_API_KEY": "global.key"}, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert creds.get("api_key") == "global.key"


# -- failures ------------------------------------------------------------------------------------------
async def test_401_is_an_auth_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=401, body='{"code":401,"msg":"invalid token","success":false}')
    with pytest.raises(AuthError) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url))
    assert info.value.status_code == 401
    assert_no_secret(info.value)


async def test_cloudflare_challenge(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=403, headers={"content-type": "text/html", "cf-mitigated": "challenge"},
              body="<html><title>Just a moment...</title></html>")
    with pytest.raises(ChallengeError) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url))
    assert_no_secret(info.value)


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}")
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url))
    assert info.value.retry_after == pytest.approx(30, abs=1)
    assert_no_secret(info.value)


async def test_500_is_upstream(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url))
    assert info.value.status_code == 500
    assert_no_secret(info.value)


async def test_truncated_json_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "truncate")
    with pytest.raises(ParseError, match="malformed or truncated"):
        await fetch_usage("zai", sim_settings("zai", sim.url))


async def test_html_instead_of_json_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "html")
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("zai", sim_settings("zai", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    assert_sim_windows(await fetch_usage("zai", sim_settings("zai", sim.url)))


async def test_body_with_null_limits_and_missing_data(sim: Any) -> None:
    add_fault(sim, PREFIX, "body", body='{"code":200,"msg":"success","success":true,"data":{"limits":null}}',
              remaining=1)
    assert await fetch_usage("zai", sim_settings("zai", sim.url)) == Usage()
    add_fault(sim, PREFIX, "body", body='{"code":200,"msg":"success","success":true}')
    with pytest.raises(ParseError) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url))
    assert info.value.field == "data"


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url), timeout=0.5)
    assert_no_secret(info.value)


async def test_unknown_region_is_rejected_even_with_a_url_override(sim):
    from agentgauge.errors import ProviderConfigError

    with pytest.raises(ProviderConfigError):
        await fetch_usage("zai", sim_settings("zai", sim.url, region="mars"))
