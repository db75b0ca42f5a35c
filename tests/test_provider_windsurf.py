"""Windsurf: the app-cache samples parsed exactly, hand-made GetPlanStatus protobuf answers decoded
(unknown fields skipped, truncation typed), pasted session bundles, the Connect request sent (headers,
protobuf body), the app's state.vscdb read for real (SQLite), and every failure through the simulator."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

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
from agentgauge.models import Usage, Window
from agentgauge.providers.windsurf import CACHE_KEY, PROVIDER, bundle_values, proto, read_cached_plan
from tests.harness import FIXTURES, account_config, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings
from tests.test_browser_unit import firefox_profile, lsng

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
PREFIX = "/windsurf/url/"
CREDS = dict(PROVIDER.sim_credentials)


def epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def quota(wid: str, label: str, pct: float, resets: datetime, seconds: int) -> Window:
    return Window(id=wid, label=label, used_pct=pct, resets_at=resets, window_seconds=seconds)


# -- the app-cache samples ----------------------------------------------------------------------------------
def test_cached_plan_with_quota_prefers_the_quota() -> None:
    usage = PROVIDER.parse({"cached_plan": fixture_json("windsurf", "cached-plan-messages.json")}, NOW)
    assert usage == Usage(
        windows=(
            quota("daily", "Daily", 91, epoch(1774080000), 86400),
            quota("weekly", "Weekly", 46, epoch(1774166400), 604800),
        ),
        plan="Pro",
    )


def test_cached_plan_quota_only() -> None:
    usage = PROVIDER.parse({"cached_plan": fixture_json("windsurf", "cached-plan-quota.json")}, NOW)
    assert [(w.id, w.used_pct) for w in usage.windows] == [("daily", 50), ("weekly", 50)]


def test_a_cache_without_quota_shows_the_plan_counters() -> None:
    cached = fixture_json("windsurf", "cached-plan-messages.json")
    del cached["quotaUsage"]
    usage = PROVIDER.parse({"cached_plan": cached}, NOW)
    end, seconds = epoch(1774029950), 1774029950 - 1771610750
    assert usage.windows == (
        Window(
            id="messages",
            label="Messages",
            used_pct=71.3,
            resets_at=end,
            window_seconds=seconds,
            used=35650,
            limit=50000,
            unit="messages",
        ),
        Window(
            id="flow_actions",
            label="Flow actions",
            used_pct=0,
            resets_at=end,
            window_seconds=seconds,
            used=0,
            limit=150000,
            unit="flow actions",
        ),
    )


def test_counters_from_what_is_left_and_strings() -> None:
    usage = PROVIDER.parse({"cached_plan": {"usage": {"flexCredits": "100", "remainingFlexCredits": "25"}}}, NOW)
    assert [(w.id, w.used, w.used_pct) for w in usage.windows] == [("flex_credits", 75, 75)]


def test_a_bad_reset_is_a_warning() -> None:
    usage = PROVIDER.parse(
        {
            "cached_plan": {
                "quotaUsage": {"dailyRemainingPercent": 10, "dailyResetAtUnix": "soon", "weeklyRemainingPercent": 20}
            }
        },
        NOW,
    )
    assert [w.id for w in usage.windows] == ["weekly"] and len(usage.warnings) == 1


# -- the web answer (protobuf) ------------------------------------------------------------------------------
def test_plan_status_protobuf_is_decoded_and_parsed() -> None:
    for name in ("get-plan-status-pro.bin", "get-plan-status-unknown-fields.bin"):
        decoded = proto.decode_response((FIXTURES / "windsurf" / name).read_bytes())
        usage = PROVIDER.parse({"plan_status": decoded}, NOW)
        assert usage == Usage(
            windows=(
                quota("daily", "Daily", 32, epoch(1777900000), 86400),
                quota("weekly", "Weekly", 16, epoch(1778000000), 604800),
            ),
            plan="Pro",
        )


def test_protobuf_round_trip_and_request() -> None:
    assert proto.decode_request(proto.encode_request("devin-session-token$abc")) == {
        "auth_token": "devin-session-token$abc",
        "include_top_up_status": 1,
    }
    encoded = proto.encode_request("t")
    assert encoded == b"\n\x01t\x10\x01"


@pytest.mark.parametrize("cut", [1, 5, 17, 30])
def test_truncated_or_garbage_protobuf_is_a_parse_error(cut: int) -> None:
    data = (FIXTURES / "windsurf" / "get-plan-status-pro.bin").read_bytes()
    with pytest.raises(ParseError):
        proto.decode_response(data[:cut])
    with pytest.raises(ParseError):
        proto.decode_response(b"\x07\x00")  # wire type 7 does not exist


def test_an_empty_answer_or_no_quota() -> None:
    with pytest.raises(ParseError) as info:
        PROVIDER.parse({"plan_status": proto.decode_response(b"")}, NOW)
    assert info.value.field == "plan_status"
    assert PROVIDER.parse({"plan_status": {"plan_status": {"plan_info": {"plan_name": "Free"}}}}, NOW) == Usage(
        plan="Free"
    )


# -- pasted bundles -------------------------------------------------------------------------------------------
def test_bundles_as_pasted() -> None:
    as_json = json.dumps(
        {
            "devin_session_token": "s",
            "devin_auth1_token": "a",
            "devin_account_id": "acc",
            "devin_primary_org_id": "org",
        }
    )
    full = {"api_key": "s", "auth1_token": "a", "account_id": "acc", "primary_org_id": "org"}
    assert bundle_values(as_json) == full
    assert bundle_values("sessionToken=s\nauth1Token=a\naccountId='acc'\nprimaryOrgId=org") == full
    assert bundle_values("just-a-token") == {"api_key": "just-a-token"}
    with pytest.raises(ProviderConfigError):
        bundle_values("{broken")


# -- the app's cache on disk ----------------------------------------------------------------------------------
def state_db(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
        if value is not None:
            connection.execute("INSERT INTO ItemTable VALUES (?, ?)", (CACHE_KEY, value))
    connection.close()
    return path


async def test_the_local_cache_is_found_and_read(tmp_path: Path) -> None:
    text = json.dumps(fixture_json("windsurf", "cached-plan-quota.json"))
    db = state_db(
        tmp_path / ".config" / "Windsurf" / "User" / "globalStorage" / "state.vscdb", text.encode("utf-16-le")
    )
    assert read_cached_plan(db) == text
    config = account_config("windsurf", {}, env={"AGENTGAUGE_BROWSER": "off"}, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.auth.id, creds.origin) == ("local", str(db))
    usage = await fetch_usage("windsurf", {"source": "local"}, home=tmp_path)
    assert [(w.id, w.used_pct) for w in usage.windows] == [("daily", 50), ("weekly", 50)]


async def test_a_database_without_the_key_is_not_offered(tmp_path: Path) -> None:
    db = state_db(tmp_path / "state.vscdb", None)
    assert read_cached_plan(db) is None
    config = account_config("windsurf", {"state_db": str(db)}, env={"AGENTGAUGE_BROWSER": "off"}, home=tmp_path)
    creds = auth.resolve(PROVIDER, config.accounts[0], config)
    assert [c.auth.id for c in creds] == ["local"]  # set directly: offered, and fetch says what is missing
    with pytest.raises(AuthError, match="no cached plan"):
        await fetch_usage("windsurf", {"state_db": str(db), "source": "local"}, home=tmp_path)


# -- through the simulator ---------------------------------------------------------------------------------------
def last_request(sim: Any) -> dict[str, Any]:
    return next(r for r in reversed(sim_requests(sim)) if r["path"].startswith(PREFIX))


async def test_fetch_sends_the_connect_request(sim: Any) -> None:
    usage = await fetch_usage("windsurf", sim_settings("windsurf", sim.url))
    assert [w.id for w in usage.windows] == ["daily", "weekly"] and usage.plan == "Pro"
    request = last_request(sim)
    headers = request["headers"]
    assert (request["method"], headers["content-type"], headers["connect-protocol-version"]) == (
        "POST",
        "application/proto",
        "1",
    )
    assert headers["x-auth-token"] == headers["x-devin-session-token"] == CREDS["api_key"]
    assert (headers["x-devin-auth1-token"], headers["x-devin-account-id"], headers["x-devin-primary-org-id"]) == (
        CREDS["auth1_token"],
        CREDS["account_id"],
        CREDS["primary_org_id"],
    )
    assert (headers["origin"], headers["referer"]) == ("https://windsurf.com", "https://windsurf.com/profile")


async def test_a_pasted_json_bundle_alone_works(sim: Any) -> None:
    bundle = json.dumps({f"devin_{k}" if k != "api_key" else "devin_session_token": v for k, v in CREDS.items()})
    usage = await fetch_usage("windsurf", {"url": f"{sim.url}/windsurf/url", "api_key": bundle})
    assert usage.windows


async def test_an_incomplete_bundle_is_a_config_error(sim: Any) -> None:
    settings = sim_settings("windsurf", sim.url)
    settings.pop("auth1_token")
    with pytest.raises(ProviderConfigError, match="auth1_token"):
        await fetch_usage("windsurf", settings)


async def test_a_stale_session_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("windsurf", sim_settings("windsurf", sim.url, auth1_token="auth1_stale"))
    assert info.value.status_code == 401 and "devin_*" in info.value.hint


async def test_statuses_timeouts_and_bodies(sim: Any) -> None:
    settings = sim_settings("windsurf", sim.url)
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError) as limited:
        await fetch_usage("windsurf", settings)
    assert limited.value.retry_after == pytest.approx(30, abs=1)
    add_fault(
        sim,
        PREFIX,
        "status",
        status=403,
        headers={"content-type": "text/html", "cf-mitigated": "challenge"},
        body="<html>Just a moment...</html>",
        remaining=1,
    )
    with pytest.raises(ChallengeError):
        await fetch_usage("windsurf", settings)
    add_fault(sim, PREFIX, "status", status=503, body='{"code":"unavailable"}', remaining=1)
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("windsurf", settings)
    assert info.value.status_code == 503
    add_fault(sim, PREFIX, "html", remaining=1)
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("windsurf", settings)
    add_fault(sim, PREFIX, "truncate", remaining=1)
    with pytest.raises(ParseError, match="truncated"):
        await fetch_usage("windsurf", settings)
    add_fault(sim, PREFIX, "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("windsurf", settings, timeout=0.5)


async def test_the_session_bundle_is_found_in_firefox(sim: Any, tmp_path: Path) -> None:
    profile = firefox_profile(tmp_path / ".mozilla/firefox", "a.default", [])
    keys = {"api_key": "devin_session_token", "auth1_token": "devin_auth1_token"}
    keys |= {"account_id": "devin_account_id", "primary_org_id": "devin_primary_org_id"}
    lsng(profile, "https://app.devin.ai", [(keys[k], json.dumps(v).encode(), 0, 1) for k, v in CREDS.items()])
    config = account_config("windsurf", {}, home=tmp_path)
    creds = auth.resolve(PROVIDER, config.accounts[0], config)
    assert [(c.auth.id, c.source) for c in creds] == [("web", "browser")]
    usage = await fetch_usage("windsurf", {"url": f"{sim.url}/windsurf/url"}, home=tmp_path)
    assert [w.id for w in usage.windows] == ["daily", "weekly"]
