"""Perplexity: the credits samples parsed exactly (recurring credits are a monthly window with the
renewal as reset; bonus and purchased credits are balances; usage attributed recurring, purchased,
bonus), expired bonuses left out, the session cookie in every form (whole, chunked, bare token),
discovery and every failure through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import AuthError, ChallengeError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.perplexity import PROVIDER, SESSION_COOKIES, request_cookie
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime.fromtimestamp(1_740_000_000, UTC)  # Feb 2025: the samples' grants expire after it
RENEWAL = datetime.fromtimestamp(1_743_000_000, UTC)
COOKIE = "sim-perplexity-session"
PREFIX = "/perplexity/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"credits": payload}, NOW)


def monthly(used: float, limit: float) -> Window:
    return Window(
        id="monthly",
        label="Monthly credits",
        used_pct=round(used / limit * 100, 4),
        resets_at=RENEWAL,
        used=used,
        limit=limit,
        unit="usd",
    )


# -- samples ------------------------------------------------------------------------------------
def test_recurring_and_bonus_sample() -> None:
    assert parse(fixture_json("perplexity", "credits-recurring-and-promo.json")) == Usage(
        windows=(monthly(27.5, 100.0),),
        balances=(
            Balance(
                id="bonus",
                label="Bonus credits",
                unit="usd",
                remaining=200.0,
                used=0.0,
                limit=200.0,
                expires_at=datetime.fromtimestamp(1_750_000_000, UTC),
            ),
            Balance(id="balance", label="Credit balance", unit="usd", remaining=72.5),
        ),
    )


def test_waterfall_sample() -> None:
    usage = parse(fixture_json("perplexity", "credits-waterfall.json"))
    assert usage.windows == (monthly(50.0, 50.0),)
    by_id = {b.id: b for b in usage.balances}
    assert (by_id["purchased"].used, by_id["purchased"].remaining, by_id["purchased"].limit) == (30.0, 0.0, 30.0)
    assert (by_id["bonus"].used, by_id["bonus"].remaining) == (10.0, 30.0)


def test_expired_bonus_sample() -> None:
    usage = parse(fixture_json("perplexity", "credits-expired-promo.json"))
    assert usage.windows == (monthly(10.0, 100.0),)
    assert [b.id for b in usage.balances] == ["balance"]


# -- hand-made variations ------------------------------------------------------------------------
def test_purchases_in_grants_and_field_count_once() -> None:
    usage = parse(
        {
            "total_usage_cents": "0",
            "current_period_purchased_cents": "700",
            "credit_grants": [{"type": "purchased", "amount_cents": 500}, {"type": "other", "amount_cents": 9}],
        }
    )
    assert usage.windows == () and usage.balances[0].limit == 7.0


def test_nothing_at_all_is_said() -> None:
    usage = parse({"credit_grants": [], "total_usage_cents": 0, "renewal_date_ts": None})
    assert usage.windows == () and usage.balances == () and usage.note


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "$"),
        ({"balance_cents": 5}, "total_usage_cents"),
        ({"credit_grants": "x", "total_usage_cents": 0}, "credit_grants"),
        ({"balance_cents": "not a number", "credit_grants": None, "total_usage_cents": 0}, "balance_cents"),
    ],
)
def test_shapes_it_does_not_know_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_request_cookie_forms() -> None:
    bare = request_cookie("  tok  ")
    assert bare == "; ".join(f"{n}=tok" for n in SESSION_COOKIES)
    assert request_cookie("Cookie: __Secure-next-auth.session-token=a; cf_clearance=b") == (
        "__Secure-next-auth.session-token=a; cf_clearance=b"
    )
    assert request_cookie("__Secure-authjs.session-token.0=a; __Secure-authjs.session-token.1=b")
    with pytest.raises(AuthError, match="no session-token"):
        request_cookie("cf_clearance=b; other=c")


def test_declarations() -> None:
    assert {s.name: (s.env_var("perplexity"), s.env) for s in PROVIDER.settings} == {
        "cookie": ("AGENTGAUGE_PERPLEXITY_COOKIE", ("PERPLEXITY_COOKIE", "PERPLEXITY_SESSION_TOKEN")),
        "url": ("AGENTGAUGE_PERPLEXITY_URL", ()),
    }
    (source,) = PROVIDER.auth
    assert source.impersonate and source.browser is not None
    rule = source.browser.cookies[0]
    assert rule.chunked and rule.header and rule.names == SESSION_COOKIES


# -- fetch through the simulator -----------------------------------------------------------------
async def test_fetch_with_a_bare_token(sim: Any) -> None:
    usage = await fetch_usage("perplexity", sim_settings("perplexity", sim.url))
    (window,) = usage.windows
    assert window.limit == 50.0 and window.resets_at is not None and window.resets_at > datetime.now(UTC)
    request = [r for r in sim_requests(sim) if r["path"] == "/perplexity/url/rest/billing/credits"][-1]
    assert request["query"] == "version=2.18&source=default"
    assert f"__Secure-next-auth.session-token={COOKIE}" in request["headers"]["cookie"]
    assert request["headers"]["referer"].endswith("/account/usage") and request["headers"]["origin"].startswith("http")


async def test_a_chunked_cookie_header(sim: Any) -> None:
    half = len(COOKIE) // 2
    header = f"__Secure-authjs.session-token.0={COOKIE[:half]}; __Secure-authjs.session-token.1={COOKIE[half:]}#topped"
    usage = await fetch_usage("perplexity", sim_settings("perplexity", sim.url, cookie=header))
    assert [b.id for b in usage.balances] == ["bonus", "purchased", "balance"]
    assert usage.windows[0].used_pct == 100.0


async def test_cookie_from_the_ecosystem_variables(sim: Any) -> None:
    settings = sim_settings("perplexity", sim.url)
    settings.pop("cookie")
    assert (await fetch_usage("perplexity", settings, env={"PERPLEXITY_SESSION_TOKEN": COOKIE})).windows
    env = {"PERPLEXITY_COOKIE": f"next-auth.session-token={COOKIE}; theme=dark"}
    assert (await fetch_usage("perplexity", settings, env=env)).windows


async def test_an_expired_session_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("perplexity", sim_settings("perplexity", sim.url, cookie="stale-session"))
    assert info.value.status_code == 401 and "stale-session" not in str(info.value)
    assert "perplexity.ai" in info.value.hint


async def test_challenge_429_and_500(sim: Any) -> None:
    add_fault(
        sim,
        PREFIX,
        "status",
        status=403,
        headers={"content-type": "text/html", "cf-mitigated": "challenge"},
        body="<html><title>Just a moment...</title></html>",
        remaining=1,
    )
    with pytest.raises(ChallengeError):
        await fetch_usage("perplexity", sim_settings("perplexity", sim.url))
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("perplexity", sim_settings("perplexity", sim.url))
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("perplexity", sim_settings("perplexity", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("perplexity", sim_settings("perplexity", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("perplexity", sim_settings("perplexity", sim.url))
    assert usage.windows[0].limit == 50.0 and usage.balances[-1].id == "balance"


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("perplexity", sim_settings("perplexity", sim.url), timeout=0.5)
