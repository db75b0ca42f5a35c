"""T3 Chat: the shared sample parsed exactly, JSON-lines bodies and hand-made variations of the customer
object, pasted Cookie headers and cURL captures (allow-listed headers forwarded), the tRPC request sent,
and every failure through the simulator (a Vercel challenge told apart from a rate limit)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest

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
from agentgauge.providers.t3chat import BATCH_INPUT, PROVIDER
from tests.harness import add_fault, fetch_usage, fixture_json, fixture_text, sim_requests, sim_settings

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
COOKIE = "t3_session=sim-t3chat-session"
PREFIX = "/t3chat/url/"


def parse(answer: Any) -> Usage:
    return PROVIDER.parse({"customer": answer}, NOW)


# -- the shared sample -------------------------------------------------------------------------------------
def test_sample_base_and_period_percentages() -> None:
    expected = Usage(
        windows=(
            Window(id="base", label="Base (4h)", used_pct=5, window_seconds=14400),
            Window(id="overage", label="Overage (monthly)", used_pct=65),
        ),
        plan="Free",
    )
    assert parse(fixture_json("t3chat", "trpc-customer-data.json")) == expected
    assert parse(fixture_text("t3chat", "trpc-customer-data.json")) == expected  # as the body text


# -- hand-made variations -------------------------------------------------------------------------------------
def test_json_lines_with_a_header_line_resets_in_ms_and_s_and_the_band() -> None:
    customer = {
        "subTier": "pro",
        "usageBand": "standard",
        "usageFourHourPercentage": "42.5",
        "usageWindowNextResetAt": 1779285600000,
        "usageMonthPercentage": 10,
        "usagePeriodPercentage": 99,
        "subscription": {"productName": "pro-annual", "currentPeriodEnd": 1780000000},
    }
    body = '{"json":{"0":[[0],[null,0,0]]}}\nnot json\n' + json.dumps({"json": [2, 0, [[customer]]]}) + "\n"
    usage = parse(body)
    base, overage = usage.windows
    assert (base.label, base.used_pct, base.resets_at) == (
        "Base (4h) · standard",
        42.5,
        datetime(2026, 5, 20, 14, tzinfo=UTC),
    )
    assert (overage.used_pct, overage.resets_at) == (10, datetime.fromtimestamp(1780000000, UTC))
    assert usage.plan == "Pro Annual"


def test_missing_percentages_are_left_out_not_zero() -> None:
    usage = parse({"result": {"data": {"json": {"usageMonthPercentage": 3, "subTier": None}}}})
    assert [w.id for w in usage.windows] == ["overage"] and usage.plan is None


def test_a_bad_reset_is_a_warning_and_the_other_window_stays() -> None:
    usage = parse([{"usageFourHourPercentage": 1, "usageFourHourNextResetAt": "later", "usagePeriodPercentage": 2}])
    assert [w.id for w in usage.windows] == ["overage"]
    assert "usageFourHourNextResetAt" in usage.warnings[0].message


@pytest.mark.parametrize("answer", ["", "{}\n[]\n", {"json": [1, 2]}, "<html>"])
def test_no_customer_object_names_the_procedure(answer: Any) -> None:
    with pytest.raises(ParseError) as info:
        parse(answer)
    assert info.value.field == "getCustomerData"


# -- through the simulator ----------------------------------------------------------------------------------------
def last_request(sim: Any) -> dict[str, Any]:
    return next(r for r in reversed(sim_requests(sim)) if r["path"].startswith(PREFIX))


async def test_fetch_sends_the_trpc_batch_request(sim: Any) -> None:
    usage = await fetch_usage("t3chat", sim_settings("t3chat", sim.url))
    assert [w.id for w in usage.windows] == ["base", "overage"] and usage.plan == "Pro Monthly"
    assert usage.windows[0].resets_at is not None and usage.windows[1].resets_at is not None
    request = last_request(sim)
    assert request["path"] == PREFIX + "api/trpc/getCustomerData"
    assert parse_qs(request["query"]) == {"batch": ["1"], "input": [BATCH_INPUT]}
    headers = request["headers"]
    assert headers["cookie"] == COOKIE
    assert (headers["trpc-accept"], headers["x-trpc-source"], headers["x-trpc-batch"]) == (
        "application/jsonl",
        "web-client",
        "true",
    )
    assert headers["origin"].endswith("/t3chat/url")


async def test_a_curl_capture_forwards_allow_listed_headers_only(sim: Any) -> None:
    pasted = (
        f"curl 'https://t3.chat/api/trpc/getCustomerData?batch=1' -H 'cookie: {COOKIE}' "
        "-H 'user-agent: Captured/1.0' -H 'x-deployment-id: dpl_123' -H 'x-evil: 1' -H 'origin: https://evil.example'"
    )
    await fetch_usage("t3chat", sim_settings("t3chat", sim.url, cookie=pasted))
    headers = last_request(sim)["headers"]
    assert (headers["user-agent"], headers["x-deployment-id"], headers["cookie"]) == ("Captured/1.0", "dpl_123", COOKIE)
    assert "x-evil" not in headers and headers["origin"].endswith("/t3chat/url")


async def test_a_capture_without_a_cookie_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError):
        await fetch_usage("t3chat", sim_settings("t3chat", sim.url, cookie="curl https://t3.chat -H 'accept: */*'"))


async def test_expired_session_is_an_auth_error_with_the_hint(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("t3chat", sim_settings("t3chat", sim.url, cookie="Cookie: t3_session=stale"))
    assert "AGENTGAUGE_T3CHAT_COOKIE" in info.value.hint


async def test_vercel_challenge_is_not_a_rate_limit(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"x-vercel-mitigated": "challenge"}, body="", remaining=1)
    with pytest.raises(ChallengeError) as info:
        await fetch_usage("t3chat", sim_settings("t3chat", sim.url))
    assert "cURL" in info.value.hint
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "45"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError) as limited:
        await fetch_usage("t3chat", sim_settings("t3chat", sim.url))
    assert limited.value.retry_after == pytest.approx(45, abs=1)


async def test_500_timeout_and_bad_bodies(sim: Any) -> None:
    settings = sim_settings("t3chat", sim.url)
    add_fault(sim, PREFIX, "status", status=500, body="oops", remaining=1)
    with pytest.raises(UpstreamError):
        await fetch_usage("t3chat", settings)
    add_fault(sim, PREFIX, "html", remaining=1)
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("t3chat", settings)
    add_fault(sim, PREFIX, "truncate", remaining=1)
    with pytest.raises(ParseError):
        await fetch_usage("t3chat", settings)
    add_fault(sim, PREFIX, "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("t3chat", settings, timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("t3chat", sim_settings("t3chat", sim.url))
    assert [w.id for w in usage.windows] == ["base", "overage"] and usage.warnings == ()
