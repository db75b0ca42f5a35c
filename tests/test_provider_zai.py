"""z.ai: the quota samples parsed exactly, region and team scope, key discovery (a China key
never goes to the global host), envelope errors and every HTTP failure via the simulator."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.credentials import resolve as auth
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
from agentgauge.models import Balance, Breakdown, BreakdownItem, Usage, Window
from agentgauge.providers.zai import PROVIDER, REGION_URLS, quota_url, region_of
from tests.harness import (
    account_config,
    add_challenge,
    add_fault,
    fetch_usage,
    fixture_json,
    sim_requests,
    sim_settings,
)
from tests.simlog import Mark

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
        "session",
        18000,
        "weekly",
        604800,
    )
    assert (tools.id, tools.limit, tools.unit) == ("tools_monthly", 1000, "requests")
    assert tools.used is not None and 0 <= tools.used <= 1000
    assert all(0 <= w.used_pct <= 100 and w.resets_at is not None for w in usage.windows)
    assert usage.plan == "pro"  # the simulator names the plan by 'level', as z.ai does


# -- samples ------------------------------------------------------------------------------------
def test_quota_limit_pro_sample() -> None:
    assert parse(fixture_json("zai", "quota-limit-pro.json")) == Usage(
        windows=(
            Window(id="session", label="Session (5h)", used_pct=25, resets_at=SESSION_RESET, window_seconds=18000),
            Window(id="weekly", label="Weekly", used_pct=9, resets_at=WEEKLY_RESET, window_seconds=604800),
            Window(
                id="tools_monthly", label="Tools (MCP, monthly)", used_pct=22, used=224, limit=1000, unit="requests"
            ),
        ),
        plan="Pro",
        breakdowns=(
            Breakdown(
                id="tools",
                label="Tool calls",
                unit="requests",
                items=(BreakdownItem(key="search-prime", value=210, limit=1000),),
            ),
        ),
    )


def test_quota_limit_minimal_sample_time_limit_in_hours() -> None:
    # TIME_LIMIT with unit 3 (hours) x 5 is a 5-hour tool allowance, not a monthly one.
    assert parse(fixture_json("zai", "quota-limit-minimal.json")) == Usage(
        windows=(
            Window(id="session", label="Session (5h)", used_pct=25, resets_at=SESSION_RESET, window_seconds=18000),
            Window(id="tools_5h", label="Tools (MCP, 5h)", used_pct=22, resets_at=SESSION_RESET),
        ),
        plan=None,
    )


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
    payload = {
        "code": "200",
        "success": True,
        "extra": {"x": 1},
        "data": {
            "planName": "Lite",
            "new": [1],
            "limits": [
                {
                    "type": "TOKENS_LIMIT",
                    "unit": "3",
                    "number": "5",
                    "percentage": "12.5",
                    "nextResetTime": "1785816000000",
                    "mystery": True,
                },
                {
                    "type": "TIME_LIMIT",
                    "unit": "5",
                    "number": "1",
                    "usage": "100",
                    "currentValue": "40",
                    "remaining": "60",
                    "percentage": "40",
                },
            ],
        },
    }
    assert parse(payload) == Usage(
        windows=(
            Window(id="session", label="Session (5h)", used_pct=12.5, resets_at=SESSION_RESET, window_seconds=18000),
            Window(id="tools_monthly", label="Tools (MCP, monthly)", used_pct=40, used=40, limit=100, unit="requests"),
        ),
        plan="Lite",
    )


def test_credit_limit_and_computed_percentage() -> None:
    payload = {
        "code": 200,
        "success": True,
        "data": {
            "limits": [
                {"type": "CREDIT_LIMIT", "unit": 1, "number": 30, "usage": 500, "remaining": 125},
                {"type": "tokens_limit", "unit": 1, "number": 1, "percentage": 3},
                {"type": "UNKNOWN_LIMIT", "unit": 3, "number": 5, "percentage": 99},
            ]
        },
    }
    assert parse(payload).windows == (
        Window(id="daily", label="Daily", used_pct=3, window_seconds=86400),
        Window(id="monthly", label="Monthly", used_pct=75, window_seconds=2592000, used=375, limit=500, unit="credits"),
    )


def test_window_without_percentage_or_figures_is_a_warning_naming_the_field() -> None:
    usage = parse(
        {
            "code": 200,
            "data": {
                "limits": [
                    {"type": "TOKENS_LIMIT", "unit": 3, "number": 5},
                    {"type": "TOKENS_LIMIT", "unit": 6, "number": 1, "percentage": 4},
                ]
            },
        }
    )
    assert [(w.id, w.used_pct) for w in usage.windows] == [("weekly", 4.0)]
    assert [w.message for w in usage.warnings] == ["z.ai: data.limits[0] has no percentage"]


def test_unknown_types_and_broken_entries_are_warnings() -> None:
    payload = fixture_json("zai", "quota-limit-pro.json")
    payload["data"]["limits"] += [
        {"type": "SPEED_LIMIT", "unit": 5, "number": 1, "percentage": 50},
        "junk",
        {"type": "TOKENS_LIMIT", "unit": "three", "number": 5, "percentage": 1},
    ]
    usage = parse(payload)
    assert [w.id for w in usage.windows] == ["session", "weekly", "tools_monthly"]
    assert [w.message.split("'")[1] for w in usage.warnings] == [
        "data.limits[3].type",
        "data.limits[4]",
        "data.limits[5].unit",
    ]


def test_tools_breakdown_items_and_their_drift() -> None:
    payload = fixture_json("zai", "quota-limit-pro.json")
    payload["data"]["limits"][2]["usageDetails"] = [
        {"modelCode": "search-prime", "usage": "150"},
        {"modelCode": "web-reader", "usage": 60},
        {"usage": 4},
        {"modelCode": "zread", "usage": None},
    ]
    usage = parse(payload)
    (tools,) = usage.breakdowns
    assert [(i.key, i.value, i.limit) for i in tools.items] == [("search-prime", 150, 1000), ("web-reader", 60, 1000)]
    assert [w.message.split("'")[1] for w in usage.warnings] == [
        "data.limits[2].usageDetails[2].modelCode",
        "data.limits[2].usageDetails[3].usage",
    ]
    payload["data"]["limits"][2]["usageDetails"] = "none"
    usage = parse(payload)
    assert usage.breakdowns == () and "usageDetails" in usage.warnings[0].message
    assert [w.id for w in usage.windows] == ["session", "weekly", "tools_monthly"]


def test_level_is_the_plan_when_nothing_else_names_it() -> None:
    payload = {"code": 200, "success": True, "data": {"level": "premium", "limits": []}}
    assert parse(payload).plan == "premium"
    payload["data"]["planName"] = "GLM Coding Max"
    assert parse(payload).plan == "GLM Coding Max"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (1001, AuthError),
        (401, AuthError),
        (1302, RateLimitedError),
        (500, UpstreamError),
        (None, UpstreamError),
    ],
)
def test_envelope_errors(code: int | None, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        parse({"code": code, "msg": "nope", "success": False})
    assert "nope" in str(info.value)
    assert type(info.value) is error


# -- subscriptions ---------------------------------------------------------------------------------
def test_subscription_list_sample() -> None:
    now = datetime(2026, 9, 1, 4, 0, 24, tzinfo=UTC)
    usage = PROVIDER.parse(
        {
            "quota": fixture_json("zai", "quota-limit-minimal.json"),
            "subscriptions": fixture_json("zai", "subscription-list-glm.json"),
        },
        now,
    )
    assert usage.balances == (
        Balance(
            id="subscription_glm_coding_max",
            label="GLM Coding Max (renews)",
            unit="days",
            remaining=67.0,  # the valid range ends 2026-11-07 04:00:24 (its own dashes split by pattern)
            expires_at=datetime(2026, 11, 7, 4, 0, 24, tzinfo=UTC),
        ),
    )
    assert usage.plan == "GLM Coding Max" and usage.warnings == ()  # the EXPIRED one is left out


def test_subscription_drift_and_envelopes() -> None:
    listed = {
        "code": 200,
        "data": [{"status": "VALID", "productName": "P", "valid": "2026-08-07-2026-11-07"}, {"status": "VALID"}],
    }
    usage = PROVIDER.parse({"quota": {"data": {}}, "subscriptions": listed}, NOW)
    assert [w.message for w in usage.warnings] == [
        "z.ai: 'subscriptions[0].valid' is not a date range",
        "z.ai: 'subscriptions[1].productName' is missing",
    ]
    refused = {"code": 401, "msg": "token expired or incorrect", "success": False}
    assert PROVIDER.parse({"quota": {"data": {}}, "subscriptions": refused}, NOW) == Usage()
    broken = {"code": 500, "msg": "busy", "success": False}
    usage = PROVIDER.parse({"quota": {"data": {}}, "subscriptions": broken}, NOW)
    assert usage.warnings[0].message == "z.ai quota API error 500: busy (subscriptions)"


async def test_subscriptions_over_http(sim: Any) -> None:
    usage = await fetch_usage("zai", sim_settings("zai", sim.url))
    (subscription,) = usage.balances
    assert (subscription.id, subscription.unit, subscription.label) == (
        "subscription_glm_coding_pro",
        "days",
        "GLM Coding Pro (renews)",
    )
    assert subscription.remaining is not None and 49 <= subscription.remaining <= 50
    request = [r for r in sim_requests(sim) if r["path"] == "/zai/url/api/biz/subscription/list"][-1]
    assert request["headers"]["authorization"] == f"Bearer {KEY}"


async def test_a_credential_the_subscription_list_refuses_leaves_it_out(sim: Any) -> None:
    add_fault(sim, "/zai/url/api/biz/", "status", status=401, body="{}")
    usage = await fetch_usage("zai", sim_settings("zai", sim.url))
    assert usage.balances == () and usage.warnings == () and len(usage.windows) == 3
    add_fault(sim, "/zai/url/api/biz/", "status", status=500, body="{}")
    usage = await fetch_usage("zai", sim_settings("zai", sim.url))
    assert usage.balances == () and "subscriptions" in usage.warnings[0].message


def test_subscriptions_url() -> None:
    from agentgauge.providers.zai import subscriptions_url

    assert (
        subscriptions_url("https://api.z.ai/api/monitor/usage/quota/limit?type=2")
        == "https://api.z.ai/api/biz/subscription/list"
    )
    assert (
        subscriptions_url("https://proxy.example/z/api/monitor/usage/quota/limit")
        == "https://proxy.example/z/api/biz/subscription/list"
    )
    assert subscriptions_url("https://proxy.example/custom") == "https://proxy.example/api/biz/subscription/list"


def test_region_mapping() -> None:
    assert REGION_URLS == {"global": "https://api.z.ai", "china": "https://open.bigmodel.cn"}
    assert [region_of({"region": r}) for r in ("global", "intl", "CN", " china ", "bigmodel-cn")] == [
        "global",
        "global",
        "china",
        "china",
        "china",
    ]
    assert region_of({}) == "global"
    with pytest.raises(ProviderConfigError, match="mars"):
        region_of({"region": "mars"})


def test_declarations() -> None:
    assert {s.name: (s.env_var("zai"), *s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_ZAI_API_KEY",),
        "region": ("AGENTGAUGE_ZAI_REGION",),
        "url": ("AGENTGAUGE_ZAI_URL", "Z_AI_API_HOST"),
        "quota_url": ("AGENTGAUGE_ZAI_QUOTA_URL", "Z_AI_QUOTA_URL"),
        "organization": ("AGENTGAUGE_ZAI_ORGANIZATION",),
        "project": ("AGENTGAUGE_ZAI_PROJECT",),
    }
    assert [(a.id, a.source, a.label) for a in PROVIDER.auth] == [
        ("api_key", "api_key", "API key"),
        ("browser", "browser", "z.ai browser login"),
    ]


# -- fetch through the simulator --------------------------------------------------------------------
async def test_fetch(sim: Any) -> None:
    usage = await fetch_usage("zai", sim_settings("zai", sim.url))
    assert_sim_windows(usage)
    assert usage.plan == "pro"  # the simulator names the plan by 'level'
    (tools,) = usage.breakdowns
    assert (tools.id, tools.label, tools.unit) == ("tools", "Tool calls", "requests")
    assert [i.key for i in tools.items] == ["search-prime", "web-reader", "zread"]
    assert sum(i.value for i in tools.items) == usage.windows[2].used
    assert all(i.limit == 1000 for i in tools.items)
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
    since = Mark(sim)
    with pytest.raises(ProviderConfigError, match="unknown region"):
        await fetch_usage("zai", settings)
    assert since.requests("/zai/") == []


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
    """z.ai answers a wrong key or token with HTTP 200 and ``{"code": 401, "success": false}``."""
    with pytest.raises(AuthError) as info:
        await fetch_usage("zai", sim_settings("zai", sim.url, api_key="wrong.key"))
    assert "wrong.key" not in str(info.value)
    assert "z.ai/manage-apikey" in info.value.hint
    body = httpx.get(f"{sim.url}{PREFIX}api/monitor/usage/quota/limit", headers={"Authorization": "Bearer wrong.key"})
    assert (body.status_code, body.json()["code"], body.json()["success"]) == (200, 401, False)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('{"code":1001,"msg":"Authorization Token Missing","success":false}', AuthError),
        ('{"code":500,"msg":"internal error","success":false}', UpstreamError),
        ('{"code":"1302","msg":"too many requests","success":false}', RateLimitedError),
    ],
)
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
    add_challenge(sim, PREFIX)
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
    add_fault(
        sim, PREFIX, "body", body='{"code":200,"msg":"success","success":true,"data":{"limits":null}}', remaining=1
    )
    usage = await fetch_usage("zai", sim_settings("zai", sim.url))
    assert usage.windows == () and [b.id for b in usage.balances] == ["subscription_glm_coding_pro"]
    assert usage.plan == "GLM Coding Pro"  # the quota named none: the active subscription does
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


# -- the key as real clients send it ------------------------------------------------------------
def zai_jwt(api_key: str, *, exp_ms: int, header: dict[str, Any] | None = None) -> str:
    """z.ai's documented JWT auth, built the way its SDKs and seed 000 build it."""
    key_id, secret = api_key.split(".", 1)

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    claims = {"api_key": key_id, "exp": exp_ms, "timestamp": now_ms}
    signing = f"{part(header or {'alg': 'HS256', 'sign_type': 'SIGN'})}.{part(claims)}"
    signature = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def quota_get(sim: Any, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.get(f"{sim.url}{PREFIX}api/monitor/usage/quota/limit", headers=headers)


def in_an_hour() -> int:
    return int(datetime.now(UTC).timestamp() * 1000) + 3600 * 1000


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {KEY}", KEY, f"bearer {KEY}#work"],
    ids=["bearer", "raw", "raw-account"],
)
def test_sim_takes_the_raw_key_with_or_without_bearer(sim: Any, authorization: str) -> None:
    answer = quota_get(sim, authorization)
    assert answer.status_code == 200 and answer.json()["success"] is True


def test_sim_takes_an_hs256_jwt_built_from_the_key(sim: Any) -> None:
    token = zai_jwt(KEY, exp_ms=in_an_hour())
    assert quota_get(sim, f"Bearer {token}").json()["data"]["level"] == "pro"
    work = zai_jwt("sim-zai-key#work.secret", exp_ms=in_an_hour())  # key id "sim-zai-key#work"
    assert quota_get(sim, work).json()["code"] == 200


@pytest.mark.parametrize(
    "token",
    [
        lambda: zai_jwt(KEY, exp_ms=int(datetime.now(UTC).timestamp() * 1000) - 1000),  # expired
        lambda: zai_jwt(KEY, exp_ms=int(datetime.now(UTC).timestamp()) + 3600),  # exp in seconds: long past
        lambda: zai_jwt("sim-zai-key.not-the-secret", exp_ms=in_an_hour()),  # bad signature
        lambda: zai_jwt("other-id.secret", exp_ms=in_an_hour()),  # another key id
        lambda: zai_jwt(KEY, exp_ms=in_an_hour(), header={"alg": "none"}),
    ],
    ids=["expired", "seconds", "signature", "key-id", "alg-none"],
)
def test_sim_rejects_bad_tokens_in_a_200_envelope(sim: Any, token: Any) -> None:
    answer = quota_get(sim, f"Bearer {token()}")
    assert (answer.status_code, answer.json()["code"], answer.json()["success"]) == (200, 401, False)


def test_sim_without_credential_is_http_401(sim: Any) -> None:
    answer = quota_get(sim, None)
    assert (answer.status_code, answer.json()["code"]) == (401, 1001)


async def test_a_jwt_or_a_pasted_bearer_header_works_as_the_key(sim: Any) -> None:
    token = zai_jwt(KEY, exp_ms=in_an_hour())
    assert_sim_windows(await fetch_usage("zai", sim_settings("zai", sim.url, api_key=token)))
    assert quota_requests(sim)[-1]["headers"]["authorization"] == f"Bearer {token}"
    assert_sim_windows(await fetch_usage("zai", sim_settings("zai", sim.url, api_key=f"Bearer {KEY}")))
    assert quota_requests(sim)[-1]["headers"]["authorization"] == f"Bearer {KEY}"
    expired = zai_jwt(KEY, exp_ms=1000)
    with pytest.raises(AuthError):
        await fetch_usage("zai", sim_settings("zai", sim.url, api_key=expired))


# -- Z_AI_QUOTA_URL and Z_AI_API_HOST (seed 002) --------------------------------------------------
QUOTA = "/api/monitor/usage/quota/limit"


@pytest.mark.parametrize(
    ("settings", "url"),
    [
        ({}, f"https://api.z.ai{QUOTA}"),
        ({"region": "china"}, f"https://open.bigmodel.cn{QUOTA}"),
        ({"url": "api.z.ai"}, f"https://api.z.ai{QUOTA}"),
        ({"url": '"proxy.example.com/zai/"'}, f"https://proxy.example.com/zai{QUOTA}"),
        ({"url": f"https://proxy.example.com{QUOTA}"}, f"https://proxy.example.com{QUOTA}"),
        ({"quota_url": "https://q.example.com/limits?x=1", "url": "api.z.ai"}, "https://q.example.com/limits?x=1"),
        ({"quota_url": f"open.bigmodel.cn{QUOTA}", "region": "cn"}, f"https://open.bigmodel.cn{QUOTA}"),
    ],
)
def test_quota_url_resolution(settings: dict[str, str], url: str) -> None:
    assert quota_url(settings) == url


@pytest.mark.parametrize(
    "settings",
    [{"url": "open.bigmodel.cn"}, {"quota_url": f"https://api.z.ai{QUOTA}", "region": "china"}],
)
def test_an_override_pointing_at_the_other_regions_host_is_refused(settings: dict[str, str]) -> None:
    with pytest.raises(ProviderConfigError, match="region"):
        quota_url(settings)


async def test_z_ai_quota_url_environment_variable(sim: Any) -> None:
    settings = sim_settings("zai", sim.url)
    settings.pop("url")
    env = {"Z_AI_QUOTA_URL": f"{sim.url}{PREFIX}api/monitor/usage/quota/limit?from=env"}
    assert_sim_windows(await fetch_usage("zai", settings, env=env))
    assert quota_requests(sim)[-1]["query"] == "from=env"
    team = await fetch_usage("zai", {**settings, "organization": "o", "project": "p"}, env=env)
    assert_sim_windows(team)
    assert quota_requests(sim)[-1]["query"] == "from=env&type=2"


async def test_z_ai_api_host_environment_variable(sim: Any) -> None:
    settings = sim_settings("zai", sim.url)
    settings.pop("url")
    assert_sim_windows(await fetch_usage("zai", settings, env={"Z_AI_API_HOST": f"{sim.url}/zai/url/"}))
    assert quota_requests(sim)[-1]["path"] == "/zai/url/api/monitor/usage/quota/limit"
    config = account_config("zai", settings, env={"Z_AI_API_HOST": "api.z.ai"})
    assert config.accounts[0].settings["url"] == "api.z.ai"
    assert config.accounts[0].origins["url"] == "environment variable Z_AI_API_HOST"
