"""Vertex AI: Cloud Monitoring quota series matched to their limits (the shared samples exactly, hand-made
variations), the ADC file (authorized_user refresh grant and service-account JWT) against the
simulator's token endpoint, the timeSeries requests as sent, project and file discovery, and every
failure typed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agentgauge.credentials import resolve as auth
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
from agentgauge.models import Usage, Window
from agentgauge.providers.vertexai import PROVIDER
from agentgauge.providers.vertexai import sim as vsim
from agentgauge.providers.vertexai.parsing import words
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GEN = "aiplatform.googleapis.com/generate_content_requests"
ALLOC = "serviceruntime.googleapis.com/quota/allocation/usage"
RATE = "serviceruntime.googleapis.com/quota/rate/net_usage"
LIMIT = "serviceruntime.googleapis.com/quota/limit"
SECRETS = (vsim.CLIENT_SECRET, vsim.REFRESH_TOKEN)


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse(raw, NOW)


def series(metric: str, quota_metric: str, location: str, *values: Any, limit_name: str = "", **labels: Any) -> Any:
    metric_labels = {"quota_metric": quota_metric, **labels}
    if limit_name:
        metric_labels["limit_name"] = limit_name
    return {
        "metric": {"type": metric, "labels": metric_labels},
        "resource": {
            "type": "consumer_quota",
            "labels": {"location": location, "service": "aiplatform.googleapis.com"},
        },
        "points": [{"value": v} for v in values],
    }


def ts(*entries: Any) -> dict[str, Any]:
    return {"timeSeries": list(entries)}


def settings(sim: Any, tmp_path: Path, **overrides: str) -> dict[str, str]:
    out = sim_settings("vertexai", sim.url)
    out.update(vsim.demo_settings(sim.url, tmp_path))
    out.update(overrides)
    return out


def requests_to(sim: Any, part: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"].startswith("/vertexai/") and part in r["path"]]


def assert_clean(exc: AgentGaugeError) -> None:
    for secret in SECRETS:
        assert secret not in exc.message and secret not in exc.hint


# -- the shared samples -----------------------------------------------------------------------------
def test_exact_limit_name_match() -> None:
    usage = parse(
        allocation=fixture_json("vertexai", "exact-named-usage.json"),
        limit=fixture_json("vertexai", "exact-named-limits.json"),
    )
    assert usage == Usage(
        windows=(
            Window(id="quota", label="Highest quota", used_pct=25.0),
            Window(
                id="alloc_generate_content_requests_per_minute_per_project_per_base_model_global",
                label="Generate content requests per minute per project per base model · global",
                used_pct=25.0,
                used=25.0,
                limit=100.0,
            ),
        )
    )


def test_usage_without_limit_name_takes_its_regions_limit() -> None:
    usage = parse(
        allocation=fixture_json("vertexai", "issue-2958-usage-without-limit-name.json"),
        limit=fixture_json("vertexai", "issue-2958-regional-and-global-limits.json"),
    )
    assert [(w.id, w.used_pct, w.used, w.limit) for w in usage.windows] == [
        ("quota", 1.0, None, None),
        ("alloc_reasoning_engine_entities_per_project_per_region_us_west1", 1.0, 1.0, 100.0),
    ]


def test_ambiguous_limits_are_never_guessed() -> None:
    usage = parse(
        allocation=fixture_json("vertexai", "issue-2958-usage-without-limit-name.json"),
        limit=fixture_json("vertexai", "ambiguous-regional-limits.json"),
    )
    assert usage.windows == ()
    assert [w.message for w in usage.warnings] == [
        "Vertex AI: no single limit matches the usage of "
        "aiplatform.googleapis.com/reasoning_engine_service_entities (us-west1)"
    ]


def test_rate_usage_takes_the_project_wide_per_minute_limit() -> None:
    # Two per-minute limits of one metric: the per-base-model one applies per model, the
    # project-wide one to the total that net_usage reports.
    rate = ts(series(RATE, GEN, "global", {"int64Value": "30"}, {"int64Value": "40"}, {"int64Value": "10"}))
    usage = parse(rate=rate, limit=fixture_json("vertexai", "exact-named-limits.json"))
    assert usage.windows[1] == Window(
        id="rate_generate_content_requests_per_minute_per_project_global",
        label="Generate content requests per minute per project · global",
        used_pct=80.0,
        window_seconds=60,
        used=40.0,
        limit=50.0,
    )


# -- hand-made variations ---------------------------------------------------------------------------
def test_newest_allocation_point_counts_and_busiest_minute() -> None:
    allocation = ts(series(ALLOC, "q/entities", "us-west1", {"int64Value": "5"}, {"int64Value": "9"}))
    rate = ts(series(RATE, "q/requests", "global", {"doubleValue": 2.5}, {"int64Value": 7}, {"int64Value": None}))
    limit = ts(
        series(LIMIT, "q/entities", "us-west1", {"int64Value": "10"}, limit_name="EntitiesPerProjectPerRegion"),
        series(LIMIT, "q/requests", "global", {"int64Value": "20"}, limit_name="RequestsPerMinutePerProject"),
        series(LIMIT, "q/requests", "global", {"int64Value": "1000"}, limit_name="RequestsPerDayPerProject"),
    )
    usage = parse(allocation=allocation, rate=rate, limit=limit, has_limits=True)
    assert [(w.id, w.used_pct, w.used, w.limit, w.window_seconds) for w in usage.windows] == [
        ("quota", 50.0, None, None, None),
        ("alloc_entities_per_project_per_region_us_west1", 50.0, 5.0, 10.0, None),
        ("rate_requests_per_minute_per_project_global", 35.0, 7.0, 20.0, 60),
    ]
    assert all(PROVIDER.window_spec(w.id) for w in usage.windows)


def test_rate_usage_is_never_compared_with_a_daily_limit() -> None:
    rate = ts(series(RATE, "q/requests", "global", {"int64Value": "7"}))
    limit = ts(series(LIMIT, "q/requests", "global", {"int64Value": "1000"}, limit_name="RequestsPerDayPerProject"))
    usage = parse(rate=rate, limit=limit)
    assert usage.windows == () and "q/requests (global)" in usage.warnings[0].message


def test_labels_drift_extra_fields_and_nulls() -> None:
    allocation = ts(
        series(ALLOC, "q/a", "us-east1", {"int64Value": "3"}) | {"unit": "1", "x": [1]},
        {
            "metric": {"type": ALLOC, "labels": {}},
            "resource": {"labels": {"quota_id": "q/b"}},
            "points": [{"value": {"int64Value": "4"}}],
        },
        {
            "metric": {"type": ALLOC, "labels": {"limit_name": "X"}},
            "resource": None,
            "points": [{"value": {"int64Value": "1"}}],
        },
        series(ALLOC, "q/empty", "global"),
        "not a series",
    )
    limit = ts(
        series(LIMIT, "q/a", "us-east1", {"int64Value": "0"}, limit_name="APerProject"),  # 0: not a limit
        series(LIMIT, "q/b", "global", {"int64Value": "8"}, limit_name="BPerProject"),
    )
    usage = parse(allocation=allocation, limit=limit, rate=None)
    assert [(w.id, w.used_pct) for w in usage.windows] == [("quota", 50.0), ("alloc_b_per_project_global", 50.0)]
    messages = [w.message for w in usage.warnings]
    assert messages[0] == "Vertex AI: allocation.timeSeries[2] has no quota_metric label"
    assert "q/a (us-east1)" in messages[1]


def test_one_limit_with_two_usage_series_keeps_the_larger() -> None:
    allocation = ts(
        series(ALLOC, "q/a", "global", {"int64Value": "3"}, method="m1"),
        series(ALLOC, "q/a", "global", {"int64Value": "6"}, method="m2"),
    )
    limit = ts(series(LIMIT, "q/a", "global", {"int64Value": "12"}, limit_name="APerProject"))
    assert parse(allocation=allocation, limit=limit).windows[1].used == 6.0


def test_nothing_in_use() -> None:
    assert parse(allocation=ts(), rate={}, limit=ts(), has_limits=True) == Usage(
        windows=(Window(id="quota", label="Highest quota", used_pct=0.0),)
    )
    with pytest.raises(ProviderConfigError, match=r"no aiplatform\.googleapis\.com quotas for p-1"):
        parse(allocation={}, rate={}, limit={}, has_limits=False, project="p-1")


@pytest.mark.parametrize("name", ["allocation", "rate", "limit"])
def test_answers_that_are_not_objects(name: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(**{name: ["x"]})
    assert info.value.field == name


def test_words() -> None:
    assert words("GenerateContentRequestsPerMinutePerProject") == "Generate content requests per minute per project"
    assert words("QPSPerProject") == "Qps per project"


# -- fetch through the simulator -------------------------------------------------------------------
async def test_fetch_with_user_credentials(sim: Any, tmp_path: Path) -> None:
    usage = await fetch_usage("vertexai", settings(sim, tmp_path))
    quota = usage.windows[0]
    by_id = {w.id: w for w in usage.windows}
    assert set(by_id) == {
        "quota",
        "rate_generate_content_requests_per_minute_per_project_global",
        "alloc_reasoning_engine_entities_per_project_per_region_us_west1",
    }
    rate = by_id["rate_generate_content_requests_per_minute_per_project_global"]
    alloc = by_id["alloc_reasoning_engine_entities_per_project_per_region_us_west1"]
    # The simulator's busiest minute is split 3:1 over two methods: only a REDUCE_SUM request sees the total.
    assert rate.limit == 600 and rate.used is not None and rate.used >= 2
    assert rate.used == round(rate.used * 0.75) + round(rate.used * 0.25)
    assert alloc.limit == 100 and alloc.used is not None and 4 <= alloc.used <= 44
    assert quota.used_pct == max(rate.used_pct, alloc.used_pct)

    (token,) = requests_to(sim, "/token_url/")[-1:]
    assert token["method"] == "POST"
    assert token["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token["body"]) == {
        "grant_type": ["refresh_token"],
        "client_id": [vsim.CLIENT_ID],
        "client_secret": [vsim.CLIENT_SECRET],
        "refresh_token": [vsim.REFRESH_TOKEN],
    }
    calls = requests_to(sim, "/timeSeries")[-4:]
    assert all(c["method"] == "GET" for c in calls)
    assert all(c["path"] == f"/vertexai/url/v3/projects/{vsim.PROJECT}/timeSeries" for c in calls)
    assert all(c["headers"]["authorization"].startswith("Bearer ya29.sim-") for c in calls)
    assert all(c["headers"]["x-goog-user-project"] == vsim.PROJECT for c in calls)
    queries = [parse_qs(c["query"]) for c in calls]
    service = 'resource.type="consumer_quota" AND resource.labels.service="aiplatform.googleapis.com"'
    alloc_q, rate_q, limit_q = queries[0], queries[1], queries[2]
    assert alloc_q["filter"] == [f'metric.type="{ALLOC}" AND {service}']
    assert (alloc_q["aggregation.perSeriesAligner"], alloc_q["aggregation.alignmentPeriod"]) == (
        ["ALIGN_NEXT_OLDER"],
        ["90000s"],
    )
    assert rate_q["filter"] == [f'metric.type="{RATE}" AND {service}']
    assert rate_q["aggregation.perSeriesAligner"] == ["ALIGN_SUM"] and rate_q["aggregation.alignmentPeriod"] == ["60s"]
    assert rate_q["aggregation.crossSeriesReducer"] == ["REDUCE_SUM"]
    assert rate_q["aggregation.groupByFields"] == ["metric.label.quota_metric", "resource.label.location"]
    start, end = (
        datetime.fromisoformat(rate_q[k][0].replace("Z", "+00:00")) for k in ("interval.startTime", "interval.endTime")
    )
    assert (end - start).total_seconds() == 3600
    assert limit_q["filter"] == [
        f'metric.type="{LIMIT}" AND {service} AND metric.labels.quota_metric = one_of('
        f'"{GEN}", "aiplatform.googleapis.com/reasoning_engine_service_entities")'
    ]
    # Three limits of the two metrics in use come two per page: the client follows nextPageToken.
    assert queries[3].get("pageToken") == ["2"] and parse_qs(calls[3]["query"])["filter"] == limit_q["filter"]


async def test_fetch_with_a_service_account(sim: Any, tmp_path: Path) -> None:
    key_file = vsim.service_account_file(tmp_path / "sa.json")
    usage = await fetch_usage("vertexai", settings(sim, tmp_path, credentials_file=str(key_file)))
    assert usage.windows[0].id == "quota"
    token = requests_to(sim, "/token_url/")[-1]
    form = parse_qs(token["body"])
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    header, claims = (
        json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in form["assertion"][0].split(".")[:2]
    )
    assert header["alg"] == "RS256" and header["kid"] == json.loads(key_file.read_text())["private_key_id"]
    assert claims["iss"] == vsim.SERVICE_ACCOUNT
    assert claims["aud"] == f"{sim.url}/vertexai/token_url/token"
    assert claims["scope"] == "https://www.googleapis.com/auth/monitoring.read"
    assert claims["exp"] - claims["iat"] == 3600
    assert "x-goog-user-project" not in requests_to(sim, "/timeSeries")[-1]["headers"]


async def test_a_key_google_does_not_know_is_refused(sim: Any, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path / "rogue.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": vsim.SERVICE_ACCOUNT,
                "private_key": pem.decode(),
                "private_key_id": "k1",
                "project_id": vsim.PROJECT,
            }
        )
    )
    with pytest.raises(AuthError, match="invalid_grant") as info:
        await fetch_usage("vertexai", settings(sim, tmp_path, credentials_file=str(path)))
    assert pem.decode()[40:80] not in info.value.message


async def test_a_key_that_is_not_pem(tmp_path: Path, sim: Any) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"type": "service_account", "client_email": "e@x", "private_key": "-----BEGIN nope"}))
    with pytest.raises(ProviderConfigError, match="not a PEM RSA key"):
        await fetch_usage("vertexai", settings(sim, tmp_path, credentials_file=str(path)))


@pytest.mark.parametrize(
    ("file", "error", "status"),
    [
        ({"refresh_token": "1//revoked"}, "invalid_grant", 400),
        ({"client_secret": "wrong-secret"}, "invalid_client", 401),
    ],
)
async def test_rejected_user_credentials(
    sim: Any, tmp_path: Path, file: dict[str, str], error: str, status: int
) -> None:
    path = vsim.user_file(tmp_path / "adc.json")
    path.write_text(json.dumps({**json.loads(path.read_text()), **file}))
    with pytest.raises(AuthError) as info:
        await fetch_usage("vertexai", settings(sim, tmp_path, credentials_file=str(path)))
    assert error in info.value.message and info.value.status_code == status
    assert "application-default login" in info.value.hint
    assert "1//revoked" not in info.value.message and "wrong-secret" not in info.value.message


async def test_monitoring_api_disabled(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="not enabled") as info:
        await fetch_usage("vertexai", settings(sim, tmp_path, project=vsim.DISABLED_PROJECT))
    assert f"gcloud services enable monitoring.googleapis.com --project {vsim.DISABLED_PROJECT}" in info.value.hint


async def test_a_project_without_access(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="HTTP 403") as info:
        await fetch_usage("vertexai", settings(sim, tmp_path, project="someone-elses"))
    assert "roles/monitoring.viewer on project someone-elses" in info.value.hint


async def test_an_idle_project_is_at_zero(sim: Any, tmp_path: Path) -> None:
    usage = await fetch_usage("vertexai", settings(sim, tmp_path, project=vsim.IDLE_PROJECT))
    assert usage == Usage(windows=(Window(id="quota", label="Highest quota", used_pct=0.0),))
    probe = parse_qs(requests_to(sim, "/timeSeries")[-1]["query"])
    assert (probe["view"], probe["pageSize"]) == (["HEADERS"], ["1"])
    assert "one_of" not in probe["filter"][0]


async def test_a_project_without_vertex_ai(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match=f"no aiplatform.googleapis.com quotas for {vsim.UNUSED_PROJECT}"):
        await fetch_usage("vertexai", settings(sim, tmp_path, project=vsim.UNUSED_PROJECT))


# -- the project and the file, found ------------------------------------------------------------------
def gcloud_config(folder: Path, project: str, name: str = "default", *, active: bool = True) -> None:
    (folder / "configurations").mkdir(parents=True, exist_ok=True)
    (folder / "configurations" / f"config_{name}").write_text(
        f"[core]\naccount = me@example.com\nproject = {project}\n"
    )
    if active:
        (folder / "active_config").write_text(name)


async def project_used(sim: Any, tmp_path: Path, env: dict[str, str] | None = None, **overrides: str) -> str:
    base = settings(sim, tmp_path)
    base.pop("project")
    base.pop("credentials_file")
    await fetch_usage("vertexai", {**base, **overrides}, env=env or {}, home=tmp_path)
    return urlsplit(requests_to(sim, "/timeSeries")[-1]["path"]).path.split("/")[5]


async def test_project_precedence(sim: Any, tmp_path: Path) -> None:
    folder = tmp_path / ".config" / "gcloud"
    vsim.user_file(folder / "application_default_credentials.json", quota_project=vsim.IDLE_PROJECT)
    assert await project_used(sim, tmp_path) == vsim.IDLE_PROJECT  # the ADC file's quota project
    gcloud_config(folder, vsim.UNUSED_PROJECT, "work")
    with pytest.raises(ProviderConfigError):  # the active gcloud configuration's project
        await project_used(sim, tmp_path)
    gcloud_config(folder, vsim.PROJECT, "other", active=False)
    assert await project_used(sim, tmp_path, {"CLOUDSDK_ACTIVE_CONFIG_NAME": "other"}) == vsim.PROJECT
    env = {"CLOUDSDK_CORE_PROJECT": vsim.IDLE_PROJECT, "GCLOUD_PROJECT": vsim.PROJECT}
    assert await project_used(sim, tmp_path, env) == vsim.PROJECT  # GCLOUD_PROJECT before CLOUDSDK_CORE_PROJECT
    env["GOOGLE_CLOUD_PROJECT"] = vsim.IDLE_PROJECT
    assert await project_used(sim, tmp_path, env) == vsim.IDLE_PROJECT
    assert await project_used(sim, tmp_path, env, project=vsim.PROJECT) == vsim.PROJECT


async def test_no_project_anywhere(sim: Any, tmp_path: Path) -> None:
    path = vsim.user_file(tmp_path / "adc.json", quota_project=None)
    with pytest.raises(ProviderConfigError, match="no Google Cloud project") as info:
        await fetch_usage("vertexai", settings(sim, tmp_path, credentials_file=str(path), project=""))
    assert "gcloud config set project" in info.value.hint


def found(tmp_path: Path, env: dict[str, str]) -> list[Any]:
    config = account_config("vertexai", {}, env=env, home=tmp_path)
    return auth.resolve(PROVIDER, config.accounts[0], config)


@pytest.mark.parametrize(
    ("where", "env"),
    [
        (".config/gcloud", {}),
        ("custom-gcloud", {"CLOUDSDK_CONFIG": "{home}/custom-gcloud"}),
        ("AppData/Roaming/gcloud", {"APPDATA": "{home}/AppData/Roaming"}),
    ],
)
def test_adc_file_found(tmp_path: Path, where: str, env: dict[str, str]) -> None:
    path = vsim.user_file(tmp_path / where / "application_default_credentials.json")
    gcloud_config(tmp_path / where, "from-gcloud")
    (creds,) = found(tmp_path, {k: v.format(home=tmp_path) for k, v in env.items()})
    assert (creds.get("credentials_file"), creds.origin, creds.source) == (str(path), str(path), "local_file")
    assert creds.details == {"project": "from-gcloud"}


def test_google_application_credentials_wins(tmp_path: Path) -> None:
    vsim.user_file(tmp_path / ".config/gcloud/application_default_credentials.json")
    key = vsim.user_file(tmp_path / "keys/ci.json")
    (creds,) = found(tmp_path, {"GOOGLE_APPLICATION_CREDENTIALS": str(key)})
    assert (creds.get("credentials_file"), creds.origin) == (
        str(key),
        "environment variable GOOGLE_APPLICATION_CREDENTIALS",
    )


def test_discovery_problems_are_reported(tmp_path: Path) -> None:
    assert found(tmp_path, {}) == []
    with pytest.raises(ConfigError, match="names a file that does not exist"):
        found(tmp_path, {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing.json")})
    bad = tmp_path / ".config/gcloud/application_default_credentials.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"type": "authorized_user", "client_id": "c"}')
    with pytest.raises(ConfigError, match="has no client_secret, refresh_token") as info:
        found(tmp_path, {})
    assert "application-default login" in info.value.hint


async def test_unreadable_credentials_file(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="cannot read the credentials file"):
        await fetch_usage("vertexai", settings(sim, tmp_path, credentials_file=str(tmp_path / "gone.json")))


# -- the simulator checks what Google checks ----------------------------------------------------------
async def test_simulator_refuses_what_monitoring_refuses(sim: Any, tmp_path: Path) -> None:
    async with httpx.AsyncClient() as client:
        token = (
            await client.post(
                f"{sim.url}/vertexai/token_url/token",
                data={
                    "grant_type": "refresh_token",
                    "client_id": vsim.CLIENT_ID,
                    "client_secret": vsim.CLIENT_SECRET,
                    "refresh_token": vsim.REFRESH_TOKEN,
                },
            )
        ).json()["access_token"]
        url = f"{sim.url}/vertexai/url/v3/projects/{vsim.PROJECT}/timeSeries"
        service = 'resource.type="consumer_quota" AND resource.labels.service="aiplatform.googleapis.com"'
        good = {
            "filter": f'metric.type="{LIMIT}" AND {service}',
            "interval.endTime": "2026-11-20T12:00:00Z",
        }
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get(url, params=good, headers=headers)).status_code == 200
        for change in (
            {"interval.endTime": ""},
            {"interval.endTime": "yesterday"},
            {"aggregation.perSeriesAligner": "ALIGN_SUM", "aggregation.alignmentPeriod": "30s"},
            {"aggregation.perSeriesAligner": "ALIGN_RATE", "aggregation.alignmentPeriod": "60s"},
            {"aggregation.crossSeriesReducer": "REDUCE_SUM"},
            {"filter": 'metric.type="x"'},
        ):
            answer = await client.get(url, params={**good, **change}, headers=headers)
            assert answer.status_code == 400 and answer.json()["error"]["status"] == "INVALID_ARGUMENT", change
        assert (await client.get(url, params=good, headers={"Authorization": "Bearer ya29.forged"})).status_code == 401
        form = await client.post(f"{sim.url}/vertexai/token_url/token", json={"grant_type": "refresh_token"})
        assert form.json()["error"] == "invalid_request"


# -- HTTP failures -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prefix", "fault", "error"),
    [
        (
            "/vertexai/url/",
            {"kind": "status", "status": 401, "body": '{"error": {"code": 401, "status": "UNAUTHENTICATED"}}'},
            AuthError,
        ),
        (
            "/vertexai/url/",
            {
                "kind": "status",
                "status": 400,
                "body": '{"error": {"code": 400, "message": "bad filter", "status": "INVALID_ARGUMENT"}}',
            },
            UpstreamError,
        ),
        (
            "/vertexai/url/",
            {"kind": "status", "status": 404, "body": '{"error": {"code": 404, "status": "NOT_FOUND"}}'},
            ProviderConfigError,
        ),
        (
            "/vertexai/url/",
            {
                "kind": "status",
                "status": 403,
                "body": "<html>Just a moment...</html>",
                "headers": {"content-type": "text/html", "cf-mitigated": "challenge"},
            },
            ChallengeError,
        ),
        (
            "/vertexai/url/",
            {"kind": "status", "status": 429, "body": "{}", "headers": {"retry-after": "45"}},
            RateLimitedError,
        ),
        ("/vertexai/token_url/", {"kind": "status", "status": 503, "body": "down"}, UpstreamError),
        ("/vertexai/token_url/", {"kind": "truncate"}, ParseError),
        ("/vertexai/url/", {"kind": "html"}, ParseError),
        (
            "/vertexai/token_url/",
            {"kind": "status", "status": 400, "body": '{"error": "invalid_scope"}'},
            UpstreamError,
        ),
    ],
)
async def test_failures(sim: Any, tmp_path: Path, prefix: str, fault: dict[str, Any], error: type[Exception]) -> None:
    add_fault(sim, prefix, **fault)
    with pytest.raises(error) as info:
        await fetch_usage("vertexai", settings(sim, tmp_path))
    assert type(info.value) is error
    assert_clean(info.value)  # type: ignore[arg-type]
    if error is RateLimitedError:
        assert info.value.retry_after == pytest.approx(45, abs=1)  # type: ignore[attr-defined]


async def test_timeout(sim: Any, tmp_path: Path) -> None:
    add_fault(sim, "/vertexai/url/", "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("vertexai", settings(sim, tmp_path), timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, tmp_path: Path, kind: str) -> None:
    add_fault(sim, "/vertexai/", kind)
    usage = await fetch_usage("vertexai", settings(sim, tmp_path))
    assert usage.windows[0].id == "quota" and len(usage.windows) == 3


def test_declarations() -> None:
    assert {s.name: (s.env_var("vertexai"), s.env) for s in PROVIDER.settings} == {
        "credentials_file": ("AGENTGAUGE_VERTEXAI_CREDENTIALS_FILE", ()),
        "project": ("AGENTGAUGE_VERTEXAI_PROJECT", ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")),
        "url": ("AGENTGAUGE_VERTEXAI_URL", ()),
        "token_url": ("AGENTGAUGE_VERTEXAI_TOKEN_URL", ()),
    }
    assert dict(PROVIDER.urls) == {
        "url": "https://monitoring.googleapis.com",
        "token_url": "https://oauth2.googleapis.com/token",
    }
    assert [(a.id, a.source, a.requires) for a in PROVIDER.auth] == [("adc", "local_file", ("credentials_file",))]
