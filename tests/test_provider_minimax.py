"""MiniMax: every shared remains sample parsed exactly (the *_usage_count fields are what is LEFT),
envelope errors, lanes the plan lacks, the multi-service shape, billing breakdowns, the Coding Plan
page; the API key with its Token Plan / Coding Plan paths and the web login (cookie, cURL, stored
token, group id, page fallback) through the simulator, and every failure."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.browser import find_credentials
from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Breakdown, BreakdownItem, Usage, Window
from agentgauge.providers import minimax as minimax_module
from agentgauge.providers.minimax import HINT_KEY, HINT_WEB, PROVIDER, api_bases, region_of, web_base
from agentgauge.providers.minimax import web as mw
from agentgauge.providers.minimax.sim import GROUP_ID
from tests.harness import (
    account_config,
    add_challenge,
    add_fault,
    fetch_usage,
    fixture_json,
    fixture_text,
    sim_settings,
)
from tests.simlog import Mark
from tests.test_browser_unit import firefox_profile, lsng

NOW = datetime.fromtimestamp(1780282340, UTC)
KEY = "sk-cp-sim-minimax-key"
SESSION = "sim-minimax-session"
TOKEN = "sim-minimax-web-token"
API = "/minimax/url"
WEB = "/minimax/web_url"
CHINA = timezone(timedelta(hours=8))


def parse(remains: Any = None, **raw: Any) -> Usage:
    return PROVIDER.parse({"remains": remains, **raw}, NOW)


def lane(**fields: Any) -> dict[str, Any]:
    return {"model_name": "general", **fields}


def requests_under(since: Mark, prefix: str) -> list[dict[str, Any]]:
    return since.requests(prefix)


def api_settings(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("minimax", sim.url, **overrides)
    for name in ("cookie", "web_token"):
        settings.pop(name, None)
    return settings


def web_settings(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("minimax", sim.url)
    for name in ("api_key", "cookie", "web_token"):
        settings.pop(name)
    return {**settings, **overrides}


def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(claims)}.sig"


def assert_token_plan(usage: Usage) -> None:
    session, weekly = usage.windows
    assert (session.id, session.window_seconds, weekly.id, weekly.window_seconds) == (
        "session",
        18000,
        "weekly",
        604800,
    )
    assert all(0 <= w.used_pct <= 100 and w.resets_at is not None and w.used is None for w in usage.windows)
    assert usage.plan == "Token Plan Plus"
    assert usage.balances == (Balance(id="points", label="Points balance", unit="points", remaining=14000),)


# -- samples ------------------------------------------------------------------------------------------------
def test_coding_plan_remains_sample_skips_the_lane_the_plan_lacks() -> None:
    assert parse(fixture_json("minimax", "coding-plan-remains-success.json")) == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=4,
                resets_at=datetime.fromtimestamp(1780297200, UTC),
                window_seconds=18000,
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=1,
                resets_at=datetime.fromtimestamp(1780848000, UTC),
                window_seconds=604800,
            ),
        )
    )


def test_token_plan_normal_sample_plan_and_points() -> None:
    usage = parse(fixture_json("minimax", "fixture-token-plan-normal.json"))
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [
        ("session", 4, datetime.fromtimestamp(1780297200, UTC)),
        ("weekly", 1, datetime.fromtimestamp(1780848000, UTC)),
    ]
    assert usage.plan == "Token Plan Plus"
    assert usage.balances == (Balance(id="points", label="Points balance", unit="points", remaining=14000),)


def test_missing_reset_sample_the_remaining_percent_wins_over_the_counts() -> None:
    # current_interval_usage_count 25 is what is LEFT; the remaining percent (75) gives 25 % used.
    assert parse(fixture_json("minimax", "fixture-token-plan-missing-reset.json")) == Usage(
        windows=(
            Window(id="session", label="Session (5h)", used_pct=25),
            Window(id="weekly", label="Weekly", used_pct=40, window_seconds=604800),
        ),
        plan="Token Plan Plus",
    )


def test_nested_counts_sample_usage_count_is_remaining() -> None:
    assert parse(fixture_json("minimax", "remains-nested-data.json")) == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=20,
                resets_at=NOW + timedelta(seconds=3600),  # end_time (seconds) is past: remains_time counts
                window_seconds=18000,
                used=2,
                limit=10,
                unit="prompts",
            ),
        ),
        plan="Max",
    )


def test_token_plan_sample_with_a_four_hour_interval() -> None:
    usage = parse(fixture_json("minimax", "token-plan-remains.json"))
    assert [(w.id, w.label, w.used_pct, w.window_seconds) for w in usage.windows] == [
        ("session", "Session (4h)", 0, 14400),
        ("weekly", "Weekly", 30, 604800),
    ]


def test_services_sample_in_china_time() -> None:
    now = datetime(2026, 3, 25, 11, 0, tzinfo=CHINA)
    usage = PROVIDER.parse({"remains": fixture_json("minimax", "services-windows.json")}, now)
    assert usage == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=20,
                resets_at=datetime(2026, 3, 25, 15, 0, tzinfo=CHINA),
                window_seconds=18000,
                used=2,
                limit=10,
                unit="requests",
            ),
            Window(
                id="image_daily",
                label="Image · Daily",
                used_pct=10,
                resets_at=datetime(2026, 3, 26, 0, 0, tzinfo=CHINA),
                window_seconds=86400,
                used=5,
                limit=50,
                unit="requests",
            ),
        )
    )


def test_cookie_missing_sample_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="1004"):
        parse(fixture_json("minimax", "error-cookie-missing.json"))


def test_billing_history_sample_as_breakdowns() -> None:
    usage = PROVIDER.parse(
        {
            "remains": {"model_remains": [lane(current_interval_remaining_percent=50)]},
            "billing": fixture_json("minimax", "billing-history.json"),
        },
        datetime(2026, 5, 17, 12, 0, tzinfo=UTC),
    )
    # 2026-04-17 falls outside the 30 days (today included); input + output count when consume_token is absent.
    assert usage.breakdowns == (
        Breakdown(
            id="tokens_by_model",
            label="Tokens by model (30 days)",
            unit="tokens",
            items=(
                BreakdownItem(key="speech-2.8", value=3000),
                BreakdownItem(key="MiniMax-M2", value=2000),
                BreakdownItem(key="MiniMax-M1", value=1000),
            ),
        ),
        Breakdown(
            id="tokens_by_day",
            label="Tokens by day (30 days)",
            unit="tokens",
            items=(
                BreakdownItem(key="2026-04-18", value=3000),
                BreakdownItem(key="2026-05-16", value=2000),
                BreakdownItem(key="2026-05-17", value=1000),
            ),
        ),
    )


def test_subscription_metadata_sample_is_not_a_remains_answer() -> None:
    with pytest.raises(ParseError) as info:
        parse(fixture_json("minimax", "subscription-metadata.json"))
    assert info.value.field == "model_remains"


def test_coding_plan_page_sample_login_words_only_in_scripts_is_not_signed_out() -> None:
    with pytest.raises(ParseError) as info:
        PROVIDER.parse({"page": fixture_text("minimax", "coding-plan-page.html")}, NOW)
    assert info.value.field == "__NEXT_DATA__"
    with pytest.raises(AuthError):
        PROVIDER.parse({"page": "<html><body><main><a>Log in</a></main></body></html>"}, NOW)


# -- variations ------------------------------------------------------------------------------------------------
def test_numbers_as_strings_seconds_and_unlimited_weekly() -> None:
    payload = {
        "base_resp": {"status_code": "0"},
        "data": {
            "combo_title": "Starter",
            "model_remains": [
                lane(
                    start_time="1780279200",
                    end_time="1780297200",
                    current_interval_remaining_percent="60.5",
                    current_weekly_status="3",
                    current_weekly_remaining_percent=100,
                    extra={"x": 1},
                )
            ],
            "new_field": [1],
        },
    }
    usage = parse(payload)
    assert usage.windows == (
        Window(
            id="session",
            label="Session (5h)",
            used_pct=39.5,
            resets_at=datetime.fromtimestamp(1780297200, UTC),
            window_seconds=18000,
        ),
        Window(id="weekly", label="Weekly", used_pct=0, window_seconds=604800, unlimited=True),
    )
    assert usage.plan == "Starter"


def test_several_text_models_and_a_media_lane() -> None:
    start, end = 1780279200000, 1780297200000
    payload = {
        "model_remains": [
            {
                "model_name": "MiniMax-M1",
                "start_time": start,
                "end_time": end,
                "current_interval_total_count": 10,
                "current_interval_usage_count": 10,
            },
            {
                "model_name": "MiniMax-M2.5",
                "start_time": start,
                "end_time": end,
                "current_interval_total_count": 10,
                "current_interval_usage_count": 0,
            },
            {
                "model_name": "image-01",
                "start_time": 1780243200,
                "end_time": 1780329600,
                "current_interval_remaining_percent": 90,
            },
            {"model_name": None, "current_interval_remaining_percent": 1},
        ],
        "current_combo_card": {"title": "Max"},
    }
    usage = parse(payload)
    assert [(w.id, w.label, w.used_pct, w.used) for w in usage.windows] == [
        ("session", "Session (5h) · MiniMax-M1", 0, 0),
        ("session_2", "Session (5h) · MiniMax-M2.5", 100, 10),
        ("image_01_daily", "image-01 · Daily", 10, None),
    ]
    assert usage.plan == "Max"
    assert all(PROVIDER.window_spec(w.id) for w in usage.windows)


def test_a_lane_without_figures_is_a_warning_and_the_others_stay() -> None:
    payload = {
        "model_remains": [
            lane(current_weekly_remaining_percent=70),
            {"model_name": "video", "current_interval_total_count": 5},
        ]
    }
    usage = parse(payload)
    assert [w.id for w in usage.windows] == ["weekly"]
    (warning,) = usage.warnings
    assert "model_remains[1]" in warning.message


def test_percent_out_of_range_is_clamped() -> None:
    usage = parse(
        {"model_remains": [lane(current_interval_remaining_percent=-5, current_weekly_remaining_percent=140)]}
    )
    assert [w.used_pct for w in usage.windows] == [100, 0]


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        (2049, "invalid api key", AuthError),
        (1004, "not authorized", AuthError),
        (1000, "Invalid API Key", AuthError),
        (1002, "rate limit", RateLimitedError),
        (1039, "token limit", RateLimitedError),
        (1013, "internal error", UpstreamError),
    ],
)
def test_envelope_errors(code: int, message: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        parse({"base_resp": {"status_code": str(code), "status_msg": message}})
    assert type(info.value) is error and message in str(info.value)


def test_envelope_inside_data_is_read_too() -> None:
    with pytest.raises(AuthError):
        parse({"data": {"base_resp": {"status_code": 1004, "status_msg": "cookie is missing"}}})


@pytest.mark.parametrize("remains", [None, [], "text"])
def test_not_an_object_names_the_root(remains: Any) -> None:
    with pytest.raises(ParseError) as info:
        parse(remains)
    assert info.value.field == "$"


def test_services_without_a_limit_are_left_out() -> None:
    usage = parse(
        {
            "data": {
                "services": [
                    {"service_type": "Image", "window_type": "Today", "usage": 1, "limit": 0},
                    {"service_type": "Speech", "window_type": "Weekly", "usage": 3, "limit": "30"},
                ]
            }
        }
    )
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [("speech_weekly", 10, None)]


def test_billing_refused_is_a_warning_only() -> None:
    usage = parse(
        {"model_remains": [lane(current_interval_remaining_percent=80)]}, billing={"base_resp": {"status_code": 1004}}
    )
    assert usage.breakdowns == () and len(usage.warnings) == 1 and usage.windows[0].used_pct == 20


def test_web_login_helpers() -> None:
    curl = (
        "curl 'https://platform.minimax.io/v1/api/openplatform/coding_plan/remains' \\\n"
        "  -H 'authorization: Bearer tok.en.value' \\\n"
        f"  -H 'Cookie: HERTZ-SESSION=abc; minimax_group_id_v2={GROUP_ID}' \\\n"
        "  -H 'x-group-id: 98765'"
    )
    parts = mw.cookie_parts(curl)
    assert parts.header == f"HERTZ-SESSION=abc; minimax_group_id_v2={GROUP_ID}"
    assert (parts.bearer, parts.group_id) == ("tok.en.value", "98765")
    assert mw.cookie_parts("Cookie: _token=x; a=b") == mw.CookieParts("_token=x; a=b", None, None)
    assert mw.cookie_parts("curl x -b 'foo=bar'").header == "foo=bar"
    detail = json.dumps({"user": {"access_token": "t" * 30, "groups": [{"group_id": 12345678}]}})
    assert mw.token_parts(detail) == ("t" * 30, "12345678")
    assert mw.token_parts(" plain-token ") == ("plain-token", None)
    assert mw.token_parts("{broken") == (None, None)
    assert mw.group_of_token(jwt({"GroupID": "555666777"})) == "555666777"
    assert mw.group_of_token("opaque") is None


def test_hosts_and_regions() -> None:
    assert api_bases({}) == ["https://api.minimax.io", "https://api.minimaxi.com"]
    assert api_bases({"region": "cn"}) == ["https://api.minimaxi.com"]
    assert api_bases({"region": "global"}) == ["https://api.minimax.io"]
    assert api_bases({"url": "http://127.0.0.1:1/x/", "region": "china"}) == ["http://127.0.0.1:1/x"]
    assert web_base({"region": "china"}) == "https://platform.minimaxi.com"
    assert web_base({}) == "https://platform.minimax.io"
    assert web_base({"web_url": "platform.minimaxi.com/"}) == "https://platform.minimaxi.com"  # a bare host
    assert region_of({"region": " INTL "}) == "global"
    with pytest.raises(ProviderConfigError, match="mars"):
        api_bases({"region": "mars", "url": "http://x"})


def test_minimax_host_and_cookie_variables_fill_the_settings(tmp_path: Path) -> None:
    env = {
        "MINIMAX_HOST": "platform.minimaxi.com",
        "MINIMAX_COOKIE_HEADER": "HERTZ-SESSION=from-header-var",
        "MINIMAX_REMAINS_URL": "https://example.test/remains",
        "MINIMAX_CODING_PLAN_URL": "https://example.test/page",
        "MINIMAX_API_KEY": "sk-api-standard",
        "MINIMAX_CODING_API_KEY": "sk-cp-coding",
    }
    config = account_config("minimax", {}, env=env, home=tmp_path)
    settings = config.accounts[0].settings
    assert web_base(settings) == "https://platform.minimaxi.com"
    assert settings["remains_url"] == "https://example.test/remains"
    assert settings["coding_plan_url"] == "https://example.test/page"
    assert settings["api_key"] == "sk-cp-coding"  # the Coding Plan key wins over a standard one
    assert settings["cookie"] == "HERTZ-SESSION=from-header-var"


def test_browser_login_cookies_and_stored_token(tmp_path: Path) -> None:
    future = int(time.time()) + 86400
    profile = firefox_profile(
        tmp_path / ".mozilla/firefox",
        "a.default",
        [
            ("platform.minimax.io", "HERTZ-SESSION", SESSION, future),
            (".minimax.io", "minimax_group_id_v2", GROUP_ID, future),
        ],
    )
    detail = json.dumps({"access_token": TOKEN + "-" * 10})
    lsng(profile, "https://platform.minimax.io", [("user_detail", detail.encode(), 0, 1)])
    cookie_only = find_credentials("minimax", PROVIDER.auth[1].browser, home=tmp_path, env={})
    assert cookie_only.values == {"cookie": f"HERTZ-SESSION={SESSION}; minimax_group_id_v2={GROUP_ID}"}
    with_token = find_credentials("minimax", PROVIDER.auth[2].browser, home=tmp_path, env={})
    assert with_token.values["web_token"] == detail
    config = account_config("minimax", {}, home=tmp_path)
    found = auth.resolve(PROVIDER, config.accounts[0], config)
    assert [(c.auth.id, c.source) for c in found] == [("web", "browser"), ("web_token", "browser")]


def test_declarations() -> None:
    assert {s.name: s.env_var("minimax") for s in PROVIDER.settings} == {
        "api_key": "AGENTGAUGE_MINIMAX_API_KEY",
        "region": "AGENTGAUGE_MINIMAX_REGION",
        "url": "AGENTGAUGE_MINIMAX_URL",
        "web_url": "AGENTGAUGE_MINIMAX_WEB_URL",
        "cookie": "AGENTGAUGE_MINIMAX_COOKIE",
        "web_token": "AGENTGAUGE_MINIMAX_WEB_TOKEN",
        "group_id": "AGENTGAUGE_MINIMAX_GROUP_ID",
        "remains_url": "AGENTGAUGE_MINIMAX_REMAINS_URL",
        "coding_plan_url": "AGENTGAUGE_MINIMAX_CODING_PLAN_URL",
    }
    assert [(a.id, a.source) for a in PROVIDER.auth] == [
        ("api_key", "api_key"),
        ("web", "cookie"),
        ("web_token", "cookie"),
    ]


# -- fetch through the simulator: API key ----------------------------------------------------------------------
async def test_api_key_reads_the_token_plan(sim: Any) -> None:
    since = Mark(sim)
    assert_token_plan(await fetch_usage("minimax", api_settings(sim)))
    (request,) = requests_under(since, API)
    assert (request["method"], request["path"]) == ("GET", "/minimax/url/v1/token_plan/remains")
    headers = request["headers"]
    assert headers["authorization"] == f"Bearer {KEY}" and headers["mm-api-source"] == "agentgauge"
    assert headers["accept"] == "application/json"


async def test_older_coding_plan_key_falls_back_to_the_coding_plan_path(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("minimax", api_settings(sim, api_key=f"{KEY}#legacy"))
    (window,) = usage.windows
    assert (window.id, window.unit, window.limit, usage.plan) == ("session", "prompts", 300, "Coding Plan Plus")
    assert window.used is not None and window.used_pct == pytest.approx(window.used / 3, abs=0.01)
    assert [r["path"] for r in requests_under(since, API)] == [
        "/minimax/url/v1/token_plan/remains",
        "/minimax/url/v1/api/openplatform/coding_plan/remains",
    ]


async def test_unknown_key_is_an_auth_error_after_both_paths(sim: Any) -> None:
    since = Mark(sim)
    with pytest.raises(AuthError) as info:
        await fetch_usage("minimax", api_settings(sim, api_key="sk-cp-wrong"))
    assert "2049" in info.value.message and info.value.hint == HINT_KEY and "sk-cp-wrong" not in info.value.message
    assert len(requests_under(since, API)) == 2


async def test_key_refused_globally_is_tried_on_the_china_host_when_no_region_is_set(
    sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both "hosts" are the simulator: the web mount plays a global host that does not know the key.
    hosts = {"global": f"{sim.url}/minimax/web_url", "china": f"{sim.url}/minimax/url"}
    monkeypatch.setattr(minimax_module, "API_HOSTS", hosts)
    settings = api_settings(sim)
    settings.pop("url")
    since = Mark(sim)
    assert_token_plan(await fetch_usage("minimax", settings))
    paths = since.paths()
    assert paths == [
        "/minimax/web_url/v1/token_plan/remains",  # 404: not served there
        "/minimax/web_url/v1/api/openplatform/coding_plan/remains",  # 1004: the key is refused
        "/minimax/url/v1/token_plan/remains",
    ]
    with pytest.raises(AuthError, match="1004"):  # a region that is set is not left
        await fetch_usage("minimax", {**settings, "region": "global"})


async def test_missing_token_plan_path_falls_back(sim: Any) -> None:
    add_fault(sim, f"{API}/v1/token_plan", "status", status=404, body='{"error":"not found"}')
    assert_token_plan(await fetch_usage("minimax", api_settings(sim)))


# -- fetch through the simulator: web login ----------------------------------------------------------------------
async def test_session_cookie_is_its_own_bearer_and_billing_gives_breakdowns(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("minimax", web_settings(sim, cookie=f"HERTZ-SESSION={SESSION}"))
    assert_token_plan(usage)
    assert [b.id for b in usage.breakdowns] == ["tokens_by_model", "tokens_by_day"]
    remains, billing = requests_under(since, WEB)
    assert remains["path"] == "/minimax/web_url/v1/api/openplatform/coding_plan/remains" and remains["query"] == ""
    headers = remains["headers"]
    assert headers["cookie"] == f"HERTZ-SESSION={SESSION}" and headers["authorization"] == f"Bearer {SESSION}"
    assert headers["x-requested-with"] == "XMLHttpRequest"
    assert (
        headers["origin"] == sim.url
        and headers["referer"] == f"{sim.url}/minimax/web_url/user-center/payment/coding-plan"
    )
    assert billing["path"] == "/minimax/web_url/account/amount"
    assert parse_qs(billing["query"]) == {"page": ["1"], "limit": ["100"], "aggregate": ["false"]}


async def test_stored_token_goes_first_and_a_stale_one_falls_back_to_the_session(sim: Any) -> None:
    since = Mark(sim)
    settings = web_settings(sim, cookie=f"HERTZ-SESSION={SESSION}", web_token="stale-token")
    assert_token_plan(await fetch_usage("minimax", settings))
    first, second = requests_under(since, f"{WEB}/v1")
    assert first["headers"]["authorization"] == "Bearer stale-token"
    assert second["headers"]["authorization"] == f"Bearer {SESSION}"


async def test_token_cookie_with_the_stored_user_json(sim: Any) -> None:
    detail = json.dumps({"access_token": TOKEN, "group_id": GROUP_ID})
    since = Mark(sim)
    assert_token_plan(await fetch_usage("minimax", web_settings(sim, cookie=f"_token={SESSION}", web_token=detail)))
    (request,) = requests_under(since, f"{WEB}/v1")
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert parse_qs(request["query"]) == {"GroupId": [GROUP_ID]}


async def test_curl_pasted_into_minimax_cookie(sim: Any) -> None:
    curl = (
        f"curl '{sim.url}/x' -H 'Cookie: HERTZ-SESSION={SESSION}; minimax_group_id_v2={GROUP_ID}' "
        f"-H 'authorization: Bearer {TOKEN}'"
    )
    since = Mark(sim)
    assert_token_plan(await fetch_usage("minimax", web_settings(sim), env={"MINIMAX_COOKIE": curl}))
    (request,) = requests_under(since, f"{WEB}/v1")
    assert request["headers"]["cookie"] == f"HERTZ-SESSION={SESSION}; minimax_group_id_v2={GROUP_ID}"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert parse_qs(request["query"])["GroupId"] == [GROUP_ID]


async def test_wrong_group_or_cookie_is_an_auth_error_with_the_web_hint(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("minimax", web_settings(sim, cookie=f"HERTZ-SESSION={SESSION}", group_id="1111111"))
    assert info.value.hint == HINT_WEB
    with pytest.raises(AuthError, match="1004"):
        await fetch_usage("minimax", web_settings(sim, cookie="HERTZ-SESSION=logged-out"))


async def test_remains_url_override_keeps_its_query(sim: Any) -> None:
    url = f"{sim.url}/minimax/web_url/v1/api/openplatform/coding_plan/remains?lang=en"
    since = Mark(sim)
    settings = web_settings(sim, cookie=f"HERTZ-SESSION={SESSION}", remains_url=url, group_id=GROUP_ID)
    assert_token_plan(await fetch_usage("minimax", settings))
    (request,) = requests_under(since, f"{WEB}/v1")
    assert parse_qs(request["query"]) == {"lang": ["en"], "GroupId": [GROUP_ID]}


async def test_gone_remains_path_reads_the_coding_plan_page(sim: Any) -> None:
    add_fault(sim, f"{WEB}/v1", "status", status=404, body="not found")
    page = f"{sim.url}/minimax/web_url/user-center/payment/coding-plan?cycle_type=3&from=agentgauge"
    since = Mark(sim)
    usage = await fetch_usage("minimax", web_settings(sim, cookie=f"HERTZ-SESSION={SESSION}", coding_plan_url=page))
    assert_token_plan(usage)
    remains, html, _billing = requests_under(since, WEB)
    assert remains["headers"]["referer"] == page.split("?")[0]
    assert html["path"] == "/minimax/web_url/user-center/payment/coding-plan"
    assert parse_qs(html["query"]) == {"cycle_type": ["3"], "from": ["agentgauge"]}
    assert html["headers"]["accept"].startswith("text/html")


async def test_html_remains_answer_reads_the_page_which_asks_to_log_in(sim: Any) -> None:
    add_fault(sim, f"{WEB}/v1", "html")
    with pytest.raises(AuthError, match="log in"):
        await fetch_usage("minimax", web_settings(sim, cookie="HERTZ-SESSION=logged-out"))


async def test_failing_billing_history_costs_only_the_breakdowns(sim: Any) -> None:
    add_fault(sim, f"{WEB}/account", "status", status=500, body="{}")
    usage = await fetch_usage("minimax", web_settings(sim, cookie=f"HERTZ-SESSION={SESSION}"))
    assert_token_plan(usage)
    assert usage.breakdowns == () and usage.warnings == ()


# -- failures ---------------------------------------------------------------------------------------------------
async def test_401_is_an_auth_error(sim: Any) -> None:
    add_fault(sim, API, "status", status=401, body="{}")
    with pytest.raises(AuthError) as info:
        await fetch_usage("minimax", api_settings(sim))
    assert info.value.status_code == 401 and KEY not in info.value.message


async def test_cloudflare_challenge(sim: Any) -> None:
    add_challenge(sim, API)
    with pytest.raises(ChallengeError):
        await fetch_usage("minimax", api_settings(sim))


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, API, "status", status=429, headers={"retry-after": "20"}, body="{}")
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("minimax", api_settings(sim))
    assert info.value.retry_after == pytest.approx(20, abs=1)


async def test_rate_limit_envelope_over_http(sim: Any) -> None:
    add_fault(sim, API, "body", body='{"base_resp":{"status_code":1002,"status_msg":"rate limit"}}')
    with pytest.raises(RateLimitedError, match="1002"):
        await fetch_usage("minimax", api_settings(sim))


async def test_500_is_upstream(sim: Any) -> None:
    add_fault(sim, API, "status", status=500, body="{}")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("minimax", api_settings(sim))
    assert info.value.status_code == 500


async def test_truncated_json_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, API, "truncate")
    with pytest.raises(ParseError, match="malformed or truncated"):
        await fetch_usage("minimax", api_settings(sim))


async def test_html_instead_of_json_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, API, "html")
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("minimax", api_settings(sim))


async def test_an_answer_without_quota_names_the_field(sim: Any) -> None:
    add_fault(sim, API, "body", body='{"base_resp":{"status_code":0},"data":{}}')
    with pytest.raises(ParseError) as info:
        await fetch_usage("minimax", api_settings(sim))
    assert info.value.field == "model_remains"


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, API, kind)
    assert_token_plan(await fetch_usage("minimax", api_settings(sim)))


async def test_timeout(sim: Any) -> None:
    add_fault(sim, API, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("minimax", api_settings(sim), timeout=0.5)
