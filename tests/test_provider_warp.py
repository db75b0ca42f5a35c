"""Warp: the GraphQL samples parsed exactly, unlimited plans as unlimited (never 0 %), bonus grants as
balances, the request Warp's edge insists on (User-Agent Warp/1.0, GraphQL body, OS headers), key
discovery from WARP_API_KEY / WARP_TOKEN, and every failure through the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.warp import PROVIDER, QUERY, USER_AGENT, os_context
from tests.harness import add_challenge, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
KEY = "wk-sim-warp-key"
PREFIX = "/warp/url/"
REFRESH = datetime(2026, 2, 28, 19, 16, 33, tzinfo=UTC)


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"usage": payload}, NOW)


def user(inner: dict[str, Any], typename: str = "UserOutput") -> dict[str, Any]:
    return {"data": {"user": {"__typename": typename, "user": inner}}}


def graphql_requests(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == "/warp/url/graphql/v2"]


# -- samples ------------------------------------------------------------------------------------
def test_request_limit_info_sample() -> None:
    assert parse(fixture_json("warp", "graphql-request-limit-info.json")) == Usage(
        windows=(
            Window(
                id="monthly",
                label="Monthly credits",
                used_pct=0.3333,
                resets_at=REFRESH,
                used=5,
                limit=1500,
                unit="credits",
            ),
        ),
        balances=(
            Balance(
                id="bonus",
                label="Bonus credits",
                unit="credits",
                remaining=10,
                used=10,
                limit=20,
                expires_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
            ),
            Balance(
                id="workspace_bonus",
                label="Workspace bonus credits",
                unit="credits",
                remaining=5,
                used=10,
                limit=15,
                expires_at=datetime(2026, 3, 15, 10, tzinfo=UTC),
            ),
        ),
    )


def test_unauthorized_sample_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="Unauthorized") as info:
        parse(fixture_json("warp", "graphql-unauthorized.json"))
    assert "Settings > Platform > API Keys" in info.value.hint


def test_auth_error_typename_sample_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="AuthError"):
        parse(fixture_json("warp", "graphql-auth-error-typename.json"))


# -- hand-made variations ------------------------------------------------------------------------
@pytest.mark.parametrize("flag", [True, "true", "1", 1])
def test_unlimited_is_unlimited_not_zero_percent(flag: Any) -> None:
    info = {
        "isUnlimited": flag,
        "nextRefreshTime": "2026-02-28T19:16:33Z",
        "requestLimit": 0,
        "requestsUsedSinceLastRefresh": 812,
    }
    (window,) = parse(user({"requestLimitInfo": info})).windows
    assert window == Window(id="monthly", label="Monthly credits", used_pct=0, used=812, unit="credits", unlimited=True)


def test_null_unlimited_and_numbers_as_strings() -> None:
    info = {
        "isUnlimited": None,
        "nextRefreshTime": "2026-02-28T19:16:33Z",
        "requestLimit": "1500",
        "requestsUsedSinceLastRefresh": "375",
    }
    assert parse(user({"requestLimitInfo": info, "extra": {"x": 1}})).windows == (
        Window(
            id="monthly", label="Monthly credits", used_pct=25, resets_at=REFRESH, used=375, limit=1500, unit="credits"
        ),
    )


def test_epoch_refresh_time_and_overage_past_100_percent() -> None:
    info = {
        "isUnlimited": False,
        "nextRefreshTime": 1772306193000,
        "requestLimit": 100,
        "requestsUsedSinceLastRefresh": 150,
    }
    (window,) = parse(user({"requestLimitInfo": info})).windows
    assert (window.used_pct, window.resets_at) == (150, REFRESH)


@pytest.mark.parametrize("limit", [0, None, "0"])
def test_a_plan_without_a_limit_has_no_window(limit: Any) -> None:
    info = {"isUnlimited": False, "requestLimit": limit, "requestsUsedSinceLastRefresh": 3}
    assert parse(user({"requestLimitInfo": info})) == Usage()


def test_missing_used_count_is_a_warning_naming_the_field() -> None:
    usage = parse(
        user(
            {
                "requestLimitInfo": {"requestLimit": 100},
                "bonusGrants": [{"requestCreditsGranted": 5, "requestCreditsRemaining": 5}],
            }
        )
    )
    assert usage.windows == ()
    assert [b.id for b in usage.balances] == ["bonus"]
    assert "requestsUsedSinceLastRefresh" in usage.warnings[0].message


def test_missing_request_limit_info_is_a_warning() -> None:
    usage = parse(user({"bonusGrants": None, "workspaces": None}))
    assert usage.windows == () and usage.balances == ()
    assert "requestLimitInfo" in usage.warnings[0].message


def test_bonus_grants_skip_bad_entries_and_expire_at_the_earliest_with_credits_left() -> None:
    grants = [
        {"requestCreditsGranted": "50", "requestCreditsRemaining": "0", "expiration": "2026-02-21T00:00:00Z"},
        {"requestCreditsGranted": 30, "requestCreditsRemaining": 30, "expiration": "2026-04-01T00:00:00Z"},
        {"requestCreditsGranted": 10, "requestCreditsRemaining": 4, "expiration": None},
        {"requestCreditsGranted": "lots"},
        {"expiration": "2026-05-01T00:00:00Z"},
        "junk",
    ]
    usage = parse(user({"requestLimitInfo": {"isUnlimited": True}, "bonusGrants": grants}))
    assert usage.balances == (
        Balance(
            id="bonus",
            label="Bonus credits",
            unit="credits",
            remaining=34,
            used=56,
            limit=90,
            expires_at=datetime(2026, 4, 1, tzinfo=UTC),
        ),
    )
    assert len(usage.warnings) == 2


def test_workspace_grants_from_several_workspaces_are_summed() -> None:
    workspaces = [
        {"bonusGrantsInfo": {"grants": [{"requestCreditsGranted": 10, "requestCreditsRemaining": 2}]}},
        {"bonusGrantsInfo": None},
        {"bonusGrantsInfo": {"grants": [{"requestCreditsGranted": 5, "requestCreditsRemaining": 5}]}},
    ]
    (balance,) = parse(user({"requestLimitInfo": {"isUnlimited": True}, "workspaces": workspaces})).balances
    assert (balance.id, balance.remaining, balance.limit, balance.expires_at) == ("workspace_bonus", 7, 15, None)


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ([{"message": "Unauthorized"}], AuthError),
        (["not authenticated"], AuthError),
        ([{"message": "Rate limit exceeded for user"}], RateLimitedError),
        ([{"message": "Internal server error"}, {"message": "second"}], UpstreamError),
        ([{"nomessage": 1}], UpstreamError),
    ],
)
def test_graphql_errors(errors: list[Any], expected: type[Exception]) -> None:
    with pytest.raises(expected) as info:
        parse({"errors": errors, "data": None})
    assert type(info.value) is expected


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (["x"], "$"),
        ({"data": None}, "data.user"),
        ({"data": {"user": {}}}, "data.user"),
        ({"data": {"user": {"__typename": "SomethingNew"}}}, "data.user.user"),
        ({"data": {"user": {"__typename": "UserOutput", "user": None}}}, "data.user.user"),
    ],
)
def test_unknown_shapes_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_empty_errors_list_is_no_error() -> None:
    payload = fixture_json("warp", "graphql-request-limit-info.json") | {"errors": []}
    assert parse(payload).windows[0].used == 5


def test_os_context_names_this_machine() -> None:
    context = os_context()
    assert context["category"] == context["name"] in ("macOS", "Linux", "Windows", "FreeBSD")
    assert context["version"]


def test_declarations() -> None:
    assert {s.name: (s.env_var("warp"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_WARP_API_KEY", ("WARP_API_KEY", "WARP_TOKEN")),
        "url": ("AGENTGAUGE_WARP_URL", ()),
    }
    assert PROVIDER.urls == {"url": "https://app.warp.dev"}


# -- fetch through the simulator -----------------------------------------------------------------------
async def test_fetch_sends_what_warp_expects(sim: Any) -> None:
    usage = await fetch_usage("warp", sim_settings("warp", sim.url))
    (window,) = usage.windows
    assert (window.id, window.limit, window.unit, window.unlimited) == ("monthly", 1500, "credits", False)
    assert window.resets_at is not None and 0 <= window.used_pct <= 100
    assert [b.id for b in usage.balances] == ["bonus", "workspace_bonus"]
    request = graphql_requests(sim)[-1]
    assert (request["method"], request["query"]) == ("POST", "op=GetRequestLimitInfo")
    headers = request["headers"]
    assert headers["user-agent"] == USER_AGENT == "Warp/1.0"
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["x-warp-client-id"] == "warp-app"
    assert headers["content-type"] == "application/json"
    assert (headers["x-warp-os-category"], headers["x-warp-os-version"]) == (
        os_context()["category"],
        os_context()["version"],
    )
    body = json.loads(request["body"])
    assert body["operationName"] == "GetRequestLimitInfo" and body["query"] == QUERY
    assert body["variables"] == {"requestContext": {"clientContext": {}, "osContext": os_context()}}


async def test_unlimited_account(sim: Any) -> None:
    (window,) = (await fetch_usage("warp", sim_settings("warp", sim.url, api_key=f"{KEY}#unlimited"))).windows
    assert window.unlimited and window.limit is None and window.used is not None


async def test_another_user_agent_is_rate_limited_by_warps_edge(sim: Any) -> None:
    # The simulator refuses foreign User-Agents the way Warp's edge does; ours is accepted.
    import httpx

    response = httpx.post(
        f"{sim.url}/warp/url/graphql/v2?op=GetRequestLimitInfo", json={}, headers={"User-Agent": "curl/8"}
    )
    assert (response.status_code, response.text) == (429, "Rate exceeded.")


async def test_wrong_key_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError, match="AuthError") as info:
        await fetch_usage("warp", sim_settings("warp", sim.url, api_key="wk-wrong"))
    assert "wk-wrong" not in str(info.value)


async def test_graphql_unauthorized_in_a_200_is_an_auth_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "body", body=json.dumps(fixture_json("warp", "graphql-unauthorized.json")))
    with pytest.raises(AuthError, match="Unauthorized"):
        await fetch_usage("warp", sim_settings("warp", sim.url))


@pytest.mark.parametrize("variable", ["WARP_API_KEY", "WARP_TOKEN"])
async def test_key_from_warps_variables(sim: Any, variable: str) -> None:
    settings = sim_settings("warp", sim.url)
    settings.pop("api_key")
    usage = await fetch_usage("warp", settings, env={variable: KEY})
    assert usage.windows
    assert graphql_requests(sim)[-1]["headers"]["authorization"] == f"Bearer {KEY}"


async def test_warp_api_key_wins_over_warp_token(sim: Any) -> None:
    settings = sim_settings("warp", sim.url)
    settings.pop("api_key")
    await fetch_usage("warp", settings, env={"WARP_API_KEY": KEY, "WARP_TOKEN": "wk-other"})
    assert graphql_requests(sim)[-1]["headers"]["authorization"] == f"Bearer {KEY}"


# -- failures ------------------------------------------------------------------------------------------
async def test_edge_429_carries_retry_after(sim: Any) -> None:
    add_fault(
        sim,
        PREFIX,
        "status",
        status=429,
        headers={"retry-after": "30", "content-type": "text/plain"},
        body="Rate exceeded.",
    )
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("warp", sim_settings("warp", sim.url))
    assert info.value.retry_after == pytest.approx(30, abs=1)


async def test_401_and_500(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=401, body='{"errors":[{"message":"Unauthorized"}]}', remaining=1)
    with pytest.raises(AuthError):
        await fetch_usage("warp", sim_settings("warp", sim.url))
    add_fault(sim, PREFIX, "status", status=503, body="unavailable")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("warp", sim_settings("warp", sim.url))
    assert info.value.status_code == 503


async def test_cloudflare_challenge(sim: Any) -> None:
    add_challenge(sim, PREFIX)
    with pytest.raises(ChallengeError):
        await fetch_usage("warp", sim_settings("warp", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("warp", sim_settings("warp", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("warp", sim_settings("warp", sim.url))
    assert usage.windows[0].limit == 1500 and len(usage.balances) == 2 and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("warp", sim_settings("warp", sim.url), timeout=0.5)
