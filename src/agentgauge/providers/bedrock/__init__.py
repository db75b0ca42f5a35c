"""AWS Bedrock: per-model quotas (Service Quotas) against the use CloudWatch measured (``AWS/Bedrock``).

AWS credentials come from the standard chain through botocore (static keys, or a profile with its SSO
login, ``credential_process``, assumed role, container or instance role), and every request is SigV4
signed; ``aws`` has the I/O. One refresh, all at once:

- Service Quotas (``POST {service_quotas_url}/``, ``X-Amz-Target: ServiceQuotasV20190624.
  ListServiceQuotas`` and ``...ListAWSDefaultServiceQuotas``, AWS JSON 1.1, ``ServiceCode: bedrock``,
  paged by ``NextToken``);
- Bedrock's ``GET {bedrock_url}/foundation-models`` (names to join quotas and metrics);
- CloudWatch ``GetMetricData`` (``POST {cloudwatch_url}/``, ``GraniteServiceVersion20100801``, AWS JSON
  1.0): ``SEARCH`` of every ``ModelId`` per minute over the last 15 minutes, and since UTC midnight.

The endpoint settings honour ``AWS_ENDPOINT_URL_SERVICE_QUOTAS``, ``AWS_ENDPOINT_URL_CLOUDWATCH``,
``AWS_ENDPOINT_URL_BEDROCK`` (and ``AWS_ENDPOINT_URL``), as the AWS SDKs do.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from ...errors import ParseError, ProviderConfigError, ProviderError
from ...models import Usage
from .. import _http, _time
from .._base import (
    AuthSource,
    DiscoverContext,
    Discovered,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Secret,
    Setting,
    WindowSpec,
)
from .._parse import items, opt_str
from . import parsing
from .aws import RELOGIN, AwsKeys, call, credentials

SERVICE_QUOTAS_TARGET = "ServiceQuotasV20190624"
CLOUDWATCH_TARGET = "GraniteServiceVersion20100801.GetMetricData"
RECENT = timedelta(minutes=15)
MAX_PAGES = 20
BEDROCK_SIGNALS = ("CLAUDE_CODE_USE_BEDROCK", "AWS_BEARER_TOKEN_BEDROCK")
CHAIN_ENV = (
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)
METRICS = (  # query id, metric, statistic
    ("input", "InputTokenCount", "Sum"),
    ("output", "OutputTokenCount", "Sum"),
    ("invocations", "Invocations", "Sum"),
    ("estimated", "EstimatedTPMQuotaUsage", "Maximum"),
)
HINT = (
    "Set AGENTGAUGE_BEDROCK_PROFILE (e.g. 'default') or AGENTGAUGE_BEDROCK_ACCESS_KEY_ID and "
    "AGENTGAUGE_BEDROCK_SECRET_ACCESS_KEY, and the region (AWS_REGION)."
)


def wants_bedrock(ctx: DiscoverContext) -> bool:
    """AWS credentials on this machine are used for Bedrock only when something says Bedrock is in use
    (Claude Code set to Bedrock, a Bedrock API key): most AWS users have none."""
    return any((ctx.env.get(name) or "").strip().lower() not in ("", "0", "false") for name in BEDROCK_SIGNALS)


def _discover_keys(ctx: DiscoverContext) -> Discovered | None:
    if not wants_bedrock(ctx) or not (ctx.env.get("AWS_ACCESS_KEY_ID") and ctx.env.get("AWS_SECRET_ACCESS_KEY")):
        return None
    values = {
        "access_key_id": Secret(ctx.env["AWS_ACCESS_KEY_ID"]),
        "secret_access_key": Secret(ctx.env["AWS_SECRET_ACCESS_KEY"]),
    }
    if ctx.env.get("AWS_SESSION_TOKEN"):
        values["session_token"] = Secret(ctx.env["AWS_SESSION_TOKEN"])
    return Discovered(values, "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")


def _discover_profile(ctx: DiscoverContext) -> Discovered | None:
    """``AWS_PROFILE`` (else ``default``) when the shared files hold it, or a container/web-identity role."""
    if not wants_bedrock(ctx):
        return None
    config = ctx.expand(ctx.env.get("AWS_CONFIG_FILE") or "~/.aws/config")
    shared = ctx.expand(ctx.env.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials")
    profile = (ctx.env.get("AWS_PROFILE") or "default").strip()
    headers = {f"[profile {profile}]", f"[{profile}]"}
    for path in (config, shared):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(line.strip() in headers for line in text.splitlines()):
            details = {"config_file": str(config), "credentials_file": str(shared)}
            return Discovered({"profile": Secret(profile)}, f"AWS profile '{profile}' ({path})", details)
    role = next((name for name in CHAIN_ENV if ctx.env.get(name)), None)
    if role:
        return Discovered({"profile": Secret("default")}, f"AWS credential chain ({role})")
    return None


def _next_token(page: dict[str, Any]) -> str | None:
    return opt_str(page.get("NextToken"))


class Bedrock(Provider):
    id = "bedrock"
    name = "AWS Bedrock"
    docs_url = "https://console.aws.amazon.com/servicequotas/home/services/bedrock/quotas"
    settings = (
        Setting("access_key_id", "AWS access key id (with secret_access_key).", secret=True),
        Setting("secret_access_key", "AWS secret access key.", secret=True),
        Setting("session_token", "AWS session token of temporary keys.", secret=True),
        Setting(
            "profile",
            "AWS profile of ~/.aws/config (SSO, credential_process, roles): botocore's credential chain; "
            "'default' also covers container and instance roles.",
        ),
        Setting("region", "AWS region of the Bedrock use to show.", env=("AWS_REGION", "AWS_DEFAULT_REGION")),
        Setting(
            "service_quotas_url",
            "Service Quotas endpoint; https://servicequotas.<region>.amazonaws.com when unset.",
            env=("AWS_ENDPOINT_URL_SERVICE_QUOTAS", "AWS_ENDPOINT_URL"),
        ),
        Setting(
            "cloudwatch_url",
            "CloudWatch endpoint; https://monitoring.<region>.amazonaws.com when unset.",
            env=("AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL"),
        ),
        Setting(
            "bedrock_url",
            "Bedrock (control plane) endpoint; https://bedrock.<region>.amazonaws.com when unset.",
            env=("AWS_ENDPOINT_URL_BEDROCK", "AWS_ENDPOINT_URL"),
        ),
    )
    auth = (
        AuthSource(
            id="keys",
            source="api_key",
            label="AWS access keys",
            requires=("secret_access_key", "access_key_id"),
            optional=("session_token",),
            hint=HINT,
            discover=_discover_keys,
            discovered_source="api_key",
        ),
        AuthSource(
            id="profile",
            source="local_file",
            label="AWS profile (credential chain)",
            requires=("profile",),
            hint=HINT,
            discover=_discover_profile,
            discovered_source="local_file",
        ),
    )
    windows = (
        WindowSpec("tpm_*", "Tokens per minute (quota)", 60, "tokens"),
        WindowSpec("rpm_*", "Requests per minute (quota)", 60, "requests"),
        WindowSpec("tpd_*", "Tokens per day (quota)", 86400, "tokens"),
    )
    urls: ClassVar[Mapping[str, str]] = {"service_quotas_url": "", "cloudwatch_url": "", "bedrock_url": ""}
    # CloudWatch is 1-3 minutes late and GetMetricData is billed per metric: every five minutes at most.
    min_interval = 300.0
    timeout = 40.0
    env_vars = (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        *CHAIN_ENV,
        *BEDROCK_SIGNALS,
    )
    redact_keys = frozenset({"QuotaArn", "modelArn"})
    samples = (
        Sample("service-quotas-*.json", "applied", {"defaults": None, "models": None, "minutes": None, "today": None}),
        Sample("foundation-models*.json", "models", {"applied": {"Quotas": []}}),
        Sample("metric-data-*.json", "minutes", {"applied": {"Quotas": []}}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "access_key_id": "AKIASIMBEDROCK000001",
        "secret_access_key": "sim/bedrock/secret+access+key0000000000",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        keys = await credentials(ctx)
        region = ctx.setting("region") or keys.region
        if not region:
            raise ProviderConfigError("Bedrock: no AWS region is set", hint="Set AWS_REGION (or the profile's region).")
        quotas = ctx.setting("service_quotas_url") or f"https://servicequotas.{region}.amazonaws.com"
        cloudwatch = ctx.setting("cloudwatch_url") or f"https://monitoring.{region}.amazonaws.com"
        bedrock = ctx.setting("bedrock_url") or f"https://bedrock.{region}.amazonaws.com"
        now = ctx.now().astimezone(UTC).replace(second=0, microsecond=0)
        midnight = _time.day_start(now)
        applied, defaults, models, minutes, today = await _http.together(
            self._quotas(ctx, keys, quotas, region, "ListServiceQuotas"),
            self._soft(self._quotas(ctx, keys, quotas, region, "ListAWSDefaultServiceQuotas"), "default quotas"),
            self._soft(self._models(ctx, keys, bedrock, region), "foundation models"),
            self._metrics(ctx, keys, cloudwatch, region, now - RECENT, now, 60),
            self._metrics(ctx, keys, cloudwatch, region, midnight, now + timedelta(minutes=1), 86400, totals=True),
        )
        return {
            "region": region,
            "applied": applied,
            "defaults": defaults,
            "models": models,
            "minutes": minutes,
            "today": today,
        }

    @staticmethod
    async def _soft(calling: Coroutine[Any, Any, dict[str, Any]], what: str) -> dict[str, Any]:
        """A call the rest does not depend on: its failure (a missing permission) is a warning."""
        try:
            return await calling
        except ProviderError as exc:
            if exc.kind.value in ("timeout", "network"):
                raise
            return {"error": _http.problem(exc, f"{exc.message} ({what})", hint=RELOGIN)}

    async def _quotas(self, ctx: FetchContext, keys: AwsKeys, url: str, region: str, operation: str) -> dict[str, Any]:

        async def page(token: str | None) -> dict[str, Any]:
            body: dict[str, Any] = {"ServiceCode": "bedrock", "MaxResults": 100}
            if token:
                body["NextToken"] = token
            page = await call(
                ctx, keys, url=url.rstrip("/") + "/", service="servicequotas", region=region, what="quota list",
                target=f"{SERVICE_QUOTAS_TARGET}.{operation}", payload=body,
            )  # fmt: skip
            if not isinstance(page.get("Quotas"), list):
                raise ParseError("Bedrock: the quota list has no 'Quotas' list", field="Quotas")
            return page

        found = await _http.pages(page, _next_token, limit=MAX_PAGES)
        return {"Quotas": [quota for page in found for quota in page["Quotas"]]}

    async def _models(self, ctx: FetchContext, keys: AwsKeys, url: str, region: str) -> dict[str, Any]:
        return await call(
            ctx, keys, url=url.rstrip("/") + "/foundation-models", service="bedrock", region=region,
            what="foundation model list",
        )  # fmt: skip

    async def _metrics(
        self,
        ctx: FetchContext,
        keys: AwsKeys,
        url: str,
        region: str,
        start: datetime,
        end: datetime,
        period: int,
        *,
        totals: bool = False,
    ) -> dict[str, Any]:
        wanted = METRICS[:2] if totals else METRICS
        queries = [
            {
                "Id": query,
                "Expression": f"SEARCH('{{AWS/Bedrock,ModelId}} MetricName=\"{metric}\"', '{stat}', {period})",
                "Label": "${PROP('Dim.ModelId')}",
                "ReturnData": True,
            }
            for query, metric, stat in wanted
        ]

        async def page(token: str | None) -> dict[str, Any]:
            body: dict[str, Any] = {
                "MetricDataQueries": queries,
                "StartTime": int(start.timestamp()),
                "EndTime": int(end.timestamp()),
                "ScanBy": "TimestampDescending",
            }
            if token:
                body["NextToken"] = token
            return await call(
                ctx, keys, url=url.rstrip("/") + "/", service="monitoring", region=region, what="metrics",
                target=CLOUDWATCH_TARGET, content_type="application/x-amz-json-1.0", payload=body,
                extra_headers={"x-amzn-query-mode": "true"},
            )  # fmt: skip

        found = await _http.pages(page, _next_token, limit=MAX_PAGES)
        return {"MetricDataResults": [r for page in found for r in items(page.get("MetricDataResults"))]}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if raw.get("applied") is not None and not isinstance(raw.get("applied"), dict):
            raise ParseError("Bedrock: the quota list is not an object", field="applied")
        return parsing.parse(raw, now)


PROVIDER = Bedrock()
