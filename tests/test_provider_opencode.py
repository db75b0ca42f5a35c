"""OpenCode: seroval server-function answers (and their JSON form) parsed exactly, Zen money in 1e-8 USD
against a monthly limit in dollars, workspace discovery, the GET/POST fallbacks, the session cookie
(only `auth` is ever sent) and every failure through the simulator."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.browser import find_credentials
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.opencode import BILLING_FN, PROVIDER, SUBSCRIPTION_FN, WORKSPACES_FN, request_cookie
from agentgauge.providers.opencode import parsing as op
from agentgauge.providers.opencode.sim import workspace_ids
from tests.harness import add_challenge, add_fault, fetch_usage, fixture_json, fixture_text, sim_settings
from tests.simlog import Mark
from tests.test_browser_unit import firefox_profile

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
AUGUST = datetime(2026, 8, 1, tzinfo=UTC)
SEPTEMBER = datetime(2026, 9, 1, tzinfo=UTC)
COOKIE = "sim-opencode-auth"
PREFIX = "/opencode/url/"
SUBSCRIBED, PAYG = workspace_ids("default")
SEROVAL_SUBSCRIPTION = (
    '$R[16]($R[30],$R[41]={rollingUsage:$R[42]={status:"ok",resetInSec:5944,usagePercent:17},'
    'weeklyUsage:$R[43]={status:"ok",resetInSec:278201,usagePercent:75}});'
)
SIGNED_OUT = (
    ';0x00000263;((self.$R=self.$R||{})["server-fn:test"]=[],($R=>$R[0]=Object.assign(new Error("actor of type '
    '\\"public\\" is not associated with an account"),{stack:"Error"}))($R["server-fn:test"]))'
)


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse({"workspace": "wrk_TEST", "subscription": None, "billing": None, **raw}, NOW)


def server_requests(since: Mark) -> list[dict[str, Any]]:
    return [r for r in since.requests() if r["path"] == "/opencode/url/_server"]


def function_of(request: dict[str, Any]) -> str:
    return parse_qs(request["query"]).get("id", [request["headers"].get("x-server-id", "")])[0]


def assert_subscription(usage: Usage) -> None:
    session, weekly = usage.windows
    assert (session.id, session.window_seconds, weekly.id, weekly.window_seconds) == (
        "session",
        18000,
        "weekly",
        604800,
    )
    assert all(0 <= w.used_pct <= 100 and w.resets_at is not None for w in usage.windows)
    assert usage.balances == ()


def assert_subscription_windows(usage: Usage) -> None:
    session, weekly = usage.windows
    assert (session.id, weekly.id) == ("session", "weekly")
    assert all(0 <= w.used_pct <= 100 and w.resets_at is not None for w in usage.windows)


def assert_payg(usage: Usage) -> None:
    (monthly,) = usage.windows
    assert (monthly.id, monthly.unit, monthly.limit) == ("monthly", "usd", 20.0)
    assert monthly.used is not None and monthly.used_pct == pytest.approx(monthly.used / 20 * 100, abs=0.01)
    (balance,) = usage.balances
    assert (balance.id, balance.unit) == ("balance", "usd") and balance.remaining is not None


# -- samples ------------------------------------------------------------------------------------------
def test_subscription_sample_relative_resets() -> None:
    assert parse(subscription=fixture_json("opencode", "server-subscription-usage.json")) == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=17,
                resets_at=NOW + timedelta(seconds=600),
                window_seconds=18000,
            ),
            Window(
                id="weekly", label="Weekly", used_pct=75, resets_at=NOW + timedelta(seconds=7200), window_seconds=604800
            ),
        )
    )


def test_pay_as_you_go_billing_sample_in_seroval() -> None:
    # monthlyUsage was last updated on 29 July: on 30 July it is July's spend...
    july = PROVIDER.parse(
        {
            "workspace": "wrk_TEST",
            "subscription": None,
            "billing": fixture_text("opencode", "fixture-billing-pay-as-you-go.txt"),
        },
        datetime(2026, 7, 30, 12, tzinfo=UTC),
    )
    assert july == Usage(
        windows=(
            Window(
                id="monthly", label="Monthly spend", used_pct=75, resets_at=AUGUST, used=15.0, limit=20.0, unit="usd"
            ),
        ),
        balances=(Balance(id="balance", label="Zen balance", unit="usd", remaining=12.5),),
    )
    # ...and on 1 August nothing has been spent in August yet (opencode.ai's console counts it so).
    assert parse(billing=fixture_text("opencode", "fixture-billing-pay-as-you-go.txt")).windows == (
        Window(id="monthly", label="Monthly spend", used_pct=0, resets_at=SEPTEMBER, used=0.0, limit=20.0, unit="usd"),
    )


def test_zen_billing_sample_with_a_subscription_shows_the_money_and_warns() -> None:
    usage = parse(billing=fixture_json("opencode", "zen-billing.json"))
    assert usage.windows == (
        Window(
            id="monthly", label="Monthly spend", used_pct=75, resets_at=SEPTEMBER, used=15.0, limit=20.0, unit="usd"
        ),
    )
    assert usage.balances == (Balance(id="balance", label="Zen balance", unit="usd", remaining=12.5),)
    (warning,) = usage.warnings
    assert warning.kind == "parse" and "subscription" in warning.message


def test_billing_page_sample_carries_usage_money_and_plan() -> None:
    usage = PROVIDER.parse(
        {"workspace": "wrk_TEST", "page": fixture_text("opencode", "billing-page-subscribed.html")}, NOW
    )
    assert usage == Usage(
        windows=(
            Window(id="session", label="Session (5h)", used_pct=17, resets_at=NOW + timedelta(seconds=5944),
                   window_seconds=18000),
            Window(id="weekly", label="Weekly", used_pct=75, resets_at=NOW + timedelta(seconds=278201),
                   window_seconds=604800),
        ),
        balances=(
            Balance(id="balance", label="Zen balance", unit="usd", remaining=3.25),
            Balance(id="monthly_spend", label="Spend this month", unit="usd", used=1.5, period="monthly",
                    resets_at=SEPTEMBER),
        ),
        plan="$200 plan",
    )  # fmt: skip


def test_billing_page_of_a_pay_as_you_go_workspace_with_null_usage() -> None:
    usage = PROVIDER.parse(
        {"workspace": "wrk_TEST", "page": fixture_text("opencode", "billing-page-pay-as-you-go.html")}, NOW
    )
    assert usage == Usage(
        windows=(
            Window(
                id="monthly", label="Monthly spend", used_pct=50, resets_at=SEPTEMBER, used=10.0, limit=20.0, unit="usd"
            ),
        ),
        balances=(Balance(id="balance", label="Zen balance", unit="usd", remaining=12.5),),
    )


def test_billing_page_objects_are_found_by_key_not_index() -> None:
    page = (
        fixture_text("opencode", "billing-page-subscribed.html").replace("$R[42]", "$R[7]").replace("$R[52]", "$R[99]")
    )
    assert PROVIDER.parse({"workspace": "w", "page": page}, NOW).plan == "$200 plan"


def test_the_sign_in_page_is_a_logout() -> None:
    with pytest.raises(AuthError) as info:
        PROVIDER.parse({"workspace": "w", "page": fixture_text("opencode", "billing-page-sign-in.html")}, NOW)
    assert "opencode.ai" in info.value.hint
    with pytest.raises(ParseError) as parse_info:
        PROVIDER.parse({"workspace": "w", "page": "<html><body>Billing</body></html>"}, NOW)
    assert parse_info.value.field == "customerID"


# -- variations ----------------------------------------------------------------------------------------
def test_seroval_subscription_text() -> None:
    usage = parse(subscription=SEROVAL_SUBSCRIPTION)
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [
        ("session", 17, NOW + timedelta(seconds=5944)),
        ("weekly", 75, NOW + timedelta(seconds=278201)),
    ]


def test_json_text_nested_reset_at_numbers_as_strings_and_extra_fields() -> None:
    text = json.dumps(
        {
            "data": {
                "usage": {
                    "rollingUsage": {"usagePercent": "12.5", "resetAt": "2026-08-01T13:00:00.000Z", "x": [1]},
                    "weeklyUsage": {"used": 25, "limit": 200, "resetInSec": "3600"},
                }
            },
            "unknown": True,
        }
    )
    usage = parse(subscription=text)
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [
        ("session", 12.5, datetime(2026, 8, 1, 13, 0, tzinfo=UTC)),
        ("weekly", 12.5, NOW + timedelta(hours=1)),
    ]


def test_a_small_percent_stays_a_percent() -> None:
    # usagePercent is a percent: 1 means 1 %, never 100 % (a fraction heuristic would get this wrong).
    usage = parse(subscription={"rollingUsage": {"usagePercent": 1, "resetInSec": 60}})
    assert [(w.id, w.used_pct) for w in usage.windows] == [("session", 1)]


def test_weekly_absent_stays_absent() -> None:
    usage = parse(subscription='{rollingUsage:$R[1]={status:"ok",resetInSec:10,usagePercent:3}}')
    assert [w.id for w in usage.windows] == ["session"]


def test_one_broken_window_is_a_warning() -> None:
    usage = parse(subscription={"rollingUsage": {"status": "ok"}, "weeklyUsage": {"usagePercent": 40}})
    assert [w.id for w in usage.windows] == ["weekly"] and usage.windows[0].resets_at is None
    (warning,) = usage.warnings
    assert "rollingUsage" in warning.message


def test_nothing_usable_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse(subscription=';0x00000051;((self.$R=self.$R||{})["server-fn:test"]=[],null)', billing="null")
    assert info.value.field == "rollingUsage" and "wrk_TEST" in info.value.message
    assert "workspace" in info.value.hint
    with pytest.raises(ParseError) as info:
        parse(subscription={"rollingUsage": {"status": "ok"}})
    assert info.value.field == "rollingUsage.usagePercent"


def test_billing_without_a_limit_is_spend_not_a_window() -> None:
    billing = '{customerID:"cus_X",balance:0,monthlyLimit:null,monthlyUsage:"250000000",subscription:null}'
    assert parse(billing=billing) == Usage(
        balances=(
            Balance(id="balance", label="Zen balance", unit="usd", remaining=0.0),
            Balance(
                id="monthly_spend",
                label="Spend this month",
                unit="usd",
                used=2.5,
                period="monthly",
                resets_at=SEPTEMBER,
            ),
        )
    )


def test_billing_without_monthly_usage_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse(billing={"customerID": "cus_X", "balance": 1})
    assert info.value.field == "monthlyUsage"


@pytest.mark.parametrize("where", ["subscription", "billing"])
def test_signed_out_answer_is_an_auth_error(where: str) -> None:
    with pytest.raises(AuthError) as info:
        parse(**{where: SIGNED_OUT})
    assert "opencode.ai" in info.value.hint


def test_helpers() -> None:
    text = (
        ';0x00000089;((self.$R=self.$R||{})["x"]=[],($R=>$R[0]=[$R[1]={id:"wrk_01K6AR1ZET89H8NB691FQ2C2VB",'
        'name:"Default",slug:null},$R[2]={id:"wrk_2",name:"B"}])($R["x"]))'
    )
    assert op.workspace_ids(text) == ["wrk_01K6AR1ZET89H8NB691FQ2C2VB", "wrk_2"]
    assert op.workspace_ids('[{"id": "wrk_J"}]') == ["wrk_J"]
    assert op.workspace_ids("[]") == []
    assert op.normalize_workspace(" wrk_ABC ") == "wrk_ABC"
    assert op.normalize_workspace("https://opencode.ai/workspace/wrk_ABC/billing") == "wrk_ABC"
    assert op.normalize_workspace("my workspace") is None
    assert op.is_null("null") and op.is_null(';0x00000051;((self.$R=self.$R||{})["s"]=[],null)')
    assert not op.is_null(SEROVAL_SUBSCRIPTION)
    assert request_cookie("provider=google; auth=test; theme=dark") == "auth=test"
    assert request_cookie("Cookie: __Host-auth=a; x=1") == "__Host-auth=a"
    assert request_cookie("bare-value") == "auth=bare-value"
    with pytest.raises(AuthError):
        request_cookie("provider=google")


def test_browser_login_keeps_only_the_session_cookie(tmp_path: Path) -> None:
    future = int(time.time()) + 86400
    firefox_profile(
        tmp_path / ".mozilla/firefox",
        "a.default",
        [("opencode.ai", "provider", "google", future), ("opencode.ai", "auth", "sess", future)],
    )
    found = find_credentials("opencode", home=tmp_path, env={})
    assert found.values == {"cookie": "auth=sess; provider=google"}
    assert request_cookie(found.values["cookie"]) == "auth=sess"


def test_declarations() -> None:
    assert {s.name: s.env_var("opencode") for s in PROVIDER.settings} == {
        "cookie": "AGENTGAUGE_OPENCODE_COOKIE",
        "workspace": "AGENTGAUGE_OPENCODE_WORKSPACE",
        "url": "AGENTGAUGE_OPENCODE_URL",
    }
    assert PROVIDER.urls == {"url": "https://opencode.ai"} and PROVIDER.response_format == "text"


# -- fetch through the simulator ----------------------------------------------------------------------
async def test_fetch_finds_the_workspace_then_reads_its_subscription(sim: Any) -> None:
    since = Mark(sim)
    assert_subscription(await fetch_usage("opencode", sim_settings("opencode", sim.url)))
    workspaces, subscription = server_requests(since)
    assert (workspaces["method"], function_of(workspaces)) == ("GET", WORKSPACES_FN)
    assert "args" not in parse_qs(workspaces["query"])
    assert (subscription["method"], function_of(subscription)) == ("GET", SUBSCRIPTION_FN)
    assert json.loads(parse_qs(subscription["query"])["args"][0]) == [SUBSCRIBED]
    headers = subscription["headers"]
    assert headers["cookie"] == f"auth={COOKIE}"
    assert headers["x-server-id"] == SUBSCRIPTION_FN and headers["x-server-instance"].startswith("server-fn:")
    assert headers["origin"] == f"{sim.url}/opencode/url"
    assert headers["referer"] == f"{sim.url}/opencode/url/workspace/{SUBSCRIBED}/billing"
    assert headers["accept"].startswith("text/javascript")


async def test_pay_as_you_go_workspace_reads_billing(sim: Any) -> None:
    since = Mark(sim)
    assert_payg(await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace=PAYG)))
    subscription, billing = server_requests(since)
    assert function_of(subscription) == SUBSCRIPTION_FN and function_of(billing) == BILLING_FN
    assert json.loads(parse_qs(billing["query"])["args"][0]) == [PAYG]


async def test_workspace_url_setting_skips_the_lookup(sim: Any) -> None:
    since = Mark(sim)
    url = f"https://opencode.ai/workspace/{SUBSCRIBED}/billing"
    assert_subscription(await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace=url)))
    assert [function_of(r) for r in server_requests(since)] == [SUBSCRIPTION_FN]


async def test_bad_workspace_fails_before_any_request(sim: Any) -> None:
    since = Mark(sim)
    with pytest.raises(ProviderConfigError, match="wrk_"):
        await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace="default"))
    assert server_requests(since) == []


async def test_only_the_session_cookie_is_sent(sim: Any) -> None:
    since = Mark(sim)
    cookie = f"provider=google; __Host-auth={COOKIE}; theme=dark"
    assert_subscription(await fetch_usage("opencode", sim_settings("opencode", sim.url, cookie=cookie)))
    assert {r["headers"]["cookie"] for r in server_requests(since)} == {f"__Host-auth={COOKIE}"}


async def test_wrong_cookie_is_signed_out(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("opencode", sim_settings("opencode", sim.url, cookie="stale"))
    assert "signed out" in info.value.message and "stale" not in info.value.message


async def test_subscription_get_without_fields_is_retried_as_post(sim: Any) -> None:
    add_fault(sim, PREFIX, "body", body='{"ok":true}', remaining=1)
    since = Mark(sim)
    assert_subscription(await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace=SUBSCRIBED)))
    get, post = server_requests(since)
    assert (get["method"], post["method"]) == ("GET", "POST")
    assert post["headers"]["x-server-id"] == SUBSCRIPTION_FN
    assert post["headers"]["content-type"] == "application/json" and json.loads(post["body"]) == [SUBSCRIBED]


async def test_workspaces_get_without_ids_is_retried_as_post(sim: Any) -> None:
    add_fault(sim, PREFIX, "body", body="[]", remaining=1)
    since = Mark(sim)
    assert_subscription(await fetch_usage("opencode", sim_settings("opencode", sim.url)))
    assert [r["method"] for r in server_requests(since)] == ["GET", "POST", "GET"]


async def test_no_workspace_at_all_names_the_field(sim: Any) -> None:
    add_fault(sim, PREFIX, "body", body="[]", remaining=2)
    with pytest.raises(ParseError) as info:
        await fetch_usage("opencode", sim_settings("opencode", sim.url))
    assert info.value.field == "workspaces[0].id"


async def test_redeployed_function_ids_fall_back_to_the_billing_page(sim: Any) -> None:
    add_fault(sim, PREFIX + "_server", "status", status=404, body="Not Found", headers={"content-type": "text/plain"})
    since = Mark(sim)
    usage = await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace=SUBSCRIBED))
    assert_subscription_windows(usage)
    assert usage.plan == "$200 plan" and [b.id for b in usage.balances] == ["balance", "monthly_spend"]
    page = [r for r in since.requests() if r["path"].endswith("/billing")]
    assert [r["path"] for r in page] == [f"/opencode/url/workspace/{SUBSCRIBED}/billing"]
    assert page[0]["headers"]["cookie"] == f"auth={COOKIE}" and "text/html" in page[0]["headers"]["accept"]
    payg = await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace=PAYG))
    assert_payg(payg)


async def test_redeployed_function_ids_without_a_workspace_say_what_to_set(sim: Any) -> None:
    add_fault(sim, PREFIX + "_server", "status", status=404, body="Not Found", headers={"content-type": "text/plain"})
    with pytest.raises(ProviderConfigError) as info:
        await fetch_usage("opencode", sim_settings("opencode", sim.url))
    assert "workspace" in info.value.hint


async def test_a_missing_billing_page_is_reported(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=404, body="Not Found", headers={"content-type": "text/plain"})
    with pytest.raises(UpstreamError, match="HTTP 404"):
        await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace=SUBSCRIBED))


async def test_the_billing_page_of_a_signed_out_session(sim: Any) -> None:
    add_fault(sim, PREFIX + "_server", "status", status=404, body="Not Found", headers={"content-type": "text/plain"})
    with pytest.raises(AuthError):
        await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace=SUBSCRIBED, cookie="auth=expired"))


# -- failures -----------------------------------------------------------------------------------------
async def test_401_is_an_auth_error_with_the_login_hint(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=401, body="{}")
    with pytest.raises(AuthError) as info:
        await fetch_usage("opencode", sim_settings("opencode", sim.url))
    assert info.value.status_code == 401 and "opencode.ai" in info.value.hint


async def test_cloudflare_challenge(sim: Any) -> None:
    add_challenge(sim, PREFIX)
    with pytest.raises(ChallengeError):
        await fetch_usage("opencode", sim_settings("opencode", sim.url))


async def test_challenge_page_with_200(sim: Any) -> None:
    body = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf-chl</body></html>"
    add_fault(
        sim, PREFIX, "status", status=200, headers={"content-type": "text/html", "cf-mitigated": "challenge"}, body=body
    )
    with pytest.raises(ChallengeError):
        await fetch_usage("opencode", sim_settings("opencode", sim.url))


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "90"}, body="")
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("opencode", sim_settings("opencode", sim.url))
    assert info.value.retry_after == pytest.approx(90, abs=1)


async def test_500_is_upstream(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=500, body='{"status":500,"unhandled":true,"message":"HTTPError"}')
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("opencode", sim_settings("opencode", sim.url))
    assert info.value.status_code == 500


async def test_html_page_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "html")
    with pytest.raises(ParseError, match="HTML") as info:
        await fetch_usage("opencode", sim_settings("opencode", sim.url))
    assert info.value.field == "workspaces"


async def test_sign_in_page_is_an_auth_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "html", body="<html><body><a href='/auth/authorize'>Sign in</a></body></html>")
    with pytest.raises(AuthError, match="sign-in page"):
        await fetch_usage("opencode", sim_settings("opencode", sim.url))


async def test_truncated_answer_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "truncate")
    with pytest.raises(ParseError):
        await fetch_usage("opencode", sim_settings("opencode", sim.url, workspace=SUBSCRIBED))


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("opencode", sim_settings("opencode", sim.url), timeout=0.5)
