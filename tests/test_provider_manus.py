"""Manus: the credits samples parsed exactly (a Connect answer that leaves out zero fields, the data
envelope), the monthly and refresh credits as windows, the balance and its parts, Connect error
bodies, the request sent (POST {}, Bearer session_id, web origin), cookies as pasted, and the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Breakdown, BreakdownItem, Usage, Window
from agentgauge.providers.manus import PROVIDER, session_token
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 4, 12, 12, 0, tzinfo=UTC)
SESSION = "sim-manus-session"
PREFIX = "/manus/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"credits": payload}, NOW)


# -- samples ------------------------------------------------------------------------------------
def test_daily_refresh_sample_with_omitted_zero_fields() -> None:
    assert parse(fixture_json("manus", "credits-daily-refresh.json")) == Usage(
        windows=(
            Window(id="monthly", label="Monthly credits", used_pct=65.775, used=2631, limit=4000, unit="credits"),
            Window(
                id="refresh_daily",
                label="Refresh credits (daily)",
                used_pct=100.0,  # refreshCredits left out by Connect: 0 left of today's 300
                resets_at=datetime(2026, 4, 13, tzinfo=UTC),
                window_seconds=86400,
                used=300,
                limit=300,
                unit="credits",
            ),
        ),
        balances=(Balance(id="credits", label="Credits", unit="credits", remaining=2869),),
        breakdowns=(
            Breakdown(
                id="credits_by_kind",
                label="Credits by kind",
                unit="credits",
                items=(
                    BreakdownItem(key="freeCredits", label="Free", value=1500),
                    BreakdownItem(key="periodicCredits", label="Monthly", value=1369),
                ),
            ),
        ),
    )


def test_data_envelope_sample() -> None:
    usage = parse(fixture_json("manus", "credits-data-envelope.json"))
    monthly, refresh = usage.windows
    assert (monthly.used, monthly.limit, monthly.used_pct) == (150, 200, 75.0)
    assert (refresh.id, refresh.used, refresh.resets_at, refresh.window_seconds) == ("refresh_credits", 5, None, None)
    assert usage.balances[0].remaining == 100


# -- variations ---------------------------------------------------------------------------------
def test_free_account_without_a_plan_is_a_balance_only() -> None:
    assert parse({"totalCredits": "300", "freeCredits": "300"}) == Usage(
        balances=(Balance(id="credits", label="Credits", unit="credits", remaining=300),),
        breakdowns=(
            Breakdown(
                id="credits_by_kind",
                label="Credits by kind",
                unit="credits",
                items=(BreakdownItem(key="freeCredits", label="Free", value=300),),
            ),
        ),
    )


def test_everything_zero_is_a_zero_balance() -> None:
    # Connect leaves every zero out; only the non-credit fields remain: not a credits answer.
    with pytest.raises(ParseError):
        parse({"userFlag": {}})
    assert parse({"totalCredits": 0}).balances[0].remaining == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": "unauthenticated", "message": "invalid session"}, AuthError),
        ({"code": "permission_denied", "message": "nope"}, AuthError),
        ({"code": "resource_exhausted", "message": "slow down"}, RateLimitedError),
        ({"code": "internal", "message": "boom"}, UpstreamError),
    ],
)
def test_connect_error_bodies(body: dict[str, Any], expected: type[Exception]) -> None:
    with pytest.raises(expected):
        parse(body)


def test_root_not_an_object() -> None:
    with pytest.raises(ParseError) as info:
        parse([1])
    assert info.value.field == "$"


@pytest.mark.parametrize(
    ("pasted", "token"),
    [
        ("abc.def.ghi", "abc.def.ghi"),
        ("Cookie: _ga=1; session_id=tok123; other=x", "tok123"),
        ("session_id=tok==", "tok=="),
        ("  bare-with-padding==  ", "bare-with-padding=="),
    ],
)
def test_session_token_from_what_is_pasted(pasted: str, token: str) -> None:
    assert session_token(pasted) == token


def test_cookie_header_without_the_session() -> None:
    with pytest.raises(AuthError):
        session_token("session_id=; x=1")


def test_declarations() -> None:
    assert {s.name: (s.env_var("manus"), s.env) for s in PROVIDER.settings} == {
        "cookie": ("AGENTGAUGE_MANUS_COOKIE", ("MANUS_SESSION_TOKEN", "MANUS_COOKIE")),
        "url": ("AGENTGAUGE_MANUS_URL", ()),
    }
    (source,) = PROVIDER.auth
    assert source.browser is not None and source.browser.cookie_domains() == ("manus.im",)


# -- fetch through the simulator ------------------------------------------------------------------
async def test_fetch_sends_the_web_apps_request(sim: Any) -> None:
    usage = await fetch_usage("manus", sim_settings("manus", sim.url, cookie=f"lang=en; session_id={SESSION}"))
    assert [w.id for w in usage.windows] == ["monthly", "refresh_daily"]
    request = [r for r in sim_requests(sim) if r["path"] == "/manus/url/user.v1.UserService/GetAvailableCredits"][-1]
    assert request["method"] == "POST" and request["body"] == "{}"
    headers = request["headers"]
    assert headers["authorization"] == f"Bearer {SESSION}" and "cookie" not in headers
    assert headers["content-type"] == "application/json" and headers["connect-protocol-version"] == "1"
    assert (headers["origin"], headers["referer"]) == ("https://manus.im", "https://manus.im/")


async def test_session_variable(sim: Any) -> None:
    usage = await fetch_usage("manus", {"url": f"{sim.url}/manus/url"}, env={"MANUS_SESSION_TOKEN": SESSION})
    assert usage.balances


async def test_expired_session(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("manus", sim_settings("manus", sim.url, cookie="expired-session"))
    assert "expired-session" not in str(info.value)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("manus", sim_settings("manus", sim.url))
    assert [w.id for w in usage.windows] == ["monthly", "refresh_daily"] and usage.warnings == ()


async def test_rate_limit_and_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "9"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("manus", sim_settings("manus", sim.url))
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("manus", sim_settings("manus", sim.url), timeout=0.5)
