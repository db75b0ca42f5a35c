"""Codex adapter: every sample parsed exactly, each auth source fetched from the simulator
(or a real fake ``codex app-server`` speaking JSON-RPC), and the typed errors with their hints."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from agentgauge.errors import (
    AgentGaugeError,
    AuthError,
    ChallengeError,
    ConfigError,
    FetchTimeoutError,
    ParseError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Breakdown, BreakdownItem, Usage, Window
from agentgauge.providers import _jwt, registry
from agentgauge.providers.codex import CLIENT_ID, DAILY_PATH, TOKEN_PATH, extras, parsing, text

from .harness import add_fault, fetch_usage, fixture_json, fixture_text, sim_requests, sim_settings

PROVIDER = registry.get("codex")
SECRETS = ("sim-codex-access-token", "sim-codex-session")
URL = "/codex/url/"
NOW = datetime(2025, 11, 25, 10, 0, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def win(usage: Usage, window_id: str) -> Window:
    found = next((w for w in usage.windows if w.id == window_id), None)
    assert found is not None, f"no window {window_id} in {[w.id for w in usage.windows]}"
    return found


def ids(usage: Usage) -> list[str]:
    return [w.id for w in usage.windows]


def assert_no_secret(exc: BaseException) -> None:
    text = str(exc) + " " + getattr(exc, "hint", "")
    for secret in SECRETS:
        assert secret not in text


def parse_sample(name: str) -> Usage:
    return PROVIDER.parse({"usage": fixture_json("codex", name)}, NOW)


# -- samples -------------------------------------------------------------------------------------
def test_wham_pro() -> None:
    usage = parse_sample("wham-usage-pro.json")
    assert usage.plan == "pro"
    assert usage.windows == (
        Window(
            id="session",
            label="Session (5h)",
            used_pct=12.0,
            resets_at=utc("2025-12-28T18:54:28"),
            window_seconds=18000,
        ),
    )


def test_wham_free_has_only_a_weekly_window() -> None:
    usage = parse_sample("wham-usage-free.json")
    assert usage.plan == "free"
    assert usage.windows == (
        Window(id="weekly", label="Weekly", used_pct=0.0, resets_at=utc("2026-04-06T09:44:53"), window_seconds=604800),
    )


def test_wham_primary_null_and_odd_length() -> None:
    usage = parse_sample("wham-usage-primary-null.json")
    assert usage.plan is None
    assert usage.windows == (
        Window(
            id="window_9h", label="9h window", used_pct=17.0, resets_at=utc("2025-12-28T18:54:28"), window_seconds=32400
        ),
    )


def test_wham_pro_with_additional_limits() -> None:
    usage = parse_sample("wham-usage-pro-additional-limits.json")
    assert ids(usage) == ["session", "weekly", "session_gpt_5_3_codex_spark", "weekly_gpt_5_3_codex_spark"]
    assert (win(usage, "session").used_pct, win(usage, "weekly").used_pct) == (22.0, 43.0)
    assert win(usage, "weekly").resets_at == utc("2026-01-03T02:38:34")
    spark = win(usage, "session_gpt_5_3_codex_spark")
    assert (spark.label, spark.used_pct, spark.resets_at) == (
        "Session (5h) · GPT-5.3-Codex-Spark",
        30.0,
        utc("2025-12-28T18:54:28"),
    )
    assert win(usage, "weekly_gpt_5_3_codex_spark").used_pct == 100.0


def test_additional_limits_duplicates_get_unique_ids() -> None:
    usage = parsing.parse_wham(
        {"rate_limit": None, "additional_rate_limits": fixture_json("codex", "additional-rate-limits-spark.json")}, NOW
    )
    assert [(w.id, w.used_pct, w.label) for w in usage.windows] == [
        ("session_gpt_5_3_codex_mini", 12.0, "Session (5h) · GPT-5.3-Codex-Mini"),
        ("session_gpt_5_3_codex_mini_2", 99.0, "Session (5h) · GPT-5.3-Codex-Mini"),
    ]
    assert all(w.resets_at == utc("2025-12-28T18:54:28") for w in usage.windows)


def test_cli_rpc_decode_error_embeds_the_wham_body() -> None:
    body = parsing.embedded_json(fixture_text("codex", "cli-rpc-decode-error.txt"))
    usage = PROVIDER.parse({"usage": body}, NOW)
    assert usage.plan == "prolite"  # an unknown plan is kept as sent
    assert usage.windows == (
        Window(
            id="session", label="Session (5h)", used_pct=4.0, resets_at=utc("2026-04-15T01:25:59"), window_seconds=18000
        ),
        Window(id="weekly", label="Weekly", used_pct=19.0, resets_at=utc("2026-04-17T03:09:44"), window_seconds=604800),
    )


def test_usage_percent_strings_and_relative_reset() -> None:
    payload = {
        "plan_type": "plus",
        "rate_limit": {
            "primary_window": {"usage_percent": "42.5", "reset_after_seconds": "3600"},
            "secondary_window": {"used_percent": 88, "reset_after_seconds": 7200, "limit_window_seconds": "604800"},
        },
        "credits": {"has_credits": False, "unlimited": False, "balance": "0E-10"},
    }
    usage = parsing.parse_wham(payload, NOW)
    assert usage.windows == (
        Window(id="session", label="Session (5h)", used_pct=42.5, resets_at=utc("2025-11-25T11:00:00")),
        Window(id="weekly", label="Weekly", used_pct=88.0, resets_at=utc("2025-11-25T12:00:00"), window_seconds=604800),
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"plan_type": "pro"}, "'rate_limit'"),
        ({"rate_limit": "limited"}, "'rate_limit'"),
        ({"rate_limit": {"primary_window": {"reset_at": 1}}}, "'rate_limit.primary_window'"),
        ({"rate_limit": {"primary_window": {"used_percent": "a lot"}}}, "'rate_limit.primary_window.used_percent'"),
        ({"rate_limit": {"primary_window": []}}, "'rate_limit.primary_window'"),
    ],
)
def test_wham_drift_is_a_warning_naming_the_field(payload: dict[str, Any], field: str) -> None:
    weekly = {"used_percent": 30, "limit_window_seconds": 604800, "reset_at": 1764633600}
    if isinstance(payload.get("rate_limit"), dict):
        payload["rate_limit"]["secondary_window"] = weekly
    usage = parsing.parse_wham(payload, NOW)
    assert ids(usage) == (["weekly"] if isinstance(payload.get("rate_limit"), dict) else [])
    assert len(usage.warnings) == 1 and field in usage.warnings[0].message
    assert usage.warnings[0].kind == "parse"


def test_wham_that_is_not_an_object_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as err:
        parsing.parse_wham([], NOW)
    assert err.value.field == "$"


def test_additional_limit_without_a_name_is_a_warning() -> None:
    spark = fixture_json("codex", "additional-rate-limits-spark.json")
    payload = {"rate_limit": None, "additional_rate_limits": [{"rate_limit": spark[0]["rate_limit"]}, *spark, 7]}
    usage = parsing.parse_wham(payload, NOW)
    assert ids(usage) == ["session_gpt_5_3_codex_mini", "session_gpt_5_3_codex_mini_2"]
    assert [w.message for w in usage.warnings] == [
        "Codex: 'additional_rate_limits[0]' names no limit_name or metered_feature",
        "Codex: 'additional_rate_limits[3]' is not an object",
    ]


def test_unreadable_reset_keeps_the_window() -> None:
    payload = {"rate_limit": {"primary_window": {"used_percent": 5, "reset_at": "tomorrow-ish"}}}
    usage = parsing.parse_wham(payload, NOW)
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [("session", 5.0, None)]
    assert "rate_limit.primary_window.reset_at" in usage.warnings[0].message


def test_credits_are_a_balance_never_a_window() -> None:
    payload = {"rate_limit": None, "credits": {"has_credits": True, "unlimited": False, "balance": 557}}
    usage = parsing.parse_wham(payload, NOW)
    assert usage.windows == ()
    assert usage.balances == (Balance(id="credits", label="Credits", unit="credits", remaining=557.0),)


@pytest.mark.parametrize(
    ("credits", "expected"),
    [
        ({"has_credits": True, "unlimited": False, "balance": "125.50"}, (125.5, False)),
        ({"has_credits": True, "unlimited": True, "balance": None}, (None, True)),
        ({"has_credits": True, "unlimited": False, "balance": "0E-10"}, (0.0, False)),
        ({"has_credits": False, "unlimited": False, "balance": 12}, (12.0, False)),
        ({"has_credits": False, "unlimited": False, "balance": "0"}, None),  # the plain Plus/Pro case
        ({"has_credits": False, "unlimited": False}, None),
        (None, None),
    ],
)
def test_credits_balance_variations(credits: Any, expected: tuple[float | None, bool] | None) -> None:
    balance = extras.credits_balance(credits, "credits")
    assert (None if balance is None else (balance.remaining, balance.unlimited)) == expected


def test_credits_that_drift_are_a_warning_and_the_windows_stay() -> None:
    usage = parse_sample("wham-usage-pro.json")
    assert usage.balances == ()  # has_credits false, balance "0"
    drifted = {**fixture_json("codex", "wham-usage-pro.json"), "credits": {"balance": "plenty"}}
    usage = parsing.parse_wham(drifted, NOW)
    assert ids(usage) == ["session"] and usage.balances == ()
    assert "credits.balance" in usage.warnings[0].message


# -- daily breakdown ---------------------------------------------------------------------------------
def test_daily_breakdown_sample_keeps_the_last_14_days() -> None:
    raw = {"usage": {"rate_limit": None}, "daily": fixture_json("codex", "daily-token-usage-breakdown.json")}
    usage = PROVIDER.parse(raw, NOW)
    (daily,) = usage.breakdowns
    assert (daily.id, daily.label, daily.unit) == ("daily_tokens", "Usage per day (%)", "percent")
    assert [i.key for i in daily.items] == [f"2025-11-{d:02d}" for d in range(11, 25)]
    assert daily.items[0] == BreakdownItem(key="2025-11-11", value=16.5)  # cli 12.5 + vscode 4
    assert daily.items[-1] == BreakdownItem(key="2025-11-24", value=19.0)
    assert sum(i.value for i in daily.items) == 203.5
    assert usage.warnings == ()


def test_daily_breakdown_units_default_to_tokens_and_future_days_are_left_out() -> None:
    payload = {
        "data": [
            {"date": "2025-11-26", "product_surface_usage_values": {"cli": 5}},
            {"date": "2025-11-24", "product_surface_usage_values": {"cli": "1200", "desktop_app": 300}},
            {"date": "2025-11-24", "product_surface_usage_values": {"cloud": 100}},
            {"date": "2025-11-25T00:00:00Z", "product_surface_usage_values": {}},
        ]
    }
    breakdown = extras.daily_breakdown(payload, NOW, parsing.Salvage())
    assert breakdown == Breakdown(
        id="daily_tokens",
        label="Tokens per day",
        unit="tokens",
        items=(BreakdownItem(key="2025-11-24", value=1600.0), BreakdownItem(key="2025-11-25", value=0.0)),
    )


def test_daily_breakdown_drift_is_narrow() -> None:
    payload = {
        "units": "credits",
        "data": [
            {"date": "2025-11-20", "product_surface_usage_values": {"cli": 2, "new_surface": {"n": 1}}},
            {"date": "someday", "product_surface_usage_values": {"cli": 2}},
            {"date": "2025-11-21"},
            {"date": "2025-11-22", "product_surface_usage_values": {"cli": 3.5, "odd": "n/a"}},
        ],
    }
    usage = PROVIDER.parse({"usage": {"rate_limit": None}, "daily": payload}, NOW)
    (daily,) = usage.breakdowns
    assert (daily.label, [(i.key, i.value) for i in daily.items]) == (
        "Credits per day",
        [("2025-11-20", 2.0), ("2025-11-22", 3.5)],
    )
    messages = [w.message for w in usage.warnings]
    assert "'daily.data[1].date'" in messages[0] and "'daily.data[2].product_surface_usage_values'" in messages[1]
    assert messages[2].startswith("Codex: 2 daily amount(s) are not numbers")
    assert "daily.data[0].product_surface_usage_values.new_surface" in messages[2]
    no_list = PROVIDER.parse({"usage": {"rate_limit": None}, "daily": {"units": "percent"}}, NOW)
    assert no_list.breakdowns == () and "daily.data" in no_list.warnings[0].message


def test_spend_controls_monthly_usage() -> None:
    window = parsing.spend_window(fixture_json("codex", "spend-controls-monthly-usage.json"))
    assert window == Window(
        id="monthly_spend", label="Monthly spend cap", used_pct=0.1714, used=12.0, limit=7000.0, unit="credits"
    )
    assert (
        parsing.spend_window(
            {"current_month_usage": 5, "effective_monthly_limit": {"limit": 100, "enforcement_mode": "disabled"}}
        )
        is None
    )
    assert parsing.spend_window({"current_month_usage": 5, "effective_monthly_limit": {"limit": 0}}) is None
    negative = parsing.spend_window({"current_month_usage": "-20", "effective_monthly_limit": {"limit": "7000"}})
    assert negative is not None and (negative.used, negative.used_pct) == (0.0, 0.0)


def test_individual_limit_inside_wham_is_the_spend_window() -> None:
    payload = {
        "rate_limit": None,
        "spend_control": {"reached": False, "individual_limit": {"limit": 7000, "used": 1000, "remaining_percent": 85}},
    }
    assert parsing.wants_spend_controls(payload) is False
    usage = parsing.parse_wham(payload, NOW)
    assert [(w.id, w.used_pct, w.used, w.limit) for w in usage.windows] == [("monthly_spend", 14.2857, 1000.0, 7000.0)]


def test_cli_status_text_percent_left() -> None:
    usage = text.parse_status_text(fixture_text("codex", "cli-status-text.txt"), NOW, ZoneInfo("UTC"))
    assert usage.windows == (
        Window(id="session", label="Session (5h)", used_pct=25.0, window_seconds=18000),
        Window(id="weekly", label="Weekly", used_pct=75.0, window_seconds=604800),
    )


def test_cli_status_ansi_with_local_reset_times() -> None:
    usage = text.parse_status_text(fixture_text("codex", "cli-status-ansi.txt"), NOW, ZoneInfo("Europe/Berlin"))
    assert usage.windows == (
        Window(
            id="session",
            label="Session (5h)",
            used_pct=50.0,
            resets_at=utc("2025-11-26T08:01:00"),
            window_seconds=18000,
        ),
        Window(id="weekly", label="Weekly", used_pct=15.0, resets_at=utc("2025-11-27T03:01:00"), window_seconds=604800),
    )
    with pytest.raises(ParseError):
        text.parse_status_text("Model: gpt\nCredits: 3 credits\n", NOW)


def test_web_dashboard_page() -> None:
    usage = text.parse_dashboard_html(fixture_text("codex", "web-dashboard-pro.html"))
    assert usage.plan == "prolite"
    assert usage.windows == (
        Window(id="session", label="Session (5h)", used_pct=28.0, window_seconds=18000),
        Window(id="weekly", label="Weekly", used_pct=59.0, window_seconds=604800),
    )
    with pytest.raises(ParseError):
        text.parse_dashboard_html("<html><body>Sign in</body></html>")


def test_rpc_result() -> None:
    result = {
        "rateLimits": {
            "limitId": "codex",
            "planType": "plus",
            "primary": {"usedPercent": 10, "windowDurationMins": 300, "resetsAt": 1766948068},
            "secondary": {"usedPercent": "61", "windowDurationMins": 10080, "resetsAt": None},
            "credits": {"hasCredits": True, "unlimited": False, "balance": "12"},
        },
        "rateLimitsByLimitId": {
            "codex": {"limitId": "codex", "primary": {"usedPercent": 10, "windowDurationMins": 300}},
            "codex_spark": {
                "limitId": "codex_spark",
                "limitName": "GPT-5.3-Codex-Spark",
                "primary": {"usedPercent": 3, "windowDurationMins": 300},
                "secondary": None,
            },
        },
    }
    usage = parsing.parse_rpc(result)
    assert usage.plan == "plus"
    assert usage.balances == (Balance(id="credits", label="Credits", unit="credits", remaining=12.0),)
    assert [(w.id, w.used_pct, w.window_seconds) for w in usage.windows] == [
        ("session", 10.0, 18000),
        ("weekly", 61.0, 604800),
        ("session_codex_spark", 3.0, 18000),
    ]
    assert win(usage, "session").resets_at == utc("2025-12-28T18:54:28")
    assert win(usage, "session_codex_spark").label == "Session (5h) · GPT-5.3-Codex-Spark"
    with pytest.raises(ParseError) as err:
        parsing.parse_rpc({"other": 1})
    assert err.value.field == "rateLimits"


def test_embedded_json_edge_cases() -> None:
    assert parsing.embedded_json("no body here") is None
    assert parsing.embedded_json('body={"a": "}{", "b": {"c": 1}} trailing') == {"a": "}{", "b": {"c": 1}}
    assert parsing.embedded_json('body={"a": 1') is None


# -- auth.json discovery -------------------------------------------------------------------------
def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


ID_CLAIMS = {
    "https://api.openai.com/profile": {"email": "dev@example.com"},
    "https://api.openai.com/auth": {"chatgpt_plan_type": "plus", "chatgpt_account_id": "sim-account"},
}


def write_auth(directory: Path, tokens: dict[str, Any], **root: Any) -> Path:
    data = fixture_json("codex", "auth-json.json")
    data["tokens"] = tokens
    data.update(root)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "auth.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def from_file(sim: Any, **overrides: str) -> dict[str, str]:
    return sim_settings("codex", sim.url, **({"access_token": "", "session_token": "", "account_id": ""} | overrides))


def test_identity_from_the_id_token() -> None:
    assert parsing.identity_from_claims(_jwt.claims(jwt(ID_CLAIMS))) == {
        "email": "dev@example.com",
        "plan": "plus",
        "account_id": "sim-account",
    }


async def test_oauth_from_codex_home_auth_json(sim: Any, tmp_path: Path) -> None:
    path = write_auth(
        tmp_path / ".codex",
        {
            "access_token": "sim-codex-access-token",
            "refresh_token": "r",
            "id_token": jwt(ID_CLAIMS),
            "account_id": "sim-account",
        },
    )
    before = path.read_bytes()
    usage = await fetch_usage("codex", from_file(sim), home=tmp_path)
    assert usage.plan == "pro"  # plan_type of the usage answer wins over the id_token claim
    assert ids(usage) == ["session", "weekly", "session_gpt_5_3_codex_spark", "weekly_gpt_5_3_codex_spark"]
    assert path.read_bytes() == before
    request = [r for r in sim_requests(sim) if r["path"] == "/codex/url/backend-api/wham/usage"][-1]
    headers = request["headers"]
    assert headers["authorization"] == "Bearer sim-codex-access-token"
    assert headers["chatgpt-account-id"] == "sim-account"
    assert headers["user-agent"] == "codex-cli"
    assert headers["accept"] == "application/json"


async def test_oauth_camel_case_via_codex_home_env_and_account_from_claims(sim: Any, tmp_path: Path) -> None:
    write_auth(tmp_path / "custom", {"accessToken": "sim-codex-access-token", "idToken": jwt(ID_CLAIMS)})
    usage = await fetch_usage("codex", from_file(sim), home=tmp_path, env={"CODEX_HOME": str(tmp_path / "custom")})
    assert "session" in ids(usage)
    assert sim_requests(sim)[-1]["headers"]["chatgpt-account-id"] == "sim-account"


async def test_auth_json_with_only_an_api_key(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / ".codex" / "auth.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"OPENAI_API_KEY": "sk-proj-abcdefghijklmnop", "tokens": None}))
    with pytest.raises(ConfigError) as err:
        await fetch_usage("codex", from_file(sim), home=tmp_path)
    assert "codex login" in err.value.hint
    assert "sk-proj" not in str(err.value)


async def test_malformed_auth_json_names_the_file(sim: Any, tmp_path: Path) -> None:
    path = tmp_path / ".codex" / "auth.json"
    path.parent.mkdir()
    path.write_text('{"tokens": {"access_token": "leaky-token"')
    with pytest.raises(ConfigError) as err:
        await fetch_usage("codex", from_file(sim), home=tmp_path)
    assert str(path) in str(err.value) and "leaky" not in str(err.value)


# -- oauth source through the simulator ----------------------------------------------------------
async def test_oauth_direct_token(sim: Any) -> None:
    usage = await fetch_usage("codex", sim_settings("codex", sim.url))
    assert ids(usage) == ["session", "weekly", "session_gpt_5_3_codex_spark", "weekly_gpt_5_3_codex_spark"]
    for window in usage.windows:
        assert 0 <= window.used_pct <= 100
        assert window.resets_at is not None and window.resets_at > datetime.now(UTC)
    assert win(usage, "weekly").window_seconds == 604800


async def test_without_chatgpt_account_id_the_default_workspace_answers(sim: Any) -> None:
    usage = await fetch_usage("codex", sim_settings("codex", sim.url, account_id=""))
    assert ids(usage) == ["session", "weekly", "session_gpt_5_3_codex_spark", "weekly_gpt_5_3_codex_spark"]
    sent = [r for r in sim_requests(sim) if r["path"].startswith("/codex/url/backend-api/wham/usage")][-2:]
    assert [r["path"] for r in sent] == [f"/codex/url{p}" for p in ("/backend-api/wham/usage", DAILY_PATH)]
    assert all("chatgpt-account-id" not in r["headers"] for r in sent)
    bare = httpx.get(
        f"{sim.url}{URL}backend-api/wham/usage", headers={"Authorization": "Bearer sim-codex-access-token"}
    )
    assert bare.status_code == 200 and bare.json()["rate_limit"]["primary_window"]["limit_window_seconds"] == 18000


async def test_credits_and_daily_breakdown_from_the_simulator(sim: Any) -> None:
    usage = await fetch_usage("codex", sim_settings("codex", sim.url))
    assert usage.balances == (Balance(id="credits", label="Credits", unit="credits", remaining=125.5),)
    (daily,) = usage.breakdowns
    today = datetime.now(UTC).date()
    assert (daily.id, daily.unit, len(daily.items)) == ("daily_tokens", "percent", 14)
    assert daily.items[-1].key == (today - timedelta(days=1)).isoformat()  # today is not aggregated yet
    assert daily.items[0].key == (today - timedelta(days=14)).isoformat()
    assert all(0 <= i.value <= 40 for i in daily.items)
    request = [r for r in sim_requests(sim) if r["path"] == f"/codex/url{DAILY_PATH}"][-1]
    assert request["headers"]["authorization"] == "Bearer sim-codex-access-token"
    assert request["headers"]["chatgpt-account-id"] == "sim-account"
    assert usage.warnings == ()
    work = await fetch_usage("codex", sim_settings("codex", sim.url, access_token="sim-codex-access-token#work"))
    assert (work.breakdowns[0].unit, work.breakdowns[0].label) == ("credits", "Credits per day")


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 500, "body": "{}"},
        {"kind": "truncate"},
        {"kind": "status", "status": 403, "body": "{}"},
    ],
    ids=["500", "truncated", "403"],
)
async def test_daily_breakdown_failure_never_fails_the_fetch(sim: Any, fault: dict[str, Any]) -> None:
    add_fault(sim, f"/codex/url{DAILY_PATH}", **fault)
    usage = await fetch_usage("codex", sim_settings("codex", sim.url))
    assert "session" in ids(usage) and usage.breakdowns == () and usage.balances


async def test_team_workspace_adds_the_spend_cap(sim: Any) -> None:
    usage = await fetch_usage("codex", sim_settings("codex", sim.url, access_token="sim-codex-access-token#team"))
    assert usage.plan == "team"
    spend = win(usage, "monthly_spend")
    assert spend.limit == 7000.0 and spend.unit == "credits"
    request = [r for r in sim_requests(sim) if "spend-controls" in r["path"]][-1]
    assert request["path"] == "/codex/url/backend-api/accounts/sim-account/spend-controls/current-user/monthly-usage"
    assert request["headers"]["chatgpt-account-id"] == "sim-account"


async def test_spend_cap_failure_does_not_hide_rate_limits(sim: Any) -> None:
    add_fault(sim, URL + "backend-api/accounts/", "status", status=500, body="{}")
    usage = await fetch_usage("codex", sim_settings("codex", sim.url, access_token="sim-codex-access-token#team"))
    assert "monthly_spend" not in ids(usage) and "session" in ids(usage)


async def test_wrong_account_id_is_refused(sim: Any) -> None:
    with pytest.raises(AuthError) as err:
        await fetch_usage("codex", sim_settings("codex", sim.url, account_id="someone-else"))
    assert err.value.status_code == 403
    assert "account_id" in err.value.hint
    assert_no_secret(err.value)


async def expect_error(sim: Any, kind: type[AgentGaugeError], *, timeout: float = 5.0) -> AgentGaugeError:
    with pytest.raises(kind) as err:
        await fetch_usage("codex", sim_settings("codex", sim.url), timeout=timeout)
    assert_no_secret(err.value)
    return err.value


async def test_401(sim: Any) -> None:
    add_fault(sim, URL, "status", status=401, body='{"detail": "token expired"}')
    err = await expect_error(sim, AuthError)
    assert "codex login" in err.hint


async def test_cloudflare_challenge(sim: Any) -> None:
    add_fault(
        sim,
        URL,
        "status",
        status=403,
        body="<html><title>Just a moment...</title></html>",
        headers={"content-type": "text/html", "cf-mitigated": "challenge"},
    )
    await expect_error(sim, ChallengeError)


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, URL, "status", status=429, body="{}", headers={"retry-after": "45"})
    err = await expect_error(sim, RateLimitedError)
    assert isinstance(err, RateLimitedError) and err.retry_after == 45


async def test_500(sim: Any) -> None:
    add_fault(sim, URL, "status", status=502, body="bad gateway")
    err = await expect_error(sim, UpstreamError)
    assert err.status_code == 502


async def test_truncated_json(sim: Any) -> None:
    add_fault(sim, URL, "truncate")
    await expect_error(sim, ParseError)


async def test_html_instead_of_json(sim: Any) -> None:
    add_fault(sim, URL, "html")
    await expect_error(sim, ParseError)


async def test_numbers_as_strings(sim: Any) -> None:
    add_fault(sim, URL, "stringify_numbers")
    usage = await fetch_usage("codex", sim_settings("codex", sim.url))
    assert ids(usage) == ["session", "weekly", "session_gpt_5_3_codex_spark", "weekly_gpt_5_3_codex_spark"]
    assert win(usage, "session").window_seconds == 18000


async def test_unknown_extra_fields(sim: Any) -> None:
    add_fault(sim, URL, "extra_fields")
    usage = await fetch_usage("codex", sim_settings("codex", sim.url))
    assert ids(usage) == ["session", "weekly", "session_gpt_5_3_codex_spark", "weekly_gpt_5_3_codex_spark"]


async def test_null_windows_are_left_out(sim: Any) -> None:
    body = {
        "plan_type": "go",
        "rate_limit": {
            "primary_window": None,
            "secondary_window": {"used_percent": 5, "limit_window_seconds": 2592000, "reset_at": 1767225600},
        },
    }
    add_fault(sim, URL, "body", body=json.dumps(body))
    usage = await fetch_usage("codex", sim_settings("codex", sim.url))
    assert usage.plan == "go"
    assert usage.windows == (
        Window(
            id="monthly", label="Monthly", used_pct=5.0, resets_at=utc("2026-01-01T00:00:00"), window_seconds=2592000
        ),
    )


async def test_missing_rate_limit_is_a_warning_and_the_credits_stay(sim: Any) -> None:
    add_fault(
        sim,
        URL + "backend-api/wham/usage",
        "body",
        body=json.dumps({"plan_type": "pro", "credits": {"balance": "1"}}),
        remaining=1,
    )
    usage = await fetch_usage("codex", sim_settings("codex", sim.url))
    assert usage.windows == () and [(b.id, b.remaining) for b in usage.balances] == [("credits", 1.0)]
    assert [w.message for w in usage.warnings] == ["Codex: usage response has no 'rate_limit'"]


async def test_timeout(sim: Any) -> None:
    add_fault(sim, URL, "timeout", seconds=3)
    await expect_error(sim, FetchTimeoutError, timeout=0.5)


# -- web source ----------------------------------------------------------------------------------
async def test_web_session_cookie_exchanged_for_token(sim: Any) -> None:
    usage = await fetch_usage("codex", sim_settings("codex", sim.url, access_token="", account_id=""))
    assert ids(usage) == ["session", "weekly", "session_gpt_5_3_codex_spark", "weekly_gpt_5_3_codex_spark"]
    requests = sim_requests(sim)
    session = [r for r in requests if r["path"] == "/codex/url/api/auth/session"][-1]
    assert session["headers"]["cookie"] == "__Secure-next-auth.session-token=sim-codex-session"
    assert "authorization" not in session["headers"]
    usage_request = [r for r in requests if r["path"] == "/codex/url/backend-api/wham/usage"][-1]
    assert usage_request["headers"]["authorization"] == "Bearer sim-codex-access-token"
    assert usage_request["headers"]["chatgpt-account-id"] == "sim-account"  # from the session's account.id


async def test_web_is_the_fallback_after_oauth(sim: Any) -> None:
    usage = await fetch_usage("codex", sim_settings("codex", sim.url), source=1)
    assert "weekly" in ids(usage)


async def test_web_expired_session(sim: Any) -> None:
    with pytest.raises(AuthError) as err:
        await fetch_usage("codex", sim_settings("codex", sim.url, access_token="", session_token="stale-cookie"))
    assert "session expired" in str(err.value)
    assert "session-token" in err.value.hint
    assert "stale-cookie" not in str(err.value)


async def test_web_session_challenge(sim: Any) -> None:
    add_fault(
        sim,
        URL + "api/auth/session",
        "status",
        status=403,
        body="<html>Just a moment...</html>",
        headers={"content-type": "text/html", "cf-mitigated": "challenge"},
    )
    with pytest.raises(ChallengeError) as err:
        await fetch_usage("codex", sim_settings("codex", sim.url, access_token=""))
    assert_no_secret(err.value)


# -- cli source: a real fake `codex app-server` --------------------------------------------------
FAKE_CODEX = """#!{python}
import json, os, sys, time
log = open({logfile!r}, "a")
log.write(json.dumps({{"pid": os.getpid(), "argv": sys.argv[1:]}}) + "\\n"); log.flush()
if sys.argv[1:] != ["-s", "read-only", "-a", "never", "app-server"]:
    sys.exit(2)
def send(message):
    sys.stdout.write(json.dumps(message) + "\\n"); sys.stdout.flush()
for line in sys.stdin:
    message = json.loads(line)
    log.write(json.dumps(message) + "\\n"); log.flush()
    method = message.get("method")
    if method == "initialize":
        send({{"id": message["id"], "result": {{"userAgent": "codex_cli_rs/0.99"}}}})
    elif method == "account/rateLimits/read":
        print("not json: some log line"); sys.stdout.flush()
        send({{"method": "account/rateLimits/updated", "params": {{}}}})
        if {mode!r} == "hang":
            time.sleep(60)
        send(dict({{"id": message["id"]}}, **{answer!r}))
"""

RPC_RESULT = {
    "result": {
        "rateLimits": {
            "limitId": "codex",
            "planType": "pro",
            "primary": {"usedPercent": 22, "windowDurationMins": 300, "resetsAt": 1766948068},
            "secondary": {"usedPercent": 43, "windowDurationMins": 10080, "resetsAt": 1767407914},
            "credits": {"hasCredits": False, "unlimited": False, "balance": "0"},
        }
    }
}


def fake_codex(tmp_path: Path, answer: dict[str, Any], mode: str = "answer") -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    logfile = tmp_path / "codex.log"
    script = bin_dir / "codex"
    script.write_text(FAKE_CODEX.format(python=sys.executable, logfile=str(logfile), answer=answer, mode=mode))
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return {"PATH": str(bin_dir)}, logfile


def logged(logfile: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logfile.read_text().splitlines()]


def assert_ended(logfile: Path) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(logged(logfile)[0]["pid"], 0)


def cli_settings(sim: Any, **extra: str) -> dict[str, str]:
    return from_file(sim, **extra)


async def test_cli_source_speaks_json_rpc(sim: Any, tmp_path: Path) -> None:
    env, logfile = fake_codex(tmp_path, RPC_RESULT)
    usage = await fetch_usage("codex", cli_settings(sim), env=env, timeout=20)
    assert usage.plan == "pro"
    assert usage.windows == (
        Window(
            id="session",
            label="Session (5h)",
            used_pct=22.0,
            resets_at=utc("2025-12-28T18:54:28"),
            window_seconds=18000,
        ),
        Window(id="weekly", label="Weekly", used_pct=43.0, resets_at=utc("2026-01-03T02:38:34"), window_seconds=604800),
    )
    methods = [m.get("method") for m in logged(logfile)[1:]]
    assert methods == ["initialize", "initialized", "account/rateLimits/read"]
    assert logged(logfile)[1]["params"]["clientInfo"]["name"] == "agentgauge"
    assert_ended(logfile)


async def test_cli_decode_error_body_is_parsed(sim: Any, tmp_path: Path) -> None:
    message = fixture_text("codex", "cli-rpc-decode-error.txt")
    env, logfile = fake_codex(tmp_path, {"error": {"code": -32603, "message": message}})
    usage = await fetch_usage("codex", cli_settings(sim), env=env, timeout=20)
    assert usage.plan == "prolite"
    assert [(w.id, w.used_pct) for w in usage.windows] == [("session", 4.0), ("weekly", 19.0)]
    assert_ended(logfile)


async def test_cli_auth_error(sim: Any, tmp_path: Path) -> None:
    env, _ = fake_codex(tmp_path, {"error": {"code": -32600, "message": "failed to fetch: 401 Unauthorized"}})
    with pytest.raises(AuthError) as err:
        await fetch_usage("codex", cli_settings(sim), env=env, timeout=20)
    assert "codex login" in err.value.hint


async def test_cli_other_error(sim: Any, tmp_path: Path) -> None:
    env, _ = fake_codex(tmp_path, {"error": {"code": -32601, "message": "method not found"}})
    with pytest.raises(UpstreamError) as err:
        await fetch_usage("codex", cli_settings(sim), env=env, timeout=20)
    assert "method not found" in str(err.value)


async def test_cli_timeout_ends_the_process(sim: Any, tmp_path: Path) -> None:
    env, logfile = fake_codex(tmp_path, RPC_RESULT, mode="hang")
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("codex", cli_settings(sim, cli_timeout="1.5"), env=env, timeout=20)
    assert_ended(logfile)


async def test_cli_exits_early(sim: Any, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "codex"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(4)\n")
    script.chmod(0o755)
    with pytest.raises(UpstreamError) as err:
        await fetch_usage("codex", cli_settings(sim), env={"PATH": str(bin_dir)}, timeout=20)
    assert "exited" in str(err.value) or "closed" in str(err.value)


def test_declarations() -> None:
    assert [a.id for a in PROVIDER.auth] == ["oauth", "web", "cli"]
    assert [a.label for a in PROVIDER.auth] == ["Codex CLI login", "chatgpt.com cookie", "Codex CLI"]
    names = {s.name: s for s in PROVIDER.settings}
    assert names["access_token"].secret and names["session_token"].secret and not names["account_id"].secret
    assert names["session_token"].env_var("codex") == "AGENTGAUGE_CODEX_SESSION_TOKEN"
    assert names["url"].default == "https://chatgpt.com"
    assert PROVIDER.window_spec("weekly_gpt_5_3_codex_spark") is not None
    assert PROVIDER.window_spec("window_9h") is not None


# What curl sends for a POST on plain http (its default HTTP/2 upgrade attempt), as browser-TLS
# clients do too: the server must still read the body (httptools drops it; h11 keeps it).
H2C = {"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAAQCAAAAAAIAAAAA"}


def test_token_endpoint_takes_a_post_that_asks_for_h2c(sim: Any) -> None:
    body = json.dumps(
        {"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": "sim-codex-refresh-token"}
    )
    headers = {**H2C, "Content-Type": "application/json"}
    answer = httpx.post(f"{sim.url}/codex/token_url{TOKEN_PATH}", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["access_token"] == "sim-codex-access-token"
    request = sim_requests(sim)[-1]
    assert request["headers"]["upgrade"] == "h2c" and request["body"] == body
