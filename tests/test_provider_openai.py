"""OpenAI: the costs, spend-limit, usage and rate-limit samples parsed exactly (cents vs dollars, Go
durations), spend as a window only under a monthly limit, the requests sent (admin key, the month's
start, paging, the opt-in minimal call), which keys configure the provider, and failures through the
simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, ParseError, ProviderConfigError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Breakdown, BreakdownItem, ErrorKind, Usage, Window
from agentgauge.providers.openai import PROVIDER
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_settings
from tests.simlog import Mark

NOW = datetime(2023, 11, 16, 12, 0, tzinfo=UTC)  # the costs sample's buckets are 2023-11-14 and -15
ADMIN = "sk-admin-sim-openai-admin-key"
API_KEY = "sk-proj-sim-openai-api-key"
PREFIX = "/openai/url"
DECEMBER = datetime(2023, 12, 1, tzinfo=UTC)
EMPTY = {"object": "page", "data": []}


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse(raw, NOW)


def requests_to(since: Mark, path: str) -> list[dict[str, Any]]:
    return [r for r in since.requests() if r["path"] == PREFIX + path]


def admin_only(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("openai", sim.url, **overrides)
    settings.pop("api_key")
    return settings


def month_spend(used: float) -> Balance:
    return Balance(
        id="spend_month", label="Spend this month", unit="usd", used=used, period="monthly", resets_at=DECEMBER
    )


# -- samples ------------------------------------------------------------------------------------
def test_costs_sample_without_a_spend_limit_is_spend_as_balances() -> None:
    usage = parse(costs=fixture_json("openai", "organization-costs.json"), spend_limit=None, usage=None)
    assert usage == Usage(
        balances=(month_spend(18.75),),  # 12.5 + "2.25" + 4.0 dollars; no bucket for today (the API lags)
        breakdowns=(
            Breakdown(
                id="costs",
                label="Spend this month by line item",
                unit="usd",
                items=(
                    BreakdownItem(key="text_tokens", label="Text tokens", value=16.5),
                    BreakdownItem(key="web_search_tool_calls", label="Web search tool calls", value=2.25),
                ),
            ),
        ),
    )


def test_spend_limit_sample_in_cents_against_costs_in_dollars() -> None:
    usage = parse(
        costs=fixture_json("openai", "organization-costs.json"),
        spend_limit=fixture_json("openai", "spend-limit-docs-example.json"),
    )
    assert usage.windows == (
        Window(
            id="monthly_spend",
            label="Monthly spend limit (enforcing)",
            used_pct=18.75,  # $18.75 of threshold_amount 10000 cents = $100
            resets_at=DECEMBER,
            used=18.75,
            limit=100.0,
            unit="usd",
        ),
    )
    assert usage.balances == ()


def test_usage_sample_ungrouped_counts_input_and_output() -> None:
    usage = parse(costs=EMPTY, usage=fixture_json("openai", "usage-completions-docs-example.json"))
    assert usage.breakdowns == (
        Breakdown(
            id="tokens",
            label="Tokens this month by model",
            unit="tokens",
            items=(BreakdownItem(key="all models", value=1500),),
        ),
    )
    assert usage.balances == (month_spend(0.0),)


def test_probe_samples_are_rate_windows_with_go_durations() -> None:
    ok = parse(probe=fixture_json("openai", "probe-headers-ok.json"))
    assert ok.windows == (
        Window(
            id="rate_requests",
            label="Requests (rate limit)",
            used_pct=0.01,
            resets_at=NOW + timedelta(milliseconds=6),
            used=1,
            limit=10000,
            unit="requests",
        ),
        Window(id="rate_tokens", label="Tokens (rate limit)", used_pct=0.0008, used=15, limit=2000000, unit="tokens"),
    )
    assert ok.warnings == ()
    limited = parse(probe=fixture_json("openai", "probe-headers-429.json"))
    requests, tokens = limited.windows
    assert (requests.used_pct, requests.resets_at) == (100.0, NOW + timedelta(seconds=72))  # kept to the second
    assert tokens.resets_at == NOW + timedelta(seconds=4)
    assert [w.kind for w in limited.warnings] == [ErrorKind.RATE_LIMITED]


# -- variations -------------------------------------------------------------------------------
def bucket(start: datetime, *values: Any) -> dict[str, Any]:
    results = [{"object": "organization.costs.result", "amount": {"value": v, "currency": "usd"}} for v in values]
    return {"object": "bucket", "start_time": int(start.timestamp()), "end_time": 0, "results": results}


def test_todays_bucket_is_spend_today() -> None:
    today = NOW.replace(hour=0)
    costs = {"data": [bucket(today - timedelta(days=1), "3.5"), bucket(today, 1.25, None)], "x_extra": 1}
    usage = parse(costs=costs)
    assert usage.balances == (
        month_spend(4.75),
        Balance(
            id="spend_today",
            label="Spend today",
            unit="usd",
            used=1.25,
            period="daily",
            resets_at=today + timedelta(days=1),
        ),
    )
    assert [w.message for w in usage.warnings] == ["OpenAI: costs.data[1].results[1].amount.value is missing"]


def test_an_unknown_spend_limit_shape_is_a_warning_and_spend_stays_a_balance() -> None:
    limit = {"object": "organization.spend_limit", "threshold_amount": "5000", "currency": "USD", "interval": "week"}
    usage = parse(costs={"data": [bucket(NOW - timedelta(days=2), 7)]}, spend_limit=limit)
    assert usage.windows == () and usage.balances == (month_spend(7.0),)
    assert usage.warnings[0].message.startswith("OpenAI: a spend limit per week")


def test_threshold_as_a_string_and_a_foreign_currency_result() -> None:
    limit = {"threshold_amount": "2500", "currency": "usd", "interval": "month", "enforcement": None}
    costs = {
        "data": [
            {"start_time": "1", "results": [{"amount": {"value": 5, "currency": "eur"}}, {"amount": {"value": 5}}]}
        ]
    }
    usage = parse(costs=costs, spend_limit=limit)
    assert (
        usage.windows[0].used == 5 and usage.windows[0].limit == 25 and usage.windows[0].label == "Monthly spend limit"
    )
    assert usage.warnings[0].message == "OpenAI: costs.data[0].results[0].amount.currency 'eur' is not usd"


@pytest.mark.parametrize("payload", [None, [], {"object": "page"}, {"data": "x"}])
def test_a_costs_answer_without_data_names_the_field(payload: Any) -> None:
    with pytest.raises(ParseError) as info:
        parse(costs=payload if payload is not None else {"data": None})
    assert info.value.field == "costs.data"


def test_headers_without_remaining_are_a_warning() -> None:
    usage = parse(
        probe={
            "headers": {
                "x-ratelimit-limit-tokens": "100",
                "x-ratelimit-limit-requests": "10",
                "x-ratelimit-remaining-requests": "4",
            }
        }
    )
    assert [w.id for w in usage.windows] == ["rate_requests"]
    assert usage.warnings[0].message.startswith("OpenAI: header x-ratelimit-limit-tokens")


# -- through the simulator ----------------------------------------------------------------------
async def test_admin_key_round_trip_and_the_requests_it_sends(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("openai", admin_only(sim, organization="org-sim"))
    assert [w.id for w in usage.windows] == ["monthly_spend"]  # no probe without the setting
    spend = usage.windows[0]
    assert spend.limit == 120 and spend.unit == "usd" and spend.used is not None and spend.used > 0
    assert [b.id for b in usage.balances] == ["spend_today"]
    assert [b.id for b in usage.breakdowns] == ["costs", "tokens"]
    month_start = int(datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp())
    for path, group in (("/organization/costs", "line_item"), ("/organization/usage/completions", "model")):
        sent = requests_to(since, path)
        query = parse_qs(sent[-1]["query"])
        assert query["start_time"] == [str(month_start)] and query["bucket_width"] == ["1d"]
        assert query["group_by"] == [group] and query["limit"] == ["31"]
        assert sent[-1]["headers"]["authorization"] == f"Bearer {ADMIN}"
        assert sent[-1]["headers"]["openai-organization"] == "org-sim"
    assert requests_to(since, "/chat/completions") == []  # no minimal call, with either key


async def test_every_page_is_read(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Twenty-one daily buckets: the simulator serves eight per page.
    since = Mark(sim)
    monkeypatch.setattr("agentgauge.providers._time.month_start", lambda now: now - timedelta(days=20))
    usage = await fetch_usage("openai", admin_only(sim))
    sent = requests_to(since, "/organization/costs")
    assert len(sent) == 3 and "page" not in parse_qs(sent[0]["query"]) and parse_qs(sent[1]["query"])["page"]
    assert usage.windows[0].used is not None


async def test_no_spend_limit_makes_spend_a_balance(sim: Any) -> None:
    usage = await fetch_usage("openai", admin_only(sim, admin_key=f"{ADMIN}#nolimit"))
    assert usage.windows == ()
    assert [b.id for b in usage.balances] == ["spend_month", "spend_today"]


async def test_probe_sends_one_minimal_call_with_the_api_key(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("openai", sim_settings("openai", sim.url, probe="on", probe_model="gpt-4.1-nano"))
    sent = requests_to(since, "/chat/completions")
    assert len(sent) == 1
    assert sent[0]["method"] == "POST" and sent[0]["headers"]["authorization"] == f"Bearer {API_KEY}"
    body = json.loads(sent[0]["body"])
    assert body["max_completion_tokens"] == 1 and body["model"] == "gpt-4.1-nano" and body["store"] is False
    assert [w.id for w in usage.windows] == ["monthly_spend", "rate_requests", "rate_tokens"]
    assert all(w.resets_at is not None for w in usage.windows)


async def test_probe_failure_under_an_admin_key_is_a_warning(sim: Any) -> None:
    usage = await fetch_usage("openai", sim_settings("openai", sim.url, probe="on", api_key="sk-proj-wrong-key-000"))
    assert [w.id for w in usage.windows] == ["monthly_spend"]
    assert [w.kind for w in usage.warnings] == [ErrorKind.AUTH]
    assert "sk-proj-wrong" not in usage.warnings[0].message


async def test_api_key_alone_with_probe_shows_only_rate_limits(sim: Any) -> None:
    settings = sim_settings("openai", sim.url, probe="on")
    settings.pop("admin_key")
    usage = await fetch_usage("openai", settings)
    assert [w.id for w in usage.windows] == ["rate_requests", "rate_tokens"] and usage.balances == ()


async def test_api_key_alone_with_probe_off_is_a_config_error(sim: Any) -> None:
    settings = sim_settings("openai", sim.url, probe="off")
    settings.pop("admin_key")
    with pytest.raises(ProviderConfigError) as info:
        await fetch_usage("openai", settings)
    assert "AGENTGAUGE_OPENAI_PROBE=on" in info.value.hint


def test_which_variables_configure_it() -> None:
    provider = PROVIDER
    only_key = account_config("openai", {}, env={"OPENAI_API_KEY": API_KEY})
    assert auth.resolve(provider, only_key.accounts[0], only_key) == []  # an ordinary key alone: not configured
    probing = account_config("openai", {"probe": "on"}, env={"OPENAI_API_KEY": API_KEY})
    (found,) = auth.resolve(provider, probing.accounts[0], probing)
    assert found.auth.id == "api_key" and "environment variable OPENAI_API_KEY" in found.origin
    admin = account_config("openai", {}, env={"OPENAI_ADMIN_KEY": ADMIN, "OPENAI_API_KEY": API_KEY})
    first = auth.resolve(provider, admin.accounts[0], admin)[0]
    assert first.auth.id == "admin" and first.get("api_key") == API_KEY


async def test_a_project_key_as_admin_key_is_refused_with_the_admin_hint(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("openai", admin_only(sim, admin_key=API_KEY))
    assert info.value.status_code == 403 and "admin key" in info.value.hint
    assert API_KEY not in info.value.message


async def test_project_filter_is_sent(sim: Any) -> None:
    since = Mark(sim)
    await fetch_usage("openai", admin_only(sim, project="proj_sim"))
    assert parse_qs(requests_to(since, "/organization/usage/completions")[-1]["query"])["project_ids"] == ["proj_sim"]


@pytest.mark.parametrize(
    ("path", "spec", "error"),
    [
        ("/organization/costs", {"kind": "status", "status": 429, "headers": {"retry-after": "30"}}, RateLimitedError),
        ("/organization/usage", {"kind": "status", "status": 500, "body": "{}"}, UpstreamError),
        ("/organization/spend_limit", {"kind": "html"}, ParseError),
        ("/organization/costs", {"kind": "body", "body": '{"object": "page"}'}, ParseError),
    ],
)
async def test_failures_of_each_call(sim: Any, path: str, spec: dict[str, Any], error: type[Exception]) -> None:
    add_fault(sim, PREFIX + path, **spec)
    with pytest.raises(error):
        await fetch_usage("openai", admin_only(sim))


async def test_a_429_of_the_minimal_call_is_data_not_a_failure(sim: Any) -> None:
    body = json.dumps({"error": {"message": "You exceeded your quota", "type": "x", "code": "insufficient_quota"}})
    headers = {"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0", "retry-after": "20"}
    add_fault(sim, PREFIX + "/chat/completions", kind="status", status=429, body=body, headers=headers)
    usage = await fetch_usage("openai", sim_settings("openai", sim.url, probe="on"))
    requests = next(w for w in usage.windows if w.id == "rate_requests")
    assert requests.used_pct == 100.0 and requests.limit == 500
    assert "insufficient_quota" in usage.warnings[0].message and "credits" in usage.warnings[0].hint
