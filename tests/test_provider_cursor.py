"""Cursor: the shared samples parsed exactly (cents, lanes, enterprise caps and pools, unlimited, Grok Bot,
legacy request plans), hand-made variations, the Cursor app's state.vscdb read for real (SQLite), pasted
cookies, the requests sent (cookie, Origin on the POST, the legacy user id), optional parts failing
alone, and every failure through the simulator."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

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
from agentgauge.providers.cursor import PROVIDER, appdb, cookie_header
from agentgauge.providers.cursor.parsing import NO_LIMIT_NOTE
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings
from tests.test_browser_unit import FUTURE, firefox_profile

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
PREFIX = "/cursor/url/"
TOKEN = PROVIDER.sim_credentials["access_token"]
COOKIE = PROVIDER.sim_credentials["cookie"]


def parse(summary: Any, sand: Any = None, requests: Any = None) -> Usage:
    return PROVIDER.parse({"summary": summary, "sand": sand, "requests": requests}, NOW)


def usd(wid: str, label: str, pct: float, used: float, limit: float, end: datetime, seconds: int) -> Window:
    return Window(
        id=wid, label=label, used_pct=pct, resets_at=end, window_seconds=seconds, used=used, limit=limit, unit="usd"
    )


def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.sig"


# -- the shared samples --------------------------------------------------------------------------------------
def test_pro_sample_cents_and_on_demand_budgets() -> None:
    end, month = datetime(2025, 2, 1, tzinfo=UTC), 31 * 86400
    assert parse(fixture_json("cursor", "usage-summary-pro.json")) == Usage(
        windows=(
            usd("monthly", "Included usage", 30, 15, 50, end, month),
            usd("on_demand", "On-demand usage", 5, 5, 100, end, month),
            usd("team_on_demand", "Team on-demand usage", 4, 20, 500, end, month),
        ),
        plan="Pro",
    )


def test_pro_2026_sample() -> None:
    usage = parse(fixture_json("cursor", "usage-summary-pro-2026.json"))
    assert [(w.id, w.used_pct, w.used, w.limit) for w in usage.windows] == [
        ("monthly", 19.4, 3.88, 20),
        ("on_demand", 45, 4.5, 10),
    ]


def test_enterprise_sample_personal_cap_and_team_pool() -> None:
    end = datetime(2026, 5, 1, tzinfo=UTC)
    assert parse(fixture_json("cursor", "usage-summary-enterprise.json")) == Usage(
        windows=(
            usd("monthly", "Included usage", 73.84, 73.84, 100, end, 30 * 86400),
            usd("team_pooled", "Team pool", 45.2498, 127251.35, 281220, end, 30 * 86400),
        ),
        plan="Enterprise",
    )


def test_unlimited_enterprise_is_unlimited_not_a_percent() -> None:
    assert parse(fixture_json("cursor", "usage-summary-enterprise-unlimited.json")) == Usage(
        windows=(Window(id="monthly", label="Included usage", used_pct=0, used=500, unit="usd", unlimited=True),),
        plan="Enterprise",
    )


def test_grok_bot_sample_is_a_weekly_window() -> None:
    usage = parse({"membershipType": "pro"}, fixture_json("cursor", "sand-usage-status.json"))
    assert usage.windows == (
        Window(
            id="grok_bot",
            label="Grok Bot (weekly)",
            used_pct=100,
            resets_at=datetime(2026, 8, 24, 7, 57, 50, tzinfo=UTC),
            window_seconds=604800,
        ),
    )


def test_legacy_request_plan_replaces_the_token_lanes() -> None:
    summary = {"membershipType": "pro", "individualUsage": {"plan": {"autoPercentUsed": 10, "apiPercentUsed": 20}}}
    usage = parse(
        summary, fixture_json("cursor", "sand-usage-status.json"), fixture_json("cursor", "legacy-usage-requests.json")
    )
    assert usage.windows == (
        Window(id="requests", label="Requests (monthly)", used_pct=48, used=240, limit=500, unit="requests"),
    )


# -- hand-made variations ------------------------------------------------------------------------------------
def test_lanes_small_percents_and_a_total_from_their_average() -> None:
    usage = parse(
        {
            "billingCycleEnd": "2026-06-01T00:00:00Z",
            "individualUsage": {"plan": {"autoPercentUsed": "0.36", "apiPercentUsed": 3.64, "used": 100, "limit": 0}},
            "x": 1,
        }
    )
    assert [(w.id, w.used_pct, w.limit) for w in usage.windows] == [
        ("monthly", 2, None),
        ("monthly_auto", 0.36, None),
        ("monthly_api", 3.64, None),
    ]


def test_on_demand_without_a_budget_is_spend_and_nothing_is_a_note() -> None:
    usage = parse(
        {"individualUsage": {"onDemand": {"used": "1234", "limit": None}}, "teamUsage": {"onDemand": {"used": 0}}}
    )
    assert usage.balances == (
        Balance(id="on_demand", label="On-demand usage", unit="usd", used=12.34, period="monthly"),
    )
    empty = parse({"membershipType": "enterprise", "individualUsage": {}})
    assert (empty.windows, empty.note, empty.plan) == ((), NO_LIMIT_NOTE, "Enterprise")


def test_drifting_parts_are_warnings() -> None:
    usage = parse(
        {"billingCycleEnd": "soon", "individualUsage": {"plan": {"totalPercentUsed": 5}, "onDemand": "junk"}},
        sand=["not an object"],
        requests=None,
    )
    assert [w.id for w in usage.windows] == ["monthly"]
    assert len(usage.warnings) == 3


def test_a_summary_that_is_not_an_object() -> None:
    with pytest.raises(ParseError):
        parse(["summary"])


def test_grok_bot_without_an_allowance_is_left_out() -> None:
    assert parse({}, {"usagePercent": 5, "hasNonZeroIncludedLimit": False}).windows == ()


# -- the Cursor app's login ----------------------------------------------------------------------------------
def state_db(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
        connection.execute("INSERT INTO ItemTable VALUES ('other', 'x')")
        if value is not None:
            connection.execute("INSERT INTO ItemTable VALUES (?, ?)", (appdb.TOKEN_KEY, value))
    connection.close()
    return path


def found(home: Path, env: dict[str, str] | None = None, **settings: str) -> list[tuple[str, str]]:
    config = account_config("cursor", dict(settings), env=env or {}, home=home)
    return [(c.auth.id, c.origin) for c in auth.resolve(PROVIDER, config.accounts[0], config)]


def test_the_app_token_is_read_from_state_vscdb(tmp_path: Path) -> None:
    db = state_db(tmp_path / ".config" / "Cursor" / "User" / "globalStorage" / "state.vscdb", TOKEN)
    before = sorted(p.name for p in db.parent.iterdir())
    assert found(tmp_path, {"AGENTGAUGE_BROWSER": "off"}) == [("app", str(db))]
    assert sorted(p.name for p in db.parent.iterdir()) == before  # read-only: nothing created beside it


def test_blob_values_quoted_values_and_the_macos_place(tmp_path: Path) -> None:
    path = tmp_path / "Library" / "Application Support" / "Cursor" / "User" / "globalStorage" / "state.vscdb"
    state_db(path, json.dumps(TOKEN).encode())
    assert appdb.read_token(path) == TOKEN
    assert found(tmp_path, {"AGENTGAUGE_BROWSER": "off"}) == [("app", str(path))]


def test_an_expired_or_anonymous_token_is_not_offered(tmp_path: Path) -> None:
    db = tmp_path / "state.vscdb"
    soon = int((datetime.now(UTC) + timedelta(seconds=30)).timestamp())
    state_db(db, jwt({"sub": "auth0|user_1", "exp": soon}))
    assert found(tmp_path, {"AGENTGAUGE_BROWSER": "off"}, state_db=str(db)) == []
    assert not appdb.usable(jwt({"sub": "auth0|bad id!", "exp": 4102444800}), NOW)
    assert appdb.usable(jwt({"sub": "github|u_1.x-y", "exp": 4102444800}), NOW)


def test_no_token_row_or_no_database(tmp_path: Path) -> None:
    db = state_db(tmp_path / "state.vscdb", None)
    assert appdb.read_token(db) is None
    assert appdb.read_token(tmp_path / "missing.vscdb") is None
    (tmp_path / "junk.vscdb").write_bytes(b"not sqlite")
    assert appdb.read_token(tmp_path / "junk.vscdb") is None


def test_source_web_skips_the_app_and_a_bad_source_is_refused(tmp_path: Path) -> None:
    db = state_db(tmp_path / "state.vscdb", TOKEN)
    assert found(tmp_path, {"AGENTGAUGE_BROWSER": "off"}, state_db=str(db), source="web") == []
    assert [s for s, _ in found(tmp_path, {"AGENTGAUGE_BROWSER": "off"}, state_db=str(db), cookie=COOKIE)] == [
        "app",
        "web",
    ]


def test_pasted_cookies() -> None:
    assert cookie_header("user_1%3A%3Atok") == "WorkosCursorSessionToken=user_1%3A%3Atok"
    assert cookie_header("Cookie: a=1; WorkosCursorSessionToken=x") == "a=1; WorkosCursorSessionToken=x"
    assert cookie_header("curl https://cursor.com -b 'WorkosCursorSessionToken=y'") == "WorkosCursorSessionToken=y"
    with pytest.raises(ProviderConfigError):
        cookie_header("curl https://cursor.com")


# -- through the simulator -----------------------------------------------------------------------------------
def app_only(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("cursor", sim.url, **overrides)
    settings.pop("cookie")
    return settings


def requests_to(sim: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == PREFIX.rstrip("/") + path]


async def test_fetch_with_the_app_token(sim: Any) -> None:
    usage = await fetch_usage("cursor", app_only(sim))
    assert [w.id for w in usage.windows] == ["monthly", "monthly_auto", "monthly_api", "grok_bot", "on_demand"]
    assert usage.plan == "Pro" and usage.windows[0].limit == 20
    summary = requests_to(sim, "/api/usage-summary")[-1]
    assert summary["headers"]["cookie"] == COOKIE
    sand = requests_to(sim, "/api/dashboard/get-sand-usage-status")[-1]
    assert sand["method"] == "POST" and sand["body"] == "{}"
    assert sand["headers"]["origin"] == sim.url
    assert parse_qs(requests_to(sim, "/api/usage")[-1]["query"]) == {"user": ["auth0|user_01SIMCURSOR"]}


async def test_fetch_with_a_pasted_web_cookie(sim: Any) -> None:
    settings = sim_settings("cursor", sim.url, cookie=f"Cookie: theme=dark; {COOKIE}")
    settings.pop("access_token")
    usage = await fetch_usage("cursor", settings)
    assert usage.windows and requests_to(sim, "/api/usage-summary")[-1]["headers"]["cookie"].startswith("theme=dark")


async def test_optional_parts_fail_alone(sim: Any) -> None:
    add_fault(sim, PREFIX + "api/dashboard", "status", status=500, body="oops")
    add_fault(sim, PREFIX + "api/auth/me", "status", status=500, body="oops")
    usage = await fetch_usage("cursor", app_only(sim))
    assert "grok_bot" not in [w.id for w in usage.windows] and usage.windows
    # without auth/me the user id comes from the cookie
    assert parse_qs(requests_to(sim, "/api/usage")[-1]["query"]) == {"user": ["user_01SIMCURSOR"]}


async def test_a_rejected_app_token_is_an_auth_error_with_the_app_hint(sim: Any) -> None:
    other = jwt({"sub": "auth0|user_2", "exp": 4102444800})
    with pytest.raises(AuthError) as info:
        await fetch_usage("cursor", app_only(sim, access_token=other))
    assert "open Cursor" in info.value.hint and other not in str(info.value)
    with pytest.raises(AuthError):
        await fetch_usage("cursor", app_only(sim, access_token="not-a-jwt"))


async def test_an_invalid_source_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError):
        await fetch_usage("cursor", app_only(sim, source="telepathy"))


async def test_429_500_timeout_and_bad_bodies(sim: Any) -> None:
    settings = app_only(sim)
    add_fault(
        sim, PREFIX + "api/usage-summary", "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1
    )
    with pytest.raises(RateLimitedError):
        await fetch_usage("cursor", settings)
    add_fault(sim, PREFIX + "api/usage-summary", "status", status=500, body="oops", remaining=1)
    with pytest.raises(UpstreamError):
        await fetch_usage("cursor", settings)
    add_fault(sim, PREFIX + "api/usage-summary", "html", remaining=1)
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("cursor", settings)
    add_fault(sim, PREFIX + "api/usage-summary", "truncate", remaining=1)
    with pytest.raises(ParseError, match="truncated"):
        await fetch_usage("cursor", settings)
    add_fault(sim, PREFIX + "api/usage-summary", "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("cursor", settings, timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("cursor", app_only(sim))
    assert len(usage.windows) == 5 and usage.warnings == ()


async def test_the_web_session_is_found_in_firefox(sim: Any, tmp_path: Path) -> None:
    name, value = COOKIE.split("=", 1)
    firefox_profile(
        tmp_path / ".mozilla/firefox",
        "a.default",
        [("cursor.com", name, value, FUTURE), (".cursor.com", "theme", "dark", FUTURE)],
    )
    config = account_config("cursor", {}, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.auth.id, creds.source) == ("web", "browser")
    usage = await fetch_usage("cursor", {"url": f"{sim.url}/cursor/url"}, home=tmp_path)
    assert usage.windows
    assert requests_to(sim, "/api/usage-summary")[-1]["headers"]["cookie"].startswith(COOKIE)
