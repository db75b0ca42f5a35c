"""Vertex AI: the project's ``aiplatform.googleapis.com`` quotas, from Cloud Monitoring.

Auth is Google OAuth from the gcloud Application Default Credentials file (the toolkit's ``_google``): an
access token from ``token_url``, then ``GET {url}/v3/projects/{project}/timeSeries`` (``parsing``
has the metrics and how usage meets its limit):

- allocation usage over the last 25 h, ``ALIGN_NEXT_OLDER`` over the whole interval: one point, the
  current value;
- rate usage over the last hour, ``ALIGN_SUM`` per 60 s and ``REDUCE_SUM`` grouped by quota metric
  and location: the per-minute total over every API method;
- the limits of the quota metrics in use, over 25 h (limits are written about once a day), one point
  each; when nothing is in use, one header-only page tells whether the project has quotas at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import orjson

from ...errors import (
    AuthError,
    ParseError,
    ProviderConfigError,
    ProviderError,
    UpstreamError,
)
from ...models import Usage
from .. import _google, _http, _time
from .._base import (
    AuthSource,
    DiscoverContext,
    Discovered,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Setting,
    WindowSpec,
)
from .._parse import items, obj, opt_str
from .parsing import ALLOCATION, LIMIT, RATE, parse_quota

SERVICE = "aiplatform.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/monitoring.read"
RELOGIN = (
    "Run `gcloud auth application-default login` (or point AGENTGAUGE_VERTEXAI_CREDENTIALS_FILE at a "
    "service-account key file), then refresh."
)
LOOKBACK = timedelta(hours=25)  # limits are written about once a day
RATE_LOOKBACK = timedelta(hours=1)
MAX_PAGES = 20
MAX_ONE_OF = 50  # quota metrics named in one filter; more and the limits are fetched unfiltered
HINT_PROJECT = (
    "Set AGENTGAUGE_VERTEXAI_PROJECT (or GOOGLE_CLOUD_PROJECT), or run `gcloud config set project PROJECT_ID`."
)


def _discover(ctx: DiscoverContext) -> Discovered | None:
    """The ADC file (``GOOGLE_APPLICATION_CREDENTIALS``, else gcloud's) and gcloud's project."""
    return _google.discover_adc(ctx, provider="Vertex AI", hint=RELOGIN, strict=True)


def _query(
    metric: str, start: datetime, end: datetime, period: int, aligner: str, **extra: Any
) -> list[tuple[str, str]]:
    """The timeSeries.list query string of one metric of the service's consumer quotas."""
    conditions = [f'metric.type="{metric}"', 'resource.type="consumer_quota"', f'resource.labels.service="{SERVICE}"']
    metrics: Iterable[str] = extra.pop("quota_metrics", ())
    if metrics:
        conditions.append("metric.labels.quota_metric = one_of(" + ", ".join(f'"{m}"' for m in metrics) + ")")
    params = [
        ("filter", " AND ".join(conditions)),
        ("interval.startTime", _time.rfc3339(start)),
        ("interval.endTime", _time.rfc3339(end)),
        ("aggregation.alignmentPeriod", f"{period}s"),
        ("aggregation.perSeriesAligner", aligner),
    ]
    for field in extra.pop("group_by", ()):
        params.append(("aggregation.groupByFields", field))
    if extra.get("reducer"):
        params.append(("aggregation.crossSeriesReducer", extra.pop("reducer")))
    params.append(("view", extra.pop("view", "FULL")))
    if extra.get("page_size"):
        params.append(("pageSize", str(extra.pop("page_size"))))
    return params


def _google_error(status: int, body: bytes, project: str) -> ProviderError:
    """A Google API error envelope (``{"error": {code, message, status, details}}``) as a typed error."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    error = obj(obj(data).get("error"))
    message = (opt_str(error.get("message")) or f"HTTP {status}")[:300]
    reasons = {opt_str(d.get("reason")) for d in items(error.get("details"))}
    if "SERVICE_DISABLED" in reasons:
        return ProviderConfigError(
            f"Vertex AI: the Cloud Monitoring API is not enabled for project {project}",
            hint=f"Run `gcloud services enable monitoring.googleapis.com --project {project}`, then refresh.",
        )
    if status == 403:
        return AuthError(
            f"Vertex AI: Cloud Monitoring refused the request (HTTP 403): {message}",
            hint=f"Grant the account roles/monitoring.viewer on project {project} (or fix the project), then refresh.",
            status_code=403,
        )
    if status == 404:
        return ProviderConfigError(f"Vertex AI: project {project} was not found (HTTP 404)", hint=HINT_PROJECT)
    return UpstreamError(
        f"Vertex AI: Cloud Monitoring rejected the query (HTTP {status}): {message}", status_code=status
    )


def _next_page_token(page: dict[str, Any]) -> str | None:
    return opt_str(page.get("nextPageToken"))


class VertexAI(Provider):
    id = "vertexai"
    name = "Vertex AI"
    docs_url = "https://console.cloud.google.com/iam-admin/quotas?service=aiplatform.googleapis.com"
    settings = (
        Setting(
            "credentials_file",
            "An Application Default Credentials file (authorized_user from `gcloud auth application-default "
            "login`, or a service-account key); found automatically when unset.",
        ),
        Setting(
            "project",
            "The Google Cloud project whose Vertex AI quotas are shown.",
            env=_google.PROJECT_ENV,
        ),
        Setting("url", "Base URL of the Cloud Monitoring API.", default="https://monitoring.googleapis.com"),
        Setting("token_url", "Google's OAuth token endpoint.", default="https://oauth2.googleapis.com/token"),
    )
    auth = (
        AuthSource(
            id="adc",
            source="local_file",
            label="gcloud application-default credentials",
            requires=("credentials_file",),
            hint=RELOGIN,
            discover=_discover,
            discovered_source="local_file",
        ),
    )
    windows = (
        WindowSpec("quota", "Highest quota", None, None),
        WindowSpec("rate_*", "Rate quota (per minute)", 60, None),
        WindowSpec("alloc_*", "Allocation quota", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {
        "url": "https://monitoring.googleapis.com",
        "token_url": "https://oauth2.googleapis.com/token",
    }
    min_interval = 300.0  # quotas move by the minute, but every refresh costs a token and 3+ API calls
    timeout = 30.0
    env_vars = _google.ENV_VARS
    samples = (
        Sample("*limits.json", "limit", {"allocation": None, "rate": None}),
        Sample("*usage*.json", "allocation", {"rate": None, "limit": None, "has_limits": True}),
    )

    async def fetch(self, ctx: FetchContext) -> Raw:
        adc = await _google.load_adc(ctx, hint=RELOGIN)
        project = ctx.setting("project") or ctx.credentials.details.get("project") or adc.project
        if not project:
            raise ProviderConfigError("Vertex AI: no Google Cloud project is set", hint=HINT_PROJECT)
        token = await _google.access_token(ctx, adc, scope=SCOPE, hint=RELOGIN)
        headers = _google.bearer_headers(token, adc)
        base = f"{ctx.url('url')}/v3/projects/{quote(project, safe=':')}/timeSeries"
        now = ctx.now()

        async def series(params: list[tuple[str, str]], *, pages: int = MAX_PAGES) -> dict[str, Any]:
            async def page(token: str | None) -> dict[str, Any]:
                query = params + ([("pageToken", token)] if token else [])
                response = await _http.send(
                    ctx,
                    "GET",
                    f"{base}?{urlencode(query)}",
                    what="timeSeries request",
                    headers=headers,
                    ok_statuses=(200, 400, 403, 404),
                )
                if response.status_code != 200:
                    raise _google_error(response.status_code, response.content, project)
                return obj(_http.decode_json(ctx, response, what="timeSeries request"))

            found = await _http.pages(page, _next_page_token, limit=pages)
            return {"timeSeries": [entry for page in found for entry in items(page.get("timeSeries"))]}

        allocation = await series(
            _query(ALLOCATION, now - LOOKBACK, now, int(LOOKBACK.total_seconds()), "ALIGN_NEXT_OLDER")
        )
        rate = await series(
            _query(
                RATE,
                now - RATE_LOOKBACK,
                now,
                60,
                "ALIGN_SUM",
                reducer="REDUCE_SUM",
                group_by=("metric.label.quota_metric", "resource.label.location"),
            )
        )
        used = sorted(
            {
                m
                for s in (*allocation["timeSeries"], *rate["timeSeries"])
                if (m := opt_str(obj(obj(obj(s).get("metric")).get("labels")).get("quota_metric")))
            }
        )
        limits_query = _query(
            LIMIT,
            now - LOOKBACK,
            now,
            int(LOOKBACK.total_seconds()),
            "ALIGN_NEXT_OLDER",
            **({"quota_metrics": used} if used and len(used) <= MAX_ONE_OF else {}),
            **({} if used else {"view": "HEADERS", "page_size": 1}),
        )
        limit = await series(limits_query, pages=MAX_PAGES if used else 1)
        return {
            "allocation": allocation,
            "rate": rate,
            "limit": limit if used else {"timeSeries": []},
            "has_limits": bool(limit["timeSeries"]),
            "project": project,
        }

    def parse(self, raw: Raw, now: datetime) -> Usage:
        for name in ("allocation", "rate", "limit"):
            if raw.get(name) is not None and not isinstance(raw.get(name), dict):
                raise ParseError(f"Vertex AI: the {name} answer is not an object", field=name)
        usage = parse_quota(raw)
        if not usage.windows and not usage.warnings and raw.get("has_limits") is False:
            project = opt_str(raw.get("project")) or "the project"
            raise ProviderConfigError(
                f"Vertex AI: Cloud Monitoring has no {SERVICE} quotas for {project}",
                hint="Enable the Vertex AI API in that project, or set AGENTGAUGE_VERTEXAI_PROJECT to the project "
                "you use, then refresh.",
            )
        return usage


PROVIDER = VertexAI()
