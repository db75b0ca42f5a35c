"""Moonshot: the balance samples parsed exactly (balances in the region's currency, never a window),
regions and hosts (a key never leaves its platform), MOONSHOT_* discovery, error envelopes in a 200,
and every failure through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Usage
from agentgauge.providers.moonshot import PROVIDER, base_url, region_of
from tests.harness import add_challenge, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)
KEY = "sim-moonshot-key"
PREFIX = "/moonshot/url/"
PATH = "/moonshot/url/users/me/balance"


def parse(payload: Any, currency: str = "usd") -> Usage:
    return PROVIDER.parse({"balance": payload, "currency": currency}, NOW)


def balances(available: float, vouchers: float | None, cash: float | None, unit: str = "usd") -> Usage:
    out = [Balance(id="available", label="Available balance", unit=unit, remaining=available)]
    if vouchers is not None:
        out.append(Balance(id="voucher", label="Vouchers", unit=unit, remaining=vouchers))
    if cash is not None:
        out.append(Balance(id="cash", label="Cash (owed)" if cash < 0 else "Cash", unit=unit, remaining=cash))
    return Usage(balances=tuple(out))


# -- samples ------------------------------------------------------------------------------------
def test_codexbar_sample() -> None:
    assert parse(fixture_json("moonshot", "balance-codexbar.json")) == balances(49.58, 50.0, 12.34)


def test_docs_example_in_yuan() -> None:
    assert parse(fixture_json("moonshot", "balance-docs-example.json"), "cny") == balances(
        49.58894, 46.58893, 3.00001, "cny"
    )


def test_negative_cash_is_money_owed() -> None:
    usage = parse(fixture_json("moonshot", "balance-in-debt.json"))
    assert usage == balances(20.0, 20.0, -4.75)
    assert usage.windows == ()


# -- hand-made variations ------------------------------------------------------------------------
def test_numbers_as_strings_extra_fields_and_missing_optional_parts() -> None:
    payload = {
        "code": "0",
        "data": {"available_balance": "7.5", "voucher_balance": None, "cash_balance": "7.5", "new": 1},
        "scode": "0x0",
        "status": True,
        "request_id": "abc",
    }
    assert parse(payload) == balances(7.5, None, 7.5)
    assert parse({"code": 0, "data": {"available_balance": 0}}) == balances(0, None, None)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": 0, "data": None}, "data"),
        ({"code": 0, "data": {"voucher_balance": 1}}, "data.available_balance"),
        ({"code": 0, "data": {"available_balance": "lots"}}, "data.available_balance"),
        ([1, 2], "$"),
    ],
)
def test_shapes_it_does_not_know_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


@pytest.mark.parametrize(
    "payload",
    [
        {"code": 5, "data": None, "scode": "0x5", "status": False},
        {"code": 0, "status": False, "scode": "0x1"},
        {"error": {"message": "account suspended", "type": "permission_denied_error"}},
    ],
)
def test_error_envelopes_in_a_200_are_upstream(payload: Any) -> None:
    with pytest.raises(UpstreamError):
        parse(payload)


# -- regions ------------------------------------------------------------------------------------
def test_regions_and_hosts() -> None:
    assert [region_of({"region": r}) for r in ("global", "International", " cn ", "'china'")] == [
        "global",
        "global",
        "china",
        "china",
    ]
    assert region_of({}) == "global"
    assert base_url({}) == "https://api.moonshot.ai/v1"
    assert base_url({"region": "china"}) == "https://api.moonshot.cn/v1"
    assert base_url({"url": "api.moonshot.cn/v1/", "region": "cn"}) == "https://api.moonshot.cn/v1"
    assert base_url({"url": "http://127.0.0.1:9/moonshot/url"}) == "http://127.0.0.1:9/moonshot/url"
    with pytest.raises(ProviderConfigError, match="unknown region"):
        region_of({"region": "mars"})
    with pytest.raises(ProviderConfigError, match=r"moonshot\.cn, the china region's host, but the region is global"):
        base_url({"url": "https://api.moonshot.cn/v1"})  # a global key must not reach the China host
    with pytest.raises(ProviderConfigError, match="the global region's host, but the region is china"):
        base_url({"url": "https://api.moonshot.ai/v1", "region": "china"})


def test_declarations() -> None:
    assert {s.name: (s.env_var("moonshot"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_MOONSHOT_API_KEY", ("MOONSHOT_API_KEY", "MOONSHOT_KEY")),
        "region": ("AGENTGAUGE_MOONSHOT_REGION", ("MOONSHOT_REGION",)),
        "url": ("AGENTGAUGE_MOONSHOT_URL", ()),
    }
    # Kimi Code keys are another product's: never read here.
    assert not {"KIMI_API_KEY", "KIMI_CODE_API_KEY"} & set(PROVIDER.environment())


# -- fetch through the simulator -----------------------------------------------------------------
async def test_fetch(sim: Any) -> None:
    usage = await fetch_usage("moonshot", sim_settings("moonshot", sim.url))
    available, vouchers, cash = usage.balances
    assert usage.windows == ()
    assert {b.unit for b in usage.balances} == {"usd"}
    assert available.remaining == pytest.approx((vouchers.remaining or 0) + max(cash.remaining or 0, 0))
    request = [r for r in sim_requests(sim) if r["path"] == PATH][-1]
    assert request["method"] == "GET"
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["headers"]["accept"] == "application/json"


async def test_china_region_is_in_yuan(sim: Any) -> None:
    usage = await fetch_usage("moonshot", sim_settings("moonshot", sim.url, region="china"))
    assert {b.unit for b in usage.balances} == {"cny"}


async def test_an_account_in_debt(sim: Any) -> None:
    usage = await fetch_usage("moonshot", sim_settings("moonshot", sim.url, api_key=f"{KEY}#owing"))
    assert usage == balances(5.0, 5.0, -3.25)


async def test_a_pasted_bearer_header_and_quotes_work_as_the_key(sim: Any) -> None:
    assert (await fetch_usage("moonshot", sim_settings("moonshot", sim.url, api_key=f"'Bearer {KEY}'"))).balances


async def test_key_from_the_ecosystem_variables(sim: Any, tmp_path: Path) -> None:
    settings = sim_settings("moonshot", sim.url)
    settings.pop("api_key")
    assert (await fetch_usage("moonshot", settings, env={"MOONSHOT_KEY": KEY})).balances
    empty = tmp_path / "config.toml"
    empty.write_text("", encoding="utf-8")
    config = load(empty, env={"MOONSHOT_API_KEY": KEY, "MOONSHOT_KEY": "other", "MOONSHOT_REGION": "cn"}, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "moonshot")
    (creds,) = auth.resolve(PROVIDER, account, config)
    assert (creds.get("api_key"), creds.origin) == (KEY, "environment variable MOONSHOT_API_KEY")
    assert region_of(account.settings) == "china"


async def test_wrong_key_is_an_auth_error_saying_why(sim: Any) -> None:
    with pytest.raises(AuthError, match="Invalid Authentication") as info:
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url, api_key="wrong-key"))
    assert info.value.status_code == 401 and "wrong-key" not in str(info.value)


async def test_403_429_500_and_a_challenge(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=403, body='{"error":{"message":"forbidden"}}', remaining=1)
    with pytest.raises(AuthError):
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url))
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError) as rate:
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url))
    assert rate.value.retry_after == pytest.approx(30, abs=1)
    add_fault(sim, PREFIX, "status", status=500, body="{}", remaining=1)
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url))
    assert info.value.status_code == 500
    add_challenge(sim, PREFIX)
    with pytest.raises(ChallengeError):
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url))


async def test_error_envelope_in_a_200_over_http(sim: Any) -> None:
    add_fault(sim, PREFIX, "body", body='{"code":10001,"data":null,"scode":"0x2711","status":false}')
    with pytest.raises(UpstreamError, match="code 10001"):
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    assert len((await fetch_usage("moonshot", sim_settings("moonshot", sim.url))).balances) == 3


async def test_unknown_region_fails_before_any_request(sim: Any) -> None:
    marked = f"{KEY}#region-check"
    with pytest.raises(ProviderConfigError):
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url, region="mars", api_key=marked))
    assert not [r for r in sim_requests(sim) if r["headers"].get("authorization") == f"Bearer {marked}"]


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("moonshot", sim_settings("moonshot", sim.url), timeout=0.5)
