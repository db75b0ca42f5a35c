"""Codebuff: the shared samples parsed exactly, the credits as a balance and the weekly rate limit as a
window, the codebuff CLI's credentials file found on disk, the requests sent with an API key and with
the CLI's session token, Codebuff's own variables, and every failure through the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.errors import AuthError, ConfigError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.codebuff import PROVIDER, read_credentials
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
KEY = "sim-codebuff-key"
SESSION = "sim-codebuff-session"
PREFIX = "/codebuff/url/"


def parse(usage: Any, subscription: Any = None) -> Usage:
    return PROVIDER.parse({"usage": usage, "subscription": subscription}, NOW)


def credits(**fields: Any) -> Balance:
    return Balance(**{"id": "credits", "label": "Credits", "unit": "credits", **fields})


def api_key_only(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("codebuff", sim.url, **overrides)
    settings.pop("cli_token")
    return settings


def cli_only(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("codebuff", sim.url, **overrides)
    settings.pop("api_key")
    return settings


def requests_to(sim: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == PREFIX.rstrip("/") + path]


# -- the shared samples ------------------------------------------------------------------------------
def test_usage_sample_is_a_credit_balance() -> None:
    assert parse(fixture_json("codebuff", "usage-sample.json")) == Usage(
        balances=(credits(remaining=3750, used=1250, limit=5000, resets_at=datetime(2026, 5, 1, tzinfo=UTC)),)
    )


def test_subscription_sample_gives_the_weekly_window_and_plan() -> None:
    usage = parse(fixture_json("codebuff", "usage-sample.json"), fixture_json("codebuff", "subscription-sample.json"))
    assert usage.windows == (
        Window(
            id="weekly",
            label="Weekly",
            used_pct=30,
            resets_at=datetime(2026, 5, 8, tzinfo=UTC),
            window_seconds=604800,
            used=2100,
            limit=7000,
        ),
    )
    assert usage.plan == "Pro"
    assert usage.warnings == ()


# -- hand-made variations -----------------------------------------------------------------------------
def test_older_names_numbers_as_strings_and_a_computed_remaining() -> None:
    usage = parse({"used": "10.5", "limit": "100", "next_quota_reset": 1777593600000, "more": {}})
    assert usage.balances == (
        credits(remaining=89.5, used=10.5, limit=100, resets_at=datetime(2026, 5, 1, tzinfo=UTC)),
    )


def test_bought_credits_beyond_the_quota_stay_a_balance() -> None:
    usage = parse({"usage": 4000, "quota": 5000, "remainingBalance": 3500, "next_quota_reset": None})
    assert usage.balances == (credits(remaining=3500, used=4000, limit=5000),)
    assert usage.windows == ()


@pytest.mark.parametrize("payload", [{}, {"usage": None, "quota": None}, {"autoTopupEnabled": True}])
def test_usage_without_numbers_names_the_field(payload: dict[str, Any]) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == "usage"


def test_usage_not_an_object() -> None:
    with pytest.raises(ParseError):
        parse(["usage"])


@pytest.mark.parametrize(
    ("subscription", "plan"),
    [
        ({"hasSubscription": False, "subscription": None}, None),
        ({"subscription": {"status": "past_due", "tier": "pro_plus"}}, "Pro Plus (past_due)"),
        ({"subscription": {"displayName": "Team Pro", "tier": "team"}}, "Team Pro"),
        ({"tier": "basic"}, "Basic"),
    ],
)
def test_plan_from_the_subscription(subscription: dict[str, Any], plan: str | None) -> None:
    usage = parse({"usage": 1, "quota": 10}, subscription)
    assert (usage.plan, usage.windows) == (plan, ())


def test_weekly_limit_of_zero_or_missing_is_no_window() -> None:
    for limits in ({"weeklyUsed": 5, "weeklyLimit": 0}, {"weeklyLimit": 10}, None):
        assert parse({"usage": 1, "quota": 10}, {"rateLimit": limits}).windows == ()


def test_a_drifting_subscription_is_a_warning_beside_the_credits() -> None:
    usage = parse({"usage": 1, "quota": 10}, ["not", "an", "object"])
    assert usage.balances and usage.windows == ()
    assert [w.kind for w in usage.warnings] == ["parse"]


def test_the_weekly_numbers_as_strings() -> None:
    usage = parse({"usage": 1, "quota": 10}, {"rateLimit": {"used": "350", "limit": "700"}})
    assert (usage.windows[0].used_pct, usage.windows[0].resets_at) == (50, None)


# -- the CLI's credentials file --------------------------------------------------------------------------
def test_credentials_file_default_profile_and_top_level() -> None:
    found = read_credentials(json.dumps({"default": {"authToken": " tok ", "fingerprintId": "fp-1"}}), "file")
    assert found is not None and found.values["cli_token"].reveal() == "tok"
    assert found.details == {"fingerprint_id": "fp-1"}
    found = read_credentials(json.dumps({"authToken": "'quoted'"}), "file")
    assert found is not None and found.values["cli_token"].reveal() == "quoted"
    assert read_credentials(json.dumps({"default": {"email": "a@b"}}), "file") is None
    with pytest.raises(ConfigError):
        read_credentials("{not json", "file")


async def test_the_cli_login_is_found_and_reads_the_subscription(sim: Any, tmp_path: Path) -> None:
    folder = tmp_path / ".config" / "manicode"
    folder.mkdir(parents=True)
    (folder / "credentials.json").write_text(
        json.dumps({"default": {"authToken": f"{SESSION}#disk", "fingerprintId": "fp-cli", "email": "dev@x.test"}}),
        encoding="utf-8",
    )
    usage = await fetch_usage("codebuff", {"url": f"{sim.url}/codebuff/url"}, home=tmp_path)
    assert [w.id for w in usage.windows] == ["weekly"] and usage.plan == "Pro"
    assert usage.balances[0].limit == 5000
    request = requests_to(sim, "/api/v1/usage")[-1]
    assert request["method"] == "POST"
    assert request["headers"]["authorization"] == f"Bearer {SESSION}#disk"
    assert json.loads(request["body"]) == {"fingerprintId": "fp-cli"}
    sent = [r for r in requests_to(sim, "/api/user/subscription") if r["headers"]["authorization"].endswith("#disk")]
    assert len(sent) == 1


async def test_an_api_key_reads_the_credits_only(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("codebuff", api_key_only(sim))
    assert usage.windows == () and usage.balances[0].id == "credits"
    request = requests_to(sim, "/api/v1/usage")[-1]
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["headers"]["content-type"] == "application/json"
    assert json.loads(request["body"]) == {"fingerprintId": "agentgauge-usage"}
    assert [r["path"] for r in since.requests(PREFIX)] == [PREFIX.rstrip("/") + "/api/v1/usage"]


async def test_a_failing_subscription_keeps_the_credits(sim: Any) -> None:
    add_fault(sim, PREFIX + "api/user/subscription", "status", status=500, body="oops")
    usage = await fetch_usage("codebuff", cli_only(sim))
    assert usage.windows == () and usage.balances[0].id == "credits"


async def test_bought_credits_in_the_demo_account(sim: Any) -> None:
    usage = await fetch_usage("codebuff", api_key_only(sim, api_key=f"{KEY}#topup"))
    balance = usage.balances[0]
    assert balance.remaining is not None and balance.used is not None
    assert balance.remaining == pytest.approx(5000 - balance.used + 2500)


async def test_codebuff_variables_are_honoured(sim: Any) -> None:
    usage = await fetch_usage(
        "codebuff", {}, env={"CODEBUFF_API_KEY": KEY, "CODEBUFF_API_URL": f"{sim.url}/codebuff/url"}
    )
    assert usage.balances


async def test_wrong_tokens_are_auth_errors_with_their_hint(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("codebuff", api_key_only(sim, api_key="cb-wrong"))
    assert "CODEBUFF_API_KEY" in info.value.hint and "cb-wrong" not in str(info.value)
    with pytest.raises(AuthError) as info:
        await fetch_usage("codebuff", cli_only(sim, cli_token="stale-session"))
    assert "codebuff login" in info.value.hint


async def test_429_500_timeout_and_bad_bodies(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "60"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("codebuff", api_key_only(sim))
    add_fault(sim, PREFIX, "status", status=502, body="bad gateway", remaining=1)
    with pytest.raises(UpstreamError):
        await fetch_usage("codebuff", api_key_only(sim))
    add_fault(sim, PREFIX, "html", remaining=1)
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("codebuff", api_key_only(sim))
    add_fault(sim, PREFIX, "truncate", remaining=1)
    with pytest.raises(ParseError, match="truncated"):
        await fetch_usage("codebuff", api_key_only(sim))
    add_fault(sim, PREFIX, "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("codebuff", api_key_only(sim), timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("codebuff", cli_only(sim))
    assert [w.id for w in usage.windows] == ["weekly"] and usage.warnings == ()
