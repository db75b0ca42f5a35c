"""xAI API: the prepaid ledger (cents, sign inverted) and the 30-day spend series parsed exactly, the
team id from the setting or from the API key's info, the analytics query the Management API gets,
an inference key alone (its info, blocked or disabled), and every failure over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, ErrorKind, Usage
from agentgauge.providers.xai import PROVIDER, team_path, usage_query
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
MANAGEMENT = "sim-xai-management-key"
KEY = "sim-xai-api-key"
BILLING = "/xai/management_url/v1/billing/teams/"


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse({"balance": None, "usage": None, "key": None, **raw}, NOW)


def prepaid(amount: float) -> Balance:
    return Balance(id="prepaid", label="Prepaid credits", unit="usd", remaining=amount)


# -- samples ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "amount"),
    [
        ("prepaid-balance-codexbar.json", 10.0),
        ("prepaid-balance-cents.json", 3.33),
        ("prepaid-balance-owed.json", -25.0),
    ],
)
def test_ledger_samples_are_negated_cents(name: str, amount: float) -> None:
    assert parse(balance=fixture_json("xai", name)) == Usage(balances=(prepaid(amount),))


def test_usage_sample_sums_series_per_day() -> None:
    usage = parse(balance={"total": {"val": "-1000"}}, usage=fixture_json("xai", "usage-timeseries-codexbar.json"))
    assert usage.balances == (
        prepaid(10.0),
        Balance(id="spend_today", label="Spend today", unit="usd", used=0.0, period="daily"),
        Balance(id="spend_30d", label="Spend (30 days)", unit="usd", used=1.759737),
    )
    (per_day,) = usage.breakdowns
    assert [(i.key, i.value) for i in per_day.items] == [
        ("2027-01-13", 1.259737),
        ("2027-01-14", 0.5),
        ("2027-01-15", 0.0),
    ]
    assert usage.warnings == ()


def test_api_key_docs_example_alone_is_a_note() -> None:
    usage = parse(key=fixture_json("xai", "api-key-docs-example.json"))
    assert usage.balances == () and usage.windows == ()
    assert usage.note and "team_12345" in usage.note and "management key" in usage.note


# -- hand-made variations ------------------------------------------------------------------------
def test_partial_history_is_labelled_and_warned() -> None:
    series = {
        "timeSeries": [{"dataPoints": [{"timestamp": "2027-01-15T00:00:00Z", "values": ["2.5"]}]}],
        "limitReached": True,
    }
    usage = parse(balance={"total": {"val": 0}}, usage=series)
    assert usage.balances[2].label == "Spend (30 days) (partial)" and usage.balances[1].used == 2.5
    assert "limitReached" in usage.warnings[0].message


def test_a_bad_point_is_a_warning_and_a_bad_series_leaves_the_balance() -> None:
    series = {
        "timeSeries": [
            {
                "dataPoints": [
                    {"timestamp": "2027-01-15T00:00:00Z", "values": [-1]},
                    {"timestamp": 1800000000, "values": [1], "x": 1},
                ]
            }
        ]
    }
    usage = parse(balance={"total": {"val": "-1"}}, usage=series)
    assert usage.balances[2].used == 1 and "dataPoints[0]" in usage.warnings[0].message
    broken = parse(balance={"total": {"val": "-1"}}, usage={"timeSeries": None})
    assert broken.balances == (prepaid(0.01),) and broken.warnings[0].kind == ErrorKind.PARSE


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"balance": {"total": {"val": "n/a"}}}, "total.val"),
        ({"balance": {"total": None}}, "total.val"),
        ({"balance": []}, "$"),
        ({}, "$"),
    ],
)
def test_no_total_is_never_zero(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(**raw)
    assert info.value.field == field


@pytest.mark.parametrize("flag", ["team_blocked", "api_key_blocked", "api_key_disabled"])
def test_a_blocked_or_disabled_key(flag: str) -> None:
    with pytest.raises(AuthError, match=flag):
        parse(key={"team_id": "t", flag: True})
    beside = parse(balance={"total": {"val": "-100"}}, key={"team_id": "t", flag: True})
    assert beside.balances == (prepaid(1.0),) and beside.warnings[0].kind == ErrorKind.AUTH


def test_team_path_and_usage_query() -> None:
    assert team_path(" team 1 ") == "/v1/billing/teams/team%201"
    for bad in ("a/b", ".", "..", ""):
        with pytest.raises(ProviderConfigError):
            team_path(bad)
    query = usage_query(NOW)["analyticsRequest"]
    assert query["timeRange"] == {
        "startTime": "2026-12-17 00:00:00",
        "endTime": "2027-01-15 12:00:00",
        "timezone": "Etc/GMT",
    }
    assert query["timeUnit"] == "TIME_UNIT_DAY" and query["values"] == [
        {"name": "usd", "aggregation": "AGGREGATION_SUM"}
    ]


def test_declarations() -> None:
    assert {s.name: (s.env_var("xai"), s.env) for s in PROVIDER.settings} == {
        "management_key": ("AGENTGAUGE_XAI_MANAGEMENT_KEY", ("XAI_MANAGEMENT_API_KEY",)),
        "team_id": ("AGENTGAUGE_XAI_TEAM_ID", ("XAI_TEAM_ID",)),
        "api_key": ("AGENTGAUGE_XAI_API_KEY", ("XAI_API_KEY",)),
        "url": ("AGENTGAUGE_XAI_URL", ()),
        "management_url": ("AGENTGAUGE_XAI_MANAGEMENT_URL", ()),
    }


# -- fetch through the simulator -----------------------------------------------------------------
def _last(sim: Any, suffix: str, auth_value: str) -> dict[str, Any]:
    return [
        r for r in sim_requests(sim) if r["path"].endswith(suffix) and r["headers"].get("authorization") == auth_value
    ][-1]


async def test_fetch_finds_the_team_from_the_api_key(sim: Any) -> None:
    usage = await fetch_usage("xai", sim_settings("xai", sim.url))
    assert [b.id for b in usage.balances] == ["prepaid", "spend_today", "spend_30d"] and usage.warnings == ()
    assert len(usage.breakdowns[0].items) == 30
    assert _last(sim, "/api-key", f"Bearer {KEY}")["method"] == "GET"
    balance = _last(sim, "/prepaid/balance", f"Bearer {MANAGEMENT}")
    assert balance["path"] == BILLING + "team-sim/prepaid/balance"
    posted = _last(sim, "/usage", f"Bearer {MANAGEMENT}")
    assert posted["method"] == "POST" and posted["headers"]["content-type"] == "application/json"
    assert json.loads(posted["body"])["analyticsRequest"]["timeUnit"] == "TIME_UNIT_DAY"


async def test_team_id_set_needs_no_api_key(sim: Any) -> None:
    settings = sim_settings("xai", sim.url, management_key=f"{MANAGEMENT}#solo", team_id="team-sim-solo")
    settings.pop("api_key")
    usage = await fetch_usage("xai", settings)
    assert usage.balances[0].id == "prepaid"
    assert not [
        r
        for r in sim_requests(sim)
        if r["path"].endswith("/api-key") and r["headers"].get("authorization", "").endswith("#solo")
    ]


async def test_no_team_and_no_api_key_is_a_config_error(sim: Any) -> None:
    settings = sim_settings("xai", sim.url)
    settings.pop("api_key")
    with pytest.raises(ProviderConfigError, match="team"):
        await fetch_usage("xai", settings)


async def test_wrong_team_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError, match="404"):
        await fetch_usage("xai", sim_settings("xai", sim.url, team_id="team-someone-else"))


async def test_partial_history_over_http(sim: Any) -> None:
    settings = sim_settings("xai", sim.url, management_key=f"{MANAGEMENT}#partial", api_key=f"{KEY}#partial")
    usage = await fetch_usage("xai", settings)
    assert "(partial)" in usage.balances[2].label and usage.warnings


async def test_api_key_alone(sim: Any) -> None:
    settings = sim_settings("xai", sim.url)
    settings.pop("management_key")
    usage = await fetch_usage("xai", settings)
    assert usage.note and "team-sim" in usage.note and usage.balances == ()
    with pytest.raises(AuthError, match="disabled"):
        await fetch_usage("xai", {**settings, "api_key": f"{KEY}#disabled"})


async def test_keys_from_the_ecosystem_variables(sim: Any, tmp_path: Path) -> None:
    settings = sim_settings("xai", sim.url)
    settings.pop("management_key")
    settings.pop("api_key")
    env = {"XAI_MANAGEMENT_API_KEY": MANAGEMENT, "XAI_TEAM_ID": "team-sim"}
    assert (await fetch_usage("xai", settings, env=env)).balances
    empty = tmp_path / "config.toml"
    empty.write_text("", encoding="utf-8")
    config = load(empty, env={**env, "XAI_API_KEY": KEY}, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "xai")
    first, second = auth.resolve(PROVIDER, account, config)
    assert (first.auth.id, first.get("api_key"), account.settings["team_id"]) == ("management", KEY, "team-sim")
    assert (second.auth.id, second.origin) == ("api_key", "environment variable XAI_API_KEY")


async def test_rejected_keys(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("xai", sim_settings("xai", sim.url, management_key="wrong-key"))
    assert info.value.status_code == 401 and "wrong-key" not in str(info.value)
    with pytest.raises(AuthError) as info:
        await fetch_usage("xai", sim_settings("xai", sim.url, api_key="wrong-key"))
    assert info.value.status_code == 400


async def test_usage_failure_is_a_warning(sim: Any) -> None:
    add_fault(sim, BILLING + "team-sim/usage", "status", status=503, body="{}")
    usage = await fetch_usage("xai", sim_settings("xai", sim.url))
    assert [b.id for b in usage.balances] == ["prepaid"] and usage.warnings[0].kind == ErrorKind.UPSTREAM


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, BILLING, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=2)
    with pytest.raises(RateLimitedError):
        await fetch_usage("xai", sim_settings("xai", sim.url))
    add_fault(sim, "/xai/", "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("xai", sim_settings("xai", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, "/xai/", kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("xai", sim_settings("xai", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, "/xai/", kind)
    usage = await fetch_usage("xai", sim_settings("xai", sim.url))
    assert [b.id for b in usage.balances] == ["prepaid", "spend_today", "spend_30d"] and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, "/xai/", "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("xai", sim_settings("xai", sim.url), timeout=0.5)
