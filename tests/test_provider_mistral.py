"""Mistral: the billing usage priced exactly from its own price list (spend this month, per model and
day, tokens per model), the credit wallet, the Vibe plan window, the session cookies (Ory session,
CSRF echoed, only those two sent to the console), enrichments as warnings, and every failure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, ErrorKind, Usage, Window
from agentgauge.providers.mistral import PROVIDER, session_cookies
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)
COOKIE = "ory_session_sim=sim-mistral-session; csrftoken=sim-csrf"
ADMIN = "/mistral/url/"
CONSOLE = "/mistral/console_url/"


def parse(usage: Any, credits: Any = None, vibe: Any = None, problems: Any = None) -> Usage:
    return PROVIDER.parse({"usage": usage, "credits": credits, "vibe": vibe, "problems": problems or []}, NOW)


def crumbs(usage: Usage) -> dict[str, list[tuple[str, float]]]:
    return {b.id: [(i.key, i.value) for i in b.items] for b in usage.breakdowns}


# -- samples ------------------------------------------------------------------------------------
def test_billing_usage_sample_is_priced_from_its_price_list() -> None:
    usage = parse(fixture_json("mistral", "billing-usage-codexbar.json"))
    assert usage.balances == (
        Balance(
            id="spend_month",
            label="Spend this month",
            unit="eur",
            used=0.025363,
            period="monthly",
            resets_at=datetime(2025, 12, 1, tzinfo=UTC),
        ),
    )
    assert crumbs(usage) == {
        "spend_per_model": [("mistral-large-latest", 0.024592), ("mistral-small-latest", 0.000771)],
        "spend_per_day": [("2025-11-14", 0.024721), ("2025-11-24", 0.000641)],
        "tokens_per_model": [("mistral-large-latest", 12236), ("mistral-small-latest", 3102)],
    }
    assert usage.windows == () and usage.warnings == ()


def test_empty_month_in_dollars() -> None:
    usage = parse(fixture_json("mistral", "billing-usage-empty-usd.json"))
    assert usage.balances[0] == Balance(
        id="spend_month",
        label="Spend this month",
        unit="usd",
        used=0.0,
        period="monthly",
        resets_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert all(not b.items for b in usage.breakdowns)


def test_credits_and_vibe_samples() -> None:
    usage = parse(
        fixture_json("mistral", "billing-usage-empty-usd.json"),
        fixture_json("mistral", "credits-codexbar.json"),
        fixture_json("mistral", "vibe-usage-trpc.json"),
    )
    assert usage.balances[0] == Balance(id="credits", label="Credits", unit="usd", remaining=13.25)
    assert usage.windows == (
        Window(id="vibe_monthly", label="Vibe (monthly)", used_pct=42.5, resets_at=datetime(2026, 7, 1, tzinfo=UTC)),
    )


# -- hand-made variations ------------------------------------------------------------------------
def test_value_without_value_paid_cached_group_and_other_categories() -> None:
    payload = {
        "currency": "EUR",
        "prices": [
            {"billing_metric": "m", "billing_group": "input", "price": "1E-6"},
            {"billing_metric": "m", "billing_group": "cached", "price": "bad"},
            {"billing_metric": "ocr", "billing_group": "pages", "price": "0.001"},
        ],
        "completion": {
            "models": {
                "m::v": {
                    "input": [
                        {"billing_metric": "m", "billing_group": "input", "value": "1000", "timestamp": "2025-11-01"}
                    ],
                    "cached": [{"billing_metric": "m", "billing_group": "cached", "value": 50}],
                },
                "x_extra": 1,
            }
        },
        "ocr": {"models": {"ocr": {"input": [{"billing_metric": "ocr", "billing_group": "pages", "value_paid": 10}]}}},
    }
    usage = parse(payload)
    assert usage.balances[0].used == pytest.approx(0.011)
    assert crumbs(usage)["tokens_per_model"] == [("m", 1050)]  # OCR pages are not tokens
    assert crumbs(usage)["spend_per_day"] == [("2025-11-01", 0.001)]  # the OCR row has no day


def test_a_row_without_a_value_is_a_warning() -> None:
    payload = {"currency": "EUR", "completion": {"models": {"m": {"input": [{"billing_metric": "m"}, {"value": 5}]}}}}
    usage = parse(payload)
    assert crumbs(usage)["tokens_per_model"] == [("m", 5)]
    assert "completion.models.m.input[0]" in usage.warnings[0].message


def test_broken_enrichments_are_warnings() -> None:
    usage = parse(
        {"currency": "EUR"},
        {"currency": "EUR"},
        [{"result": {}}],
        problems=[{"kind": "auth", "message": "Mistral: Vibe usage request was refused (HTTP 403)"}],
    )
    assert [w.kind for w in usage.warnings] == [ErrorKind.PARSE, ErrorKind.PARSE, ErrorKind.AUTH]
    assert usage.windows == () and [b.id for b in usage.balances] == ["spend_month"]


@pytest.mark.parametrize(("payload", "field"), [([], "$"), ({"vibe_usage": 0}, "completion")])
def test_shapes_it_does_not_know_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_session_cookies() -> None:
    admin, csrf, console = session_cookies("Cookie: ory_session_abc=s; theme=dark; csrftoken=t; ory_session_x=y")
    assert admin == "ory_session_abc=s; theme=dark; csrftoken=t; ory_session_x=y"
    assert csrf == "t" and console == "ory_session_abc=s; csrftoken=t; ory_session_x=y"
    assert session_cookies("ory_session_abc=s")[1] is None
    with pytest.raises(AuthError, match="ory_session"):
        session_cookies("csrftoken=t")


def test_declarations() -> None:
    assert {s.name: (s.env_var("mistral"), s.env) for s in PROVIDER.settings} == {
        "cookie": ("AGENTGAUGE_MISTRAL_COOKIE", ()),
        "url": ("AGENTGAUGE_MISTRAL_URL", ()),
        "console_url": ("AGENTGAUGE_MISTRAL_CONSOLE_URL", ()),
    }


# -- fetch through the simulator -----------------------------------------------------------------
async def test_fetch(sim: Any) -> None:
    usage = await fetch_usage("mistral", sim_settings("mistral", sim.url))
    assert [b.id for b in usage.balances] == ["credits", "spend_month"] and usage.warnings == ()
    (vibe,) = usage.windows
    assert vibe.id == "vibe_monthly" and vibe.resets_at is not None
    now = datetime.now(UTC)
    requests = sim_requests(sim)
    billing = [r for r in requests if r["path"] == "/mistral/url/api/billing/v2/usage"][-1]
    assert billing["query"] == f"month={now.month}&year={now.year}"
    assert billing["headers"]["x-csrftoken"] == "sim-csrf" and billing["headers"]["referer"].endswith(
        "/organization/usage"
    )
    console = [r for r in requests if r["path"].startswith(CONSOLE)][-1]
    assert console["headers"]["cookie"] == COOKIE and console["headers"]["x-csrftoken"] == "sim-csrf"
    assert "batch=1" in console["query"]


async def test_without_a_csrf_token_there_is_no_vibe(sim: Any) -> None:
    settings = sim_settings("mistral", sim.url, cookie="ory_session_sim=sim-mistral-session#nocsrf; theme=dark")
    usage = await fetch_usage("mistral", settings)
    assert usage.windows == () and [b.id for b in usage.balances] == ["credits", "spend_month"]
    assert not [
        r for r in sim_requests(sim) if r["path"].startswith(CONSOLE) and "#nocsrf" in r["headers"].get("cookie", "")
    ]


async def test_only_the_session_and_csrf_go_to_the_console(sim: Any) -> None:
    cookie = "ory_session_sim=sim-mistral-session#console; csrftoken=sim-csrf; other=drop"
    await fetch_usage("mistral", sim_settings("mistral", sim.url, cookie=cookie))
    console = [r for r in sim_requests(sim) if r["path"].startswith(CONSOLE) and "#console" in r["headers"]["cookie"]][
        -1
    ]
    assert "other" not in console["headers"]["cookie"]


async def test_vibe_failure_is_a_warning(sim: Any) -> None:
    add_fault(sim, CONSOLE, "status", status=403, body='{"detail":"CSRF Failed"}')
    usage = await fetch_usage("mistral", sim_settings("mistral", sim.url))
    assert usage.windows == () and usage.warnings[0].kind == ErrorKind.AUTH


async def test_an_expired_session(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("mistral", sim_settings("mistral", sim.url, cookie="ory_session_sim=stale; csrftoken=x"))
    assert info.value.status_code == 401 and "stale" not in str(info.value)
    add_fault(sim, ADMIN, "status", status=302, headers={"location": "https://auth.mistral.ai/login"}, body="")
    with pytest.raises(AuthError, match="login page"):
        await fetch_usage("mistral", sim_settings("mistral", sim.url))


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, ADMIN, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=2)
    with pytest.raises(RateLimitedError):
        await fetch_usage("mistral", sim_settings("mistral", sim.url))
    add_fault(sim, ADMIN, "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("mistral", sim_settings("mistral", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, "/mistral/", kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("mistral", sim_settings("mistral", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, "/mistral/", kind)
    usage = await fetch_usage("mistral", sim_settings("mistral", sim.url))
    assert [b.id for b in usage.balances] == ["credits", "spend_month"] and usage.windows and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, ADMIN, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("mistral", sim_settings("mistral", sim.url), timeout=0.5)
