"""Kilo: the tRPC batch samples parsed exactly, per-procedure errors inside HTTP 200, micro-USD credit
blocks as balances with expiry, the Kilo Pass window, organizations, the API key / Kilo CLI login
sources with the `source` mode, and every HTTP failure through the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.engine import Engine
from agentgauge.errors import (
    AgentGaugeError,
    AuthError,
    ChallengeError,
    ConfigError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Status, Usage, Window
from agentgauge.providers.kilo import PROVIDER, mode_of, trpc_url
from agentgauge.providers.kilo import parsing as kp
from agentgauge.store import open_store
from tests.harness import account_config, add_challenge, add_fault, fetch_usage, fixture_json, load, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = "sim-kilo-api-key"
CLI_TOKEN = "sim-kilo-cli-token"
PREFIX = "/kilo/url/"
ACME = "5b0f5c8e-2f4a-4b59-9a53-2b1c7e0d9a41"


def parse(batch: Any) -> Usage:
    return PROVIDER.parse({"batch": batch}, NOW)


def ok(value: Any) -> dict[str, Any]:
    return {"result": {"data": {"json": value}}}


def err(code: str, message: str = "nope") -> dict[str, Any]:
    return {"error": {"json": {"message": message, "data": {"code": code, "httpStatus": 500}}}}


def batch_requests(since: Mark) -> list[dict[str, Any]]:
    return since.requests("/kilo/url/api/trpc/")


def keyless(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("kilo", sim.url, **overrides)
    settings.pop("api_key")
    settings.pop("cli_token")
    return settings


def write_auth(home: Path, entry: dict[str, Any] | None, *, raw: str | None = None) -> Path:
    path = home / ".local" / "share" / "kilo" / "auth.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(raw if raw is not None else json.dumps({"openai": {"type": "api", "key": "x"}, "kilo": entry}))
    return path


def assert_no_secret(exc: AgentGaugeError) -> None:
    for secret in (KEY, CLI_TOKEN):
        assert secret not in exc.message and secret not in exc.hint


def assert_sim_usage(usage: Usage) -> None:
    (window,) = usage.windows
    assert (window.id, window.unit, window.limit) == ("monthly", "usd", 73.5)
    assert window.used is not None and 0 <= window.used <= 73.5 and window.resets_at is not None
    total, paid, free = usage.balances
    assert (total.id, total.unit, total.limit) == ("credits", "usd", 25.0)
    assert total.remaining is not None and total.used is not None
    assert total.remaining + total.used == pytest.approx(25.0)
    assert (paid.limit, paid.expires_at, free.limit) == (20.0, None, 5.0)
    assert free.expires_at is not None and free.label.startswith("Free credits from ")
    assert usage.plan == "Kilo Pass Pro"


# -- samples ------------------------------------------------------------------------------------
def test_credit_blocks_sample_micro_usd_and_pass() -> None:
    usage = parse(fixture_json("kilo", "trpc-credit-blocks.json"))
    assert usage == Usage(
        windows=(
            Window(
                id="monthly",
                label="Kilo Pass (monthly)",
                used_pct=0.0,
                resets_at=datetime(2026, 3, 28, 4, 0, tzinfo=UTC),
                used=0.0,
                limit=28.5,
                unit="usd",
            ),
        ),
        balances=(Balance(id="credits", label="Credits", unit="usd", remaining=19.0, used=0.0, limit=19.0),),
        plan="Kilo Pass Starter",
    )


def test_batch_usage_sample_generic_blocks_and_plan_name() -> None:
    assert parse(fixture_json("kilo", "trpc-batch-usage.json")) == Usage(
        balances=(Balance(id="credits", label="Credits", unit="credits", remaining=75, used=25, limit=100),),
        plan="Kilo Pass Pro",
    )


def test_unauthorized_sample_is_an_auth_error_inside_http_200() -> None:
    with pytest.raises(AuthError) as info:
        parse(fixture_json("kilo", "trpc-unauthorized.json"))
    assert info.value.status_code == 401
    assert "UNAUTHORIZED" in info.value.message


def test_organizations_sample() -> None:
    assert kp.organizations(fixture_json("kilo", "trpc-organizations.json")) == [
        {"id": "org_1", "name": "Alpha"},
        {"id": "org_2", "name": "Beta"},
    ]


def test_organizations_answer_is_not_a_usage_answer() -> None:
    with pytest.raises(ParseError) as info:
        parse(fixture_json("kilo", "trpc-organizations.json"))
    assert info.value.field == "user.getCreditBlocks.creditBlocks"


# -- variations ---------------------------------------------------------------------------------------
def test_several_blocks_numbers_as_strings_and_expiry_spellings() -> None:
    blocks = {
        "creditBlocks": [
            {"id": "a", "amount_mUsd": "10000000", "balance_mUsd": "2500000", "expiry_date": 1775000000000},
            {
                "id": "b",
                "amount_mUsd": 5000000,
                "balance_mUsd": 5000000,
                "is_free": True,
                "effective_date": "2026-02-01T00:00:00.000Z",
                "expiry_date": "1775000000",
                "extra": {"x": 1},
            },
        ],
        "totalBalance_mUsd": "7500000",
        "new_field": True,
    }
    usage = parse([ok(blocks), ok({"subscription": None}), ok({"enabled": True})])
    expiry = datetime.fromtimestamp(1775000000, UTC)
    assert usage == Usage(
        balances=(
            Balance(id="credits", label="Credits", unit="usd", remaining=7.5, used=7.5, limit=15.0),
            Balance(
                id="credits_a", label="Credits", unit="usd", remaining=2.5, used=7.5, limit=10.0, expires_at=expiry
            ),
            Balance(
                id="credits_b",
                label="Free credits from 2026-02-01",
                unit="usd",
                remaining=5.0,
                used=0.0,
                limit=5.0,
                expires_at=expiry,
            ),
        ),
        plan=None,
    )


def test_empty_blocks_with_zero_total_is_an_empty_balance() -> None:
    usage = parse([ok({"creditBlocks": [], "totalBalance_mUsd": 0}), ok({"subscription": None}), ok({})])
    assert usage.balances == (Balance(id="credits", label="Credits", unit="usd", remaining=0.0),)


def test_total_only_answer() -> None:
    usage = parse([ok({"totalBalance_mUsd": 1234567}), ok(None), ok(None)])
    assert usage.balances == (Balance(id="credits", label="Credits", unit="usd", remaining=1.234567),)
    assert usage.windows == () and usage.plan is None


def test_indexed_object_batch_and_data_without_json_wrapper() -> None:
    batch = {
        "0": {"result": {"data": {"creditBlocks": [{"id": "x", "amount_mUsd": 1e6, "balance_mUsd": 5e5}]}}},
        "1": {"result": {"json": {"subscription": {"tier": "tier_199", "currentPeriodBaseCreditsUsd": "199"}}}},
    }
    usage = parse(batch)
    assert usage.balances[0].remaining == 0.5
    assert usage.plan == "Kilo Pass Expert"
    (window,) = usage.windows
    assert (window.used_pct, window.used, window.limit, window.resets_at) == (0.0, 0.0, 199.0, None)


def test_pass_usage_percent_and_reset_spelled_otherwise() -> None:
    state = {
        "subscription": {
            "tier": "tier_new",
            "currentPeriodUsageUsd": 30,
            "currentPeriodBaseCreditsUsd": 40,
            "currentPeriodBonusCreditsUsd": None,
            "nextRenewalAt": 1775000000,
        }
    }
    usage = parse([ok({"creditBlocks": []}), ok(state), ok({})])
    (window,) = usage.windows
    assert (window.used_pct, window.limit, window.resets_at) == (75.0, 40.0, datetime.fromtimestamp(1775000000, UTC))
    assert usage.plan == "Kilo Pass tier_new"


def test_pass_with_nothing_this_period_is_left_out() -> None:
    state = {"subscription": {"tier": "tier_19", "currentPeriodBaseCreditsUsd": 0, "currentPeriodUsageUsd": 0}}
    usage = parse([ok({"totalBalance_mUsd": 0}), ok(state), ok({})])
    assert usage.windows == () and usage.plan == "Kilo Pass Starter"


def test_pass_error_is_a_warning_and_credits_still_show() -> None:
    usage = parse([ok({"totalBalance_mUsd": 2_000_000}), err("INTERNAL_SERVER_ERROR", "boom"), ok({})])
    assert usage.balances[0].remaining == 2.0
    (warning,) = usage.warnings
    assert warning.kind == "upstream" and "kiloPass.getState" in warning.message and "boom" in warning.message


def test_optional_top_up_error_is_ignored() -> None:
    usage = parse([ok({"totalBalance_mUsd": 0}), ok({"subscription": None}), err("NOT_FOUND")])
    assert usage.warnings == ()


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("NOT_FOUND", UpstreamError),
        ("INTERNAL_SERVER_ERROR", UpstreamError),
        ("TOO_MANY_REQUESTS", RateLimitedError),
        ("FORBIDDEN", AuthError),
        ("UNAUTHORIZED", AuthError),
    ],
)
def test_credit_blocks_errors_are_typed(code: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        parse([err(code, "kilo says no"), ok({"subscription": None}), ok({})])
    assert type(info.value) is error and "kilo says no" in str(info.value)


def test_auth_error_in_any_procedure_wins() -> None:
    with pytest.raises(AuthError):
        parse([ok({"totalBalance_mUsd": 0}), err("UNAUTHORIZED"), ok({})])


@pytest.mark.parametrize("batch", ["text", 3, None, {"unexpected": 1}])
def test_unknown_batch_shape_names_the_field(batch: Any) -> None:
    with pytest.raises(ParseError) as info:
        parse(batch)
    assert info.value.field == "$"


def test_credit_blocks_null_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse([ok(None), ok({"subscription": None}), ok({})])
    assert info.value.field == "user.getCreditBlocks.creditBlocks"


def test_a_broken_block_number_names_the_field() -> None:
    with pytest.raises(ParseError) as info:
        parse([ok({"creditBlocks": [{"id": "a", "balance_mUsd": "lots"}]}), ok({"subscription": None}), ok({})])
    assert info.value.field == "user.getCreditBlocks.creditBlocks[0].balance_mUsd"


def test_batch_url_and_modes() -> None:
    url = trpc_url("https://app.kilo.ai", kp.PROCEDURES)
    path, query = url.split("?")
    assert path == (
        "https://app.kilo.ai/api/trpc/user.getCreditBlocks,kiloPass.getState,user.getAutoTopUpPaymentMethod"
    )
    params = parse_qs(query)
    assert params["batch"] == ["1"]
    assert json.loads(params["input"][0]) == {"0": {"json": None}, "1": {"json": None}, "2": {"json": None}}
    assert [mode_of({"source": s}) for s in ("AUTO", " api ", "cli")] == ["auto", "api", "cli"]
    assert mode_of({}) == "auto"
    with pytest.raises(ProviderConfigError, match="web"):
        mode_of({"source": "web"})


def test_declarations() -> None:
    assert {s.name: s.env_var("kilo") for s in PROVIDER.settings} == {
        "api_key": "AGENTGAUGE_KILO_API_KEY",
        "cli_token": "AGENTGAUGE_KILO_CLI_TOKEN",
        "url": "AGENTGAUGE_KILO_URL",
        "source": "AGENTGAUGE_KILO_SOURCE",
        "organization": "AGENTGAUGE_KILO_ORGANIZATION",
    }
    assert [(a.id, a.source) for a in PROVIDER.auth] == [("api_key", "api_key"), ("cli", "cli")]
    assert PROVIDER.urls == {"url": "https://app.kilo.ai"}


# -- fetch through the simulator ------------------------------------------------------------------
async def test_fetch_sends_one_batch_request(sim: Any) -> None:
    since = Mark(sim)
    assert_sim_usage(await fetch_usage("kilo", sim_settings("kilo", sim.url)))
    (request,) = batch_requests(since)
    assert request["method"] == "GET"
    assert request["path"] == (
        "/kilo/url/api/trpc/user.getCreditBlocks,kiloPass.getState,user.getAutoTopUpPaymentMethod"
    )
    params = parse_qs(request["query"])
    assert params["batch"] == ["1"] and len(json.loads(params["input"][0])) == 3
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    assert request["headers"]["accept"] == "application/json"
    assert "x-kilocode-organizationid" not in request["headers"]


async def test_organization_by_id_is_sent_as_is(sim: Any) -> None:
    since = Mark(sim)
    assert_sim_usage(await fetch_usage("kilo", sim_settings("kilo", sim.url, organization=ACME)))
    (request,) = batch_requests(since)
    assert request["headers"]["x-kilocode-organizationid"] == ACME


async def test_organization_by_name_is_looked_up(sim: Any) -> None:
    since = Mark(sim)
    assert_sim_usage(await fetch_usage("kilo", sim_settings("kilo", sim.url, organization="acme")))
    lookup, usage = batch_requests(since)
    assert lookup["path"].endswith("/api/trpc/user.getOrganizations")
    assert "x-kilocode-organizationid" not in lookup["headers"]
    assert usage["headers"]["x-kilocode-organizationid"] == ACME


async def test_unknown_organization_lists_the_known_ones(sim: Any) -> None:
    with pytest.raises(ProviderConfigError) as info:
        await fetch_usage("kilo", sim_settings("kilo", sim.url, organization="Gamma"))
    assert "Acme" in info.value.message and "Beta Labs" in info.value.message


async def test_organization_not_joined_is_an_auth_error(sim: Any) -> None:
    other = "11111111-2222-4333-8444-555555555555"
    with pytest.raises(AuthError) as info:
        await fetch_usage("kilo", sim_settings("kilo", sim.url, organization=other))
    assert info.value.status_code == 403


async def test_wrong_key_is_an_auth_error_from_inside_http_200(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("kilo", sim_settings("kilo", sim.url, api_key="wrong-key"))
    assert "UNAUTHORIZED" in info.value.message
    assert "wrong-key" not in info.value.message


async def test_discovers_kilo_api_key_from_environment(sim: Any, tmp_path: Path) -> None:
    assert_sim_usage(await fetch_usage("kilo", keyless(sim), env={"KILO_API_KEY": KEY}, home=tmp_path))
    config = account_config("kilo", keyless(sim), env={"KILO_API_KEY": KEY}, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.auth.id, creds.origin, creds.source) == ("api_key", "environment variable KILO_API_KEY", "api_key")


async def test_cli_login_file_is_read_and_never_written(sim: Any, tmp_path: Path) -> None:
    path = write_auth(tmp_path, {"type": "oauth", "access": CLI_TOKEN, "refresh": "r", "expires": 4102444800000})
    before = path.read_bytes()
    since = Mark(sim)
    assert_sim_usage(await fetch_usage("kilo", keyless(sim), home=tmp_path))
    assert batch_requests(since)[0]["headers"]["authorization"] == f"Bearer {CLI_TOKEN}"
    assert path.read_bytes() == before
    config = account_config("kilo", keyless(sim), home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.auth.id, creds.source, creds.origin) == ("cli", "cli", str(path))
    assert creds.details["expires_at"] == "4102444800"


async def test_cli_login_honours_xdg_data_home_and_its_organization(sim: Any, tmp_path: Path) -> None:
    data = tmp_path / "xdg"
    path = data / "kilo" / "auth.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"kilo": {"type": "oauth", "access": CLI_TOKEN, "accountId": ACME}}))
    since = Mark(sim)
    assert_sim_usage(await fetch_usage("kilo", keyless(sim), env={"XDG_DATA_HOME": str(data)}, home=tmp_path))
    assert batch_requests(since)[0]["headers"]["x-kilocode-organizationid"] == ACME


async def test_kilo_auth_content_wins_over_the_file(sim: Any, tmp_path: Path) -> None:
    write_auth(tmp_path, {"type": "oauth", "access": "stale-file-token"})
    env = {"KILO_AUTH_CONTENT": json.dumps({"kilo": {"type": "api", "key": CLI_TOKEN}})}
    assert_sim_usage(await fetch_usage("kilo", keyless(sim), env=env, home=tmp_path))
    config = account_config("kilo", keyless(sim), env=env, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert creds.origin == "environment variable KILO_AUTH_CONTENT"


def test_logged_out_or_unrelated_file_finds_nothing(tmp_path: Path) -> None:
    write_auth(tmp_path, None)
    config = account_config("kilo", {}, home=tmp_path)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []


def test_malformed_cli_file_is_a_config_error(tmp_path: Path) -> None:
    write_auth(tmp_path, None, raw="{not json")
    config = account_config("kilo", {}, home=tmp_path)
    with pytest.raises(ConfigError, match="not valid JSON"):
        auth.resolve(PROVIDER, config.accounts[0], config)


async def test_expired_cli_login_is_an_auth_error_without_a_request(sim: Any, tmp_path: Path) -> None:
    expired = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)
    write_auth(tmp_path, {"type": "oauth", "access": CLI_TOKEN, "expires": expired})
    since = Mark(sim)
    with pytest.raises(AuthError) as info:
        await fetch_usage("kilo", keyless(sim), home=tmp_path)
    assert "kilo auth login" in info.value.hint
    assert batch_requests(since) == []


def test_source_mode_gates_discovery(tmp_path: Path) -> None:
    write_auth(tmp_path, {"type": "oauth", "access": CLI_TOKEN})
    env = {"KILO_API_KEY": KEY}
    found = {}
    for mode in ("auto", "api", "cli"):
        config = account_config("kilo", {"source": mode}, env=env, home=tmp_path)
        found[mode] = [c.auth.id for c in auth.resolve(PROVIDER, config.accounts[0], config)]
    assert found == {"auto": ["api_key", "cli"], "api": ["api_key"], "cli": ["cli"]}


async def test_cli_mode_with_an_explicit_api_key_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError, match="source is 'cli'"):
        await fetch_usage("kilo", sim_settings("kilo", sim.url, source="cli"))


async def test_unknown_source_mode_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError, match="unknown source"):
        await fetch_usage("kilo", sim_settings("kilo", sim.url, source="web"))


async def test_auto_falls_back_to_the_cli_login_when_the_key_is_refused(sim: Any, tmp_path: Path) -> None:
    """The engine moves to the next source on an auth error found inside the HTTP 200 answer."""
    write_auth(tmp_path, {"type": "oauth", "access": CLI_TOKEN})
    env = {"AGENTGAUGE_KILO_URL": f"{sim.url}/kilo/url", "KILO_API_KEY": "revoked-key"}
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    try:
        async with Engine(load(env=env, home=tmp_path), store) as engine:
            snapshot = await engine.refresh(["kilo"])
    finally:
        store.close()
    (kilo,) = [p for p in snapshot.providers if p.provider == "kilo"]
    assert kilo.status == Status.OK, kilo.error
    assert (kilo.source, kilo.source_label) == ("cli", "Kilo CLI login")
    assert kilo.balances and kilo.windows


# -- failures ----------------------------------------------------------------------------------------
async def test_401_is_an_auth_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=401, body='[{"error":{"json":{"message":"Unauthorized"}}}]')
    with pytest.raises(AuthError) as info:
        await fetch_usage("kilo", sim_settings("kilo", sim.url))
    assert info.value.status_code == 401
    assert_no_secret(info.value)


async def test_cloudflare_challenge(sim: Any) -> None:
    add_challenge(sim, PREFIX)
    with pytest.raises(ChallengeError):
        await fetch_usage("kilo", sim_settings("kilo", sim.url))


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "45"}, body="[]")
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("kilo", sim_settings("kilo", sim.url))
    assert info.value.retry_after == pytest.approx(45, abs=1)


async def test_500_is_upstream(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=500, body="oops")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("kilo", sim_settings("kilo", sim.url))
    assert info.value.status_code == 500
    assert_no_secret(info.value)


async def test_207_multi_status_is_read_per_procedure(sim: Any) -> None:
    body = json.dumps([ok({"totalBalance_mUsd": 3_000_000}), err("INTERNAL_SERVER_ERROR"), ok({})])
    add_fault(sim, PREFIX, "body", status=207, body=body)
    usage = await fetch_usage("kilo", sim_settings("kilo", sim.url))
    assert usage.balances[0].remaining == 3.0 and len(usage.warnings) == 1


async def test_truncated_json_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "truncate")
    with pytest.raises(ParseError, match="malformed or truncated"):
        await fetch_usage("kilo", sim_settings("kilo", sim.url))


async def test_html_instead_of_json_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "html")
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("kilo", sim_settings("kilo", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    assert_sim_usage(await fetch_usage("kilo", sim_settings("kilo", sim.url)))


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError) as info:
        await fetch_usage("kilo", sim_settings("kilo", sim.url), timeout=0.5)
    assert_no_secret(info.value)


async def test_usage_moves_with_the_simulator_clock(sim: Any) -> None:
    import httpx

    first = await fetch_usage("kilo", sim_settings("kilo", sim.url))
    httpx.post(f"{sim.url}/__sim/advance", json={"seconds": 5 * 86400}).raise_for_status()
    try:
        second = await fetch_usage("kilo", sim_settings("kilo", sim.url))
    finally:
        httpx.post(f"{sim.url}/__sim/advance", json={"seconds": -5 * 86400}).raise_for_status()
    assert first.windows[0].used != second.windows[0].used


async def test_refused_key_gets_the_api_key_hint_from_the_engine(sim: Any, tmp_path: Path) -> None:
    env = {"AGENTGAUGE_KILO_URL": f"{sim.url}/kilo/url", "AGENTGAUGE_KILO_API_KEY": "revoked-key"}
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    try:
        async with Engine(load(env=env, home=tmp_path), store) as engine:
            snapshot = await engine.refresh(["kilo"])
    finally:
        store.close()
    (kilo,) = [p for p in snapshot.providers if p.provider == "kilo"]
    assert kilo.status == Status.ERROR and kilo.error is not None
    assert kilo.error.kind == "auth" and "UNAUTHORIZED" in kilo.error.message
    assert "KILO_API_KEY" in kilo.error.hint and "revoked-key" not in kilo.error.message + kilo.error.hint
