"""Azure OpenAI: ARM answers and rate-limit headers parsed exactly (allocation is not use, configured
limits scaled to a minute, the busiest measured minute against them, -1 as unknown), the requests sent
(Entra client credentials, Bearer and api-version on every ARM call, nextLink paging, the metrics
query, the data plane's api-key), the three Entra sources (service principal, a token, the Azure CLI
run as a real fake process) and failures through the simulator."""

from __future__ import annotations

import json
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, FetchTimeoutError, ProviderConfigError, RateLimitedError, UpstreamError
from agentgauge.models import Breakdown, BreakdownItem, ErrorKind, Usage, Window
from agentgauge.providers.azureopenai import PROVIDER
from agentgauge.providers.azureopenai.parsing import NOTE
from agentgauge.providers.azureopenai.sim import SUBSCRIPTION, demo_settings
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 5, 6, 10, 5, tzinfo=UTC)
SECRET = "sim-azure-client-secret"
API_KEY = "sim-azure-openai-api-key"


def parse(raw: dict[str, Any]) -> Usage:
    return PROVIDER.parse(raw, NOW)


def sample(key: str, name: str, **extra: Any) -> Usage:
    spec = next(s for s in PROVIDER.samples if s.key == key)
    return parse(spec.raw(fixture_json("azureopenai", name)) | extra)


def settings(sim: Any, *, source: str = "service_principal", **overrides: str) -> dict[str, str]:
    found = sim_settings("azureopenai", sim.url, **({"subscription": SUBSCRIPTION} | overrides))
    keep = {
        "service_principal": ("client_secret", "client_id", "tenant_id", "api_key"),
        "access_token": ("access_token", "api_key"),
        "api_key": ("api_key",),
        "none": (),
    }[source]
    for name in ("client_secret", "client_id", "tenant_id", "access_token", "api_key"):
        if name not in keep and name not in overrides:
            found.pop(name)
    return found


# -- samples ------------------------------------------------------------------------------------
def test_the_spec_usages_example_has_no_openai_quota() -> None:
    assert sample("usages_sample", "usages-spec-example.json") == Usage(note=NOTE)


def test_openai_quota_lines_assigned_to_deployments_are_a_breakdown() -> None:
    usage = sample("usages_sample", "usages-openai-eastus.json")
    assert usage.windows == ()  # allocation, not use: never a window
    assert usage.breakdowns == (
        Breakdown(
            id="quota_sample",
            label="Quota assigned to deployments · sample (thousands of tokens per minute)",
            items=(
                BreakdownItem(
                    key="OpenAI.GlobalStandard.gpt-4o",
                    label="Tokens Per Minute (thousands) - gpt-4o - GlobalStandard",
                    value=50,
                    limit=450,
                ),
                BreakdownItem(
                    key="OpenAI.GlobalStandard.gpt-realtime-mini",
                    label="Tokens Per Minute (thousands) - gpt-realtime-mini - GlobalStandard",
                    value=100,
                    limit=100,
                ),
            ),
        ),
    )


def test_deployments_without_rate_limits_give_no_limits() -> None:
    assert sample("deployments_sample", "deployments-spec-example.json") == Usage(note=NOTE)


def test_rate_limits_are_scaled_to_a_minute() -> None:
    usage = sample("deployments_sample", "deployments-with-rate-limits.json")
    assert usage.breakdowns == (
        Breakdown(
            id="deployments_tokens_per_minute",
            label="Deployment limits: tokens per minute",
            unit="tokens",
            items=(BreakdownItem(key="gpt-4o", value=80000), BreakdownItem(key="embeddings", value=120000)),
        ),
        Breakdown(
            id="deployments_requests_per_minute",
            label="Deployment limits: requests per minute",
            unit="requests",
            items=(BreakdownItem(key="gpt-4o", value=480), BreakdownItem(key="embeddings", value=720)),
        ),
    )
    assert usage.note == NOTE


def test_the_busiest_measured_minute_against_the_deployments_limits() -> None:
    usage = sample("metrics_sample", "metrics-per-deployment.json")
    # 10:01: 30000 prompt + 10000 generated tokens; 10:00: 75 requests. Limits: 50000 / 60 s, 50 / 10 s.
    assert usage.windows == (
        Window(
            id="tpm_gpt_4o",
            label="gpt-4o · tokens per minute (busiest recent minute)",
            used_pct=80.0,
            window_seconds=60,
            used=40000,
            limit=50000,
            unit="tokens",
        ),
        Window(
            id="rpm_gpt_4o",
            label="gpt-4o · requests per minute (busiest recent minute)",
            used_pct=25.0,
            window_seconds=60,
            used=75,
            limit=300,
            unit="requests",
        ),
    )
    assert usage.note is None


def test_probe_headers_are_plain_numbers_and_minus_one_is_unknown() -> None:
    usage = sample("probe", "probe-headers-docs-example.json")
    requests, tokens = usage.windows
    assert (requests.used, requests.limit, requests.resets_at) == (1, 60, NOW + timedelta(seconds=10))
    assert (tokens.used, tokens.limit, tokens.resets_at) == (16, 150000, NOW + timedelta(seconds=300))
    unknown = sample("probe", "probe-headers-responses-unknown.json", deployment="gpt-4o")
    assert [(w.id, w.label) for w in unknown.windows] == [("rate_requests", "Requests (rate limit)")]


def test_a_drifted_deployment_or_quota_line_is_a_warning() -> None:
    raw = {
        "accounts": [{"name": "a", "deployments": {"value": [{"properties": {}}, {"name": "ok"}]}}],
        "usages": {
            "eastus": {
                "value": [{"name": {}, "currentValue": 1}, {"name": {"value": "OpenAI.x"}, "currentValue": "n/a"}]
            }
        },
    }
    usage = parse(raw)
    assert [w.message for w in usage.warnings] == [
        "Azure OpenAI: accounts[0].deployments[0] has no name",
        "Azure OpenAI: usages.eastus.value[0].name.value is missing",
        "field 'usages.eastus.value[1].currentValue' is not a number",
    ]


# -- through the simulator ----------------------------------------------------------------------
async def test_service_principal_round_trip_and_the_requests_it_sends(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("azureopenai", settings(sim))
    assert [w.id for w in usage.windows] == [
        "tpm_sim_openai_east_gpt_4o",
        "rpm_sim_openai_east_gpt_4o",
        "tpm_sim_openai_east_mini",
        "rpm_sim_openai_east_mini",
        "tpm_sim_ai_sweden_gpt_4_1",
        "rpm_sim_ai_sweden_gpt_4_1",
    ]  # the SpeechServices account is left out; no probe without the setting
    assert [b.id for b in usage.breakdowns] == [
        "deployments_tokens_per_minute",
        "deployments_requests_per_minute",
        "quota_eastus",
        "quota_swedencentral",
    ]
    sent = since.requests()
    token = next(r for r in sent if r["path"].endswith("/oauth2/v2.0/token"))
    form = parse_qs(token["body"])
    assert form["grant_type"] == ["client_credentials"] and form["scope"] == ["https://management.azure.com/.default"]
    assert token["path"] == "/azureopenai/login_url/00000000-0000-4000-8000-0000000071e7/oauth2/v2.0/token"
    arm = [r for r in sent if r["path"].startswith("/azureopenai/url/")]
    assert all(r["headers"]["authorization"].startswith("Bearer eyJ") for r in arm)
    assert all("api-version=" in r["query"] for r in arm)
    listed = [r for r in arm if r["path"].endswith("/Microsoft.CognitiveServices/accounts")]
    assert len(listed) == 2  # two resources per page: nextLink followed
    metrics = parse_qs(next(r for r in arm if r["path"].endswith("/metrics"))["query"])
    assert metrics["interval"] == ["PT1M"] and metrics["aggregation"] == ["Total"]
    assert metrics["$filter"] == ["ModelDeploymentName eq '*'"]
    start_text, end_text = metrics["timespan"][0].split("/")
    span = datetime.fromisoformat(end_text.replace("Z", "+00:00")) - datetime.fromisoformat(
        start_text.replace("Z", "+00:00")
    )
    assert span == timedelta(minutes=10)


async def test_one_named_resource_is_read_without_listing(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("azureopenai", settings(sim, resource_group="sim-rg", resource="sim-ai-sweden"))
    assert [w.id for w in usage.windows] == ["tpm_gpt_4_1", "rpm_gpt_4_1"]
    assert not [r for r in since.requests() if r["path"].endswith("/Microsoft.CognitiveServices/accounts")]


async def test_probe_goes_to_the_deployment_with_the_api_key(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage(
        "azureopenai", settings(sim, probe="on", deployment="mini", api_version="2025-04-01-preview")
    )
    (call,) = [r for r in since.requests() if r["path"].endswith("/chat/completions")]
    assert call["path"] == "/azureopenai/endpoint/openai/deployments/mini/chat/completions"
    assert parse_qs(call["query"])["api-version"] == ["2025-04-01-preview"]
    assert call["headers"]["api-key"] == API_KEY and "authorization" not in call["headers"]
    assert json.loads(call["body"])["max_tokens"] == 1
    labels = [w.label for w in usage.windows if w.id.startswith("rate_")]
    assert labels == ["mini · requests (rate limit)", "mini · tokens (rate limit)"]


async def test_the_endpoint_comes_from_arm_when_unset(sim: Any) -> None:
    found = settings(sim, probe="on", deployment="gpt-4o")
    found.pop("endpoint")
    usage = await fetch_usage("azureopenai", found)
    assert [w.id for w in usage.windows][-2:] == ["rate_requests", "rate_tokens"]


async def test_without_monitoring_reader_the_limits_stay_and_a_warning_says_why(sim: Any) -> None:
    usage = await fetch_usage("azureopenai", settings(sim, client_secret=f"{SECRET}#nometrics"))
    assert usage.windows == () and usage.note == NOTE
    assert [w.kind for w in usage.warnings] == [ErrorKind.AUTH] * 2  # one per Azure OpenAI account
    assert "AuthorizationFailed" in usage.warnings[0].message and "Monitoring Reader" in usage.warnings[0].hint
    assert usage.breakdowns


async def test_a_given_access_token(sim: Any) -> None:
    usage = await fetch_usage("azureopenai", settings(sim, source="access_token"))
    assert len(usage.windows) == 6


async def test_a_wrong_client_secret_is_an_auth_error_without_the_secret(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("azureopenai", settings(sim, client_secret="not-the-secret-at-all"))
    assert "invalid_client" in info.value.message and "not-the-secret" not in info.value.message


async def test_no_subscription_is_a_config_error(sim: Any) -> None:
    found = settings(sim)
    found.pop("subscription")
    with pytest.raises(ProviderConfigError) as info:
        await fetch_usage("azureopenai", found)
    assert "AZURE_SUBSCRIPTION_ID" in info.value.hint


async def test_an_unknown_resource_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError) as info:
        await fetch_usage("azureopenai", settings(sim, resource_group="sim-rg", resource="nope"))
    assert "ResourceNotFound" in info.value.message


async def test_api_key_alone_reads_only_the_headers(sim: Any) -> None:
    usage = await fetch_usage("azureopenai", settings(sim, source="api_key", probe="on", deployment="gpt-4o"))
    assert [w.id for w in usage.windows] == ["rate_requests", "rate_tokens"] and usage.breakdowns == ()
    with pytest.raises(ProviderConfigError):
        await fetch_usage("azureopenai", settings(sim, source="api_key", probe="on", endpoint=""))
    with pytest.raises(ProviderConfigError):
        await fetch_usage("azureopenai", settings(sim, source="api_key", probe="off", deployment="gpt-4o"))


@pytest.mark.parametrize(
    ("fragment", "spec", "error"),
    [
        ("/azureopenai/url/", {"kind": "status", "status": 429, "headers": {"retry-after": "17"}}, RateLimitedError),
        ("/azureopenai/url/", {"kind": "status", "status": 503, "body": "{}"}, UpstreamError),
        ("/azureopenai/login_url/", {"kind": "status", "status": 500, "body": "{}"}, UpstreamError),
    ],
)
async def test_failures(sim: Any, fragment: str, spec: dict[str, Any], error: type[Exception]) -> None:
    add_fault(sim, fragment, **spec)
    with pytest.raises(error):
        await fetch_usage("azureopenai", settings(sim))


async def test_an_api_key_is_not_a_bearer_on_the_data_plane(sim: Any) -> None:
    import httpx

    url = f"{sim.url}/azureopenai/endpoint/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    response = httpx.post(url, headers={"Authorization": f"Bearer {API_KEY}"}, json={"messages": []})
    assert response.status_code == 401


# -- the Azure CLI -----------------------------------------------------------------------------
def fake_az(folder: Path, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "az"
    path.write_text(f"#!{sys.executable}\nimport json, sys, time\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def cli_home(tmp_path: Path) -> Path:
    (tmp_path / "home" / ".azure").mkdir(parents=True)
    (tmp_path / "home" / ".azure" / "azureProfile.json").write_text('{"subscriptions": []}', encoding="utf-8")
    return tmp_path / "home"


def test_the_cli_is_used_only_when_logged_in_and_a_resource_is_named(tmp_path: Path) -> None:
    fake_az(tmp_path / "bin", "print('{}')")
    env = {"PATH": str(tmp_path / "bin")}
    home = tmp_path / "nohome"
    config = account_config("azureopenai", {"resource": "r"}, env=env, home=home)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []  # no azureProfile.json: not logged in
    home = cli_home(tmp_path)
    config = account_config("azureopenai", {}, env=env, home=home)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []  # logged in, but no Azure OpenAI named
    config = account_config(
        "azureopenai", {}, env={**env, "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"}, home=home
    )
    (found,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert found.auth.id == "azure_cli" and found.get("az") == str(tmp_path / "bin" / "az")


async def test_the_cli_token_and_its_subscription(sim: Any, tmp_path: Path) -> None:
    output = {
        "accessToken": "sim-azure-arm-token",
        "expiresOn": "2030-01-01 00:00:00.000000",
        "subscription": SUBSCRIPTION,
        "tenant": "t",
        "tokenType": "Bearer",
    }
    az = fake_az(
        tmp_path / "bin",
        f"assert sys.argv[1:4] == ['account', 'get-access-token', '--resource']\nprint(json.dumps({output!r}))",
    )
    found = settings(sim, source="none", az=str(az), resource="sim-openai-east")
    found.pop("subscription")
    usage = await fetch_usage("azureopenai", found)
    assert [w.id for w in usage.windows] == ["tpm_gpt_4o", "rpm_gpt_4o", "tpm_mini", "rpm_mini"]


async def test_a_logged_out_cli_is_an_auth_error(sim: Any, tmp_path: Path) -> None:
    az = fake_az(
        tmp_path / "bin", "print(\"ERROR: Please run 'az login' to setup account.\", file=sys.stderr)\nsys.exit(1)"
    )
    with pytest.raises(AuthError) as info:
        await fetch_usage("azureopenai", settings(sim, source="none", az=str(az), resource="r"))
    assert "az login" in info.value.hint


async def test_a_hanging_cli_times_out(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentgauge.providers.azureopenai.arm.CLI_TIMEOUT", 1.0)
    az = fake_az(tmp_path / "bin", "time.sleep(30)")
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("azureopenai", settings(sim, source="none", az=str(az), resource="r"))


async def test_the_demo_settings_show_windows(sim: Any) -> None:
    usage = await fetch_usage("azureopenai", settings(sim, **demo_settings(sim.url, None)))
    assert any(w.id == "rate_tokens" for w in usage.windows)
