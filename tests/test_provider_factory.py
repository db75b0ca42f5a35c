"""Factory: token-rate-limit windows and Standard/Premium allowances parsed exactly from the shared samples,
every source (API key and ~/.factory/.env, session cookie, WorkOS access token, WorkOS refresh token
from the browser refreshed into agentgauge's own store), the hosts' calls and every failure."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.config import Config
from agentgauge.credentials import resolve as auth
from agentgauge.credentials.store import SecretStore
from agentgauge.engine import Engine
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, ProviderSnapshot, Status, Usage, Window
from agentgauge.providers import _oauth
from agentgauge.providers.factory import PROVIDER, bases, cookie_bearer, dotenv_key
from agentgauge.providers.factory import parsing as fp
from agentgauge.providers.factory.workos import CLIENT_IDS, CLIENTS, RELOGIN_HINT
from agentgauge.store import open_store
from tests.harness import account_config, add_challenge, add_fault, fetch_usage, fixture_json, load, sim_settings
from tests.simlog import Mark
from tests.test_browser_unit import firefox_profile, lsng

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = "sim-factory-api-key"
BEARER = "sim-factory-bearer"
REFRESH = "sim-factory-refresh"
SESSION = "sim-factory-session"
PREFIX = "/factory/url/"
WORKOS = "/factory/workos_url/user_management/authenticate"


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse({"me": None, "limits": None, "usage": None, **raw}, NOW)


def requests_to(since: Mark, path: str) -> list[dict[str, Any]]:
    return [r for r in since.requests() if r["path"] == path]


def factory_requests(since: Mark) -> list[dict[str, Any]]:
    return since.requests("/factory/")


def web_only(sim: Any, **values: str) -> dict[str, str]:
    settings = sim_settings("factory", sim.url)
    for name in ("api_key", "cookie", "bearer_token", "refresh_token"):
        settings.pop(name)
    return {**settings, **values}


def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.sig"


def assert_rate_limited_windows(usage: Usage) -> None:
    assert [w.id for w in usage.windows] == ["session", "weekly", "monthly"]
    assert all(0 <= w.used_pct <= 100 and w.resets_at is not None for w in usage.windows)
    assert usage.balances == (Balance(id="extra_usage", label="Extra usage balance", unit="usd", remaining=12.5),)
    assert usage.plan == "Team"


def stored() -> dict[str, Any]:
    store = SecretStore()
    return {e.setting: e for e in store.entries() if e.provider == "factory"} if store.exists() else {}


async def engine_run(config: Config, tmp_path: Path, run: str = "1") -> ProviderSnapshot:
    store = open_store(str(tmp_path / f"run{run}.db"), data_dir=tmp_path)
    try:
        async with Engine(config, store) as engine:
            snapshot = await engine.refresh(["factory"])
    finally:
        store.close()
    return next(p for p in snapshot.providers if p.provider == "factory" and p.account == "default")


def sim_env(sim: Any, **extra: str) -> dict[str, str]:
    return {
        "AGENTGAUGE_FACTORY_URL": f"{sim.url}/factory/url",
        "AGENTGAUGE_FACTORY_WORKOS_URL": f"{sim.url}/factory/workos_url",
        **extra,
    }


# -- samples ------------------------------------------------------------------------------------------
def test_token_rate_limits_sample() -> None:
    assert parse(limits=fixture_json("factory", "token-rate-limits.json")) == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=12,
                resets_at=NOW + timedelta(hours=1),
                window_seconds=18000,
            ),
            Window(id="weekly", label="Weekly", used_pct=34, resets_at=NOW + timedelta(days=1), window_seconds=604800),
            Window(id="monthly", label="Monthly", used_pct=56, resets_at=NOW + timedelta(days=7)),
        )
    )


def test_extra_usage_balance_sample_and_plan_from_the_org_sample() -> None:
    usage = parse(
        limits=fixture_json("factory", "extra-usage-balance.json"), me=fixture_json("factory", "org-subscription.json")
    )
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [
        ("session", 12, NOW + timedelta(seconds=3600)),
        ("weekly", 34, NOW + timedelta(seconds=7200)),
        ("monthly", 56, NOW + timedelta(seconds=10800)),
    ]
    assert usage.balances == (Balance(id="extra_usage", label="Extra usage balance", unit="usd", remaining=25.0),)
    assert usage.plan == "Team"


def test_standard_premium_sample() -> None:
    end = datetime.fromtimestamp(1700003600, UTC)
    assert parse(usage=fixture_json("factory", "usage-standard-premium.json")) == Usage(
        windows=(
            Window(
                id="standard",
                label="Standard tokens",
                used_pct=10,
                resets_at=end,
                window_seconds=3600,
                used=100,
                limit=1000,
                unit="tokens",
            ),
            Window(
                id="premium",
                label="Premium tokens",
                used_pct=10,
                resets_at=end,
                window_seconds=3600,
                used=10,
                limit=100,
                unit="tokens",
            ),
        )
    )


def test_workos_refresh_error_sample_is_a_rejected_login() -> None:
    body = json.dumps(fixture_json("factory", "workos-refresh-error.json")).encode()
    error = _oauth.rejection(CLIENTS[0], 400, body)
    assert isinstance(error, AuthError) and "invalid_request" in error.message and error.hint == RELOGIN_HINT
    assert "Missing refresh token" not in error.message  # only the code is quoted, never the body


# -- variations --------------------------------------------------------------------------------------------
def test_core_pool_numbers_as_strings_and_window_end() -> None:
    limits = {
        "usesTokenRateLimitsBilling": True,
        "limits": {
            "standard": {
                "fiveHour": {"usedPercent": "5.5", "secondsRemaining": "60"},
                "weekly": {"usedPercent": 20, "windowEnd": "2026-05-03T00:00:00Z"},
                "monthly": {"usedPercent": 80, "windowEnd": 1777000000000},
                "extra": True,
            },
            "core": {
                "fiveHour": {"usedPercent": 1, "secondsRemaining": 100},
                "weekly": {"usedPercent": 0},
                "monthly": {"usedPercent": 0},
            },
        },
        "extraUsageBalanceCents": "0",
        "extraUsageAllowed": True,
    }
    usage = parse(limits=limits)
    assert [(w.id, w.label, w.used_pct, w.resets_at) for w in usage.windows] == [
        ("session", "Session (5h)", 5.5, NOW + timedelta(seconds=60)),
        ("weekly", "Weekly", 20, datetime(2026, 5, 3, tzinfo=UTC)),
        ("monthly", "Monthly", 0.0, None),  # its window ended and Factory kept the figure: shown as reset
        ("core_session", "Core · Session (5h)", 1, NOW + timedelta(seconds=100)),
        ("core_weekly", "Core · Weekly", 0, None),
        ("core_monthly", "Core · Monthly", 0, None),
    ]
    assert usage.balances == (Balance(id="extra_usage", label="Extra usage balance", unit="usd", remaining=0.0),)


def test_idle_core_pool_is_left_out() -> None:
    core = {k: {"usedPercent": 0} for k in ("fiveHour", "weekly", "monthly")}
    limits = fixture_json("factory", "token-rate-limits.json")
    limits["limits"]["core"] = core
    assert [w.id for w in parse(limits=limits).windows] == ["session", "weekly", "monthly"]


def test_one_broken_window_is_a_warning() -> None:
    limits = fixture_json("factory", "token-rate-limits.json")
    limits["limits"]["standard"]["weekly"] = {"secondsRemaining": 5}
    usage = parse(limits=limits)
    assert [w.id for w in usage.windows] == ["session", "monthly"]
    (warning,) = usage.warnings
    assert warning.kind == "parse" and "limits.standard.weekly has no usedPercent" in warning.message


def test_limits_without_the_new_billing_fall_back_to_usage() -> None:
    usage = parse(
        limits={"usesTokenRateLimitsBilling": False}, usage=fixture_json("factory", "usage-standard-premium.json")
    )
    assert [w.id for w in usage.windows] == ["standard", "premium"]


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        ({"userTokens": 250, "totalAllowance": 1000, "usedRatio": 0}, (25.0, 250, 1000, False)),
        ({"userTokens": 5, "usedRatio": 42.5}, (42.5, 5, None, False)),
        ({"userTokens": "7", "totalAllowance": "70", "usedRatio": None}, (10.0, 7, 70, False)),
        ({"userTokens": 123, "totalAllowance": 2_000_000_000_000, "usedRatio": 0}, (0.0, 123, None, True)),
    ],
)
def test_tier_percent_rules(tier: dict[str, Any], expected: tuple[float, float, float | None, bool]) -> None:
    (window,) = parse(usage={"usage": {"standard": tier}}).windows
    assert (window.used_pct, window.used, window.limit, window.unlimited) == expected
    assert window.resets_at is None and window.window_seconds is None


def test_tier_the_plan_does_not_have_is_left_out() -> None:
    usage = parse(usage={"usage": {"standard": {"userTokens": 1, "usedRatio": 0.5}, "premium": {"userTokens": 0}}})
    assert [w.id for w in usage.windows] == ["standard"]


def test_missing_figures_name_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse()
    assert info.value.field == "usage.standard"
    with pytest.raises(ParseError) as info:
        parse(usage={"userId": "u"})
    assert info.value.field == "usage"
    with pytest.raises(ParseError) as info:
        parse(usage={"usage": {"standard": {"userTokens": 5, "totalAllowance": 0}}})
    assert info.value.field == "usage.standard.usedRatio"


def test_plan_from_tier_when_no_orb_plan() -> None:
    assert fp.plan_of({"organization": {"subscription": {"factoryTier": "enterprise"}}}) == "Enterprise"
    assert fp.plan_of(None) is None


def test_helpers() -> None:
    assert dotenv_key("# c\nOTHER=1\nexport FACTORY_API_KEY='fk-abc'\n") == "fk-abc"
    assert dotenv_key('FACTORY_API_KEY = "fk-x" \n') == "fk-x"
    assert dotenv_key("FACTORY_API_KEY=\n") is None
    token = jwt({"sub": "user_1"})
    assert cookie_bearer(f"wos-session=opaque; access-token={token}") == token
    assert cookie_bearer("wos-session=opaque") is None
    assert bases({}, "web") == ["https://auth.factory.ai", "https://api.factory.ai", "https://app.factory.ai"]
    assert bases({}, "api_key") == ["https://api.factory.ai", "https://app.factory.ai"]
    assert bases({"url": "http://x/"}, "web") == ["http://x"]


def test_declarations() -> None:
    assert {s.name: s.env_var("factory") for s in PROVIDER.settings} == {
        "api_key": "AGENTGAUGE_FACTORY_API_KEY",
        "cookie": "AGENTGAUGE_FACTORY_COOKIE",
        "bearer_token": "AGENTGAUGE_FACTORY_BEARER_TOKEN",
        "refresh_token": "AGENTGAUGE_FACTORY_REFRESH_TOKEN",
        "url": "AGENTGAUGE_FACTORY_URL",
        "workos_url": "AGENTGAUGE_FACTORY_WORKOS_URL",
    }
    assert [(a.id, a.source) for a in PROVIDER.auth] == [
        ("api_key", "api_key"),
        ("web", "cookie"),
        ("session", "oauth"),
        ("workos", "oauth"),
    ]


# -- fetch through the simulator -----------------------------------------------------------------------
async def test_api_key_reads_auth_me_then_billing_limits(sim: Any) -> None:
    since = Mark(sim)
    assert_rate_limited_windows(await fetch_usage("factory", sim_settings("factory", sim.url)))
    me, limits = factory_requests(since)
    assert (me["method"], me["path"]) == ("GET", "/factory/url/api/app/auth/me")
    assert limits["path"] == "/factory/url/api/billing/limits"
    for request in (me, limits):
        headers = request["headers"]
        assert headers["authorization"] == f"Bearer {KEY}"
        assert headers["x-factory-client"] == "web-app"
        assert (headers["origin"], headers["referer"]) == ("https://app.factory.ai", "https://app.factory.ai/")
        assert "cookie" not in headers


async def test_legacy_plan_reads_subscription_usage_for_the_user(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("factory", sim_settings("factory", sim.url, api_key=f"{KEY}#legacy"))
    assert [w.id for w in usage.windows] == ["standard", "premium"] and usage.plan == "Enterprise"
    assert usage.windows[0].limit == 20_000_000 and usage.windows[0].window_seconds == 30 * 86400
    *_, usage_request = factory_requests(since)
    assert usage_request["path"] == "/factory/url/api/organization/subscription/usage"
    assert parse_qs(usage_request["query"]) == {"useCache": ["true"], "userId": ["user-legacy"]}


async def test_missing_billing_limits_endpoint_uses_subscription_usage(sim: Any) -> None:
    add_fault(sim, "/factory/url/api/billing/limits", "status", status=404, body='{"detail":"Not Found"}')
    usage = await fetch_usage("factory", sim_settings("factory", sim.url))
    assert [w.id for w in usage.windows] == ["standard", "premium"]


async def test_failing_billing_limits_fail_the_fetch(sim: Any) -> None:
    # A token-rate-limits account must never be shown with the older allowance model instead.
    add_fault(sim, "/factory/url/api/billing/limits", "status", status=503, body="down")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("factory", sim_settings("factory", sim.url))
    assert info.value.status_code == 503


async def test_discovers_factory_env_and_dotenv(sim: Any, tmp_path: Path) -> None:
    settings = web_only(sim)
    assert_rate_limited_windows(await fetch_usage("factory", settings, env={"FACTORY_API_KEY": KEY}, home=tmp_path))
    (tmp_path / ".factory").mkdir()
    (tmp_path / ".factory" / ".env").write_text(f"# droid\nexport FACTORY_API_KEY={KEY}\n")
    assert_rate_limited_windows(await fetch_usage("factory", settings, home=tmp_path))
    config = account_config("factory", settings, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.auth.id, creds.origin, creds.source) == ("api_key", "~/.factory/.env", "api_key")


async def test_session_cookie_is_sent_as_a_cookie(sim: Any) -> None:
    since = Mark(sim)
    cookie = f"Cookie: wos-session={SESSION}; __cf_bm=x"
    assert_rate_limited_windows(await fetch_usage("factory", web_only(sim, cookie=cookie)))
    for request in factory_requests(since):
        assert request["headers"]["cookie"] == f"wos-session={SESSION}; __cf_bm=x"
        assert "authorization" not in request["headers"]


async def test_stale_access_token_cookie_is_retried_without_the_bearer(sim: Any) -> None:
    stale = jwt({"sub": "user_1", "exp": 1})
    since = Mark(sim)
    usage = await fetch_usage("factory", web_only(sim, cookie=f"wos-session={SESSION}; access-token={stale}"))
    assert_rate_limited_windows(usage)
    first, *rest = factory_requests(since)
    assert first["headers"]["authorization"] == f"Bearer {stale}"
    assert rest and all("authorization" not in r["headers"] for r in rest)


async def test_wrong_cookie_is_an_auth_error_with_the_cookie_hint(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("factory", web_only(sim, cookie="wos-session=gone-stale"))
    assert "AGENTGAUGE_FACTORY_COOKIE" in info.value.hint and "gone-stale" not in info.value.message


async def test_access_token_is_used_while_good(sim: Any) -> None:
    since = Mark(sim)
    assert_rate_limited_windows(await fetch_usage("factory", web_only(sim, bearer_token=BEARER)))
    assert requests_to(since, WORKOS) == []


async def test_expired_access_token_without_a_store_is_not_refreshed(sim: Any) -> None:
    expired = jwt({"sub": "user_1", "exp": int(time.time()) - 60})
    since = Mark(sim)
    with pytest.raises(AuthError, match="expired") as info:
        await fetch_usage("factory", web_only(sim, bearer_token=expired, refresh_token=REFRESH))
    assert info.value.hint == RELOGIN_HINT
    assert factory_requests(since) == []


async def test_refresh_token_alone_needs_the_store(sim: Any) -> None:
    with pytest.raises(AuthError, match="secret store"):
        await fetch_usage("factory", web_only(sim, refresh_token=REFRESH))


async def test_browser_refresh_token_is_refreshed_into_the_store_once(sim: Any, tmp_path: Path) -> None:
    profile = firefox_profile(tmp_path / ".mozilla/firefox", "a.default", [])
    db = lsng(profile, "https://app.factory.ai", [("workos:refresh-token", REFRESH.encode(), 0, 1)])
    before = db.read_bytes()
    since = Mark(sim)
    snap = await engine_run(load(env=sim_env(sim), home=tmp_path), tmp_path)
    assert snap.status == Status.OK, snap.error
    assert (snap.source, snap.source_label) == ("browser", "browser login (Firefox)")
    (call,) = requests_to(since, WORKOS)
    assert call["method"] == "POST" and call["headers"]["content-type"] == "application/json"
    assert json.loads(call["body"]) == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": CLIENT_IDS[0],
    }
    kept = stored()
    assert kept["bearer_token"].value.reveal() == BEARER and kept["bearer_token"].origin == "oauth-refresh"
    assert kept["refresh_token"].value.reveal() == f"{REFRESH}#default"  # WorkOS rotated it
    assert db.read_bytes() == before  # the browser's storage is never written

    # The next run uses the kept access token: no second refresh.
    snap = await engine_run(load(env=sim_env(sim), home=tmp_path), tmp_path, run="2")
    assert snap.status == Status.OK and snap.source == "oauth"
    assert len(requests_to(since, WORKOS)) == 1


async def test_refresh_tries_the_second_client_id(sim: Any, tmp_path: Path) -> None:
    add_fault(sim, WORKOS, "status", status=400, body='{"error":"invalid_client"}', remaining=1)
    since = Mark(sim)
    snap = await engine_run(load(env=sim_env(sim, AGENTGAUGE_FACTORY_REFRESH_TOKEN=REFRESH), home=tmp_path), tmp_path)
    assert snap.status == Status.OK, snap.error
    first, second = requests_to(since, WORKOS)
    assert [json.loads(r["body"])["client_id"] for r in (first, second)] == list(CLIENT_IDS)


async def test_rejected_refresh_is_an_auth_error_and_keeps_nothing(sim: Any, tmp_path: Path) -> None:
    body = json.dumps(fixture_json("factory", "workos-refresh-error.json"))
    add_fault(sim, WORKOS, "status", status=400, body=body)
    snap = await engine_run(load(env=sim_env(sim, AGENTGAUGE_FACTORY_REFRESH_TOKEN=REFRESH), home=tmp_path), tmp_path)
    assert snap.status == Status.ERROR and snap.error is not None
    assert snap.error.kind == "auth" and "invalid_request" in snap.error.message
    assert REFRESH not in snap.error.message + snap.error.hint
    assert stored() == {}


async def test_refused_access_token_is_refreshed_once_and_retried(sim: Any, tmp_path: Path) -> None:
    since = Mark(sim)
    env = sim_env(sim, AGENTGAUGE_FACTORY_BEARER_TOKEN="revoked", AGENTGAUGE_FACTORY_REFRESH_TOKEN=REFRESH)
    snap = await engine_run(load(env=env, home=tmp_path), tmp_path)
    assert snap.status == Status.OK, snap.error
    assert len(requests_to(since, WORKOS)) == 1


# -- failures -------------------------------------------------------------------------------------------
async def test_401_is_an_auth_error_with_the_key_hint(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=401, body='{"detail":"Not authenticated"}')
    with pytest.raises(AuthError) as info:
        await fetch_usage("factory", sim_settings("factory", sim.url))
    assert info.value.status_code == 401 and "FACTORY_API_KEY" in info.value.hint
    assert KEY not in info.value.message


async def test_cloudflare_challenge(sim: Any) -> None:
    add_challenge(sim, PREFIX)
    with pytest.raises(ChallengeError):
        await fetch_usage("factory", sim_settings("factory", sim.url))


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}")
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("factory", sim_settings("factory", sim.url))
    assert info.value.retry_after == pytest.approx(30, abs=1)


async def test_500_is_upstream(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("factory", sim_settings("factory", sim.url))
    assert info.value.status_code == 500


async def test_truncated_json_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "truncate")
    with pytest.raises(ParseError, match="malformed or truncated"):
        await fetch_usage("factory", sim_settings("factory", sim.url))


async def test_html_instead_of_json_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "html")
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("factory", sim_settings("factory", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    assert_rate_limited_windows(await fetch_usage("factory", sim_settings("factory", sim.url)))


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("factory", sim_settings("factory", sim.url), timeout=0.5)
