"""Venice: the balance samples parsed exactly (the day's DIEM allocation is a window resetting at
00:00 UTC, the USD balance a balance), numbers as strings, canConsume false said, the admin-key
hint, discovery and every failure through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.venice import PROVIDER
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 8, 2, 15, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 8, 3, tzinfo=UTC)
KEY = "sim-venice-admin-key"
PREFIX = "/venice/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"balance": payload}, NOW)


def diem(used: float, limit: float) -> Window:
    return Window(
        id="daily",
        label="DIEM (daily)",
        used_pct=round(used / limit * 100, 4),
        resets_at=MIDNIGHT,
        window_seconds=86400,
        used=used,
        limit=limit,
        unit="diem",
    )


def usd(amount: float) -> Balance:
    return Balance(id="usd", label="USD balance", unit="usd", remaining=amount)


# -- samples ------------------------------------------------------------------------------------
def test_codexbar_sample_diem_without_usd() -> None:
    usage = parse(fixture_json("venice", "balance-codexbar.json"))
    assert usage == Usage(windows=(diem(9.5, 100.0),), plan="Paying with DIEM")


def test_docs_example_diem_and_usd() -> None:
    usage = parse(fixture_json("venice", "balance-docs-example.json"))
    assert usage == Usage(windows=(diem(9.5, 100.0),), balances=(usd(25.0),), plan="Paying with DIEM")


def test_usd_only_with_numbers_as_strings() -> None:
    usage = parse(fixture_json("venice", "balance-usd-only.json"))
    assert usage == Usage(balances=(usd(12.75),), plan="Paying with USD")


def test_cannot_consume_is_said() -> None:
    usage = parse(fixture_json("venice", "balance-cannot-consume.json"))
    assert usage.windows == () and usage.balances == (usd(0.0),)
    assert usage.note and "canConsume: false" in usage.note


# -- hand-made variations ------------------------------------------------------------------------
def test_variations() -> None:
    spent = parse({"canConsume": False, "balances": {"diem": "0", "usd": None}, "diemEpochAllocation": "10"})
    assert spent.windows == (diem(10.0, 10.0),) and spent.balances == () and spent.note
    over = parse({"canConsume": True, "balances": {"diem": -1, "usd": 1}, "diemEpochAllocation": 10, "x": {}})
    assert over.windows[0].used_pct == 100.0  # never past 100 %
    legacy = parse({"canConsume": True, "balances": {"diem": 3.5}, "diemEpochAllocation": None})
    assert legacy.balances == (Balance(id="diem", label="DIEM", unit="diem", remaining=3.5),)
    nothing = parse({"canConsume": True, "balances": {}, "diemEpochAllocation": 0})
    assert nothing.windows == () and nothing.balances == () and nothing.note


@pytest.mark.parametrize(
    ("payload", "field"),
    [([], "$"), ({"canConsume": True}, "balances"), ({"balances": {"usd": "lots"}}, "balances.usd")],
)
def test_shapes_it_does_not_know_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_error_body_in_a_200_is_upstream() -> None:
    with pytest.raises(UpstreamError, match="rate limited by admin"):
        parse({"error": {"message": "rate limited by admin"}})


def test_declarations() -> None:
    assert {s.name: (s.env_var("venice"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_VENICE_API_KEY", ("VENICE_API_KEY", "VENICE_KEY")),
        "url": ("AGENTGAUGE_VENICE_URL", ()),
    }


# -- fetch through the simulator -----------------------------------------------------------------
async def test_fetch(sim: Any) -> None:
    usage = await fetch_usage("venice", sim_settings("venice", sim.url))
    (window,) = usage.windows
    assert window.limit == 25.0 and window.unit == "diem" and 0 <= window.used_pct <= 100
    assert window.resets_at is not None and window.resets_at.hour == 0 and window.resets_at > datetime.now(UTC)
    assert usage.balances == (usd(40.0),)
    request = [r for r in sim_requests(sim) if r["path"] == "/venice/url/billing/balance"][-1]
    assert request["method"] == "GET" and request["headers"]["authorization"] == f"Bearer {KEY}"


async def test_a_dollar_account(sim: Any) -> None:
    usage = await fetch_usage("venice", sim_settings("venice", sim.url, api_key=f"{KEY}#usd"))
    assert usage == Usage(balances=(usd(40.0),), plan="Paying with USD")


async def test_key_from_venice_key(sim: Any) -> None:
    settings = sim_settings("venice", sim.url)
    settings.pop("api_key")
    assert (await fetch_usage("venice", settings, env={"VENICE_KEY": KEY})).windows


async def test_an_inference_key_is_refused_with_the_admin_hint(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("venice", sim_settings("venice", sim.url, api_key="sim-venice-inference-key"))
    assert info.value.status_code == 401 and "ADMIN" in info.value.hint
    assert "inference-key" not in str(info.value)


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("venice", sim_settings("venice", sim.url))
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("venice", sim_settings("venice", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("venice", sim_settings("venice", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("venice", sim_settings("venice", sim.url))
    assert usage.windows[0].limit == 25.0 and usage.balances == (usd(40.0),)


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("venice", sim_settings("venice", sim.url), timeout=0.5)
