"""Qoder: the shared sample parsed exactly, hand-made variations (snake_case, shared pool, strings,
epoch resets), pasted Cookie headers and cURL captures (the China site picked from them), the request
sent, and every failure through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import (
    AuthError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Usage, Window
from agentgauge.providers.qoder import PROVIDER, region_of
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2024, 8, 20, 12, tzinfo=UTC)
COOKIE = "qoder_session=sim-qoder-session"
PREFIX = "/qoder/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"credits": payload}, NOW)


# -- the shared sample -----------------------------------------------------------------------------------
def test_sample_is_one_credits_window() -> None:
    assert parse(fixture_json("qoder", "big-model-credits.json")) == Usage(
        windows=(
            Window(
                id="credits",
                label="Model credits",
                used_pct=25,
                resets_at=datetime(2024, 9, 1, tzinfo=UTC),
                used=125,
                limit=500,
                unit="credits",
            ),
        )
    )


# -- hand-made variations -------------------------------------------------------------------------------------
def test_snake_case_shared_pool_strings_and_epoch_reset() -> None:
    usage = parse(
        {
            "next_reset_at": 1725148800000,
            "total_quota": {"quota_summary": {"used_value": "10", "limit_value": "40"}},
            "shared_quota": {"quota_summary": {"limit_value": 1000, "remaining_value": 250, "unit": "credits"}},
            "status": "active",
            "unknown": [1],
        }
    )
    own, shared = usage.windows
    assert (own.id, own.used_pct, own.used, own.limit) == ("credits", 25, 10, 40)
    assert (shared.id, shared.used_pct, shared.used) == ("shared_credits", 75, 750)
    assert own.resets_at == shared.resets_at == datetime(2024, 9, 1, tzinfo=UTC)


def test_a_broken_shared_pool_is_a_warning_and_a_bad_reset_too() -> None:
    usage = parse(
        {"nextResetAt": "soon", "totalQuota": {"quotaSummary": {"usagePercentage": 5}}, "sharedQuota": {"x": 1}}
    )
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [("credits", 5, None)]
    assert len(usage.warnings) == 2


def test_a_quota_not_active_says_so() -> None:
    usage = parse({"status": "expired", "totalQuota": {"quotaSummary": {"usedValue": 0, "limitValue": 100}}})
    assert usage.note == "Qoder reports this quota as expired."


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ("x", "$"),
        ({"status": "active"}, "totalQuota"),
        ({"totalQuota": {}}, "totalQuota.quotaSummary"),
        ({"totalQuota": {"quotaSummary": {"limitValue": 0}}}, "totalQuota.quotaSummary.usedValue"),
    ],
)
def test_unknown_shapes_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


# -- pasted cookies and captures -------------------------------------------------------------------------------
def test_region_from_setting_or_capture() -> None:
    assert region_of({}, None) == "global"
    assert region_of({}, "qoder.com.cn") == "china"
    assert region_of({"region": "intl"}, "qoder.com.cn") == "global"
    with pytest.raises(ProviderConfigError):
        region_of({"region": "mars"}, None)


# -- through the simulator ---------------------------------------------------------------------------------------
def last_request(sim: Any) -> dict[str, Any]:
    return next(r for r in reversed(sim_requests(sim)) if r["path"].startswith(PREFIX))


async def test_fetch_sends_the_cookie_and_site_headers(sim: Any) -> None:
    usage = await fetch_usage("qoder", sim_settings("qoder", sim.url))
    assert [w.id for w in usage.windows] == ["credits"] and usage.windows[0].limit == 2000
    headers = last_request(sim)["headers"]
    assert headers["cookie"] == COOKIE
    assert (headers["origin"], headers["referer"]) == ("https://qoder.com", "https://qoder.com/account/usage")
    assert (headers["x-requested-with"], headers["bx-v"]) == ("XMLHttpRequest", "2.5.35")


async def test_a_china_capture_sends_the_china_origin(sim: Any) -> None:
    pasted = f"curl 'https://qoder.com.cn/api/v2/me/usages/big_model_credits' -H 'Cookie: {COOKIE}#team'"
    usage = await fetch_usage("qoder", sim_settings("qoder", sim.url, cookie=pasted))
    assert [w.id for w in usage.windows] == ["credits", "shared_credits"]
    assert last_request(sim)["headers"]["origin"] == "https://qoder.com.cn"


async def test_an_empty_capture_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError):
        await fetch_usage("qoder", sim_settings("qoder", sim.url, cookie="curl https://qoder.com"))


async def test_expired_session_is_an_auth_error_with_the_hint(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("qoder", sim_settings("qoder", sim.url, cookie="qoder_session=stale"))
    assert "AGENTGAUGE_QODER_COOKIE" in info.value.hint and "stale" not in str(info.value)


async def test_429_500_timeout_and_bad_bodies(sim: Any) -> None:
    settings = sim_settings("qoder", sim.url)
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("qoder", settings)
    add_fault(sim, PREFIX, "status", status=502, body="bad gateway", remaining=1)
    with pytest.raises(UpstreamError):
        await fetch_usage("qoder", settings)
    add_fault(sim, PREFIX, "html", remaining=1)
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("qoder", settings)
    add_fault(sim, PREFIX, "truncate", remaining=1)
    with pytest.raises(ParseError, match="truncated"):
        await fetch_usage("qoder", settings)
    add_fault(sim, PREFIX, "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("qoder", settings, timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("qoder", sim_settings("qoder", sim.url))
    assert [w.id for w in usage.windows] == ["credits"] and usage.warnings == ()
