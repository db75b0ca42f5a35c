"""ElevenLabs: the subscription samples parsed exactly (the character quota is a window with its
reset, named by its refresh period; voice slots and overage are balances), the xi-api-key header,
a key without user_read told apart from a bad key, discovery and every failure over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.elevenlabs import PROVIDER, subscription_url
from tests.harness import add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)
KEY = "sim-elevenlabs-key"
PREFIX = "/elevenlabs/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"subscription": payload}, NOW)


def voices(key: str, label: str, used: float | None, limit: float) -> Balance:
    return Balance(
        id=key, label=label, unit="voices", used=used, limit=limit, remaining=limit - used if used is not None else None
    )


# -- samples ------------------------------------------------------------------------------------
def test_codexbar_sample() -> None:
    usage = parse(fixture_json("elevenlabs", "subscription-codexbar.json"))
    assert usage == Usage(
        windows=(
            Window(
                id="characters",
                label="Characters",
                used_pct=25.0,
                resets_at=datetime.fromtimestamp(1738356858, UTC),
                used=25000,
                limit=100000,
                unit="characters",
            ),
        ),
        balances=(
            voices("voice_slots", "Voice slots", 2, 10),
            voices("professional_voices", "Professional voices", 1, 2),
        ),
        plan="Creator",
    )


def test_documented_fields_sample_is_monthly() -> None:
    usage = parse(fixture_json("elevenlabs", "subscription-documented-fields.json"))
    (window,) = usage.windows
    assert (window.id, window.label, window.used, window.limit) == ("monthly", "Characters (monthly)", 412380, 500000)
    assert window.used_pct == pytest.approx(82.476)
    assert window.resets_at == datetime(2026, 8, 23, tzinfo=UTC)
    assert usage.balances == (
        voices("voice_slots", "Voice slots", 31, 160),
        voices("professional_voices", "Professional voices", 0, 1),
    )
    assert usage.plan == "Pro"


def test_annual_past_due_with_overage_and_strings() -> None:
    usage = parse(fixture_json("elevenlabs", "subscription-annual-past-due.json"))
    (window,) = usage.windows
    assert (window.id, window.used_pct, window.resets_at) == ("yearly", 100.0, datetime(2026, 9, 22, tzinfo=UTC))
    assert usage.balances == (
        voices("voice_slots", "Voice slots", 3, 10),
        Balance(id="overage", label="Overage this period", unit="usd", used=1.25),
    )
    assert usage.plan == "Starter · past due"


# -- hand-made variations ------------------------------------------------------------------------
def test_variations() -> None:
    over = parse({"character_count": 120, "character_limit": 100, "next_character_count_reset_unix": "1787443200000"})
    assert over.windows[0].used_pct == 100.0 and over.windows[0].resets_at == datetime(2026, 8, 23, tzinfo=UTC)
    free = parse({"tier": "free", "character_count": 0, "character_limit": 0, "extra": {"x": 1}})
    assert free.windows == () and free.note and free.plan == "Free"
    no_reset = parse({"character_count": 1, "character_limit": 4, "next_character_count_reset_unix": None})
    assert no_reset.windows[0].resets_at is None and no_reset.windows[0].used_pct == 25.0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "$"),
        ({"character_limit": 5}, "character_count"),
        ({"character_count": 1}, "character_limit"),
        ({"character_count": "many", "character_limit": 1}, "character_count"),
    ],
)
def test_shapes_it_does_not_know_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_error_detail_in_a_200_is_upstream() -> None:
    with pytest.raises(UpstreamError, match="quota_exceeded"):
        parse({"detail": "quota_exceeded"})


def test_subscription_url() -> None:
    assert subscription_url("https://api.elevenlabs.io") == "https://api.elevenlabs.io/v1/user/subscription"
    assert subscription_url("https://proxy.example/v1/") == "https://proxy.example/v1/user/subscription"


def test_declarations() -> None:
    assert {s.name: (s.env_var("elevenlabs"), s.env) for s in PROVIDER.settings} == {
        "api_key": ("AGENTGAUGE_ELEVENLABS_API_KEY", ("ELEVENLABS_API_KEY", "XI_API_KEY")),
        "url": ("AGENTGAUGE_ELEVENLABS_URL", ("ELEVENLABS_API_URL",)),
    }


# -- fetch through the simulator -----------------------------------------------------------------
async def test_fetch(sim: Any) -> None:
    usage = await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url))
    (window,) = usage.windows
    assert window.id == "monthly" and window.limit == 100_000 and window.resets_at is not None
    assert window.resets_at > datetime.now(UTC)
    assert [b.id for b in usage.balances] == ["voice_slots", "professional_voices"] and usage.plan == "Creator"
    request = [r for r in sim_requests(sim) if r["path"] == "/elevenlabs/url/v1/user/subscription"][-1]
    assert request["headers"]["xi-api-key"] == KEY and "authorization" not in request["headers"]


async def test_keys_from_the_ecosystem_variables(sim: Any) -> None:
    settings = sim_settings("elevenlabs", sim.url)
    settings.pop("api_key")
    assert (await fetch_usage("elevenlabs", settings, env={"XI_API_KEY": KEY})).windows
    settings.pop("url")
    env = {"ELEVENLABS_API_KEY": KEY, "ELEVENLABS_API_URL": f"{sim.url}/elevenlabs/url/v1"}
    assert (await fetch_usage("elevenlabs", settings, env=env)).windows


async def test_a_bad_key_and_a_key_without_user_read(sim: Any) -> None:
    with pytest.raises(AuthError, match="invalid_api_key") as info:
        await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url, api_key="wrong-key"))
    assert info.value.status_code == 401 and "wrong-key" not in str(info.value)
    with pytest.raises(AuthError, match="User: Read permission"):
        await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url, api_key=f"{KEY}#scoped"))


async def test_403_429_and_500(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=403, body="{}", remaining=1)
    with pytest.raises(AuthError):
        await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url))
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url))
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url))
    assert usage.windows[0].limit == 100_000 and len(usage.balances) == 2


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("elevenlabs", sim_settings("elevenlabs", sim.url), timeout=0.5)
