"""Alibaba: the Coding Plan, personal Token Plan and team summary samples parsed exactly, the two sites
and three plans through the simulator (the API-key path with its ConsoleNeedLogin fallback to the
console session, the console's sec_token and form, the RPC gateway), the region-gated browser sources,
and failures through the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, ProviderConfigError, RateLimitedError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.alibaba import PROVIDER
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2023, 11, 14, 22, 0, tzinfo=UTC)
KEY = "sk-sp-sim-alibaba-coding-key"
TICKET = "sim-alibaba-ticket"


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse(raw, NOW)


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def session(sim: Any, account: str = "default", **overrides: str) -> dict[str, str]:
    settings = sim_settings("alibaba", sim.url, **overrides)
    settings.pop("api_key")
    if account != "default":
        settings["cookie"] = settings["cookie"].replace(TICKET, f"{TICKET}#{account}")
    return settings


# -- samples ------------------------------------------------------------------------------------
def test_coding_plan_quota_sample() -> None:
    assert parse(plan="coding", coding=fixture_json("alibaba", "coding-quota.json")) == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=5.2,
                resets_at=ms(1700000300000),
                window_seconds=18000,
                used=52,
                limit=1000,
                unit="requests",
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=16.0,
                resets_at=ms(1700100000000),
                window_seconds=604800,
                used=800,
                limit=5000,
                unit="requests",
            ),
            Window(
                id="monthly",
                label="Monthly",
                used_pct=6.0,
                resets_at=ms(1701000000000),
                used=1200,
                limit=20000,
                unit="requests",
            ),
        ),
        plan="Alibaba Coding Plan Pro",
    )


def test_the_active_instance_counts() -> None:
    usage = parse(plan="coding", coding=fixture_json("alibaba", "coding-multi-instance.json"))
    assert usage.plan == "Active Pro"
    assert [(w.id, w.used, w.limit) for w in usage.windows] == [("session", 52, 1000)]


def test_an_active_plan_without_counters_is_a_note() -> None:
    usage = parse(plan="coding", coding=fixture_json("alibaba", "coding-plan-without-counters.json"))
    assert usage == Usage(plan="Coding Plan Lite", note="The Coding Plan states no quota counters")


def test_console_need_login_sample() -> None:
    with pytest.raises(AuthError):
        parse(plan="coding", coding=fixture_json("alibaba", "error-console-need-login.json"))


def test_personal_token_plan_samples() -> None:
    usage = parse(
        plan="token",
        usage=fixture_json("alibaba", "token-usage-personal.json"),
        subscription=fixture_json("alibaba", "token-subscription-personal.json"),
        quota_config=fixture_json("alibaba", "token-quota-config.json"),
    )
    assert usage == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=0.0997,
                resets_at=ms(1784813220000),
                window_seconds=18000,
                used=11.9677,
                limit=12000,
                unit="credits",
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=0.0301,
                resets_at=ms(1785234900000),
                window_seconds=604800,
                used=12.0589,
                limit=40000,
                unit="credits",
            ),
        ),
        plan="Token Plan Pro",
    )


def test_weekly_only_token_usage() -> None:
    (weekly,) = parse(plan="token", usage=fixture_json("alibaba", "token-usage-weekly-only.json")).windows
    assert (weekly.id, weekly.used_pct, weekly.limit) == ("weekly", 10.0075, None)


def test_team_summary_sample() -> None:
    assert parse(plan="token_team", summary=fixture_json("alibaba", "team-summary.json")) == Usage(
        balances=(
            Balance(
                id="credits",
                label="Token Plan credits",
                unit="credits",
                remaining=875,
                used=125,
                limit=1000,
                expires_at=ms(1701000000000),
            ),
        ),
        plan="Token Plan (team)",
    )


# -- variations ---------------------------------------------------------------------------------
def test_no_plan_at_all() -> None:
    assert (
        parse(plan="coding", coding={"data": {"codingPlanInstanceInfos": []}}).note == "No Coding Plan on this account"
    )
    expired = {"data": {"codingPlanInstanceInfos": [{"planName": "Old", "status": "EXPIRED"}]}}
    assert parse(plan="coding", coding=expired).note == "The Coding Plan is expired"
    assert parse(plan="token_team", summary={"Data": {"TotalCount": 0, "TotalValue": 0}}) == Usage(
        note="No active Token Plan subscription"
    )


def test_strings_and_a_broken_lane() -> None:
    quota = {"per5HourUsedQuota": "x", "per5HourTotalQuota": "10", "perWeekUsedQuota": "5", "perWeekTotalQuota": "50"}
    usage = parse(plan="coding", coding={"data": {"codingPlanQuotaInfo": quota}})
    assert [(w.id, w.used_pct) for w in usage.windows] == [("weekly", 10.0)] and len(usage.warnings) == 1


def test_unknown_shapes() -> None:
    with pytest.raises(ParseError):
        parse(plan="token", usage={"data": {"nothing": 1}})
    with pytest.raises(ParseError):
        parse(plan="coding", coding="nope")


def test_declarations() -> None:
    env = {s.name: s.env for s in PROVIDER.settings}
    assert env["api_key"] == ("ALIBABA_CODING_PLAN_API_KEY", "ALIBABA_QWEN_API_KEY", "DASHSCOPE_API_KEY")
    assert env["cookie"] == ("ALIBABA_CODING_PLAN_COOKIE", "ALIBABA_TOKEN_PLAN_COOKIE")
    assert [(a.id, a.browser.cookie_domains() if a.browser else None) for a in PROVIDER.auth] == [
        ("api_key", None),
        ("web", ("alibabacloud.com",)),
        ("web_cn", ("aliyun.com",)),
    ]


@pytest.mark.parametrize(("settings", "name"), [({"region": "eu"}, "region"), ({"plan": "tokens"}, "plan")])
async def test_bad_settings_are_config_errors(sim: Any, settings: dict[str, str], name: str) -> None:
    with pytest.raises(ProviderConfigError, match=name):
        await fetch_usage("alibaba", sim_settings("alibaba", sim.url, **settings))


# -- through the simulator ---------------------------------------------------------------------------
def requests_to(sim: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == path]


async def test_coding_plan_with_the_api_key(sim: Any) -> None:
    usage = await fetch_usage("alibaba", sim_settings("alibaba", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly", "monthly"] and usage.plan == "Coding Plan Pro"
    call = requests_to(sim, "/alibaba/url/data/api.json")[-1]
    query = {k: v[0] for k, v in parse_qs(call["query"]).items()}
    assert query["action"] == "zeldaEasy.broadscope-bailian.codingPlan.queryCodingPlanInstanceInfoV2"
    assert query["currentRegionId"] == "ap-southeast-1"
    assert json.loads(call["body"]) == {
        "queryCodingPlanInstanceInfoRequest": {"commodityCode": "sfm_codingplan_public_intl"}
    }
    headers = call["headers"]
    assert (
        headers["authorization"] == f"Bearer {KEY}"
        and headers["x-api-key"] == KEY
        and headers["x-dashscope-api-key"] == KEY
    )


async def test_an_api_key_answered_console_need_login_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError, match="cannot be read with the API key"):
        await fetch_usage("alibaba", sim_settings("alibaba", sim.url, api_key=f"{KEY}#keyless"))


@pytest.mark.parametrize("region", ["intl", "cn"])
async def test_coding_plan_with_the_console_session(sim: Any, region: str) -> None:
    usage = await fetch_usage("alibaba", session(sim, region=region))
    assert [w.id for w in usage.windows] == ["session", "weekly", "monthly"]
    call = requests_to(sim, "/alibaba/rpc_url/data/api.json")[-1]
    form = {k: v[0] for k, v in parse_qs(call["body"]).items()}
    assert form["sec_token"] == "sim-alibaba-sec-default"
    assert form["region"] == ("ap-southeast-1" if region == "intl" else "cn-beijing")
    params = json.loads(form["params"])
    assert params["Data"]["queryCodingPlanInstanceInfoRequest"]["onlyLatestOne"] is True
    assert params["Data"]["cornerstoneParam"]["consoleSite"] == (
        "MODELSTUDIO_ALIBABACLOUD" if region == "intl" else "BAILIAN_ALIYUN"
    )
    assert call["headers"]["x-xsrf-token"] == "sim-csrf"


@pytest.mark.parametrize("region", ["intl", "cn"])
async def test_personal_token_plan(sim: Any, region: str) -> None:
    usage = await fetch_usage("alibaba", session(sim, plan="token", region=region))
    assert [(w.id, w.limit) for w in usage.windows] == [("session", 3000), ("weekly", 10000)]
    assert usage.plan == "Token Plan Standard"
    apis = sorted(
        parse_qs(r["query"])["api"][0].rsplit("/", 1)[1]
        for r in requests_to(sim, "/alibaba/rpc_url/data/api.json")[-3:]
    )
    assert apis == ["quota-config", "subscription", "usage"]


async def test_team_token_plan(sim: Any) -> None:
    usage = await fetch_usage("alibaba", session(sim, plan="token_team"))
    (credits,) = usage.balances
    assert credits.limit == 20000 and usage.plan == "Token Plan (team)"
    call = requests_to(sim, "/alibaba/url/data/api.json")[-1]
    form = {k: v[0] for k, v in parse_qs(call["body"]).items()}
    assert form["action"] == "GetSubscriptionSummary" and json.loads(form["params"]) == {
        "ProductCode": "sfm_tokenplanteams_dp_intl"
    }


async def test_the_api_key_never_reads_a_token_plan(sim: Any) -> None:
    with pytest.raises(AuthError, match="only the Coding Plan"):
        await fetch_usage("alibaba", sim_settings("alibaba", sim.url, plan="token"))


async def test_accounts_without_a_plan(sim: Any) -> None:
    assert (await fetch_usage("alibaba", session(sim, "noplan"))).note == "No Coding Plan on this account"
    assert (
        await fetch_usage("alibaba", session(sim, "noplan", plan="token"))
    ).note == "No active Token Plan subscription"


async def test_an_ended_session(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("alibaba", session(sim, cookie="login_aliyunid_ticket=stale-ticket"))
    assert "stale-ticket" not in str(info.value)


async def test_transformed_payloads_still_parse(sim: Any) -> None:
    for kind in ("stringify_numbers", "extra_fields"):
        add_fault(sim, "/alibaba/", kind, remaining=1)
        usage = await fetch_usage("alibaba", sim_settings("alibaba", sim.url))
        assert len(usage.windows) == 3 and usage.warnings == ()


async def test_rate_limit_and_timeout(sim: Any) -> None:
    add_fault(sim, "/alibaba/", "status", status=429, headers={"retry-after": "6"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("alibaba", sim_settings("alibaba", sim.url))
    add_fault(sim, "/alibaba/", "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("alibaba", sim_settings("alibaba", sim.url), timeout=0.5)


# -- sources -------------------------------------------------------------------------------------------
def resolve(tmp_path: Path, env: dict[str, str]) -> list[Any]:
    config_file = tmp_path / "config.toml"
    config_file.write_text("", encoding="utf-8")
    config = load(config_file, env=env, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "alibaba")
    return auth.resolve(PROVIDER, account, config)


def test_the_key_first_then_the_cookie(tmp_path: Path) -> None:
    found = resolve(tmp_path, {"DASHSCOPE_API_KEY": "sk-key", "ALIBABA_TOKEN_PLAN_COOKIE": "login_aliyunid_ticket=t"})
    assert [(c.auth.id, c.source) for c in found] == [("api_key", "api_key"), ("web", "cookie")]
