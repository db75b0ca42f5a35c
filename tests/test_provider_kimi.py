"""Kimi Code: every sample parsed exactly, both auth sources fetched through the simulator,
and every failure mode mapped to its typed error without leaking a credential."""

from __future__ import annotations

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
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Usage, Window
from agentgauge.providers import kimi
from agentgauge.providers.kimi import PROVIDER, STATS_PATH, SUBSCRIPTION_PATH, USAGES_PATH
from tests.harness import (
    account_config,
    add_challenge,
    add_fault,
    fetch_usage,
    fixture_json,
    sim_requests,
    sim_settings,
)

NOW = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
API_KEY = "sim-kimi-api-key"
TOKEN = "sim-kimi-auth-jwt"
CODE_PREFIX = "/kimi/api_url/"
USAGES_PREFIX = f"/kimi/web_url{USAGES_PATH}"


def web_settings(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("kimi", sim.url, **overrides)
    settings.pop("api_key")
    return settings


def code_settings(sim: Any) -> dict[str, str]:
    settings = sim_settings("kimi", sim.url)
    settings.pop("auth_token")
    return settings


def last_request(sim: Any, path_suffix: str) -> dict[str, Any]:
    return [r for r in sim_requests(sim) if r["path"].endswith(path_suffix)][-1]


def assert_no_secret(exc: AgentGaugeError) -> None:
    for secret in (API_KEY, TOKEN):
        assert secret not in str(exc)
        assert secret not in exc.hint


def assert_consistent(window: Window, limit: float) -> None:
    """A request meter from the simulator: absolute figures agree with the percentage."""
    assert window.limit == limit
    assert window.unit == "requests"
    assert window.used is not None and 0 <= window.used <= limit
    assert window.used_pct == pytest.approx(window.used / limit * 100, abs=1e-3)
    assert window.resets_at is not None


# -- samples ------------------------------------------------------------------------------------
def test_code_api_sample_strings_and_nanoseconds() -> None:
    usage = PROVIDER.parse({"code": fixture_json("kimi", "code-api-usages.json")}, NOW)
    assert usage == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=9.5,
                resets_at=datetime(2026, 1, 6, 15, 5, 24, 374187, tzinfo=UTC),
                window_seconds=18000,
                used=19,
                limit=200,
                unit="requests",
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=18.3105,
                resets_at=datetime(2026, 1, 9, 15, 23, 13, 373329, tzinfo=UTC),
                window_seconds=604800,
                used=375,
                limit=2048,
                unit="requests",
            ),
        ),
        plan=None,
    )


def test_code_api_numeric_sample_used_from_remaining_and_reset_spellings() -> None:
    usage = PROVIDER.parse({"code": fixture_json("kimi", "code-api-usages-numeric.json")}, NOW)
    session, weekly = usage.windows
    # The 5h detail has no 'used': 100 - 99 remaining; its reset is spelt 'reset_at'.
    assert (session.id, session.used, session.limit, session.used_pct) == ("session", 1, 100, 1.0)
    assert session.resets_at == datetime(2026, 1, 6, 13, 33, 2, tzinfo=UTC)
    # The weekly quota spells its reset 'resetAt'.
    assert (weekly.id, weekly.used, weekly.limit, weekly.used_pct) == ("weekly", 40, 1000, 4.0)
    assert weekly.resets_at == datetime(2026, 1, 9, 15, 23, 13, tzinfo=UTC)


def test_web_getusages_sample_with_plan_and_stats() -> None:
    raw = {
        "web": fixture_json("kimi", "web-getusages.json"),
        "subscription": {"subscription": {"goods": {"title": "Allegretto"}}},
        "stats": fixture_json("kimi", "web-subscription-stats.json"),
    }
    usage = PROVIDER.parse(raw, NOW)
    assert usage.plan == "Allegretto"
    session, weekly = usage.windows
    # GetUsages windows win over the stats ratios: absolute figures are kept.
    assert session == Window(
        id="session",
        label="Session (5h)",
        used_pct=100.0,
        resets_at=datetime(2026, 1, 6, 15, 5, 24, 374187, tzinfo=UTC),
        window_seconds=18000,
        used=200,
        limit=200,
        unit="requests",
    )
    assert (weekly.id, weekly.used, weekly.limit, weekly.used_pct) == ("weekly", 375, 2048, 18.3105)


def test_subscription_stats_sample_is_the_fallback() -> None:
    raw = {
        "web": {"usages": [{"scope": "FEATURE_CODING", "detail": None, "limits": None}]},
        "subscription": None,
        "stats": fixture_json("kimi", "web-subscription-stats.json"),
    }
    usage = PROVIDER.parse(raw, NOW)
    assert usage == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=46.89,
                resets_at=datetime(2026, 7, 2, 11, 56, 36, 876796, tzinfo=UTC),
                window_seconds=18000,
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=9.46,
                resets_at=datetime(2026, 7, 9, 6, 56, 36, 876796, tzinfo=UTC),
                window_seconds=604800,
            ),
        ),
        plan=None,
    )


def test_stats_disabled_meter_is_left_out() -> None:
    stats = fixture_json("kimi", "web-subscription-stats.json")
    stats["ratelimitCode5h"]["enabled"] = False
    usage = PROVIDER.parse({"web": {"usages": [{"scope": "FEATURE_CODING"}]}, "stats": stats}, NOW)
    assert [w.id for w in usage.windows] == ["weekly"]


def test_web_picks_the_coding_scope() -> None:
    other = {"scope": "FEATURE_OMNI", "detail": {"limit": "10", "used": "9"}}
    coding = fixture_json("kimi", "web-getusages.json")["usages"][0]
    usage = PROVIDER.parse({"web": {"usages": [other, "junk", coding]}}, NOW)
    assert [(w.id, w.used) for w in usage.windows] == [("session", 200), ("weekly", 375)]


def test_web_without_coding_scope_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        PROVIDER.parse({"web": {"usages": [{"scope": "FEATURE_OMNI", "detail": {"limit": "1"}}]}}, NOW)
    assert info.value.field == "usages[scope=FEATURE_CODING]"


@pytest.mark.parametrize(
    ("unit", "duration", "wid", "seconds"),
    [
        ("TIME_UNIT_MINUTE", 300, "session", 18000),
        ("TIME_UNIT_HOUR", 5, "session", 18000),
        ("TIME_UNIT_SECOND", 3600, "window_1h", 3600),
        ("TIME_UNIT_DAY", 1, "daily", 86400),
        ("TIME_UNIT_DAY", 7, "weekly_2", 604800),
        ("TIME_UNIT_FORTNIGHT", 1, "window", None),
        ("TIME_UNIT_WEEK", 1, "weekly_2", 604800),
    ],
)
def test_window_length_from_duration_and_time_unit(unit: str, duration: int, wid: str, seconds: int | None) -> None:
    payload = {
        "usage": {"limit": "10", "used": "1"},
        "limits": [
            {
                "window": {"duration": str(duration), "timeUnit": unit},
                "detail": {"limit": "4", "used": "1", "resetTime": 1767700000},
            }
        ],
    }
    short = next(w for w in PROVIDER.parse({"code": payload}, NOW).windows if w.id != "weekly")
    assert (short.id, short.window_seconds, short.used_pct) == (wid, seconds, 25.0)
    assert short.resets_at == datetime.fromtimestamp(1767700000, tz=UTC)  # epoch seconds accepted


def short_window(window: dict[str, Any], **entry: Any) -> tuple[Usage, Window]:
    payload = {
        "usage": {"limit": "10", "used": "1"},
        "limits": [{"window": window, "detail": {"limit": "200", "used": "50"}, **entry}],
    }
    usage = PROVIDER.parse({"code": payload}, NOW)
    return usage, next(w for w in usage.windows if w.id != "weekly")


@pytest.mark.parametrize(
    ("window", "entry", "why"),
    [
        ({"duration": None, "timeUnit": "TIME_UNIT_MINUTE"}, {}, "its time unit"),
        ({"timeUnit": "TIME_UNIT_HOUR"}, {}, "its time unit"),
        ({"duration": None}, {"name": "5h rate limit"}, "its name"),
        ({"duration": None, "timeUnit": None}, {}, "its position"),
        ({}, {}, "its position"),
    ],
)
def test_a_limit_without_duration_keeps_its_session_id(window: dict[str, Any], entry: dict[str, Any], why: str) -> None:
    """A null ``duration`` must not rename ``session`` (a new history series): the id comes from what
    else the limit says, and the inference is a warning naming the missing field."""
    usage, short = short_window(window, **entry)
    assert (short.id, short.label, short.window_seconds, short.used_pct) == ("session", "Session (5h)", 18000, 25.0)
    assert [w.message for w in usage.warnings] == [
        f"Kimi: 'limits[0].window.duration' is missing; kept as 'session' by {why}"
    ]


def test_a_limit_without_duration_past_the_first_has_no_guessed_length() -> None:
    payload = fixture_json("kimi", "code-api-usages.json")
    payload["limits"].append({"window": {}, "detail": {"limit": "10", "used": "1"}})
    payload["limits"].append({"window": {"timeUnit": "TIME_UNIT_WEEK"}, "detail": {"limit": "10", "used": "2"}})
    usage = PROVIDER.parse({"code": payload}, NOW)
    assert [(w.id, w.window_seconds) for w in usage.windows] == [
        ("session", 18000),
        ("weekly_2", 604800),
        ("window", None),
        ("weekly", 604800),
    ]
    assert [w.message for w in usage.warnings] == [
        "Kimi: 'limits[1].window.duration' is missing, so the limit's length is unknown",
        "Kimi: 'limits[2].window.duration' is missing; kept as 'weekly' by its time unit",
    ]


def test_a_duration_without_time_unit_is_read_in_minutes() -> None:
    usage, short = short_window({"duration": "300"})
    assert (short.id, short.window_seconds) == ("session", 18000)
    assert [w.message for w in usage.warnings] == ["Kimi: 'limits[0].window.timeUnit' is missing; read as minutes"]


@pytest.mark.parametrize(
    ("level", "plan"),
    [
        ("LEVEL_BASIC", "Moderato"),
        ("LEVEL_INTERMEDIATE", "Allegretto"),
        ("level_advanced", "Allegro"),
        ("LEVEL_TRIAL", "Trial"),  # not named by every client: shown in words, never a guessed tier
        ("", None),
        (None, None),
    ],
)
def test_code_api_membership_level_is_the_plan(level: str | None, plan: str | None) -> None:
    payload = {**fixture_json("kimi", "code-api-usages.json"), "user": {"membership": {"level": level}}}
    assert PROVIDER.parse({"code": payload}, NOW).plan == plan


def test_zero_or_missing_limit_leaves_the_window_out() -> None:
    payload = {
        "usage": {"limit": "0", "used": "0"},
        "limits": [{"window": {"duration": 300, "timeUnit": "TIME_UNIT_MINUTE"}, "detail": {"used": "3"}}],
    }
    assert PROVIDER.parse({"code": payload}, NOW).windows == ()


def test_missing_used_and_remaining_is_a_warning_naming_the_field() -> None:
    limits = fixture_json("kimi", "code-api-usages.json")["limits"]
    usage = PROVIDER.parse({"code": {"usage": {"limit": "100"}, "limits": limits}}, NOW)
    assert [w.id for w in usage.windows] == ["session"]  # the 5-hour limit is still shown
    assert [w.message for w in usage.warnings] == ["Kimi: 'usage.used' is missing and so is 'remaining'"]


@pytest.mark.parametrize("payload", [{}, {"usage": None, "limits": None}, {"other": 1}])
def test_missing_usage_and_limits_is_a_parse_error(payload: dict[str, Any]) -> None:
    with pytest.raises(ParseError) as info:
        PROVIDER.parse({"code": payload}, NOW)
    assert info.value.field == "usage"


def test_non_numeric_count_is_a_warning_naming_the_field() -> None:
    usage = PROVIDER.parse({"code": {"usage": {"limit": "lots", "used": "1"}}}, NOW)
    assert usage.windows == ()
    assert "'usage.limit'" in usage.warnings[0].message


def test_a_drifting_limit_entry_is_a_warning_and_the_rest_is_shown() -> None:
    payload = fixture_json("kimi", "code-api-usages.json")
    payload["limits"] = ["junk", {"window": {"duration": "soon", "timeUnit": "TIME_UNIT_MINUTE"}}, *payload["limits"]]
    usage = PROVIDER.parse({"code": payload}, NOW)
    assert [(w.id, w.used) for w in usage.windows] == [("session", 19), ("weekly", 375)]
    assert [w.message.split("'")[1] for w in usage.warnings] == ["limits[0]", "limits[1].window.duration"]


def test_declarations() -> None:
    assert [a.id for a in PROVIDER.auth] == ["api_key", "cli_login", "web"]
    assert [a.source for a in PROVIDER.auth] == ["api_key", "oauth", "cookie"]
    assert [a.label for a in PROVIDER.auth] == ["API key", "Kimi Code CLI login", "kimi.com cookie"]
    assert {s.name: s.env_var("kimi") for s in PROVIDER.settings} == {
        "api_key": "AGENTGAUGE_KIMI_API_KEY",
        "auth_token": "AGENTGAUGE_KIMI_AUTH_TOKEN",
        "api_url": "AGENTGAUGE_KIMI_API_URL",
        "web_url": "AGENTGAUGE_KIMI_WEB_URL",
    }
    assert set(PROVIDER.secret_settings()) == {"api_key", "auth_token"}
    assert PROVIDER.urls == {"api_url": "https://api.kimi.com", "web_url": "https://www.kimi.com"}


# -- fetch through the simulator --------------------------------------------------------------------
async def test_fetch_code_api(sim: Any) -> None:
    usage = await fetch_usage("kimi", code_settings(sim))
    session, weekly = usage.windows
    assert (session.id, session.window_seconds, weekly.id, weekly.window_seconds) == (
        "session",
        18000,
        "weekly",
        604800,
    )
    assert_consistent(session, 200)
    assert_consistent(weekly, 2048)
    assert usage.plan == "Moderato"  # user.membership.level LEVEL_BASIC
    request = last_request(sim, "/coding/v1/usages")
    assert request["method"] == "GET"
    assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert "kimi-auth" not in request["headers"].get("cookie", "")


async def test_fetch_web(sim: Any) -> None:
    settings = web_settings(sim)
    usage = await fetch_usage("kimi", settings)
    assert usage.plan == "Moderato"  # GetSubscription's subscription.goods.title
    session, weekly = usage.windows
    assert_consistent(session, 200)
    assert_consistent(weekly, 2048)
    request = last_request(sim, USAGES_PATH)
    assert request["method"] == "POST"
    assert json.loads(request["body"]) == {"scope": ["FEATURE_CODING"]}
    headers = request["headers"]
    assert headers["connect-protocol-version"] == "1"
    assert headers["x-msh-platform"] == "web"
    assert headers["content-type"] == "application/json"
    assert headers["origin"] == settings["web_url"]
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["cookie"] == f"kimi-auth={TOKEN}"
    for path in (SUBSCRIPTION_PATH, STATS_PATH):
        extra = last_request(sim, path)
        assert json.loads(extra["body"]) == {}
        assert extra["headers"]["connect-protocol-version"] == "1"


async def test_usage_moves_with_the_simulator_clock(sim: Any) -> None:
    before = (await fetch_usage("kimi", code_settings(sim))).windows[0]
    httpx.post(f"{sim.url}/__sim/advance", json={"seconds": 3 * 3600}).raise_for_status()
    try:
        after = (await fetch_usage("kimi", code_settings(sim))).windows[0]
    finally:
        httpx.post(f"{sim.url}/__sim/advance", json={"seconds": -3 * 3600}).raise_for_status()
    assert (after.used, after.resets_at) != (before.used, before.resets_at)


async def test_sim_rejects_scope_string_like_upstream(sim: Any) -> None:
    url = web_settings(sim)["web_url"] + USAGES_PATH
    headers = {"connect-protocol-version": "1", "authorization": f"Bearer {TOKEN}"}
    response = httpx.post(url, json={"scope": "FEATURE_CODING"}, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_argument", "message": "scope must be a list"}
    missing = httpx.post(url, json={"scope": ["FEATURE_CODING"]}, headers={"authorization": f"Bearer {TOKEN}"})
    assert missing.status_code == 400
    cookie_only = httpx.post(
        url,
        json={"scope": ["FEATURE_CODING"]},
        headers={"connect-protocol-version": "1", "cookie": f"kimi-auth={TOKEN}"},
    )
    assert cookie_only.status_code == 200
    assert cookie_only.json()["usages"][0]["detail"]["limit"] == "2048"  # numbers as strings


async def test_wrong_token_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("kimi", web_settings(sim, auth_token="not-the-token"))
    assert "not-the-token" not in str(info.value)
    with pytest.raises(AuthError):
        await fetch_usage("kimi", sim_settings("kimi", sim.url, api_key="wrong-key"))


async def test_optional_calls_failing_do_not_fail_the_fetch(sim: Any) -> None:
    add_fault(sim, f"/kimi/web_url{SUBSCRIPTION_PATH}", "status", status=500, body="{}")
    add_fault(sim, f"/kimi/web_url{STATS_PATH}", "status", status=401, body='{"code":"unauthenticated","message":"no"}')
    usage = await fetch_usage("kimi", web_settings(sim))
    assert usage.plan is None
    assert [w.id for w in usage.windows] == ["session", "weekly"]


async def test_web_falls_back_to_stats_when_getusages_is_empty(sim: Any) -> None:
    add_fault(sim, USAGES_PREFIX, "body", body='{"usages":[{"scope":"FEATURE_CODING","detail":null,"limits":null}]}')
    usage = await fetch_usage("kimi", web_settings(sim))
    assert [w.id for w in usage.windows] == ["session", "weekly"]
    assert all(w.used is None and w.resets_at is not None for w in usage.windows)
    assert usage.plan == "Moderato"


async def test_web_with_nothing_usable_names_the_field(sim: Any) -> None:
    add_fault(sim, USAGES_PREFIX, "body", body='{"usages":[{"scope":"FEATURE_CODING","detail":null}]}')
    add_fault(sim, f"/kimi/web_url{STATS_PATH}", "status", status=500, body="")
    with pytest.raises(ParseError) as info:
        await fetch_usage("kimi", web_settings(sim))
    assert info.value.field == "usages[0].detail"


async def test_discovers_api_key_from_environment(sim: Any) -> None:
    settings = {"api_url": f"{sim.url}/kimi/api_url", "web_url": f"{sim.url}/kimi/web_url"}
    usage = await fetch_usage("kimi", settings, env={"KIMI_CODE_API_KEY": API_KEY})
    assert [w.id for w in usage.windows] == ["session", "weekly"]
    config = account_config("kimi", settings, env={"KIMI_CODE_API_KEY": API_KEY, "KIMI_AUTH_TOKEN": TOKEN})
    creds = auth.resolve(PROVIDER, config.accounts[0], config)
    assert [(c.auth.id, c.source, c.origin) for c in creds] == [
        ("api_key", "api_key", "environment variable KIMI_CODE_API_KEY"),
        ("web", "cookie", "environment variable KIMI_AUTH_TOKEN"),
    ]


async def test_discovers_auth_token_from_environment(sim: Any) -> None:
    settings = {"api_url": f"{sim.url}/kimi/api_url", "web_url": f"{sim.url}/kimi/web_url"}
    usage = await fetch_usage("kimi", settings, env={"KIMI_AUTH_TOKEN": TOKEN})
    assert usage.plan == "Moderato"
    assert last_request(sim, USAGES_PATH)["headers"]["cookie"] == f"kimi-auth={TOKEN}"


def test_nothing_configured_resolves_nothing(tmp_path: Path) -> None:
    config = account_config("kimi", {}, env={}, home=tmp_path)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []


# -- failures ------------------------------------------------------------------------------------------
BOTH = pytest.mark.parametrize("path", ["code", "web"])


def settings_for(sim: Any, path: str) -> dict[str, str]:
    return code_settings(sim) if path == "code" else web_settings(sim)


def prefix_for(path: str) -> str:
    return CODE_PREFIX if path == "code" else USAGES_PREFIX


@BOTH
async def test_401_is_an_auth_error(sim: Any, path: str) -> None:
    add_fault(sim, prefix_for(path), "status", status=401, body='{"code":"unauthenticated","message":"token expired"}')
    with pytest.raises(AuthError) as info:
        await fetch_usage("kimi", settings_for(sim, path))
    assert info.value.status_code == 401
    assert_no_secret(info.value)


@BOTH
async def test_cloudflare_challenge(sim: Any, path: str) -> None:
    add_challenge(sim, prefix_for(path))
    with pytest.raises(ChallengeError) as info:
        await fetch_usage("kimi", settings_for(sim, path))
    assert_no_secret(info.value)


@BOTH
async def test_429_carries_retry_after(sim: Any, path: str) -> None:
    add_fault(
        sim,
        prefix_for(path),
        "status",
        status=429,
        headers={"retry-after": "30"},
        body='{"code":"resource_exhausted","message":"slow down"}',
    )
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("kimi", settings_for(sim, path))
    assert info.value.retry_after == pytest.approx(30, abs=1)
    assert_no_secret(info.value)


@BOTH
async def test_500_is_upstream(sim: Any, path: str) -> None:
    add_fault(sim, prefix_for(path), "status", status=500, body='{"code":"internal","message":"boom"}')
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("kimi", settings_for(sim, path))
    assert info.value.status_code == 500
    assert not isinstance(info.value, ChallengeError)
    assert_no_secret(info.value)


async def test_connect_invalid_argument_is_a_clear_upstream_error(sim: Any) -> None:
    add_fault(
        sim,
        USAGES_PREFIX,
        "status",
        status=400,
        body=f'{{"code":"invalid_argument","message":"scope must be a list (token {TOKEN})"}}',
    )
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("kimi", web_settings(sim))
    message = str(info.value)
    assert "invalid_argument" in message and "scope must be a list" in message
    assert_no_secret(info.value)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("unauthenticated", AuthError),
        ("permission_denied", AuthError),
        ("resource_exhausted", RateLimitedError),
        ("failed_precondition", UpstreamError),
    ],
)
async def test_connect_error_codes_on_400(sim: Any, code: str, error: type[Exception]) -> None:
    add_fault(sim, USAGES_PREFIX, "status", status=400, body=json.dumps({"code": code, "message": "m"}))
    with pytest.raises(error) as info:
        await fetch_usage("kimi", web_settings(sim))
    assert code in str(info.value)


async def test_400_without_a_connect_body(sim: Any) -> None:
    add_fault(sim, USAGES_PREFIX, "status", status=400, body="bad request")
    with pytest.raises(UpstreamError, match="HTTP 400"):
        await fetch_usage("kimi", web_settings(sim))


def test_connect_error_mapping_is_pure() -> None:
    assert isinstance(kimi._connect_error({"code": "unauthenticated"}, "x", TOKEN), AuthError)
    assert isinstance(kimi._connect_error(None, "x", TOKEN), UpstreamError)


@BOTH
async def test_truncated_json_is_a_parse_error(sim: Any, path: str) -> None:
    add_fault(sim, prefix_for(path), "truncate")
    with pytest.raises(ParseError, match="malformed or truncated"):
        await fetch_usage("kimi", settings_for(sim, path))


@BOTH
async def test_html_instead_of_json_is_a_parse_error(sim: Any, path: str) -> None:
    add_fault(sim, prefix_for(path), "html")
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("kimi", settings_for(sim, path))


@BOTH
@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, path: str, kind: str) -> None:
    add_fault(sim, f"/kimi/{'api_url' if path == 'code' else 'web_url'}/", kind)
    usage = await fetch_usage("kimi", settings_for(sim, path))
    session, weekly = usage.windows
    assert_consistent(session, 200)
    assert_consistent(weekly, 2048)
    assert usage.plan == "Moderato"


async def test_body_with_null_limits_keeps_the_weekly_window(sim: Any) -> None:
    add_fault(
        sim,
        CODE_PREFIX,
        "body",
        body='{"usage":{"limit":"1024","used":"256","resetTime":"2026-01-09T15:23:13.373329235Z"},"limits":null}',
    )
    usage = await fetch_usage("kimi", code_settings(sim))
    assert usage.windows == (
        Window(
            id="weekly",
            label="Weekly",
            used_pct=25.0,
            resets_at=datetime(2026, 1, 9, 15, 23, 13, 373329, tzinfo=UTC),
            window_seconds=604800,
            used=256,
            limit=1024,
            unit="requests",
        ),
    )


async def test_body_with_null_windows_names_the_field(sim: Any) -> None:
    add_fault(sim, CODE_PREFIX, "body", body='{"usage":null,"limits":null}')
    with pytest.raises(ParseError) as info:
        await fetch_usage("kimi", code_settings(sim))
    assert info.value.field == "usage"


@BOTH
async def test_timeout(sim: Any, path: str) -> None:
    add_fault(sim, prefix_for(path), "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError) as info:
        await fetch_usage("kimi", settings_for(sim, path), timeout=0.5)
    assert_no_secret(info.value)


def test_cli_login_is_its_own_source_with_its_label(tmp_path: Path) -> None:
    folder = tmp_path / ".kimi-code" / "credentials"
    folder.mkdir(parents=True)
    (folder / "kimi-code.json").write_text(json.dumps({"access_token": API_KEY}))
    config = account_config("kimi", {}, env={}, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.auth.id, creds.auth.label, creds.source) == ("cli_login", "Kimi Code CLI login", "cli")
    with_key = account_config("kimi", {}, env={"KIMI_CODE_API_KEY": "key-from-env"}, home=tmp_path)
    first, second = auth.resolve(PROVIDER, with_key.accounts[0], with_key)
    assert (first.auth.label, first.source, second.auth.id) == ("API key", "api_key", "cli_login")


# What curl sends for a POST on plain http (its default HTTP/2 upgrade attempt), as browser-TLS
# clients do too: the server must still read the body (httptools drops it; h11 keeps it).
H2C = {"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAAQCAAAAAAIAAAAA"}


@pytest.mark.parametrize(
    ("path", "body", "key"),
    [
        (USAGES_PATH, '{"scope":["FEATURE_CODING"]}', "usages"),
        (SUBSCRIPTION_PATH, "{}", "subscription"),
        (STATS_PATH, "{}", "ratelimitCode5h"),
    ],
    ids=["GetUsages", "GetSubscription", "GetSubscriptionStats"],
)
def test_gateway_takes_a_post_that_asks_for_h2c(sim: Any, path: str, body: str, key: str) -> None:
    headers = {**H2C, "Content-Type": "application/json", "connect-protocol-version": "1"}
    headers["Authorization"] = f"Bearer {TOKEN}"
    answer = httpx.post(f"{sim.url}/kimi/web_url{path}", content=body, headers=headers)
    assert answer.status_code == 200 and key in answer.json()
    request = sim_requests(sim)[-1]
    assert request["headers"]["upgrade"] == "h2c" and request["body"] == body
