"""Claude adapter: every sample parsed exactly, each auth source fetched from the simulator
(or a real fake ``claude`` process in a PTY), and the typed errors with their hints."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.engine import Engine
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
from agentgauge.models import Status, Usage, Window
from agentgauge.providers import registry
from agentgauge.providers.claude import CLIENT_ID, TOKEN_PATH, panel, parsing
from agentgauge.store import open_store

from .harness import account_config, add_fault, fetch_usage, fixture_json, fixture_text, sim_requests, sim_settings
from .simlog import Mark

PROVIDER = registry.get("claude")
SECRETS = ("sim-claude-oauth-token", "sk-ant-sid01-sim")
API = "/claude/api_url/"
WEB = "/claude/web_url/"


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


def parse_json_sample(name: str, plan: str | None = None) -> Usage:
    return PROVIDER.parse({"usage": fixture_json("claude", name), "plan": plan}, datetime.now(UTC))


# -- samples: usage JSON -------------------------------------------------------------------------
def test_oauth_usage_full_keeps_keyed_windows_and_adds_scoped_model() -> None:
    usage = parse_json_sample("oauth-usage-full.json", "max_20x")
    assert ids(usage) == ["session", "weekly", "weekly_fable"]
    assert win(usage, "session") == Window(
        id="session", label="Session (5h)", used_pct=11.0, resets_at=utc("2026-07-03T00:30:00"), window_seconds=18000
    )
    assert win(usage, "weekly").used_pct == 9.0
    assert win(usage, "weekly").resets_at == utc("2026-07-08T09:00:00")
    fable = win(usage, "weekly_fable")
    assert (fable.label, fable.used_pct, fable.resets_at) == ("Weekly · Fable", 5.0, utc("2026-07-08T09:00:00"))
    assert usage.plan == "max_20x"


def test_scoped_limit_without_model_or_surface_is_a_warning() -> None:
    usage = parse_json_sample("oauth-usage-limits-weekly-scoped.json")
    assert ids(usage) == ["session"]
    assert win(usage, "session").used_pct == 11.0
    assert [w.message for w in usage.warnings] == ["Claude: 'limits[0].scope' names no model or surface"]


def test_scoped_limit_names_its_surface_when_it_has_no_model() -> None:
    payload = {
        "limits": [
            {
                "kind": "weekly_scoped",
                "percent": "12.5",
                "resets_at": None,
                "scope": {"model": None, "surface": {"display_name": "Claude Code"}},
            }
        ]
    }
    usage = parsing.parse_usage(payload, None)
    assert [(w.id, w.label, w.used_pct) for w in usage.windows] == [
        ("weekly_claude_code", "Weekly · Claude Code", 12.5)
    ]


def test_extra_usage_in_minor_units_with_currency() -> None:
    usage = parse_json_sample("oauth-usage-extra-usage.json")
    assert usage.windows == (
        Window(id="extra_usage", label="Extra usage (monthly)", used_pct=38.15, used=7.63, limit=20.0, unit="eur"),
    )


def test_extra_usage_disabled_is_left_out() -> None:
    usage = parse_json_sample("oauth-usage-extra-disabled.json")
    assert ids(usage) == ["session"]
    assert win(usage, "session").used_pct == 1.0
    assert win(usage, "session").resets_at == utc("2025-12-25T12:00:00")


def test_minimal_session_without_reset_and_extra_percent_computed() -> None:
    usage = parse_json_sample("oauth-usage-minimal-extra.json")
    assert ids(usage) == ["session", "extra_usage"]
    assert win(usage, "session").used_pct == 7.0 and win(usage, "session").resets_at is None
    extra = win(usage, "extra_usage")
    assert (extra.used_pct, extra.used, extra.limit, extra.unit) == (25.0, 5.0, 20.0, "usd")


def test_enterprise_null_session_is_left_out_not_zero() -> None:
    usage = parse_json_sample("web-usage-enterprise-null-session.json")
    assert ids(usage) == ["weekly"]
    assert win(usage, "weekly").used_pct == 42.0
    assert win(usage, "weekly").resets_at == utc("2025-12-29T23:00:00")


def test_extra_only_without_currency_defaults_to_usd() -> None:
    usage = parse_json_sample("web-usage-extra-only.json")
    assert ids(usage) == ["extra_usage"]
    extra = win(usage, "extra_usage")
    assert (extra.used_pct, extra.used, extra.limit, extra.unit) == (4.132, 41.32, 1000.0, "usd")


def test_variants_design_ignored_others_named_and_strings_read() -> None:
    payload = {
        "five_hour": {"utilization": "33.5", "resets_at": "2026-01-01T05:00:00Z"},
        "seven_day": None,
        "seven_day_opus": {"utilization": 60, "resets_at": None},
        "seven_day_design": {"utilization": 99, "resets_at": None},
        "seven_day_omelette": {"utilization": 99, "resets_at": None},
        "seven_day_oauth_apps": {"utilization": 4, "resets_at": None},
        "seven_day_routines": None,
        "seven_day_flag": True,
        "limits": [
            {"kind": "weekly_scoped", "percent": 70, "scope": {"model": {"display_name": "Opus"}}},
            "not-an-object",
            {"kind": "brand_new_kind", "percent": 5},
        ],
    }
    usage = parsing.parse_usage(payload, None)
    assert ids(usage) == ["session", "weekly_opus", "weekly_oauth_apps"]
    assert win(usage, "session").used_pct == 33.5
    assert win(usage, "weekly_opus").used_pct == 60  # the keyed field wins over limits[]
    assert win(usage, "weekly_oauth_apps").label == "Weekly · Oauth apps"
    # The two limits[] entries that say nothing usable are named; the flag and nulls are not drift.
    assert ["limits[1]" in w.message for w in usage.warnings] == [True, False]
    assert "limits[2].kind" in usage.warnings[1].message


def test_samples_parse_without_warnings() -> None:
    for name in ("oauth-usage-full.json", "oauth-usage-extra-usage.json", "web-usage-enterprise-null-session.json"):
        assert parse_json_sample(name).warnings == ()


def test_payload_without_known_fields_names_the_field() -> None:
    with pytest.raises(ParseError) as err:
        parsing.parse_usage({"something": 1}, None)
    assert err.value.field == "five_hour"


@pytest.mark.parametrize(
    ("five_hour", "field"),
    [({"utilization": "lots"}, "five_hour.utilization"), ([1, 2], "five_hour"), ({"resets_at": None}, "five_hour")],
)
def test_a_drifting_window_is_a_warning_naming_its_field(five_hour: Any, field: str) -> None:
    usage = parsing.parse_usage({"five_hour": five_hour, "seven_day": {"utilization": 3, "resets_at": None}}, None)
    assert ids(usage) == ["weekly"]
    assert [w.kind for w in usage.warnings] == ["parse"]
    assert f"'{field}" in usage.warnings[0].message


def test_null_utilizations_are_warnings_and_the_rest_is_shown() -> None:
    payload = {
        "five_hour": {"utilization": None, "resets_at": "2026-07-03T00:30:00Z"},
        "seven_day": {"utilization": 9.0, "resets_at": "2026-07-08T09:00:00Z"},
        "seven_day_sonnet": {"utilization": None, "resets_at": None},
        "seven_day_cowork": {"utilization": None, "resets_at": None},  # a meter this plan lacks: silent
    }
    usage = parsing.parse_usage(payload, "pro")
    assert ids(usage) == ["weekly"]
    assert [w.message for w in usage.warnings] == [
        "Claude: 'five_hour.utilization' is null, so the window is not shown",
        "Claude: 'seven_day_sonnet.utilization' is null, so the window is not shown",
    ]


def test_every_window_null_gives_no_window_and_names_each_field() -> None:
    usage = parsing.parse_usage({"five_hour": {"utilization": None}, "seven_day": {"utilization": None}}, None)
    assert usage.windows == ()
    assert ["five_hour.utilization" in w.message for w in usage.warnings] == [True, False]
    assert "seven_day.utilization" in usage.warnings[1].message


def test_an_unreadable_reset_keeps_the_window() -> None:
    payload = {"five_hour": {"utilization": 40, "resets_at": "soon"}, "seven_day": {"utilization": 2}}
    usage = parsing.parse_usage(payload, None)
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [("session", 40.0, None), ("weekly", 2.0, None)]
    assert len(usage.warnings) == 1 and "five_hour.resets_at" in usage.warnings[0].message


def test_limits_entries_that_drift_are_warnings() -> None:
    payload = {
        "five_hour": {"utilization": 5},
        "limits": [
            {"kind": "weekly_all", "percent": 20, "resets_at": None},
            {"kind": "brand_new_kind", "percent": 5},
            "not-an-object",
            {"kind": "weekly_scoped", "percent": None, "scope": {"model": {"display_name": "Sonnet 5"}}},
            {"kind": "weekly_scoped", "percent": 7, "scope": {"model": {"display_name": "Haiku"}}},
        ],
    }
    usage = parsing.parse_usage(payload, None)
    assert [(w.id, w.used_pct) for w in usage.windows] == [("session", 5.0), ("weekly", 20.0), ("weekly_haiku", 7.0)]
    fields = ("'limits[1].kind'", "'limits[2]'", "'limits[3].percent'")
    assert len(usage.warnings) == len(fields)
    assert all(field in warning.message for warning, field in zip(usage.warnings, fields, strict=True))
    assert "brand_new_kind" in usage.warnings[0].message


@pytest.mark.parametrize(
    ("tier", "subscription", "plan"),
    [
        ("default_claude_max_20x", "pro", "max_20x"),
        ("default_claude_max_5x", "max", "max_5x"),
        ("default_claude_ai", "Pro", "pro"),
        (None, None, None),
    ],
)
def test_plan_mapping(tier: str | None, subscription: str | None, plan: str | None) -> None:
    assert parsing.plan_from(tier, subscription) == plan


# -- samples: CLI panel text ---------------------------------------------------------------------
NOW_NOV30 = utc("2025-11-30T10:00:00")  # 11:00 in Vienna, 12:00 in Helsinki


def test_cli_usage_panel() -> None:
    usage = panel.parse_panel(fixture_text("claude", "cli-usage-panel.txt"), NOW_NOV30)
    assert usage.windows == (
        Window(
            id="session", label="Session (5h)", used_pct=1.0, resets_at=utc("2025-12-01T04:00:00"), window_seconds=18000
        ),
        Window(id="weekly", label="Weekly", used_pct=1.0, resets_at=utc("2025-12-01T23:00:00"), window_seconds=604800),
        Window(
            id="weekly_sonnet",
            label="Weekly · Sonnet",
            used_pct=1.0,
            resets_at=utc("2025-12-01T23:00:00"),
            window_seconds=604800,
        ),
    )
    assert usage.plan is None


def test_cli_usage_panel_with_bars_and_years() -> None:
    usage = panel.parse_panel(fixture_text("claude", "cli-usage-panel-bars.txt"), NOW_NOV30)
    assert ids(usage) == ["session", "weekly", "weekly_sonnet"]
    assert win(usage, "session").used_pct == 1.0
    assert win(usage, "session").resets_at == utc("2025-11-30T13:59:00")
    assert win(usage, "weekly").resets_at == utc("2026-01-02T20:59:00")
    assert win(usage, "weekly_sonnet").used_pct == 0.0
    assert win(usage, "weekly_sonnet").resets_at is None


def test_cli_panel_auth_error() -> None:
    with pytest.raises(AuthError) as err:
        panel.parse_panel(fixture_text("claude", "cli-usage-auth-error.txt"), NOW_NOV30)
    assert "authentication_error" in str(err.value)
    assert "log in" in err.value.hint


def test_cli_panel_rate_limited() -> None:
    with pytest.raises(RateLimitedError):
        panel.parse_panel(fixture_text("claude", "cli-usage-rate-limited.txt"), NOW_NOV30)


def test_cli_panel_remaining_and_opus_and_empty() -> None:
    text = "\x1b[1mCurrent session\x1b[0m\n 40% remaining\n Resets 9:30pm (UTC)\nCurrent week (Opus only)\n12.5% used\n"
    usage = panel.parse_panel(text, NOW_NOV30)
    assert [(w.id, w.used_pct) for w in usage.windows] == [("session", 60.0), ("weekly_opus", 12.5)]
    assert win(usage, "session").resets_at == utc("2025-11-30T21:30:00")
    with pytest.raises(ParseError) as err:
        panel.parse_panel("Settings: Status Config Usage\nLoading…", NOW_NOV30)
    assert err.value.field == "Current session"


def test_cli_panel_unreadable_reset_is_a_warning_naming_the_section() -> None:
    text = "Current session\n 12% used\n Resets whenever (Europe/Vienna)\nCurrent week (all models)\n 3% used\n"
    usage = panel.parse_panel(text, NOW_NOV30)
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [("session", 12.0, None), ("weekly", 3.0, None)]
    assert [w.message for w in usage.warnings] == [
        "Claude CLI: 'Current session.Resets' text 'whenever' is not a time I can read"
    ]
    assert panel.parse_panel(fixture_text("claude", "cli-usage-panel.txt"), NOW_NOV30).warnings == ()


def test_cli_status_identity() -> None:
    found = panel.identity(fixture_text("claude", "cli-status-identity.txt"))
    assert found == {"login_method": "Claude Max Account", "account": "user@example.com", "org": "ACME"}
    assert panel.plan_from_login_method(found["login_method"]) == "max"


def test_codexbar_extracted_panel_json() -> None:
    now = utc("2025-11-18T12:00:00")  # 13:00 in Vienna: 11am already passed today
    usage = PROVIDER.parse({"extracted": fixture_json("claude", "fixture-weekly-limit.json")}, now)
    assert usage.windows == (
        Window(
            id="session", label="Session (5h)", used_pct=7.0, resets_at=utc("2025-11-19T10:00:00"), window_seconds=18000
        ),
        Window(id="weekly", label="Weekly", used_pct=21.0, resets_at=utc("2025-11-21T04:00:00"), window_seconds=604800),
        Window(
            id="weekly_sonnet",
            label="Weekly · Sonnet",
            used_pct=3.0,
            resets_at=utc("2025-11-21T04:00:00"),
            window_seconds=604800,
        ),
    )
    assert usage.plan == "max"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5am (Europe/Vienna)", "2025-12-01T04:00:00"),
        ("11:45pm (Europe/Vienna)", "2025-11-30T22:45:00"),
        ("Dec 2 at 12am (Europe/Vienna)", "2025-12-01T23:00:00"),
        ("Nov 3 at 5am (Europe/Vienna)", "2026-11-03T04:00:00"),  # already past this year: next year
        ("Jan 2, 2026, 10:59pm (Europe/Helsinki)", "2026-01-02T20:59:00"),
        ("Mar 29 at 3am (Europe/Vienna)", "2026-03-29T01:00:00"),  # after the DST switch
        ("in 2h 5m", "2025-11-30T12:05:00"),
    ],
)
def test_reset_text(text: str, expected: str) -> None:
    assert panel.reset_time(text, NOW_NOV30) == utc(expected)


def test_reset_text_unreadable_is_none() -> None:
    assert panel.reset_time("whenever (Europe/Vienna)", NOW_NOV30) is None
    assert panel.reset_time("Foo 2 at 5am (Europe/Vienna)", NOW_NOV30) is None


# -- credentials file discovery ------------------------------------------------------------------
def write_credentials(directory: Path, token: str = "sim-claude-oauth-token", **extra: Any) -> Path:
    data = fixture_json("claude", "credentials-file.json")
    data["claudeAiOauth"]["accessToken"] = token
    data["claudeAiOauth"].update(extra)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".credentials.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def no_direct_credentials(sim: Any, **overrides: str) -> dict[str, str]:
    return sim_settings("claude", sim.url, **({"oauth_token": "", "session_key": ""} | overrides))


async def test_oauth_from_home_credentials_file(sim: Any, tmp_path: Path) -> None:
    path = write_credentials(tmp_path / ".claude")
    before = path.read_bytes()
    usage = await fetch_usage("claude", no_direct_credentials(sim), home=tmp_path)
    assert usage.plan == "max_20x"  # rateLimitTier wins over subscriptionType "pro"
    assert ids(usage) == ["session", "weekly", "weekly_sonnet", "weekly_opus", "extra_usage"]
    assert path.read_bytes() == before  # read-only
    request = [r for r in sim_requests(sim) if r["path"] == "/claude/api_url/api/oauth/usage"][-1]
    headers = request["headers"]
    assert headers["authorization"] == "Bearer sim-claude-oauth-token"
    assert headers["anthropic-beta"] == "oauth-2025-04-20"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"] == "claude-code/2.1.0"


async def test_oauth_from_claude_config_dir(sim: Any, tmp_path: Path) -> None:
    write_credentials(tmp_path / "elsewhere", rateLimitTier="default_claude_max_5x")
    write_credentials(tmp_path / ".claude", token="not-this-one")
    usage = await fetch_usage(
        "claude", no_direct_credentials(sim), home=tmp_path, env={"CLAUDE_CONFIG_DIR": str(tmp_path / "elsewhere")}
    )
    assert usage.plan == "max_5x"


async def test_mcp_only_credentials_file_is_not_logged_in(sim: Any, tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / ".credentials.json").write_text(fixture_text("claude", "credentials-mcp-only.json"))
    with pytest.raises(ConfigError) as err:
        await fetch_usage("claude", no_direct_credentials(sim), home=tmp_path)
    assert "not logged in" in str(err.value)
    assert "claude" in err.value.hint and "log in" in err.value.hint


async def test_malformed_credentials_file_names_the_file_not_the_content(sim: Any, tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    path = tmp_path / ".claude" / ".credentials.json"
    path.write_text('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-leaky"')
    with pytest.raises(ConfigError) as err:
        await fetch_usage("claude", no_direct_credentials(sim), home=tmp_path)
    assert str(path) in str(err.value)
    assert "leaky" not in str(err.value)


async def test_expired_file_token_gets_a_refresh_hint(sim: Any, tmp_path: Path) -> None:
    write_credentials(tmp_path / ".claude", token="expired-token", expiresAt=1_000_000_000_000)
    with pytest.raises(AuthError) as err:
        await fetch_usage("claude", no_direct_credentials(sim), home=tmp_path)
    assert "expired" in err.value.hint
    assert "expired-token" not in str(err.value)


# -- oauth source through the simulator ----------------------------------------------------------
async def test_oauth_direct_token(sim: Any) -> None:
    usage = await fetch_usage("claude", sim_settings("claude", sim.url))
    assert ids(usage) == ["session", "weekly", "weekly_sonnet", "weekly_opus", "extra_usage"]
    assert "weekly_design" not in ids(usage)
    assert win(usage, "weekly_opus").label == "Weekly · Opus"
    extra = win(usage, "extra_usage")
    assert extra.limit == 50.0 and extra.unit == "usd"
    for window in usage.windows:
        assert 0 <= window.used_pct <= 100
    assert win(usage, "session").resets_at is not None and win(usage, "session").resets_at > datetime.now(UTC)
    assert usage.plan is None  # a bare token carries no plan


async def test_oauth_wrong_token_is_rejected_by_the_simulator(sim: Any) -> None:
    with pytest.raises(AuthError) as err:
        await fetch_usage("claude", sim_settings("claude", sim.url, oauth_token="sk-ant-oat01-wrong"))
    assert err.value.status_code == 401
    assert "sk-ant-oat01-wrong" not in str(err.value)


async def test_demo_accounts_differ(sim: Any) -> None:
    first = await fetch_usage("claude", sim_settings("claude", sim.url))
    other = await fetch_usage("claude", sim_settings("claude", sim.url, oauth_token="sim-claude-oauth-token#work"))
    assert [w.used_pct for w in first.windows] != [w.used_pct for w in other.windows]


async def expect_oauth_error(sim: Any, kind: type[AgentGaugeError], *, timeout: float = 5.0) -> AgentGaugeError:
    with pytest.raises(kind) as err:
        await fetch_usage("claude", sim_settings("claude", sim.url), timeout=timeout)
    assert_no_secret(err.value)
    return err.value


async def test_oauth_401(sim: Any) -> None:
    body = json.dumps({"type": "error", "error": {"type": "authentication_error", "message": "OAuth token expired"}})
    add_fault(sim, API, "status", status=401, body=body)
    err = await expect_oauth_error(sim, AuthError)
    assert "claude" in err.hint


async def test_oauth_403_means_missing_scope(sim: Any) -> None:
    body = json.dumps({"type": "error", "error": {"type": "permission_error", "message": "scope"}})
    add_fault(sim, API, "status", status=403, body=body)
    err = await expect_oauth_error(sim, AuthError)
    assert "user:profile" in str(err) and "user:profile" in err.hint


async def test_oauth_cloudflare_challenge(sim: Any) -> None:
    add_fault(
        sim,
        API,
        "status",
        status=403,
        body="<html><title>Just a moment...</title></html>",
        headers={"content-type": "text/html", "cf-mitigated": "challenge"},
    )
    await expect_oauth_error(sim, ChallengeError)


async def test_oauth_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, API, "status", status=429, body="{}", headers={"retry-after": "300"})
    err = await expect_oauth_error(sim, RateLimitedError)
    assert isinstance(err, RateLimitedError) and err.retry_after == 300


async def test_oauth_500(sim: Any) -> None:
    add_fault(sim, API, "status", status=500, body='{"error": "boom"}')
    err = await expect_oauth_error(sim, UpstreamError)
    assert not isinstance(err, ChallengeError)


async def test_oauth_truncated_json(sim: Any) -> None:
    add_fault(sim, API, "truncate")
    await expect_oauth_error(sim, ParseError)


async def test_oauth_html_instead_of_json(sim: Any) -> None:
    add_fault(sim, API, "html")
    await expect_oauth_error(sim, ParseError)


async def test_oauth_numbers_as_strings(sim: Any) -> None:
    add_fault(sim, API, "stringify_numbers")
    usage = await fetch_usage("claude", sim_settings("claude", sim.url))
    assert ids(usage) == ["session", "weekly", "weekly_sonnet", "weekly_opus", "extra_usage"]
    assert win(usage, "extra_usage").limit == 50.0


async def test_oauth_unknown_extra_fields_are_ignored(sim: Any) -> None:
    add_fault(sim, API, "extra_fields")
    usage = await fetch_usage("claude", sim_settings("claude", sim.url))
    assert ids(usage) == ["session", "weekly", "weekly_sonnet", "weekly_opus", "extra_usage"]


async def test_oauth_null_windows_are_left_out(sim: Any) -> None:
    body = {
        "five_hour": None,
        "seven_day": {"utilization": "64.5", "resets_at": "2026-02-01T10:00:00Z"},
        "seven_day_opus": None,
        "extra_usage": None,
    }
    add_fault(sim, API, "body", body=json.dumps(body))
    usage = await fetch_usage("claude", sim_settings("claude", sim.url))
    assert usage.windows == (
        Window(id="weekly", label="Weekly", used_pct=64.5, resets_at=utc("2026-02-01T10:00:00"), window_seconds=604800),
    )


async def test_oauth_missing_windows_is_a_parse_error_naming_the_field(sim: Any) -> None:
    add_fault(sim, API, "body", body=json.dumps({"error": None, "account": {"id": 1}}))
    err = await expect_oauth_error(sim, ParseError)
    assert isinstance(err, ParseError) and err.field == "five_hour"


async def test_oauth_timeout(sim: Any) -> None:
    add_fault(sim, API, "timeout", seconds=3)
    await expect_oauth_error(sim, FetchTimeoutError, timeout=0.5)


# -- web source through the simulator ------------------------------------------------------------
async def test_web_finds_the_org_and_plan_through_bootstrap(sim: Any) -> None:
    usage = await fetch_usage("claude", sim_settings("claude", sim.url, oauth_token=""))
    assert ids(usage) == ["session", "weekly", "weekly_sonnet", "extra_usage"]
    assert usage.plan == "max_5x"
    requests = sim_requests(sim)
    boot = [r for r in requests if r["path"] == "/claude/web_url/api/bootstrap"][-1]
    used = [r for r in requests if r["path"] == "/claude/web_url/api/organizations/sim-org-default/usage"][-1]
    for request in (boot, used):
        assert request["headers"]["cookie"] == "sessionKey=sk-ant-sid01-sim"
        assert request["headers"]["anthropic-client-platform"] == "web_claude.ai"
        assert request["headers"]["accept"] == "application/json"
        assert "authorization" not in request["headers"]
    assert requests.index(boot) + 1 == requests.index(used)  # the list is not needed when bootstrap answers


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 404, "body": '{"type": "error", "error": {"type": "not_found_error"}}'},
        {"kind": "status", "status": 502, "body": "bad gateway", "headers": {"content-type": "text/plain"}},
        {"kind": "html"},
        {"kind": "body", "body": json.dumps({"account": {"uuid": "a", "memberships": []}})},
    ],
    ids=["404", "502", "html", "no-memberships"],
)
async def test_web_falls_back_to_the_organizations_list(sim: Any, fault: dict[str, Any]) -> None:
    add_fault(sim, WEB + "api/bootstrap", **fault, remaining=1)
    usage = await fetch_usage("claude", sim_settings("claude", sim.url, oauth_token=""))
    assert usage.plan == "max_5x" and "session" in ids(usage)
    paths = [r["path"] for r in sim_requests(sim)[-3:]]
    assert paths == [
        "/claude/web_url/api/bootstrap",
        "/claude/web_url/api/organizations",
        "/claude/web_url/api/organizations/sim-org-default/usage",
    ]


async def test_web_bootstrap_rate_limit_is_not_hidden_by_the_fallback(sim: Any) -> None:
    add_fault(sim, WEB + "api/bootstrap", "status", status=429, body="{}", headers={"retry-after": "60"}, remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("claude", sim_settings("claude", sim.url, oauth_token=""))
    assert sim_requests(sim)[-1]["path"] == "/claude/web_url/api/bootstrap"


async def test_sim_bootstrap_answers_like_claude_ai(sim: Any) -> None:
    signed_in = httpx.get(f"{sim.url}{WEB}api/bootstrap", headers={"Cookie": "sessionKey=sk-ant-sid01-sim#work"})
    account = signed_in.json()["account"]
    assert signed_in.status_code == 200 and account["lastActiveOrgId"] == "sim-org-work"
    assert [m["organization"]["uuid"] for m in account["memberships"]] == ["sim-api-org-work", "sim-org-work"]
    signed_out = httpx.get(f"{sim.url}{WEB}api/bootstrap", headers={"Cookie": "sessionKey=sk-ant-sid01-stale"})
    assert (signed_out.status_code, signed_out.json()["account"]) == (200, None)


def test_bootstrap_prefers_the_last_active_chat_org() -> None:
    def member(uuid: str, *capabilities: str) -> dict[str, Any]:
        return {"organization": {"uuid": uuid, "capabilities": list(capabilities)}}

    boot = {
        "account": {
            "lastActiveOrgId": "team",
            "memberships": [
                "junk",
                member("api", "api"),
                member("personal", "chat", "claude_pro"),
                member("team", "chat"),
            ],
        }
    }
    assert parsing.org_from_bootstrap(boot)["uuid"] == "team"
    boot["account"]["lastActiveOrgId"] = "api"  # not a chat org: the first chat org is read
    assert parsing.org_from_bootstrap(boot)["uuid"] == "personal"
    assert parsing.plan_from_org(parsing.org_from_bootstrap(boot)) == "pro"
    assert parsing.org_from_bootstrap({"memberships": [member("old-shape", "chat")]})["uuid"] == "old-shape"
    assert parsing.org_from_bootstrap({"account": {"memberships": []}}) is None
    with pytest.raises(AuthError):
        parsing.org_from_bootstrap({"account": None})


async def test_web_org_id_setting_skips_discovery_and_full_cookie_header_works(sim: Any) -> None:
    since = Mark(sim)
    settings = sim_settings(
        "claude",
        sim.url,
        oauth_token="",
        org_id="sim-org-default",
        session_key="Cookie: lastActiveOrg=x; sessionKey=sk-ant-sid01-sim",
    )
    usage = await fetch_usage("claude", settings)
    assert "session" in ids(usage)
    assert usage.plan is None
    sent = since.requests()
    assert not [r for r in sent if r["path"].endswith(("/api/organizations", "/api/bootstrap"))]
    last = sent[-1]
    assert last["headers"]["cookie"] == "lastActiveOrg=x; sessionKey=sk-ant-sid01-sim"


async def test_web_is_the_fallback_after_oauth(sim: Any) -> None:
    usage = await fetch_usage("claude", sim_settings("claude", sim.url), source=1)
    assert ids(usage) == ["session", "weekly", "weekly_sonnet", "extra_usage"]


async def test_web_bad_cookie_is_auth_error_with_cookie_hint(sim: Any) -> None:
    """claude.ai answers bootstrap with ``account: null`` (HTTP 200) for a signed-out cookie."""
    with pytest.raises(AuthError) as err:
        await fetch_usage("claude", sim_settings("claude", sim.url, oauth_token="", session_key="sk-ant-sid01-bad"))
    assert "signed-in account" in err.value.message
    assert "sessionKey" in err.value.hint
    assert "sk-ant-sid01-bad" not in str(err.value)
    assert sim_requests(sim)[-1]["path"] == "/claude/web_url/api/bootstrap"


async def test_web_bad_cookie_with_a_known_org_is_refused_with_403(sim: Any) -> None:
    settings = sim_settings("claude", sim.url, oauth_token="", session_key="sk-ant-sid01-bad", org_id="sim-org-default")
    with pytest.raises(AuthError) as err:
        await fetch_usage("claude", settings)
    assert err.value.status_code == 403 and "sessionKey" in err.value.hint


async def test_web_challenge(sim: Any) -> None:
    add_fault(
        sim,
        WEB,
        "status",
        status=403,
        body="<html>Just a moment...</html>",
        headers={"content-type": "text/html", "cf-mitigated": "challenge"},
    )
    with pytest.raises(ChallengeError) as err:
        await fetch_usage("claude", sim_settings("claude", sim.url, oauth_token=""))
    assert_no_secret(err.value)


async def test_web_organizations_not_a_list(sim: Any) -> None:
    add_fault(sim, WEB + "api/bootstrap", "status", status=404, body="{}", remaining=1)
    add_fault(sim, WEB + "api/organizations", "body", body=json.dumps({"organizations": []}), remaining=1)
    with pytest.raises(ParseError) as err:
        await fetch_usage("claude", sim_settings("claude", sim.url, oauth_token=""))
    assert err.value.field == "organizations"


def test_org_pick_falls_back_to_first_object_with_uuid() -> None:
    orgs: list[Any] = [
        None,
        3,
        {"name": "no uuid"},
        {"uuid": "org-a", "capabilities": ["api"]},
        {"uuid": "org-b", "capabilities": "chat"},
    ]
    assert parsing.org_from_list(orgs)["uuid"] == "org-a"
    with pytest.raises(ParseError) as err:
        parsing.org_from_list(["x"])
    assert err.value.field == "organizations[].uuid"


# -- cli source: a real fake `claude` in a pseudo-terminal ---------------------------------------
FAKE_CLAUDE = """#!{python}
import os, sys, time
open({pidfile!r}, "w").write(str(os.getpid()))
if sys.argv[1:] != ["--allowed-tools", ""]:
    print("unexpected arguments", sys.argv[1:]); sys.exit(2)
if not (sys.stdin.isatty() and sys.stdout.isatty()):
    print("not a terminal"); sys.exit(3)
if {trust!r}:
    sys.stdout.write("Do you trust the files in this folder?\\n > 1. Yes, proceed\\n"); sys.stdout.flush()
    sys.stdin.readline()
sys.stdout.write("\\x1b[1m* Welcome to Claude Code!\\x1b[0m\\n> "); sys.stdout.flush()
line = sys.stdin.readline()
if line.strip() == "/usage":
    sys.stdout.write({panel!r}); sys.stdout.flush()
time.sleep(60)
"""


def fake_claude(tmp_path: Path, panel: str, *, trust: bool = False) -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pidfile = tmp_path / "claude.pid"
    script = bin_dir / "claude"
    script.write_text(FAKE_CLAUDE.format(python=sys.executable, pidfile=str(pidfile), trust=trust, panel=panel))
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return {"PATH": str(bin_dir)}, pidfile


def assert_ended(pidfile: Path) -> None:
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_cli_source_reads_the_usage_panel(sim: Any, tmp_path: Path) -> None:
    env, pidfile = fake_claude(tmp_path, fixture_text("claude", "cli-usage-panel-bars.txt"))
    usage = await fetch_usage("claude", no_direct_credentials(sim, cli_timeout="15"), env=env, timeout=20)
    assert ids(usage) == ["session", "weekly", "weekly_sonnet"]
    assert win(usage, "session").used_pct == 1.0
    assert win(usage, "weekly").resets_at == utc("2026-01-02T20:59:00")
    assert_ended(pidfile)


async def test_cli_source_answers_the_trust_prompt(sim: Any, tmp_path: Path) -> None:
    env, pidfile = fake_claude(tmp_path, fixture_text("claude", "cli-usage-panel.txt"), trust=True)
    usage = await fetch_usage("claude", no_direct_credentials(sim, cli_timeout="15"), env=env, timeout=20)
    assert [(w.id, w.used_pct) for w in usage.windows] == [("session", 1.0), ("weekly", 1.0), ("weekly_sonnet", 1.0)]
    assert_ended(pidfile)


async def test_cli_source_auth_error(sim: Any, tmp_path: Path) -> None:
    env, pidfile = fake_claude(tmp_path, fixture_text("claude", "cli-usage-auth-error.txt"))
    with pytest.raises(AuthError):
        await fetch_usage("claude", no_direct_credentials(sim, cli_timeout="15"), env=env, timeout=20)
    assert_ended(pidfile)


async def test_cli_source_times_out_when_no_panel_comes(sim: Any, tmp_path: Path) -> None:
    env, pidfile = fake_claude(tmp_path, "still thinking...\n")
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("claude", no_direct_credentials(sim, cli_timeout="2.5"), env=env, timeout=20)
    assert_ended(pidfile)


async def test_cli_source_is_last_in_order(sim: Any, tmp_path: Path) -> None:
    env, _ = fake_claude(tmp_path, fixture_text("claude", "cli-usage-panel.txt"))
    usage = await fetch_usage("claude", sim_settings("claude", sim.url), env=env)
    assert "extra_usage" in ids(usage)  # the oauth source answered, not the CLI


def test_declarations() -> None:
    assert [a.id for a in PROVIDER.auth] == ["oauth", "web", "cli"]
    assert [a.label for a in PROVIDER.auth] == ["Claude Code login", "claude.ai cookie", "Claude CLI"]
    assert PROVIDER.min_interval >= 120
    names = {s.name: s for s in PROVIDER.settings}
    assert names["oauth_token"].secret and names["session_key"].secret
    assert names["oauth_token"].env_var("claude") == "AGENTGAUGE_CLAUDE_OAUTH_TOKEN"
    assert names["api_url"].default == "https://api.anthropic.com"
    assert names["web_url"].default == "https://claude.ai"
    assert PROVIDER.window_spec("weekly_fable") is not None


def test_scoped_limits_are_keyed_by_model_family() -> None:
    """History stays on one key across model versions, and a keyed window is not repeated."""
    now = datetime(2026, 7, 1, tzinfo=UTC)
    scoped = {
        "kind": "weekly_scoped",
        "percent": 5,
        "resets_at": None,
        "scope": {"model": {"display_name": "Opus 4.5"}},
    }
    usage = PROVIDER.parse({"usage": {"limits": [scoped]}, "plan": None}, now)
    assert [(w.id, w.label) for w in usage.windows] == [("weekly_opus", "Weekly · Opus 4.5")]
    both = {"seven_day_opus": {"utilization": 12, "resets_at": None}, "limits": [scoped]}
    assert [w.id for w in PROVIDER.parse({"usage": both, "plan": None}, now).windows] == ["weekly_opus"]
    other = {**scoped, "scope": {"model": {"display_name": "Fable"}}}
    assert [w.id for w in PROVIDER.parse({"usage": {"limits": [other]}, "plan": None}, now).windows] == ["weekly_fable"]


# -- what real clients send --------------------------------------------------------------------
# What curl sends for a POST on plain http (its default HTTP/2 upgrade attempt), as browser-TLS
# clients do too: the server must still read the body (httptools drops it; h11 keeps it).
H2C = {"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAAQCAAAAAAIAAAAA"}


def test_token_endpoint_takes_a_post_that_asks_for_h2c(sim: Any) -> None:
    body = f"grant_type=refresh_token&client_id={CLIENT_ID}&refresh_token=sim-claude-refresh-token%23work"
    headers = {**H2C, "Content-Type": "application/x-www-form-urlencoded"}
    answer = httpx.post(f"{sim.url}/claude/token_url{TOKEN_PATH}", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["access_token"] == "sim-claude-oauth-token#work"
    request = sim_requests(sim)[-1]
    assert request["headers"]["upgrade"] == "h2c" and request["body"] == body


async def test_engine_reports_a_response_with_only_null_windows_as_a_parse_error(sim: Any, tmp_path: Path) -> None:
    body = {"five_hour": {"utilization": None, "resets_at": None}, "seven_day": {"utilization": None}}
    add_fault(sim, API, "body", body=json.dumps(body))
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    async with Engine(account_config("claude", sim_settings("claude", sim.url)), store) as engine:
        snapshot = await engine.refresh()
    store.close()
    (claude,) = snapshot.providers
    assert claude.status == Status.ERROR and claude.error is not None and claude.error.kind == "parse"
    assert "five_hour.utilization" in claude.error.message
