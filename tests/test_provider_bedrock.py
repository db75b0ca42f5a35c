"""AWS Bedrock: quota names read by pattern and joined to CloudWatch's model ids through the foundation
model list, applied quotas over defaults, the busiest recent minute and today's tokens as windows, and
the whole round trip against a simulator that verifies every SigV4 signature (a wrong secret or a
changed body is refused), the credential chain from ~/.aws files, discovery only when Bedrock is in
use, the endpoint variables, and AWS error answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, ProviderConfigError, RateLimitedError, UpstreamError
from agentgauge.models import Breakdown, BreakdownItem, ErrorKind, Usage, Window
from agentgauge.providers.bedrock import PROVIDER
from agentgauge.providers.bedrock.parsing import NOTE, Quota, quota_of
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)
KEY_ID = "AKIASIMBEDROCK000001"
SECRET = "sim/bedrock/secret+access+key0000000000"
SONNET = "anthropic.claude-3-5-sonnet-20241022-v2:0"
SONNET_SLUG = "anthropic_claude_3_5_sonnet_20241022_v2_0"


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse(raw, NOW)


def settings(sim: Any, **overrides: str) -> dict[str, str]:
    return sim_settings("bedrock", sim.url, **({"region": "us-east-1"} | overrides))


def bedrock_requests(since: Mark) -> list[dict[str, Any]]:
    return since.requests("/bedrock/")


# -- quota names ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "On-demand model inference tokens per minute for Anthropic Claude 3.5 Sonnet V2",
            ("on-demand", "tokens", 60, "anthropic claude 3.5 sonnet v2"),
        ),
        (
            "Cross-region model inference requests per minute for Meta Llama 3.1 70B Instruct",
            ("cross-region", "requests", 60, "meta llama 3.1 70b instruct"),
        ),
        (
            "Global cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5",
            ("global", "tokens", 60, "anthropic claude sonnet 4.5"),
        ),
        (
            "Model invocation max tokens per day for Amazon Nova Pro (doubled for cross-region calls)",
            ("daily", "tokens", 86400, "amazon nova pro"),
        ),
        (
            "On-demand inference requests per minute for Amazon  Nova   Lite",
            ("on-demand", "requests", 60, "amazon nova lite"),
        ),
    ],
)
def test_quota_names_are_read_by_pattern(name: str, expected: tuple[str, str, int, str]) -> None:
    quota = quota_of({"QuotaName": name, "Value": 10}, "q")
    assert quota is not None and (quota.scope, quota.what, quota.seconds, quota.model) == expected


def test_the_stated_period_wins_and_other_quotas_are_skipped() -> None:
    entry = {
        "QuotaName": "On-demand model inference tokens per minute for X",
        "Value": "5",
        "Period": {"PeriodValue": 2, "PeriodUnit": "MINUTE"},
    }
    assert quota_of(entry, "q") == Quota("on-demand", "tokens", 120, "x", 5.0, entry["QuotaName"])
    assert quota_of({"QuotaName": "Batch inference job size (in GB) for X", "Value": 5}, "q") is None
    assert quota_of({"QuotaName": "On-demand model inference tokens per minute for X", "Value": None}, "q") is None


# -- samples ------------------------------------------------------------------------------------
def test_samples_joined_into_windows() -> None:
    usage = parse(
        applied=fixture_json("bedrock", "service-quotas-applied.json"),
        defaults=None,
        models=fixture_json("bedrock", "foundation-models.json"),
        minutes=fixture_json("bedrock", "metric-data-minutes.json"),
        today=fixture_json("bedrock", "metric-data-today.json"),
    )
    assert usage.windows == (
        Window(
            id="tpm_global_anthropic_claude_sonnet_4_5_20250929_v1_0",
            label="anthropic.claude-sonnet-4-5-20250929-v1:0 · global cross-region tokens per minute "
            "(busiest recent minute)",
            used_pct=25.0,  # 600000 + "150000" of 3000000
            window_seconds=60,
            used=750000,
            limit=3000000,
            unit="tokens",
        ),
        Window(
            id=f"tpm_{SONNET_SLUG}",
            label=f"{SONNET} · tokens per minute (busiest recent minute)",
            used_pct=20.0,  # EstimatedTPMQuotaUsage 160000 wins over input + output
            window_seconds=60,
            used=160000,
            limit=800000,
            unit="tokens",
        ),
        Window(
            id=f"rpm_{SONNET_SLUG}",
            label=f"{SONNET} · requests per minute (busiest recent minute)",
            used_pct=20.0,
            window_seconds=60,
            used=50,
            limit=250,
            unit="requests",
        ),
        Window(
            id=f"tpd_{SONNET_SLUG}",
            label=f"{SONNET} · tokens per day (today, UTC)",
            used_pct=1.0,  # 5M + 1M + 1.2M (its us. profile) of 720M
            window_seconds=86400,
            used=7200000,
            limit=720000000,
            unit="tokens",
        ),
        Window(  # its us. profile ran earlier today and not in the last minutes: 0 %, not absent
            id=f"tpm_xr_{SONNET_SLUG}",
            label=f"{SONNET} · cross-region tokens per minute (busiest recent minute)",
            used_pct=0.0,
            window_seconds=60,
            used=0,
            limit=1600000,
            unit="tokens",
        ),
    )
    assert usage.breakdowns == (
        Breakdown(
            id="tokens_today",
            label="Tokens today by model (UTC)",
            unit="tokens",
            items=(
                BreakdownItem(key=SONNET, value=6000000),
                BreakdownItem(key=f"us.{SONNET}", value=1200000),
            ),
        ),
    )
    assert usage.warnings == () and usage.note is None


def test_applied_values_win_over_defaults() -> None:
    name = "On-demand model inference requests per minute for Anthropic Claude 3.5 Sonnet V2"
    defaults = {"Quotas": [{"QuotaCode": "L-1", "QuotaName": name, "Value": 100}]}
    applied = {"Quotas": [{"QuotaCode": "L-1", "QuotaName": name, "Value": 250}]}
    minutes = {"MetricDataResults": [{"Id": "invocations", "Label": SONNET, "Values": [25]}]}
    models = fixture_json("bedrock", "foundation-models.json")
    for first, second, limit in ((applied, defaults, 250), (defaults, None, 100)):
        usage = parse(applied=first, defaults=second, models=models, minutes=minutes)
        assert [(w.id, w.limit) for w in usage.windows] == [(f"rpm_{SONNET_SLUG}", limit)]


def test_a_model_missing_from_the_list_is_a_warning_and_no_use_is_a_note() -> None:
    minutes = {"MetricDataResults": [{"Id": "input", "Label": "cohere.command-r-v1:0", "Values": [5]}]}
    usage = parse(applied={"Quotas": []}, models={"modelSummaries": []}, minutes=minutes)
    assert usage.windows == () and usage.note is None
    assert [w.message for w in usage.warnings] == ["Bedrock: no foundation model is listed for cohere.command-r-v1:0"]
    assert parse(applied={"Quotas": []}, models={"modelSummaries": []}, minutes={"MetricDataResults": []}) == Usage(
        note=NOTE
    )


def test_a_result_without_a_label_is_a_warning() -> None:
    minutes = {"MetricDataResults": [{"Id": "input", "Values": [5]}, {"Id": "input", "Label": SONNET, "Values": [1]}]}
    usage = parse(applied={"Quotas": []}, minutes=minutes)
    assert usage.warnings[0].message == "Bedrock: MetricDataResults[0] has no Id or Label"


# -- through the simulator (real SigV4) ---------------------------------------------------------------
async def test_round_trip_with_verified_signatures(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("bedrock", settings(sim))
    ids = [w.id for w in usage.windows]
    assert set(ids) == {
        f"tpm_{SONNET_SLUG}",
        f"rpm_{SONNET_SLUG}",
        f"tpm_xr_{SONNET_SLUG}",
        f"rpm_xr_{SONNET_SLUG}",
        f"tpd_{SONNET_SLUG}",
        "tpm_amazon_nova_lite_v1_0",
        "rpm_amazon_nova_lite_v1_0",
    }
    nova = next(w for w in usage.windows if w.id == "tpm_amazon_nova_lite_v1_0")
    assert nova.limit == 2000000  # only a default value exists for it
    sent = bedrock_requests(since)
    quotas = [r for r in sent if r["path"] == "/bedrock/service_quotas_url/"]
    targets = [r["headers"]["x-amz-target"] for r in quotas]
    assert targets.count("ServiceQuotasV20190624.ListServiceQuotas") == 2  # 5 applied quotas, 3 per page
    assert targets.count("ServiceQuotasV20190624.ListAWSDefaultServiceQuotas") == 3
    assert json.loads(quotas[0]["body"])["ServiceCode"] == "bedrock"
    assert all(r["headers"]["content-type"] == "application/x-amz-json-1.1" for r in quotas)
    watch = [r for r in sent if r["path"] == "/bedrock/cloudwatch_url/"]
    assert len(watch) == 2 and all(r["headers"]["x-amzn-query-mode"] == "true" for r in watch)
    body = json.loads(watch[0]["body"])
    assert body["MetricDataQueries"][0]["Expression"].startswith("SEARCH('{AWS/Bedrock,ModelId} MetricName=")
    for request, service in ((quotas[0], "servicequotas"), (watch[0], "monitoring")):
        assert f"/us-east-1/{service}/aws4_request" in request["headers"]["authorization"]
        assert request["headers"]["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")


async def test_a_wrong_secret_fails_the_real_signature_check(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("bedrock", settings(sim, secret_access_key="not/the/secret/at/all00000000000000000"))
    assert "InvalidSignatureException" in info.value.message and "not/the/secret" not in info.value.message


async def test_a_changed_body_fails_the_signature_check(sim: Any) -> None:
    from agentgauge.providers.bedrock.aws import AwsKeys, signed_headers

    url = f"{sim.url}/bedrock/service_quotas_url/"
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "ServiceQuotasV20190624.ListServiceQuotas"}
    keys = AwsKeys(KEY_ID, SECRET, None, None)
    signed = signed_headers(keys, "POST", url, b'{"ServiceCode":"bedrock"}', headers, "servicequotas", "us-east-1")
    assert httpx.post(url, content=b'{"ServiceCode":"bedrock"}', headers=signed).status_code == 200
    refused = httpx.post(url, content=b'{"ServiceCode":"bedrocK"}', headers=signed)
    assert refused.status_code == 403 and refused.json()["__type"] == "InvalidSignatureException"


async def test_a_session_token_is_sent_and_signed(sim: Any) -> None:
    since = Mark(sim)
    await fetch_usage("bedrock", settings(sim, session_token="sim-session-token"))
    first = bedrock_requests(since)[0]
    assert first["headers"]["x-amz-security-token"] == "sim-session-token"
    assert "x-amz-security-token" in first["headers"]["authorization"]


async def test_without_the_model_list_the_use_is_still_shown(sim: Any) -> None:
    usage = await fetch_usage("bedrock", settings(sim, access_key_id=f"{KEY_ID}#noperms"))
    assert usage.windows == () and usage.breakdowns[0].id == "tokens_today"
    assert [w.kind for w in usage.warnings] == [ErrorKind.AUTH]
    assert "AccessDeniedException" in usage.warnings[0].message


async def test_a_profile_from_the_shared_files(sim: Any) -> None:
    home = Path.home()  # the test's own HOME (conftest)
    (home / ".aws").mkdir(exist_ok=True)
    (home / ".aws" / "credentials").write_text(
        f"[work]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n", encoding="utf-8"
    )
    (home / ".aws" / "config").write_text("[profile work]\nregion = us-east-1\n", encoding="utf-8")
    found = sim_settings("bedrock", sim.url, profile="work")
    for name in ("access_key_id", "secret_access_key"):
        found.pop(name)
    usage = await fetch_usage("bedrock", found)  # the region comes from the profile
    assert any(w.id == f"tpm_{SONNET_SLUG}" for w in usage.windows)
    with pytest.raises(ProviderConfigError):
        await fetch_usage("bedrock", found | {"profile": "absent"})


def test_discovery_needs_a_sign_of_bedrock(tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
    config = account_config("bedrock", {}, env=env, home=tmp_path)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []  # plain AWS users: not configured
    config = account_config("bedrock", {}, env=env | {"CLAUDE_CODE_USE_BEDROCK": "1"}, home=tmp_path)
    (found,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert found.auth.id == "keys" and found.get("secret_access_key") == SECRET
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[profile dev]\nregion = eu-west-1\n", encoding="utf-8")
    config = account_config("bedrock", {}, env={"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_PROFILE": "dev"}, home=tmp_path)
    (found,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert found.auth.id == "profile" and found.get("profile") == "dev"
    assert found.details["config_file"] == str(tmp_path / ".aws" / "config")


async def test_the_endpoint_variables_are_honoured(sim: Any) -> None:
    env = {
        "AWS_ENDPOINT_URL_SERVICE_QUOTAS": f"{sim.url}/bedrock/service_quotas_url",
        "AWS_ENDPOINT_URL_CLOUDWATCH": f"{sim.url}/bedrock/cloudwatch_url",
        "AWS_ENDPOINT_URL": f"{sim.url}/bedrock/bedrock_url",
        "AWS_REGION": "us-east-1",
    }
    usage = await fetch_usage("bedrock", {"access_key_id": KEY_ID, "secret_access_key": SECRET}, env=env)
    assert len(usage.windows) == 7


async def test_no_region_is_a_config_error(sim: Any) -> None:
    found = sim_settings("bedrock", sim.url)
    with pytest.raises(ProviderConfigError) as info:
        await fetch_usage("bedrock", found)
    assert "AWS_REGION" in info.value.hint


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (
            {"kind": "status", "status": 400, "body": '{"__type": "ThrottlingException", "message": "Rate exceeded"}'},
            RateLimitedError,
        ),
        ({"kind": "status", "status": 400, "body": '{"__type": "com.amazonaws#ExpiredTokenException"}'}, AuthError),
        ({"kind": "status", "status": 500, "body": '{"__type": "ServiceException"}'}, UpstreamError),
    ],
)
async def test_aws_error_answers(sim: Any, spec: dict[str, Any], error: type[Exception]) -> None:
    add_fault(sim, "/bedrock/service_quotas_url/", **spec)
    with pytest.raises(error) as info:
        await fetch_usage("bedrock", settings(sim))
    assert SECRET not in str(info.value)
