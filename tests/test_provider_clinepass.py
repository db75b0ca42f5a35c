"""Cline Pass: the shared sample parsed exactly, hand-made variations of the usage-limits answer, the
request sent (Bearer key), Cline's own variables, and every failure through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Usage, Window
from agentgauge.providers.clinepass import PROVIDER
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 7, 16, 12, 0, tzinfo=UTC)
KEY = "sim-clinepass-key"
PREFIX = "/clinepass/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"limits": payload}, NOW)


def limits(*entries: Any) -> dict[str, Any]:
    return {"success": True, "data": {"limits": list(entries)}}


# -- the shared sample ----------------------------------------------------------------------------
def test_sample_gives_each_limit_as_a_window() -> None:
    assert parse(fixture_json("clinepass", "usage-limits.json")) == Usage(
        windows=(
            Window(
                id="session",
                label="Session (5h)",
                used_pct=12.5,
                resets_at=datetime(2026, 7, 16, 15, tzinfo=UTC),
                window_seconds=18000,
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=25,
                resets_at=datetime(2026, 7, 20, tzinfo=UTC),
                window_seconds=604800,
            ),
            Window(id="monthly", label="Monthly", used_pct=40),
            Window(
                id="limit_experimental_pool",
                label="Experimental pool",
                used_pct=77,
                resets_at=datetime(2026, 7, 16, 15, tzinfo=UTC),
            ),
        )
    )


# -- hand-made variations -------------------------------------------------------------------------
def test_numbers_as_strings_epoch_resets_and_extra_fields() -> None:
    usage = parse(
        {
            "success": True,
            "data": {
                "limits": [
                    {"type": "WEEKLY", "percentUsed": "33.3", "resetsAt": 1784505600000, "extra": [1]},
                    {"type": "five_hour", "percentUsed": 0, "resetsAt": "1784221200"},
                ],
                "plan": "pro",
            },
            "x": {},
        }
    )
    session, weekly = usage.windows
    assert (session.id, session.used_pct, session.resets_at) == ("session", 0, datetime(2026, 7, 16, 17, tzinfo=UTC))
    assert (weekly.id, weekly.used_pct, weekly.resets_at) == ("weekly", 33.3, datetime(2026, 7, 20, tzinfo=UTC))


def test_a_broken_limit_is_a_warning_and_the_others_stay() -> None:
    usage = parse(limits({"type": "weekly", "percentUsed": None}, "junk", {"type": "five_hour", "percentUsed": 5}))
    assert [w.id for w in usage.windows] == ["session"]
    assert [w.kind for w in usage.warnings] == ["parse", "parse"]
    assert "data.limits[0].percentUsed" in usage.warnings[0].message


def test_over_the_limit_stays_above_100_and_negative_is_floored() -> None:
    usage = parse(limits({"type": "five_hour", "percentUsed": 130}, {"type": "weekly", "percentUsed": -3}))
    assert [w.used_pct for w in usage.windows] == [130, 0]


def test_two_unknown_limits_of_one_type_keep_distinct_ids() -> None:
    usage = parse(limits({"type": "burst pool", "percentUsed": 1}, {"type": "burst-pool", "percentUsed": 2}))
    assert [w.id for w in usage.windows] == ["limit_burst_pool", "limit_burst_pool_2"]


def test_no_limits_at_all_is_an_empty_usage_the_engine_refuses() -> None:
    assert parse(limits()) == Usage()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "$"),
        ({"success": True}, "data"),
        ({"success": True, "data": {"limits": None}}, "data.limits"),
        ({"success": True, "data": []}, "data"),
    ],
)
def test_unknown_shapes_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


@pytest.mark.parametrize("error", ["Plan not found", {"message": "Plan not found"}, None])
def test_success_false_is_an_upstream_error(error: Any) -> None:
    with pytest.raises(UpstreamError, match="usage-limits request failed"):
        parse({"success": False, "error": error})


def test_declarations() -> None:
    assert {s.name: s.env for s in PROVIDER.settings} == {
        "api_key": ("CLINE_API_KEY", "CLINEPASS_API_KEY"),
        "url": ("CLINEPASS_API_URL",),
    }
    assert PROVIDER.urls == {"url": "https://api.cline.bot"}


# -- through the simulator ----------------------------------------------------------------------------
def requests_to(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == PREFIX + "api/v1/users/me/plan/usage-limits"]


async def test_fetch_sends_the_key_as_bearer(sim: Any) -> None:
    usage = await fetch_usage("clinepass", sim_settings("clinepass", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly", "monthly", "limit_experimental_pool"]
    assert all(0 <= w.used_pct <= 100 for w in usage.windows)
    request = requests_to(sim)[-1]
    assert request["method"] == "GET"
    assert request["headers"]["authorization"] == f"Bearer {KEY}"


async def test_a_pasted_bearer_header_and_quotes_are_accepted(sim: Any) -> None:
    await fetch_usage("clinepass", sim_settings("clinepass", sim.url, api_key=f"'Bearer {KEY}'"))
    assert requests_to(sim)[-1]["headers"]["authorization"] == f"Bearer {KEY}"


async def test_a_window_not_started_has_no_reset(sim: Any) -> None:
    usage = await fetch_usage("clinepass", sim_settings("clinepass", sim.url, api_key=f"{KEY}#team"))
    monthly = next(w for w in usage.windows if w.id == "monthly")
    assert (monthly.used_pct, monthly.resets_at) == (0, None)


@pytest.mark.parametrize("variable", ["CLINE_API_KEY", "CLINEPASS_API_KEY"])
async def test_cline_variables_are_honoured(sim: Any, variable: str) -> None:
    env = {variable: KEY, "CLINEPASS_API_URL": f"{sim.url}/clinepass/url"}
    usage = await fetch_usage("clinepass", {}, env=env)
    assert usage.windows


def test_agentgauge_variable_wins_over_cline_api_key(tmp_path: Path) -> None:
    empty = tmp_path / "config.toml"
    empty.write_text("", encoding="utf-8")
    config = load(empty, env={"CLINE_API_KEY": "ecosystem", "AGENTGAUGE_CLINEPASS_API_KEY": "own"}, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "clinepass")
    (creds,) = auth.resolve(PROVIDER, account, config)
    assert creds.get("api_key") == "own"


async def test_wrong_key_is_an_auth_error_with_the_hint_and_no_key(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("clinepass", sim_settings("clinepass", sim.url, api_key="wrong-key"))
    assert info.value.status_code == 401
    assert "CLINE_API_KEY" in info.value.hint
    assert "wrong-key" not in str(info.value)


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "90"}, body="{}")
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("clinepass", sim_settings("clinepass", sim.url))
    assert info.value.retry_after == pytest.approx(90, abs=1)


async def test_500_and_an_error_envelope_are_upstream(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=503, body="down", remaining=1)
    with pytest.raises(UpstreamError):
        await fetch_usage("clinepass", sim_settings("clinepass", sim.url))
    add_fault(sim, PREFIX, "body", body='{"success": false, "error": "maintenance"}')
    with pytest.raises(UpstreamError, match="maintenance"):
        await fetch_usage("clinepass", sim_settings("clinepass", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("clinepass", sim_settings("clinepass", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("clinepass", sim_settings("clinepass", sim.url))
    assert len(usage.windows) == 4 and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("clinepass", sim_settings("clinepass", sim.url), timeout=0.5)
