"""Anthropic API: the report samples parsed exactly (decimal strings of cents, cache-creation tokens,
Claude Code per actor, configured limits), the rate-limit headers with RFC 3339 resets, the requests
sent (x-api-key, anthropic-version, dates, group_by[], paging), which keys configure the provider, the
optional reports failing softly, and failures through the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, ParseError, ProviderConfigError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Breakdown, BreakdownItem, ErrorKind, Usage, Window
from agentgauge.providers.anthropic import PROVIDER
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_settings
from tests.simlog import Mark

NOW = datetime(2025, 8, 21, 12, 40, 30, tzinfo=UTC)
ADMIN = "sk-ant-admin01-sim-anthropic-admin-key"
API_KEY = "sk-ant-api03-sim-anthropic-api-key"
PREFIX = "/anthropic/url"
SEPTEMBER = datetime(2025, 9, 1, tzinfo=UTC)
EMPTY = {"data": []}


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse(raw, NOW)


def requests_to(since: Mark, path: str) -> list[dict[str, Any]]:
    return [r for r in since.requests() if r["path"] == PREFIX + path]


def admin_only(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("anthropic", sim.url, **overrides)
    settings.pop("api_key")
    return settings


def spend(period: str, used: float) -> Balance:
    if period == "monthly":
        return Balance(
            id="spend_month", label="Spend this month", unit="usd", used=used, period=period, resets_at=SEPTEMBER
        )
    tomorrow = datetime(2025, 8, 22, tzinfo=UTC)
    return Balance(id="spend_today", label="Spend today", unit="usd", used=used, period=period, resets_at=tomorrow)


# -- samples ------------------------------------------------------------------------------------
def test_cost_report_sample_in_cents_is_spend_in_dollars() -> None:
    usage = parse(costs=fixture_json("anthropic", "cost-report-by-description.json"))
    assert usage.windows == ()
    # 123.45 + 410.5 + 20 cents on the 20th, 66.05 cents today (the 21st).
    assert usage.balances == (spend("monthly", 6.2), spend("daily", 0.6605))
    assert usage.breakdowns == (
        Breakdown(
            id="costs",
            label="Spend this month by model",
            unit="usd",
            items=(
                BreakdownItem(key="claude-sonnet-4-20250514", value=5.3395),
                BreakdownItem(key="claude-3-5-haiku-20241022", value=0.6605),
                BreakdownItem(key="web_search", value=0.2),
            ),
        ),
    )


def test_usage_report_sample_counts_every_token_kind() -> None:
    usage = parse(costs=EMPTY, usage=fixture_json("anthropic", "usage-report-by-model.json"))
    # uncached 1500 + cache read 200 + output 500 + cache creation 1h 1000 + 5m 500
    assert usage.breakdowns == (
        Breakdown(
            id="tokens",
            label="Tokens this month by model",
            unit="tokens",
            items=(BreakdownItem(key="claude-sonnet-4-20250514", value=3700),),
        ),
    )


def test_claude_code_sample_is_todays_cost_per_actor() -> None:
    usage = parse(costs=EMPTY, claude_code=fixture_json("anthropic", "claude-code-report.json"))
    assert usage.breakdowns == (
        Breakdown(
            id="claude_code",
            label="Claude Code cost today by user",
            unit="usd",
            items=(BreakdownItem(key="user@example.com", value=12.35), BreakdownItem(key="ci-bot", value=0.045)),
        ),
    )


def test_rate_limits_sample_is_one_breakdown_per_limit_type() -> None:
    usage = parse(costs=EMPTY, rate_limits=fixture_json("anthropic", "rate-limits.json"))
    rpm, itpm, otpm = usage.breakdowns
    assert rpm == Breakdown(
        id="limits_requests_per_minute",
        label="Requests per minute (configured)",
        unit="requests",
        items=(
            BreakdownItem(key="claude-sonnet-4-5, claude-sonnet-4-20250514", value=4000),
            BreakdownItem(key="batch", value=4000),
        ),
    )
    assert (itpm.id, itpm.items[0].value, otpm.id) == (
        "limits_input_tokens_per_minute",
        2e6,
        "limits_output_tokens_per_minute",
    )


def test_probe_sample_is_per_minute_windows_with_rfc3339_resets() -> None:
    usage = parse(probe=fixture_json("anthropic", "probe-headers-ok.json"))
    assert [w.id for w in usage.windows] == ["rate_requests", "rate_tokens", "rate_input_tokens", "rate_output_tokens"]
    assert usage.windows[0] == Window(
        id="rate_requests",
        label="Requests per minute",
        used_pct=2.0,
        resets_at=datetime(2025, 8, 21, 12, 40, 59, tzinfo=UTC),
        window_seconds=60,
        used=1,
        limit=50,
        unit="requests",
    )


# -- variations -------------------------------------------------------------------------------
def test_amounts_as_numbers_nulls_and_a_foreign_currency() -> None:
    costs = {
        "data": [
            {
                "starting_at": "2025-08-02T00:00:00Z",
                "results": [
                    {"amount": 250, "currency": "USD", "model": "m"},
                    {"amount": None, "currency": "USD"},
                    {"amount": "5", "currency": "EUR"},
                ],
                "x_new": True,
            },
            {"starting_at": None, "results": None},
        ]
    }
    usage = parse(costs=costs)
    assert usage.balances == (spend("monthly", 2.5),)
    assert [w.message for w in usage.warnings] == [
        "Anthropic: data[0].results[1].amount is missing",
        "Anthropic: data[0].results[2].currency 'EUR' is not USD",
    ]


def test_combined_tokens_headers_may_be_absent_and_resets_may_be_missing() -> None:
    headers = {"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "50"}
    usage = parse(probe={"headers": headers})
    assert usage.windows == (
        Window(id="rate_requests", label="Requests per minute", used_pct=0, window_seconds=60, used=0, limit=50,
               unit="requests"),
    )  # fmt: skip


def test_an_actor_without_a_name_is_a_warning() -> None:
    report = {"data": [{"actor": {"type": "user_actor"}, "model_breakdown": []}]}
    usage = parse(costs=EMPTY, claude_code=report)
    assert usage.warnings[0].message == "Anthropic: claude_code.data[0].actor names nobody"


def test_a_report_error_record_is_a_warning() -> None:
    record = {"error": {"kind": "upstream", "message": "Anthropic: refused (Claude Code report)", "hint": "h"}}
    usage = parse(costs=EMPTY, claude_code=record)
    assert [(w.kind, w.message) for w in usage.warnings] == [
        (ErrorKind.UPSTREAM, "Anthropic: refused (Claude Code report)")
    ]


@pytest.mark.parametrize("payload", [{}, {"data": None}, {"data": "x"}])
def test_a_cost_report_without_data_names_the_field(payload: Any) -> None:
    with pytest.raises(ParseError) as info:
        parse(costs=payload)
    assert info.value.field == "cost report.data"


# -- through the simulator ----------------------------------------------------------------------
async def test_admin_round_trip_and_the_requests_it_sends(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("anthropic", admin_only(sim))
    assert usage.windows == () and [b.id for b in usage.balances] == ["spend_month", "spend_today"]
    assert [b.id for b in usage.breakdowns] == [
        "costs",
        "tokens",
        "claude_code",
        "limits_requests_per_minute",
        "limits_input_tokens_per_minute",
        "limits_output_tokens_per_minute",
    ]
    today = datetime.now(UTC)
    month = today.replace(day=1).date().isoformat() + "T00:00:00Z"
    for path, group in (
        ("/v1/organizations/cost_report", "description"),
        ("/v1/organizations/usage_report/messages", "model"),
    ):
        sent = requests_to(since, path)[-1]
        query = parse_qs(sent["query"])
        assert query["starting_at"] == [month] and query["bucket_width"] == ["1d"] and query["group_by[]"] == [group]
        assert sent["headers"]["x-api-key"] == ADMIN and sent["headers"]["anthropic-version"] == "2023-06-01"
        assert "authorization" not in sent["headers"]
    code = parse_qs(requests_to(since, "/v1/organizations/usage_report/claude_code")[-1]["query"])
    assert code["starting_at"] == [today.date().isoformat()]


async def test_every_page_is_read(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    since = Mark(sim)
    monkeypatch.setattr("agentgauge.providers._time.month_start", lambda now: now - timedelta(days=20))
    await fetch_usage("anthropic", admin_only(sim))
    sent = requests_to(since, "/v1/organizations/cost_report")
    assert len(sent) == 3 and parse_qs(sent[2]["query"])["page"][0].startswith("page_")


async def test_no_claude_code_is_a_warning_not_a_failure(sim: Any) -> None:
    usage = await fetch_usage("anthropic", admin_only(sim, admin_key=f"{ADMIN}#nocode"))
    assert "claude_code" not in [b.id for b in usage.breakdowns]
    assert [w.kind for w in usage.warnings] == [ErrorKind.UPSTREAM]
    assert "not_found_error" in usage.warnings[0].message and "Claude Code report" in usage.warnings[0].message


async def test_probe_sends_one_minimal_message_with_the_api_key(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("anthropic", sim_settings("anthropic", sim.url, probe="on"))
    (sent,) = requests_to(since, "/v1/messages")
    assert sent["headers"]["x-api-key"] == API_KEY and sent["headers"]["anthropic-version"] == "2023-06-01"
    body = json.loads(sent["body"])
    assert body["max_tokens"] == 1 and body["model"] == "claude-haiku-4-5"
    assert [w.id for w in usage.windows] == ["rate_requests", "rate_input_tokens", "rate_output_tokens"]
    assert all(w.resets_at is not None and w.window_seconds == 60 for w in usage.windows)


async def test_api_key_alone_needs_the_probe(sim: Any) -> None:
    settings = sim_settings("anthropic", sim.url, probe="on")
    settings.pop("admin_key")
    usage = await fetch_usage("anthropic", settings)
    assert usage.balances == () and len(usage.windows) == 3
    settings["probe"] = "off"
    with pytest.raises(ProviderConfigError):
        await fetch_usage("anthropic", settings)


def test_an_api_key_alone_does_not_configure_it() -> None:
    config = account_config("anthropic", {}, env={"ANTHROPIC_API_KEY": API_KEY})
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []
    config = account_config("anthropic", {}, env={"ANTHROPIC_ADMIN_KEY": ADMIN})
    assert [c.auth.id for c in auth.resolve(PROVIDER, config.accounts[0], config)] == ["admin"]


async def test_an_api_key_as_admin_key_is_refused(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("anthropic", admin_only(sim, admin_key=API_KEY))
    assert info.value.status_code == 403 and "admin key" in info.value.hint and API_KEY not in info.value.message


async def test_a_bad_probe_key_under_an_admin_key_is_a_warning(sim: Any) -> None:
    usage = await fetch_usage("anthropic", sim_settings("anthropic", sim.url, probe="on", api_key="sk-ant-api03-nope"))
    assert usage.windows == () and [w.kind for w in usage.warnings] == [ErrorKind.AUTH]


@pytest.mark.parametrize(
    ("path", "spec", "error"),
    [
        (
            "/v1/organizations/cost_report",
            {"kind": "status", "status": 429, "headers": {"retry-after": "9"}},
            RateLimitedError,
        ),
        (
            "/v1/organizations/usage_report/messages",
            {
                "kind": "status",
                "status": 400,
                "body": '{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}',
            },
            UpstreamError,
        ),
        ("/v1/organizations/cost_report", {"kind": "truncate"}, ParseError),
    ],
)
async def test_failures_of_the_main_reports(sim: Any, path: str, spec: dict[str, Any], error: type[Exception]) -> None:
    add_fault(sim, PREFIX + path, **spec)
    with pytest.raises(error) as info:
        await fetch_usage("anthropic", admin_only(sim))
    if error is UpstreamError:
        assert "invalid_request_error" in str(info.value)


async def test_a_missing_version_header_is_what_the_simulator_refuses(sim: Any) -> None:
    import httpx

    response = httpx.get(f"{sim.url}{PREFIX}/v1/organizations/rate_limits", headers={"x-api-key": ADMIN})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"


async def test_a_429_of_the_minimal_call_is_data(sim: Any) -> None:
    headers = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": "2030-01-01T00:00:00Z",
        "retry-after": "12",
    }
    body = '{"type":"error","error":{"type":"rate_limit_error","message":"over the rate limit"}}'
    add_fault(sim, PREFIX + "/v1/messages", kind="status", status=429, body=body, headers=headers)
    usage = await fetch_usage("anthropic", sim_settings("anthropic", sim.url, probe="on"))
    requests = next(w for w in usage.windows if w.id == "rate_requests")
    assert requests.used_pct == 100 and "rate_limit_error" in usage.warnings[0].message
