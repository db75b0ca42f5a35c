"""OpenCode Go: the usage API and Go page samples parsed exactly (percentages stay percentages), the
key from OPENCODE_API_KEY or OpenCode's own auth.json, the opencode.ai login (session cookie only,
workspace lookup or setting, signed-out answers), and every failure through the simulator."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    ConfigError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.opencodego import PROVIDER
from agentgauge.providers.opencodego.web import WORKSPACES_FUNCTION, cookie_header, workspace_id, workspace_ids
from tests.harness import (
    account_config,
    add_challenge,
    add_fault,
    fetch_usage,
    fixture_json,
    fixture_text,
    sim_requests,
    sim_settings,
)
from tests.simlog import Mark
from tests.test_browser_unit import firefox_profile

NOW = datetime(2026, 8, 11, 12, 0, tzinfo=UTC)
KEY = "sim-opencode-go-key"
COOKIE = "auth=sim-opencode-auth"
PREFIX = "/opencodego/url/"
SIM_WORKSPACE = "wrk_01SIMGOWORKSPACE0000000000"


def api(payload: Any) -> Usage:
    return PROVIDER.parse({"usage": payload}, NOW)


def page(text: str) -> Usage:
    return PROVIDER.parse({"page": text}, NOW)


def window(wid: str, pct: float, resets_at: datetime | None) -> Window:
    labels = {"session": ("Session (5h)", 18000), "weekly": ("Weekly", 604800), "monthly": ("Monthly", None)}
    label, seconds = labels[wid]
    return Window(id=wid, label=label, used_pct=pct, resets_at=resets_at, window_seconds=seconds)


def web_settings(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("opencodego", sim.url, **overrides)
    settings.pop("api_key")
    return settings


def keyless(sim: Any) -> dict[str, str]:
    settings = sim_settings("opencodego", sim.url)
    for name in ("api_key", "cookie"):
        settings.pop(name)
    return settings


def paths(since: Mark) -> list[str]:
    return since.paths(PREFIX)


# -- samples ------------------------------------------------------------------------------------
def test_usage_api_sample() -> None:
    assert api(fixture_json("opencodego", "go-usage-api.json")) == Usage(
        windows=(
            window("session", 12, datetime(2026, 8, 12, 2, tzinfo=UTC)),
            window("weekly", 8, datetime(2026, 8, 18, tzinfo=UTC)),
            window("monthly", 35, datetime(2026, 9, 1, tzinfo=UTC)),
        )
    )


def test_go_page_seroval_sample() -> None:
    assert page(fixture_text("opencodego", "go-page-seroval.txt")) == Usage(
        windows=(
            window("session", 17, NOW + timedelta(seconds=5944)),
            window("weekly", 75, NOW + timedelta(seconds=278201)),
            window("monthly", 91, NOW + timedelta(seconds=880201)),
        )
    )


def test_live_go_page_hydration_sample() -> None:
    assert page(fixture_text("opencodego", "go-page-hydration.txt")) == Usage(
        windows=(
            window("session", 0, NOW + timedelta(seconds=17591)),
            window("weekly", 0, NOW + timedelta(seconds=444552)),
            window("monthly", 0, NOW + timedelta(seconds=2591424)),
        )
    )


def test_page_fragment_with_only_the_zen_balance() -> None:
    assert page(fixture_text("opencodego", "workspace-go-page-fragment.html")) == Usage(
        balances=(Balance(id="zen_balance", label="Zen balance", unit="usd", remaining=1234.56),)
    )


def test_workspaces_samples() -> None:
    assert workspace_ids(fixture_text("opencodego", "workspaces-seroval.txt")) == ["wrk_01K6AR1ZET89H8NB691FQ2C2VB"]
    with pytest.raises(AuthError, match="signed out"):
        page(fixture_text("opencodego", "workspaces-signed-out.txt"))


# -- hand-made variations ------------------------------------------------------------------------
@pytest.mark.parametrize("pct", [1, 0.5, "1", 100, 120])
def test_a_percent_is_never_taken_for_a_fraction(pct: Any) -> None:
    (session,) = api({"usage": {"rolling": {"percent": pct}}}).windows
    assert session.used_pct == float(pct)


def test_api_times_as_epoch_or_relative_and_missing_windows() -> None:
    usage = api(
        {
            "usage": {
                "rolling": {"percent": "12", "resetsAt": 1786500000000, "x": 1},
                "weekly": {"percent": 8, "resetInSec": "3600"},
                "monthly": None,
            },
            "plan": "go",
        }
    )
    assert usage.windows == (
        window("session", 12, datetime.fromtimestamp(1786500000, tz=UTC)),
        window("weekly", 8, NOW + timedelta(hours=1)),
    )


def test_a_window_without_percent_is_a_warning() -> None:
    usage = api({"usage": {"rolling": {"resetsAt": "2026-08-12T02:00:00Z"}, "weekly": {"percent": 8}}})
    assert [w.id for w in usage.windows] == ["weekly"]
    assert "usage.rolling.percent" in usage.warnings[0].message


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"error": "unauthorized"}, AuthError),
        ({"error": {"message": "Invalid API key"}}, AuthError),
        ({"message": "maintenance"}, UpstreamError),
    ],
)
def test_error_bodies_in_a_200(payload: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        api(payload)
    assert type(info.value) is error


@pytest.mark.parametrize(("payload", "field"), [(["usage"], "$"), ({}, "usage"), ({"usage": None}, "usage")])
def test_unknown_api_shapes_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        api(payload)
    assert info.value.field == field


def test_page_with_json_keys_billing_balance_and_a_broken_block() -> None:
    text = (
        '{"rollingUsage":{"status":"ok","resetInSec":"60","usagePercent":"2.5"},'
        '"weeklyUsage":{"status":"ok","resetInSec":99999999999},'
        'billing:$R[9]={customerID:"cus_X",balance:$R[10]=1250000000,balanceEnabled:!0}}'
    )
    usage = page(text)
    assert usage.windows == (window("session", 2.5, NOW + timedelta(seconds=60)),)
    assert usage.balances == (Balance(id="zen_balance", label="Zen balance", unit="usd", remaining=12.5),)
    assert "weeklyUsage.usagePercent" in usage.warnings[0].message


def test_billing_balance_needs_a_customer_and_huge_resets_are_dropped() -> None:
    usage = page("rollingUsage:{usagePercent:3,resetInSec:4000000000};$R[0]={customerID:null,balance:0}")
    assert usage == Usage(windows=(window("session", 3, None),))


def test_a_page_without_usage_is_a_parse_error_or_signed_out() -> None:
    with pytest.raises(ParseError) as info:
        page("<html><body>Go</body></html>")
    assert info.value.field == "rollingUsage"
    with pytest.raises(AuthError):
        page('<html><a href="/auth/authorize">Sign in</a></html>')
    with pytest.raises(ParseError):
        PROVIDER.parse({"page": None}, NOW)


def test_cookie_header_keeps_only_the_session() -> None:
    assert cookie_header("provider=google; auth=abc; theme=dark") == "auth=abc"
    assert cookie_header("Cookie: __Host-auth=h; auth=a; x=1") == "__Host-auth=h; auth=a"
    assert cookie_header("  bare-value ") == "auth=bare-value"
    assert cookie_header("provider=google") is None
    assert cookie_header("") is None


def test_workspace_id_from_an_id_or_url() -> None:
    assert workspace_id(" wrk_ABC123 ") == "wrk_ABC123"
    assert workspace_id("https://opencode.ai/workspace/wrk_ABC123/go") == "wrk_ABC123"
    assert workspace_id("my workspace") is None and workspace_id(None) is None


def test_declarations() -> None:
    assert {s.name: (s.env_var("opencodego"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_OPENCODEGO_API_KEY", ("OPENCODE_API_KEY",)),
        "url": ("AGENTGAUGE_OPENCODEGO_URL", ()),
        "cookie": ("AGENTGAUGE_OPENCODEGO_COOKIE", ()),
        "workspace": ("AGENTGAUGE_OPENCODEGO_WORKSPACE", ()),
    }
    assert [(a.id, a.source) for a in PROVIDER.auth] == [("api_key", "api_key"), ("web", "cookie")]
    assert PROVIDER.urls == {"url": "https://opencode.ai"}


# -- the API key through the simulator ---------------------------------------------------------------
async def test_fetch_with_the_api_key(sim: Any) -> None:
    usage = await fetch_usage("opencodego", sim_settings("opencodego", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly", "monthly"]
    assert all(0 <= w.used_pct <= 100 and w.resets_at is not None for w in usage.windows)
    request = [r for r in sim_requests(sim) if r["path"] == PREFIX + "zen/go/v1/usage"][-1]
    assert request["method"] == "GET"
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["headers"]["accept"] == "application/json"
    assert "cookie" not in request["headers"]


async def test_key_from_opencode_api_key(sim: Any) -> None:
    usage = await fetch_usage("opencodego", keyless(sim), env={"OPENCODE_API_KEY": KEY})
    assert len(usage.windows) == 3


@pytest.mark.parametrize("xdg", [False, True])
async def test_key_from_opencodes_auth_json(sim: Any, tmp_path: Path, xdg: bool) -> None:
    data = tmp_path / "xdg-data" if xdg else tmp_path / ".local" / "share"
    (data / "opencode").mkdir(parents=True)
    entries = {"anthropic": {"type": "oauth", "access": "x"}, "opencode-go": {"type": "api", "key": KEY}}
    (data / "opencode" / "auth.json").write_text(json.dumps(entries), encoding="utf-8")
    env = {"XDG_DATA_HOME": str(data)} if xdg else {}
    assert len((await fetch_usage("opencodego", keyless(sim), env=env, home=tmp_path)).windows) == 3
    config = account_config("opencodego", keyless(sim), env=env, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.origin, creds.source) == (str(data / "opencode" / "auth.json"), "api_key")


def test_auth_json_without_a_go_key_or_malformed(tmp_path: Path) -> None:
    folder = tmp_path / ".local" / "share" / "opencode"
    folder.mkdir(parents=True)
    (folder / "auth.json").write_text('{"opencode-go": {"type": "oauth", "key": "k"}, "opencode": {"key": "z"}}')
    config = account_config("opencodego", {}, home=tmp_path)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []
    (folder / "auth.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        auth.resolve(PROVIDER, config.accounts[0], config)


async def test_wrong_key_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("opencodego", sim_settings("opencodego", sim.url, api_key="go-wrong"))
    assert "go-wrong" not in str(info.value)


# -- the opencode.ai login through the simulator -----------------------------------------------------
async def test_web_login_finds_the_workspace_then_reads_its_go_page(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("opencodego", web_settings(sim, cookie=f"provider=google; {COOKIE}; theme=x"))
    assert [w.id for w in usage.windows] == ["session", "weekly", "monthly"]
    assert usage.balances == (Balance(id="zen_balance", label="Zen balance", unit="usd", remaining=12.5),)
    assert paths(since) == [PREFIX + "_server", f"{PREFIX}workspace/{SIM_WORKSPACE}/go"]
    workspaces, go_page = since.requests(PREFIX)
    assert workspaces["query"] == f"id={WORKSPACES_FUNCTION}"
    assert workspaces["headers"]["x-server-id"] == WORKSPACES_FUNCTION
    assert workspaces["headers"]["x-server-instance"].startswith("server-fn:")
    assert workspaces["headers"]["accept"].startswith("text/javascript")
    assert workspaces["headers"]["cookie"] == go_page["headers"]["cookie"] == COOKIE  # the session cookie only
    assert "authorization" not in go_page["headers"]


async def test_workspace_setting_skips_the_lookup(sim: Any) -> None:
    since = Mark(sim)
    url = f"https://opencode.ai/workspace/{SIM_WORKSPACE}/go"
    assert (await fetch_usage("opencodego", web_settings(sim, workspace=url))).windows
    assert paths(since) == [f"{PREFIX}workspace/{SIM_WORKSPACE}/go"]


async def test_workspace_setting_without_an_id_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError):
        await fetch_usage("opencodego", web_settings(sim, workspace="my team"))


async def test_signed_out_session(sim: Any) -> None:
    with pytest.raises(AuthError, match="signed out"):  # the workspaces call answers as for a public actor
        await fetch_usage("opencodego", web_settings(sim, cookie="auth=expired"))
    with pytest.raises(AuthError, match="redirected to sign in"):  # the Go page redirects to the login
        await fetch_usage("opencodego", web_settings(sim, cookie="auth=expired", workspace=SIM_WORKSPACE))
    with pytest.raises(AuthError, match="no 'auth' session cookie"):
        await fetch_usage("opencodego", web_settings(sim, cookie="provider=google"))


async def test_workspaces_answer_without_an_id(sim: Any) -> None:
    add_fault(sim, PREFIX + "_server", "body", body="$R[0]=[]", headers={"content-type": "text/javascript"})
    with pytest.raises(ParseError, match="wrk_") as info:
        await fetch_usage("opencodego", web_settings(sim))
    assert "AGENTGAUGE_OPENCODEGO_WORKSPACE" in info.value.hint


async def test_browser_login_is_found_and_only_its_session_is_sent(sim: Any, tmp_path: Path) -> None:
    future = int(time.time()) + 86400
    firefox_profile(
        tmp_path / ".mozilla/firefox",
        "a.default",
        [("opencode.ai", "provider", "google", future), ("opencode.ai", "auth", "sim-opencode-auth", future)],
    )
    usage = await fetch_usage("opencodego", keyless(sim), home=tmp_path)
    assert len(usage.windows) == 3
    go_page = [r for r in sim_requests(sim) if r["path"].endswith("/go")][-1]
    assert go_page["headers"]["cookie"] == COOKIE
    config = account_config("opencodego", keyless(sim), home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert creds.source == "browser" and creds.auth.id == "web"


# -- failures ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [401, 403])
async def test_401_and_403_are_auth_errors(sim: Any, status: int) -> None:
    add_fault(sim, PREFIX, "status", status=status, body='{"error":"unauthorized"}')
    with pytest.raises(AuthError):
        await fetch_usage("opencodego", sim_settings("opencodego", sim.url))


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError) as rate:
        await fetch_usage("opencodego", sim_settings("opencodego", sim.url))
    assert rate.value.retry_after == pytest.approx(30, abs=1)
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("opencodego", sim_settings("opencodego", sim.url))


async def test_cloudflare_challenge_on_the_go_page(sim: Any) -> None:
    add_challenge(sim, PREFIX + "workspace/")
    with pytest.raises(ChallengeError):
        await fetch_usage("opencodego", web_settings(sim))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_api_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("opencodego", sim_settings("opencodego", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("opencodego", sim_settings("opencodego", sim.url))
    assert len(usage.windows) == 3 and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("opencodego", sim_settings("opencodego", sim.url), timeout=0.5)
