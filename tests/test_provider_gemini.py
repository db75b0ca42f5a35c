"""Gemini API: Cloud Quotas limits joined with Cloud Monitoring use only where the use can be
attributed (never a guessed number), per-day limits resetting at midnight Pacific, what a key alone
says plainly and what a refused call's QuotaFailure/RetryInfo teaches, over real HTTP against the
simulator (user and service-account ADC, the key in x-goog-api-key), discovery only with a Gemini key,
and Google's error envelopes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, ParseError, ProviderConfigError, RateLimitedError, UpstreamError
from agentgauge.models import Breakdown, BreakdownItem, Usage, Window
from agentgauge.providers._time import last_pacific_midnight
from agentgauge.providers.gemini import PROVIDER, google_error
from agentgauge.providers.gemini.parsing import KEY_ONLY_NOTE, PROBE_OFF
from agentgauge.providers.gemini.sim import LABELLED, PROJECT, service_account_file, user_file
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)  # 05:00 in Los Angeles (daylight time)
PACIFIC_MIDNIGHT = datetime(2026, 8, 3, 7, 0, tzinfo=UTC)
KEY = "AIzaSimGeminiApiKey000000000000000000000"


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse(raw, NOW)


def oauth(sim: Any, tmp_path: Path, **overrides: str) -> dict[str, str]:
    path = user_file(tmp_path / "adc.json")
    return sim_settings("gemini", sim.url, **({"credentials_file": str(path), "project": PROJECT} | overrides))


def key_only(sim: Any, **overrides: str) -> dict[str, str]:
    return sim_settings("gemini", sim.url, **overrides)


# -- samples ------------------------------------------------------------------------------------
def test_limits_and_use_samples_attribute_only_what_they_can() -> None:
    usage = parse(
        quotas=fixture_json("gemini", "quota-infos-generativelanguage.json"),
        minutes=fixture_json("gemini", "time-series-net-usage.json"),
        today={"timeSeries": []},
    )
    # The paid-tier token limit is the only one of its metric: its use (busiest minute 125000) is its own.
    assert usage.windows == (
        Window(
            id="tpm_gemini_2_5_flash",
            label="gemini-2.5-flash · input tokens per minute",
            used_pct=12.5,
            window_seconds=60,
            used=125000,
            limit=1000000,
            unit="tokens",
        ),
    )
    # The free-tier requests have a limit per model, but Monitoring reports them for all models together:
    # 6 + 1 in the busiest minute, shown as use, never as a percent of one model's limit.
    assert usage.breakdowns == (
        Breakdown(
            id="unattributed_minute",
            label="Use without a limit it can be matched to (busiest recent minute)",
            items=(BreakdownItem(key="generate_content_free_tier_requests", value=7),),
        ),
    )
    assert usage.note is None and usage.warnings == ()


def test_labelled_use_is_matched_per_model_and_days_reset_at_midnight_pacific() -> None:
    quotas = fixture_json("gemini", "quota-infos-generativelanguage.json")
    today = {
        "timeSeries": [
            {
                "metric": {
                    "labels": {
                        "quota_metric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "model": "gemini-2.5-flash",
                    }
                },
                "points": [{"value": {"int64Value": "200"}}],
            }
        ]
    }
    usage = parse(quotas=quotas, minutes={}, today=today)
    assert usage.windows == (
        Window(
            id="rpd_gemini_2_5_flash_free",
            label="gemini-2.5-flash · requests per day (free tier)",
            used_pct=80.0,
            resets_at=PACIFIC_MIDNIGHT,
            window_seconds=86400,
            used=200,
            limit=250,
            unit="requests",
        ),
    )


def test_quota_failure_sample_is_an_exhausted_window_with_the_wait() -> None:
    usage = PROVIDER.parse(
        next(s for s in PROVIDER.samples if s.key == "body").raw(
            fixture_json("gemini", "error-429-quota-failure.json")
        ),
        NOW,
    )
    assert usage.windows == (
        Window(
            id="rpd_gemini_2_5_flash_free",
            label="gemini-2.5-flash · requests per day (free tier)",
            used_pct=100.0,
            resets_at=PACIFIC_MIDNIGHT,
            window_seconds=86400,
            used=20,
            limit=20,
            unit="requests",
        ),
    )
    assert usage.note == (
        f"{KEY_ONLY_NOTE} A minimal call was refused: GenerateRequestsPerDayPerProjectPerModel-FreeTier = 20 "
        "is exhausted; retry in 47 s."
    )


def test_two_violations_and_a_fractional_delay() -> None:
    usage = parse(models={}, probe={"status": 429, "body": fixture_json("gemini", "error-429-two-violations.json")})
    tokens, requests = usage.windows
    assert (tokens.id, tokens.label, tokens.limit) == (
        "tpm_gemini_2_0_flash_free",
        "gemini-2.0-flash · input tokens per minute (free tier)",
        1000000,
    )
    assert (requests.id, requests.resets_at) == ("rpm_gemini_2_0_flash_free", NOW + timedelta(seconds=12))
    assert "retry in 13 s" in (usage.note or "")


def test_a_429_with_only_help_says_so_and_invents_nothing() -> None:
    usage = parse(models={}, probe={"status": 429, "body": fixture_json("gemini", "error-429-help-only.json")})
    assert usage.windows == ()
    assert usage.note == f"{KEY_ONLY_NOTE} A minimal call was refused as out of quota, without saying which limit."


def test_a_key_alone_says_plainly_what_it_cannot_see() -> None:
    assert parse(models={"models": []}) == Usage(note=f"{KEY_ONLY_NOTE}{PROBE_OFF}")


def test_the_401_sample_is_an_auth_error() -> None:
    body = json.dumps(fixture_json("gemini", "error-401.json")).encode()
    error = google_error(401, body, "p", "Cloud Quotas")
    assert isinstance(error, AuthError) and "UNAUTHENTICATED" in error.message


def test_drifted_entries_are_warnings() -> None:
    quotas = {"quotaInfos": [{"quotaId": "x"}, {"metric": "m", "quotaId": "q", "refreshInterval": "minute",
              "dimensionsInfos": [{"details": {"value": "n/a"}}]}]}  # fmt: skip
    minutes = {"timeSeries": [{"metric": {"labels": {}}, "points": []}]}
    usage = parse(quotas=quotas, minutes=minutes, today=None)
    assert [w.message for w in usage.warnings] == [
        "Gemini: quotaInfos[0] has no metric or quotaId",
        "field 'quotaInfos[1].dimensionsInfos[0].details.value' is not a number",
        "Gemini: timeSeries[0] has no quota_metric label",
    ]


# -- through the simulator ----------------------------------------------------------------------
async def test_user_credentials_round_trip_and_the_requests(sim: Any, tmp_path: Path) -> None:
    since = Mark(sim)
    usage = await fetch_usage("gemini", oauth(sim, tmp_path))
    assert [w.id for w in usage.windows] == ["tpm_gemini_2_5_flash"]
    assert {b.id for b in usage.breakdowns} == {"unattributed_minute", "unattributed_day"}
    sent = since.requests("/gemini/")
    token = parse_qs(next(r for r in sent if r["path"] == "/gemini/token_url/token")["body"])
    assert token["grant_type"] == ["refresh_token"]
    quota_pages = [r for r in sent if r["path"].endswith("/quotaInfos")]
    assert len(quota_pages) == 2 and quota_pages[0]["headers"]["x-goog-user-project"] == PROJECT  # two per page
    assert all(r["headers"]["authorization"].startswith("Bearer ya29.") for r in quota_pages)
    series = [parse_qs(r["query"]) for r in sent if r["path"].endswith("/timeSeries")]
    periods = {q["aggregation.alignmentPeriod"][0] for q in series}
    assert "60s" in periods and len(periods) == 2
    day = next(q for q in series if q["aggregation.alignmentPeriod"] != ["60s"])
    start_time = datetime.fromisoformat(day["interval.startTime"][0].replace("Z", "+00:00"))
    assert start_time <= last_pacific_midnight(datetime.now(UTC)) + timedelta(seconds=1)


async def test_labelled_use_over_http(sim: Any, tmp_path: Path) -> None:
    usage = await fetch_usage("gemini", oauth(sim, tmp_path, project=LABELLED))
    assert {w.id for w in usage.windows} >= {"rpm_gemini_2_5_flash_free", "rpd_gemini_2_5_pro_free"}


async def test_a_service_account(sim: Any, tmp_path: Path) -> None:
    path = service_account_file(tmp_path / "sa.json")
    usage = await fetch_usage("gemini", sim_settings("gemini", sim.url, credentials_file=str(path)))
    assert usage.windows  # the project comes from the key file


async def test_a_key_alone_checks_the_key_and_probes_only_when_asked(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("gemini", key_only(sim))
    assert usage == Usage(note=f"{KEY_ONLY_NOTE}{PROBE_OFF}")
    sent = since.requests("/gemini/")
    assert [r["path"] for r in sent] == ["/gemini/url/v1beta/models"]
    assert sent[0]["headers"]["x-goog-api-key"] == KEY and "authorization" not in sent[0]["headers"]
    usage = await fetch_usage("gemini", key_only(sim, probe="on", api_key=f"{KEY}#exhausted"))
    assert [w.id for w in usage.windows] == ["rpd_gemini_2_5_flash_free"] and "retry in 48 s" in (usage.note or "")
    (call,) = [r for r in since.requests() if r["path"].endswith(":generateContent")]
    assert json.loads(call["body"])["generationConfig"] == {"maxOutputTokens": 1}


async def test_a_bad_key_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("gemini", key_only(sim, api_key="AIzaWrongKey"))
    assert "aistudio.google.com" in info.value.hint and "AIzaWrongKey" not in info.value.message


async def test_refused_user_credentials(sim: Any, tmp_path: Path) -> None:
    path = user_file(tmp_path / "adc.json", refresh_token="1//revoked")
    with pytest.raises(AuthError) as info:
        await fetch_usage("gemini", sim_settings("gemini", sim.url, credentials_file=str(path), project=PROJECT))
    assert "invalid_grant" in info.value.message


async def test_cloud_quotas_disabled_is_a_config_error(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError) as info:
        await fetch_usage("gemini", oauth(sim, tmp_path, project="sim-gemini-disabled"))
    assert "gcloud services enable cloudquotas.googleapis.com" in info.value.hint


async def test_no_project_is_a_config_error(sim: Any, tmp_path: Path) -> None:
    path = user_file(tmp_path / "adc.json", quota_project=None)
    with pytest.raises(ProviderConfigError):
        await fetch_usage("gemini", sim_settings("gemini", sim.url, credentials_file=str(path)))


def test_adc_is_used_for_gemini_only_with_a_gemini_key(tmp_path: Path) -> None:
    user_file(tmp_path / ".config" / "gcloud" / "application_default_credentials.json")
    config = account_config("gemini", {}, env={}, home=tmp_path)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []
    config = account_config("gemini", {}, env={"GEMINI_API_KEY": KEY}, home=tmp_path)
    found = auth.resolve(PROVIDER, config.accounts[0], config)
    assert [c.auth.id for c in found] == ["adc", "api_key"] and found[0].get("api_key") == KEY


@pytest.mark.parametrize(
    ("prefix", "spec", "error"),
    [
        (
            "/gemini/monitoring_url/",
            {"kind": "status", "status": 429, "headers": {"retry-after": "5"}},
            RateLimitedError,
        ),
        ("/gemini/quotas_url/", {"kind": "status", "status": 503, "body": "{}"}, UpstreamError),
        ("/gemini/quotas_url/", {"kind": "truncate"}, ParseError),
    ],
)
async def test_failures(sim: Any, tmp_path: Path, prefix: str, spec: dict[str, Any], error: type[Exception]) -> None:
    add_fault(sim, prefix, **spec)
    with pytest.raises(error):
        await fetch_usage("gemini", oauth(sim, tmp_path))


async def test_the_simulator_refuses_a_key_as_a_bearer(sim: Any) -> None:
    import httpx

    response = httpx.get(f"{sim.url}/gemini/url/v1beta/models", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 401 and response.json()["error"]["status"] == "UNAUTHENTICATED"
