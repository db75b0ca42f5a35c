"""Qwen Cloud: the Token Plan samples parsed exactly (the current five-hour and weekly fractions with the
plan's credit limits, the older subscription summaries as a balance, no subscription as a note, the
console's error answers), the console's sec_token found in the page, a cookie or the user info, the
gateway form the simulator checks, and failures through the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.errors import AuthError, ChallengeError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers._aliyun import console_error
from agentgauge.providers.qwencloud import PROVIDER
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2023, 11, 14, 22, 0, tzinfo=UTC)
PREFIX = "/qwencloud/"
TICKET = "sim-qwencloud-ticket"


def parse(usage: Any, subscription: Any = None, quota_config: Any = None) -> Usage:
    return PROVIDER.parse({"usage": usage, "subscription": subscription, "quota_config": quota_config}, NOW)


def cookie_for(account: str) -> str:
    return f"login_qwencloud_ticket={TICKET}#{account}; login_aliyunid_csrf=sim-csrf"


# -- samples ------------------------------------------------------------------------------------
def test_current_usage_with_the_plans_limits() -> None:
    usage = parse(
        fixture_json("qwencloud", "usage-current.json"),
        fixture_json("qwencloud", "subscription-standard.json"),
        fixture_json("qwencloud", "quota-config.json"),
    )
    assert usage == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=3.0,
                resets_at=datetime.fromtimestamp(1700003600, UTC),
                window_seconds=18000,
                used=150.0,
                limit=5000,
                unit="credits",
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=1.0,
                resets_at=datetime.fromtimestamp(1700086400, UTC),
                window_seconds=604800,
                used=500.0,
                limit=50000,
                unit="credits",
            ),
        ),
        plan="Standard",
    )


def test_current_usage_alone_has_percentages_only() -> None:
    session, weekly = parse(fixture_json("qwencloud", "usage-current.json")).windows
    assert (session.used_pct, session.used, session.limit, weekly.used_pct) == (3.0, None, None, 1.0)


def test_summaries_are_a_credit_balance() -> None:
    assert parse(fixture_json("qwencloud", "summary-flat.json")).balances == (
        Balance(id="credits", label="Token Plan credits", unit="credits", remaining=1500, used=500, limit=2000),
    )
    assert parse(fixture_json("qwencloud", "summary-nested-equity-list.json")).balances == (
        Balance(
            id="credits",
            label="Token Plan credits",
            unit="credits",
            remaining=875,
            used=125,
            limit=1000,
            expires_at=datetime.fromtimestamp(1701000000, UTC),
        ),
    )


def test_no_active_subscription_is_a_note() -> None:
    assert parse(fixture_json("qwencloud", "summary-no-active-subscription.json")) == Usage(
        note="No active Token Plan subscription"
    )


@pytest.mark.parametrize("name", ["error-login-required.json", "error-forbidden.json"])
def test_error_samples_are_auth_errors(name: str) -> None:
    with pytest.raises(AuthError):
        parse(fixture_json("qwencloud", name))


# -- variations ---------------------------------------------------------------------------------
def test_failures_nested_in_a_success_envelope() -> None:
    frame = {
        "code": "200",
        "successResponse": True,
        "data": {"DataV2": {"data": {"success": False, "errorCode": "BailianGateway.Internal", "errorMsg": "boom"}}},
    }
    with pytest.raises(UpstreamError, match="boom"):
        parse(frame)
    workspace = {"successResponse": False, "code": "BailianGateway.Workspace.NotAuthorised", "message": "no workspace"}
    assert isinstance(console_error(workspace, "x", "h"), UpstreamError)  # not a credential problem
    expired = {"successResponse": False, "code": "PostonlyOrTokenError", "message": "Request has expired"}
    assert isinstance(console_error(expired, "x", "h"), AuthError)


def test_a_broken_lane_is_a_warning() -> None:
    usage = parse({"data": {"per5HourPercentage": "n/a", "per1WeekPercentage": "0.5"}})
    assert [w.id for w in usage.windows] == ["weekly"] and len(usage.warnings) == 1


def test_neither_usage_nor_summary() -> None:
    with pytest.raises(ParseError):
        parse({"code": "200", "data": {"something": "else"}})
    with pytest.raises(ParseError):
        parse("not an object")


def test_declarations() -> None:
    assert {s.name: s.env for s in PROVIDER.settings} == {
        "cookie": ("QWEN_CLOUD_COOKIE",),
        "url": ("QWEN_CLOUD_HOST",),
        "api_url": (),
    }
    (source,) = PROVIDER.auth
    assert source.browser is not None and source.browser.cookie_domains() == ("qwencloud.com",)


# -- through the simulator ---------------------------------------------------------------------------
def gateway_calls(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == "/qwencloud/api_url/data/api.json"]


async def test_fetch_reads_the_page_token_then_the_three_calls(sim: Any) -> None:
    usage = await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly"] and usage.plan == "Pro"
    assert usage.windows[0].limit == 12000
    calls = gateway_calls(sim)[-3:]
    apis = sorted(parse_qs(c["query"])["api"][0].rsplit("/", 1)[1] for c in calls)
    assert apis == ["quota-config", "subscription", "usage"]
    for call in calls:
        form = {k: v[0] for k, v in parse_qs(call["body"]).items()}
        assert form["sec_token"] == "sim-sec-token-default" and form["region"] == "ap-southeast-1"
        assert json.loads(form["params"])["Data"]["cornerstoneParam"]["X-Anonymous-Id"] == "sim-cna"
        assert call["headers"]["x-xsrf-token"] == "sim-csrf" and call["headers"]["x-requested-with"] == "XMLHttpRequest"


async def test_token_from_the_user_info_when_the_page_has_none(sim: Any) -> None:
    usage = await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url, cookie=cookie_for("infoonly")))
    assert len(usage.windows) == 2
    assert [r for r in sim_requests(sim) if r["path"] == "/qwencloud/url/tool/user/info.json"]


async def test_account_without_a_token_plan(sim: Any) -> None:
    usage = await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url, cookie=cookie_for("nosub")))
    assert usage == Usage(note="No active Token Plan subscription")


async def test_ended_session(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage(
            "qwencloud", sim_settings("qwencloud", sim.url, cookie="login_qwencloud_ticket=expired-ticket")
        )
    assert "expired-ticket" not in str(info.value)


async def test_a_bare_cookie_header_with_its_prefix_and_the_variable(sim: Any) -> None:
    header = "Cookie: " + sim_settings("qwencloud", sim.url)["cookie"]
    env = {"QWEN_CLOUD_COOKIE": header}
    settings = {k: v for k, v in sim_settings("qwencloud", sim.url).items() if k != "cookie"}
    assert (await fetch_usage("qwencloud", settings, env=env)).windows


async def test_page_down_takes_the_token_from_the_user_info(sim: Any) -> None:
    add_fault(sim, "/qwencloud/url/billing", "status", status=500, body="down")
    usage = await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url))
    assert len(usage.windows) == 2


async def test_gateway_down_is_upstream(sim: Any) -> None:
    add_fault(sim, "/qwencloud/api_url/", "status", status=502, body="bad gateway")
    with pytest.raises(UpstreamError):
        await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url))


async def test_challenge_on_the_page(sim: Any) -> None:
    headers = {"content-type": "text/html", "cf-mitigated": "challenge"}
    add_fault(sim, PREFIX, "status", status=403, headers=headers, body="<html>Just a moment...</html>")
    with pytest.raises(ChallengeError):
        await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, "/qwencloud/api_url/", kind)
    usage = await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url))
    assert len(usage.windows) == 2 and usage.warnings == ()


async def test_rate_limit_and_timeout(sim: Any) -> None:
    add_fault(sim, "/qwencloud/api_url/", "status", status=429, headers={"retry-after": "3"}, body="{}")
    with pytest.raises(RateLimitedError):
        await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url))
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("qwencloud", sim_settings("qwencloud", sim.url), timeout=0.5)
