"""DeepSeek: the balance samples parsed exactly (per currency, funded USD first, never a window), the
Platform session's balance and this month's usage (amount and cost), session envelopes (40002/40003),
the usage as an enrichment whose failure is a warning, discovery, and every failure over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, ErrorKind, Usage
from agentgauge.providers.deepseek import PROVIDER, clean_token, month_query
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 5, 26, 12, 0, tzinfo=UTC)
KEY = "sim-deepseek-key"
TOKEN = "sim-deepseek-user-token"
API = "/deepseek/url/"
PLATFORM = "/deepseek/platform_url/"


def parse(**raw: Any) -> Usage:
    full = {"balance": None, "summary": None, "amount": None, "cost": None, **raw}
    return PROVIDER.parse(full, NOW)


def money(cur: str, total: float, paid: float | None, granted: float | None, suffix: str = "") -> list[Balance]:
    code = cur.upper()
    out = [Balance(id=f"total{suffix}", label=f"Balance ({code})", unit=cur, remaining=total)]
    if paid is not None:
        out.append(Balance(id=f"topped_up{suffix}", label=f"Paid ({code})", unit=cur, remaining=paid))
    if granted is not None:
        out.append(Balance(id=f"granted{suffix}", label=f"Granted ({code})", unit=cur, remaining=granted))
    return out


# -- samples ------------------------------------------------------------------------------------
def test_api_balance_sample() -> None:
    usage = parse(balance=fixture_json("deepseek", "user-balance.json"))
    assert usage == Usage(balances=tuple(money("usd", 50.0, 40.0, 10.0)))


def test_two_currencies_funded_usd_first() -> None:
    usage = parse(balance=fixture_json("deepseek", "user-balance-two-currencies.json"))
    assert list(usage.balances) == money("usd", 20.0, 15.0, 5.0) + money("cny", 100.0, 100.0, 0.0, "_cny")


def test_a_funded_cny_comes_before_an_empty_usd() -> None:
    infos = [
        {"currency": "USD", "total_balance": "0.00", "granted_balance": "0.00", "topped_up_balance": "0.00"},
        {"currency": "CNY", "total_balance": "12.50", "granted_balance": "2.50", "topped_up_balance": "10.00"},
    ]
    usage = parse(balance={"is_available": True, "balance_infos": infos})
    assert list(usage.balances) == money("cny", 12.5, 10.0, 2.5) + money("usd", 0.0, 0.0, 0.0, "_usd")


def test_platform_summary_sample_sums_paid_and_granted() -> None:
    usage = parse(summary=fixture_json("deepseek", "platform-user-summary.json"))
    assert list(usage.balances) == money("usd", 8.47, 7.97, 0.5)


def test_platform_summary_expired_session_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="40002"):
        parse(summary=fixture_json("deepseek", "platform-user-summary-expired.json"))
    with pytest.raises(AuthError, match="40003"):
        parse(summary={"code": 40003, "data": "unexpected"})


def test_usage_samples_give_this_months_spend_and_breakdowns() -> None:
    usage = parse(
        balance=fixture_json("deepseek", "user-balance.json"),
        amount=fixture_json("deepseek", "usage-amount.json"),
        cost=fixture_json("deepseek", "usage-cost.json"),
    )
    spend = {b.id: b for b in usage.balances if b.id.startswith("spend")}
    assert spend["spend_month"] == Balance(
        id="spend_month", label="Spend this month", unit="cny", used=4.631842, period="monthly"
    )
    assert spend["spend_today"].used == pytest.approx(4.631842)  # NOW is the sample's day
    crumbs = {b.id: {i.key: i.value for i in b.items} for b in usage.breakdowns}
    assert crumbs["tokens_per_model"] == {"deepseek-v4-flash": 100686720 + 1305432 + 656338}
    assert crumbs["tokens_by_kind"] == {
        "prompt_cache_hit_token": 100686720,
        "prompt_cache_miss_token": 1305432,
        "response_token": 656338,
    }
    assert set(crumbs) == {"tokens_per_model", "tokens_by_kind", "spend_per_model", "spend_per_day"}
    assert crumbs["spend_per_model"] == {"deepseek-v4-flash": 4.631842}
    assert usage.warnings == ()


def test_a_day_that_is_not_today_gives_no_spend_today() -> None:
    usage = PROVIDER.parse(
        {
            "balance": fixture_json("deepseek", "user-balance.json"),
            "summary": None,
            "amount": None,
            "cost": fixture_json("deepseek", "usage-cost.json"),
        },
        datetime(2026, 5, 27, 1, 0, tzinfo=UTC),
    )
    assert [b.id for b in usage.balances if b.id.startswith("spend")] == ["spend_month"]


# -- hand-made variations ------------------------------------------------------------------------
def test_numbers_nulls_and_extra_fields() -> None:
    infos = [{"currency": "USD", "total_balance": 3, "granted_balance": None, "topped_up_balance": "3", "x": 1}]
    usage = parse(balance={"is_available": True, "balance_infos": infos, "new": {}})
    assert list(usage.balances) == money("usd", 3.0, 3.0, None)


def test_unavailable_and_empty_balances_say_so() -> None:
    usage = parse(
        balance={"is_available": False, "balance_infos": fixture_json("deepseek", "user-balance.json")["balance_infos"]}
    )
    assert usage.note and "not available for API calls" in usage.note
    empty = parse(balance={"is_available": False, "balance_infos": []})
    assert empty.balances == () and empty.note


def test_a_broken_entry_is_a_warning_naming_its_field() -> None:
    infos = [
        {"currency": "USD", "total_balance": "n/a"},
        {"currency": "CNY", "total_balance": "5", "granted_balance": "0", "topped_up_balance": "5"},
    ]
    usage = parse(balance={"is_available": True, "balance_infos": infos})
    assert list(usage.balances) == money("cny", 5.0, 5.0, 0.0)
    assert "balance_infos[0].total_balance" in usage.warnings[0].message


@pytest.mark.parametrize(
    ("raw", "error", "field"),
    [
        ({"balance": [1]}, ParseError, "$"),
        ({"balance": {"is_available": True}}, ParseError, "balance_infos"),
        ({"summary": {"code": 0, "data": {"biz_code": 0}}}, ParseError, "data.biz_data"),
        ({}, ParseError, "$"),
    ],
)
def test_shapes_it_does_not_know(raw: dict[str, Any], error: type[Exception], field: str) -> None:
    with pytest.raises(error) as info:
        parse(**raw)
    assert getattr(info.value, "field", None) == field


def test_error_envelopes_are_upstream() -> None:
    with pytest.raises(UpstreamError, match="Insufficient Balance"):
        parse(balance={"error": {"message": "Insufficient Balance", "type": "unknown_error"}})
    with pytest.raises(UpstreamError, match="50000"):
        parse(summary={"code": 50000, "msg": "server busy", "data": None})


def test_a_usage_envelope_error_is_a_warning_and_the_balance_stands() -> None:
    usage = parse(
        balance=fixture_json("deepseek", "user-balance.json"),
        amount={"code": 40002, "msg": "expired", "data": None},
        cost=fixture_json("deepseek", "usage-cost.json"),
    )
    assert [b.id for b in usage.balances] == ["total", "topped_up", "granted"]
    assert usage.warnings[0].kind == ErrorKind.AUTH


def test_token_as_localstorage_keeps_it() -> None:
    assert clean_token('{"value":"abc.def","__version":"0"}') == "abc.def"
    assert clean_token("  'Bearer abc'  ") == "abc"
    assert clean_token("{not json") == "{not json"
    assert month_query(NOW) == "month=5&year=2026"


def test_declarations() -> None:
    assert {s.name: (s.env_var("deepseek"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_DEEPSEEK_API_KEY", ("DEEPSEEK_API_KEY", "DEEPSEEK_KEY")),
        "url": ("AGENTGAUGE_DEEPSEEK_URL", ()),
        "platform_token": ("AGENTGAUGE_DEEPSEEK_PLATFORM_TOKEN", ("DEEPSEEK_PLATFORM_TOKEN", "DEEPSEEK_USER_TOKEN")),
        "platform_url": ("AGENTGAUGE_DEEPSEEK_PLATFORM_URL", ()),
    }
    platform = PROVIDER.auth[1].browser
    assert platform is not None and platform.storage[0].keys == ("userToken",)


# -- fetch through the simulator -----------------------------------------------------------------
def _requests(sim: Any, prefix: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"].startswith(prefix)]


async def test_fetch_with_key_and_session(sim: Any) -> None:
    usage = await fetch_usage("deepseek", sim_settings("deepseek", sim.url))
    ids = [b.id for b in usage.balances]
    assert ids[:3] == ["total", "topped_up", "granted"] and "spend_month" in ids and "spend_today" in ids
    total, paid, granted = usage.balances[:3]
    assert total.remaining == pytest.approx((paid.remaining or 0) + (granted.remaining or 0))
    assert {b.id for b in usage.breakdowns} >= {"tokens_per_model", "spend_per_day"}
    assert usage.windows == () and usage.warnings == ()
    balance = [r for r in _requests(sim, API) if r["path"] == "/deepseek/url/user/balance"][-1]
    assert balance["headers"]["authorization"] == f"Bearer {KEY}"
    amount = [r for r in _requests(sim, PLATFORM) if r["path"].endswith("/usage/amount")][-1]
    now = datetime.now(UTC)
    assert amount["query"] == f"month={now.month}&year={now.year}"
    assert amount["headers"]["authorization"] == f"Bearer {TOKEN}"


async def test_key_alone_reads_only_the_balance(sim: Any) -> None:
    settings = sim_settings("deepseek", sim.url, api_key=f"{KEY}#alone")
    settings.pop("platform_token")
    usage = await fetch_usage("deepseek", settings)
    assert [b.id for b in usage.balances] == ["total", "topped_up", "granted"]
    assert not [r for r in _requests(sim, PLATFORM) if r["headers"].get("authorization", "").endswith("#alone")]


async def test_platform_login_alone(sim: Any) -> None:
    settings = sim_settings("deepseek", sim.url, platform_token=f'{{"value":"{TOKEN}","__version":"0"}}')
    settings.pop("api_key")
    usage = await fetch_usage("deepseek", settings)
    assert [b.id for b in usage.balances][:3] == ["total", "topped_up", "granted"]
    assert any(b.id == "spend_month" for b in usage.balances)
    summary = [r for r in _requests(sim, PLATFORM) if r["path"].endswith("get_user_summary")][-1]
    assert summary["headers"]["authorization"] == f"Bearer {TOKEN}"


async def test_expired_session_is_a_warning_beside_the_key_balance(sim: Any) -> None:
    usage = await fetch_usage("deepseek", sim_settings("deepseek", sim.url, platform_token="stale"))
    assert [b.id for b in usage.balances] == ["total", "topped_up", "granted"]
    (warning,) = usage.warnings
    assert warning.kind == ErrorKind.AUTH and "stale" not in warning.message


async def test_expired_session_alone_is_an_auth_error(sim: Any) -> None:
    settings = sim_settings("deepseek", sim.url, platform_token="stale")
    settings.pop("api_key")
    with pytest.raises(AuthError, match="40003"):
        await fetch_usage("deepseek", settings)


async def test_usage_failure_upstream_is_a_warning(sim: Any) -> None:
    add_fault(sim, PLATFORM, "status", status=502, body="bad gateway")
    usage = await fetch_usage("deepseek", sim_settings("deepseek", sim.url))
    assert [b.id for b in usage.balances] == ["total", "topped_up", "granted"]
    assert usage.warnings[0].kind == ErrorKind.UPSTREAM


async def test_keys_from_the_ecosystem_variables(sim: Any, tmp_path: Path) -> None:
    settings = sim_settings("deepseek", sim.url)
    settings.pop("api_key")
    settings.pop("platform_token")
    usage = await fetch_usage("deepseek", settings, env={"DEEPSEEK_KEY": KEY, "DEEPSEEK_USER_TOKEN": TOKEN})
    assert any(b.id == "spend_month" for b in usage.balances)
    empty = tmp_path / "config.toml"
    empty.write_text("", encoding="utf-8")
    config = load(empty, env={"DEEPSEEK_API_KEY": KEY, "DEEPSEEK_PLATFORM_TOKEN": TOKEN}, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "deepseek")
    first, second = auth.resolve(PROVIDER, account, config)
    assert (first.auth.id, first.origin) == ("api_key", "environment variable DEEPSEEK_API_KEY")
    assert first.get("platform_token") == TOKEN
    assert (second.auth.id, second.get("platform_token")) == ("platform", TOKEN)


async def test_wrong_key_is_an_auth_error_without_the_key(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("deepseek", sim_settings("deepseek", sim.url, api_key="wrong-key"))
    assert info.value.status_code == 401 and "wrong-key" not in str(info.value)


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, API, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError) as rate:
        await fetch_usage("deepseek", sim_settings("deepseek", sim.url))
    assert rate.value.retry_after == pytest.approx(30, abs=1)
    add_fault(sim, API, "status", status=503, body="{}")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("deepseek", sim_settings("deepseek", sim.url))
    assert info.value.status_code == 503


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, API, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("deepseek", sim_settings("deepseek", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, "/deepseek/", kind)
    usage = await fetch_usage("deepseek", sim_settings("deepseek", sim.url))
    assert any(b.id == "spend_month" for b in usage.balances) and usage.balances[0].id == "total"


async def test_timeout(sim: Any) -> None:
    add_fault(sim, API, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("deepseek", sim_settings("deepseek", sim.url), timeout=0.5)
