"""Kimi K2: the credits samples parsed exactly as a balance (no window: no limit, no reset), figures
found under any of the known names and places, the X-Credits-Remaining header as the fallback, a 403
that is not an auth error, and every failure through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Usage
from agentgauge.providers.kimik2 import PROVIDER
from tests.harness import add_challenge, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)
KEY = "sim-kimik2-key"
PREFIX = "/kimik2/url/"


def parse(payload: Any, header: str | None = None) -> Usage:
    return PROVIDER.parse({"credits": payload, "remaining_header": header}, NOW)


def credits(remaining: float | None, used: float | None) -> Usage:
    return Usage(balances=(Balance(id="credits", label="Credits", unit="credits", remaining=remaining, used=used),))


# -- samples ------------------------------------------------------------------------------------
def test_nested_usage_sample() -> None:
    assert parse(fixture_json("kimik2", "credits-nested-usage.json")) == credits(30, 120)


def test_consumed_only_sample_takes_the_header() -> None:
    assert parse(fixture_json("kimik2", "credits-consumed-only.json"), "25") == credits(25, 50)
    assert parse(fixture_json("kimik2", "credits-consumed-only.json")) == credits(None, 50)


def test_top_level_sample_with_a_millisecond_timestamp() -> None:
    assert parse(fixture_json("kimik2", "credits-timestamp-ms.json")) == credits(10, 5)


def test_non_finite_sample_has_no_figure() -> None:
    with pytest.raises(ParseError) as info:
        parse(fixture_json("kimik2", "credits-non-finite.json"), "-Infinity")
    assert info.value.field == "credits_remaining"
    # ... and a usable header still gives the remaining credits.
    assert parse(fixture_json("kimik2", "credits-non-finite.json"), "7") == credits(7, None)


# -- hand-made variations ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "payload",
    [
        {"creditsRemaining": "30", "totalCreditsConsumed": "120"},
        {"data": {"credits": {"remaining": 30, "consumed": 120}}},
        {"result": {"usage": {"available_credits": 30.0, "usedCredits": 120}}},
        {"usage": {"credits_left": 30, "total": 120}, "extra": [1, 2]},
        {"credits": {"remainingCredits": "30", "credits_consumed": "120"}},
        {"data": {"usage": {"total": 120, "credits_remaining": 30}, "new_field": None}},
    ],
)
def test_figures_under_every_known_name_and_place(payload: dict[str, Any]) -> None:
    assert parse(payload) == credits(30, 120)


def test_body_wins_over_the_header_and_a_bad_header_is_ignored() -> None:
    assert parse({"credits_remaining": 3}, "999") == credits(3, None)
    assert parse({"total_credits_consumed": 4}, "lots") == credits(None, 4)


def test_a_word_where_a_number_belongs_is_skipped_for_the_next_name() -> None:
    assert parse({"credits_remaining": "n/a", "remaining_credits": 8}) == credits(8, None)
    with pytest.raises(ParseError) as info:
        parse({"credits_remaining": "n/a"})
    assert info.value.field == "credits_remaining"


def test_negative_remaining_is_shown_as_it_is() -> None:
    assert parse({"credits_remaining": -2, "total_credits_consumed": 102}) == credits(-2, 102)


@pytest.mark.parametrize("payload", [{}, {"data": None}, {"data": {"usage": None}}, {"average_tokens": 42}])
def test_no_figures_is_a_parse_error(payload: dict[str, Any]) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == "credits_remaining"


def test_error_body_in_a_200_is_upstream() -> None:
    with pytest.raises(UpstreamError, match="account suspended"):
        parse({"error": "account suspended"})


def test_root_not_an_object() -> None:
    with pytest.raises(ParseError) as info:
        parse([{"total": 1}])
    assert info.value.field == "$"


def test_declarations() -> None:
    assert {s.name: (s.env_var("kimik2"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_KIMIK2_API_KEY", ("KIMI_K2_API_KEY",)),
        "url": ("AGENTGAUGE_KIMIK2_URL", ()),
    }
    assert PROVIDER.urls == {"url": "https://kimi-k2.ai"}
    # Generic Kimi variables usually hold Moonshot / Kimi Code keys: never sent to this third-party host.
    assert not {"KIMI_API_KEY", "KIMI_KEY"} & set(PROVIDER.environment())


# -- fetch through the simulator -----------------------------------------------------------------------
async def test_fetch(sim: Any) -> None:
    usage = await fetch_usage("kimik2", sim_settings("kimik2", sim.url))
    (balance,) = usage.balances
    assert usage.windows == ()
    assert balance.remaining is not None and balance.used is not None
    assert balance.remaining + balance.used == 10000
    request = [r for r in sim_requests(sim) if r["path"] == "/kimik2/url/api/user/credits"][-1]
    assert request["method"] == "GET"
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["headers"]["accept"] == "application/json"


async def test_remaining_from_the_header_over_http(sim: Any) -> None:
    (balance,) = (await fetch_usage("kimik2", sim_settings("kimik2", sim.url, api_key=f"{KEY}#header"))).balances
    assert balance.remaining is not None and balance.used is not None
    assert balance.remaining + balance.used == 10000
    add_fault(
        sim, PREFIX, "status", status=200, headers={"X-Credits-Remaining": "25"}, body='{"total_credits_consumed":"50"}'
    )
    assert await fetch_usage("kimik2", sim_settings("kimik2", sim.url)) == credits(25, 50)


async def test_key_from_kimi_k2_api_key(sim: Any, tmp_path: Any) -> None:
    settings = sim_settings("kimik2", sim.url)
    settings.pop("api_key")
    assert (await fetch_usage("kimik2", settings, env={"KIMI_K2_API_KEY": KEY})).balances
    empty = tmp_path / "config.toml"
    empty.write_text("", encoding="utf-8")
    config = load(empty, env={"KIMI_K2_API_KEY": KEY, "KIMI_API_KEY": "moonshot-key"}, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "kimik2")
    (creds,) = auth.resolve(PROVIDER, account, config)
    assert (creds.get("api_key"), creds.origin) == (KEY, "environment variable KIMI_K2_API_KEY")
    config = load(empty, env={"KIMI_API_KEY": "moonshot-key", "KIMI_KEY": "other"}, home=tmp_path)
    assert not [a for a in config.accounts if a.provider == "kimik2" and a.settings.get("api_key")]


async def test_wrong_key_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("kimik2", sim_settings("kimik2", sim.url, api_key="wrong-key"))
    assert info.value.status_code == 401 and "wrong-key" not in str(info.value)


async def test_403_is_not_an_auth_error_and_says_why(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=403, body='{"error":"insufficient plan for this endpoint"}')
    with pytest.raises(UpstreamError, match="insufficient plan for this endpoint") as info:
        await fetch_usage("kimik2", sim_settings("kimik2", sim.url))
    assert type(info.value) is UpstreamError and info.value.status_code == 403
    add_fault(sim, PREFIX, "status", status=403, headers={"content-type": "text/plain"}, body="forbidden region")
    with pytest.raises(UpstreamError, match="forbidden region"):
        await fetch_usage("kimik2", sim_settings("kimik2", sim.url))


async def test_cloudflare_challenge(sim: Any) -> None:
    add_challenge(sim, PREFIX)
    with pytest.raises(ChallengeError):
        await fetch_usage("kimik2", sim_settings("kimik2", sim.url))


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError) as rate:
        await fetch_usage("kimik2", sim_settings("kimik2", sim.url))
    assert rate.value.retry_after == pytest.approx(30, abs=1)
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("kimik2", sim_settings("kimik2", sim.url))
    assert info.value.status_code == 500


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("kimik2", sim_settings("kimik2", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    (balance,) = (await fetch_usage("kimik2", sim_settings("kimik2", sim.url))).balances
    assert (balance.remaining or 0) + (balance.used or 0) == 10000


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("kimik2", sim_settings("kimik2", sim.url), timeout=0.5)
