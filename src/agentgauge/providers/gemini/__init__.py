"""Gemini API (Google AI Studio): per-model limits from Cloud Quotas with their use from Cloud
Monitoring, for Google Cloud credentials; with only an API key, what little a key can learn.

With Google credentials (an Application Default Credentials file: ``gcloud auth application-default
login`` or a service-account key; the toolkit's ``_google``), for the project:

1. ``GET {quotas_url}/v1/projects/{p}/locations/global/services/generativelanguage.googleapis.com/quotaInfos``
   (paged by ``pageToken``): the limits;
2. ``GET {monitoring_url}/v3/projects/{p}/timeSeries`` of ``quota/rate/net_usage``: sums per minute over
   the last 15 minutes, and one sum since midnight Pacific (when per-day limits reset).

An API key (``x-goog-api-key``) cannot read either; ``GET {url}/v1beta/models`` checks it, and with
``probe = on`` one ``generateContent`` of ``maxOutputTokens: 1`` per refresh tells whether a limit is
exhausted (its 429's ``QuotaFailure`` names the limit and its value, ``RetryInfo`` the wait).
"""

from __future__ import annotations

from collections.abc import Mapping
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
from .._settings import probe_on, probe_setting
from . import parsing

SERVICE = "generativelanguage.googleapis.com"
NET_USAGE = "serviceruntime.googleapis.com/quota/rate/net_usage"
SCOPE = _google.CLOUD_PLATFORM  # what Cloud Quotas needs
RELOGIN = (
    "Run `gcloud auth application-default login` (or point AGENTGAUGE_GEMINI_CREDENTIALS_FILE at a "
    "service-account key file), then refresh."
)
RECENT = timedelta(minutes=15)
MAX_PAGES = 20
DEFAULT_PROBE_MODEL = "gemini-2.5-flash"
GEMINI_SIGNALS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
KEY_HINT = "Set AGENTGAUGE_GEMINI_API_KEY (or GEMINI_API_KEY) to a key from https://aistudio.google.com/apikey."
HINT_PROJECT = "Set AGENTGAUGE_GEMINI_PROJECT (or GOOGLE_CLOUD_PROJECT) to the project of your Gemini API key."


def _discover_adc(ctx: DiscoverContext) -> Discovered | None:
    """The ADC file (``GOOGLE_APPLICATION_CREDENTIALS``, else gcloud's), used for Gemini only when a
    Gemini API key says the Gemini API is in use: many gcloud users have none."""
    if not any(ctx.env.get(name) for name in GEMINI_SIGNALS):
        return None
    return _google.discover_adc(ctx, provider="Gemini", hint=RELOGIN)


def google_error(status: int, body: bytes, project: str, api: str) -> ProviderError:
    """Google's ``{"error": {code, message, status, details}}`` as a typed error."""
    try:
        error = obj(obj(orjson.loads(body)).get("error"))
    except orjson.JSONDecodeError:
        error = {}
    reasons = {opt_str(d.get("reason")) for d in items(error.get("details"))}
    state = opt_str(error.get("status")) or f"HTTP {status}"
    if "SERVICE_DISABLED" in reasons:
        host = "cloudquotas.googleapis.com" if api == "Cloud Quotas" else "monitoring.googleapis.com"
        return ProviderConfigError(
            f"Gemini: the {api} API is not enabled for project {project}",
            hint=f"Run `gcloud services enable {host} --project {project}`, then refresh.",
        )
    if "API_KEY_INVALID" in reasons or status in (401, 403):
        return AuthError(f"Gemini: {api} refused the credentials ({state})", hint=RELOGIN, status_code=status)
    if status == 404:
        return ProviderConfigError(f"Gemini: {api} does not know project {project} ({state})", hint=HINT_PROJECT)
    return UpstreamError(f"Gemini: {api} answered {state}", status_code=status)


def _next_page_token(page: dict[str, Any]) -> str | None:
    return opt_str(page.get("nextPageToken"))


class Gemini(Provider):
    id = "gemini"
    name = "Gemini API"
    docs_url = "https://aistudio.google.com/usage"
    settings = (
        Setting(
            "credentials_file",
            "An Application Default Credentials file (gcloud auth application-default login, or a "
            "service-account key); found automatically when a Gemini API key is set too.",
        ),
        Setting(
            "project",
            "The Google Cloud project of the Gemini API key.",
            env=_google.PROJECT_ENV,
        ),
        Setting("api_key", "Gemini API key (AIza...).", secret=True, env=GEMINI_SIGNALS),
        probe_setting(
            "'on': send one generateContent of maxOutputTokens 1 per refresh with the API key (costs a few "
            "tokens) to learn whether a limit is exhausted."
        ),
        Setting("probe_model", "Model of the minimal call.", default=DEFAULT_PROBE_MODEL),
        Setting("url", "Base URL of the Gemini API.", default="https://generativelanguage.googleapis.com"),
        Setting("quotas_url", "Base URL of the Cloud Quotas API.", default="https://cloudquotas.googleapis.com"),
        Setting("monitoring_url", "Base URL of the Cloud Monitoring API.", default="https://monitoring.googleapis.com"),
        Setting("token_url", "Google's OAuth token endpoint.", default="https://oauth2.googleapis.com/token"),
    )
    auth = (
        AuthSource(
            id="adc",
            source="local_file",
            label="Google Cloud credentials (ADC)",
            requires=("credentials_file",),
            optional=("api_key",),
            hint=RELOGIN,
            discover=_discover_adc,
            discovered_source="local_file",
        ),
        AuthSource(
            id="api_key",
            source="api_key",
            label="Gemini API key",
            requires=("api_key",),
            hint=KEY_HINT,
            discovered_source="api_key",
        ),
    )
    windows = (
        WindowSpec("rpm_*", "Requests per minute", 60, "requests"),
        WindowSpec("rpd_*", "Requests per day", 86400, "requests"),
        WindowSpec("tpm_*", "Tokens per minute", 60, "tokens"),
        WindowSpec("tpd_*", "Tokens per day", 86400, "tokens"),
    )
    urls: ClassVar[Mapping[str, str]] = {
        "url": "https://generativelanguage.googleapis.com",
        "quotas_url": "https://cloudquotas.googleapis.com",
        "monitoring_url": "https://monitoring.googleapis.com",
        "token_url": "https://oauth2.googleapis.com/token",
    }
    min_interval = 300.0  # Monitoring is minutes late; the opt-in call costs tokens
    timeout = 40.0
    env_vars = _google.ENV_VARS
    samples = (
        Sample("quota-infos*.json", "quotas", {"minutes": None, "today": None}),
        Sample("time-series*.json", "minutes", {"quotas": {"quotaInfos": []}, "today": None}),
        Sample("error-429*.json", "body", {"models": {}, "probe_status": 429}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {"api_key": "AIzaSimGeminiApiKey000000000000000000000"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        raw: dict[str, Any] = {}
        key = ctx.credentials.get("api_key")
        if ctx.credentials.auth.id == "adc":
            raw.update(await self._cloud(ctx))
        else:
            raw["models"] = await self._check_key(ctx, str(key))
        if key and probe_on(ctx.settings):
            raw["probe"] = await self._probe(ctx, key)
        return raw

    async def _cloud(self, ctx: FetchContext) -> dict[str, Any]:
        adc = await _google.load_adc(ctx, hint=RELOGIN)
        project = ctx.setting("project") or ctx.credentials.details.get("project") or adc.project
        if not project:
            raise ProviderConfigError("Gemini: no Google Cloud project is set", hint=HINT_PROJECT)
        headers = _google.bearer_headers(await _google.access_token(ctx, adc, scope=SCOPE, hint=RELOGIN), adc)
        now = ctx.now()
        since = _time.last_pacific_midnight(now)
        day_period = max(60, -(-int((now - since).total_seconds()) // 60) * 60)
        quotas, minutes, today = await _http.together(
            self._quota_infos(ctx, project, headers),
            self._series(ctx, project, headers, now - RECENT, now, 60),
            self._series(ctx, project, headers, now - timedelta(seconds=day_period), now, day_period),
        )
        return {"project": project, "quotas": quotas, "minutes": minutes, "today": today}

    async def _get_pages(
        self,
        ctx: FetchContext,
        url: str,
        params: list[tuple[str, str]],
        headers: dict[str, str],
        list_key: str,
        api: str,
    ) -> dict[str, Any]:
        project = url.split("/projects/", 1)[-1].split("/", 1)[0]

        async def page(token: str | None) -> dict[str, Any]:
            query = params + ([("pageToken", token)] if token else [])
            response = await _http.send(
                ctx, "GET", f"{url}?{urlencode(query)}", what=f"{api} request", headers=headers,
                ok_statuses=(200, 400, 403, 404),
            )  # fmt: skip
            if response.status_code != 200:
                raise google_error(response.status_code, response.content, project, api)
            page = obj(_http.decode_json(ctx, response, what=f"{api} request"))
            if page.get(list_key) is not None and not isinstance(page.get(list_key), list):
                raise ParseError(f"Gemini: the {api} answer's '{list_key}' is not a list", field=list_key)
            return page

        found = await _http.pages(page, _next_page_token, limit=MAX_PAGES)
        return {list_key: [entry for page in found for entry in items(page.get(list_key))]}

    async def _quota_infos(self, ctx: FetchContext, project: str, headers: dict[str, str]) -> dict[str, Any]:
        url = (
            f"{ctx.url('quotas_url')}/v1/projects/{quote(project, safe='')}/locations/global/services/"
            f"{SERVICE}/quotaInfos"
        )
        return await self._get_pages(ctx, url, [("pageSize", "100")], headers, "quotaInfos", "Cloud Quotas")

    async def _series(
        self, ctx: FetchContext, project: str, headers: dict[str, str], start: datetime, end: datetime, period: int
    ) -> dict[str, Any]:
        params = [
            (
                "filter",
                f'metric.type="{NET_USAGE}" AND resource.type="consumer_quota" AND resource.labels.service="{SERVICE}"',
            ),
            ("interval.startTime", _time.rfc3339(start)),
            ("interval.endTime", _time.rfc3339(end)),
            ("aggregation.alignmentPeriod", f"{period}s"),
            ("aggregation.perSeriesAligner", "ALIGN_SUM"),
        ]
        url = f"{ctx.url('monitoring_url')}/v3/projects/{quote(project, safe='')}/timeSeries"
        return await self._get_pages(ctx, url, params, headers, "timeSeries", "Cloud Monitoring")

    async def _check_key(self, ctx: FetchContext, key: str) -> dict[str, Any]:
        response = await _http.send(
            ctx, "GET", f"{ctx.url('url')}/v1beta/models?pageSize=1", what="model list",
            headers={"x-goog-api-key": key.strip(), "Accept": "application/json"}, ok_statuses=(200, 400, 403),
        )  # fmt: skip
        if response.status_code != 200:
            error = google_error(response.status_code, response.content, "-", "the Gemini API")
            if isinstance(error, AuthError):
                error.hint = KEY_HINT
            raise error
        return obj(_http.decode_json(ctx, response, what="model list"))

    async def _probe(self, ctx: FetchContext, key: str) -> dict[str, Any]:
        model = ctx.setting("probe_model") or DEFAULT_PROBE_MODEL
        url = f"{ctx.url('url')}/v1beta/models/{quote(model, safe='.-')}:generateContent"
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputTokens": 1}}
        headers = {"x-goog-api-key": key.strip(), "Accept": "application/json"}
        response = await _http.send(
            ctx, "POST", url, what="minimal call", headers=headers, json=body, ok_statuses=(200, 400, 403, 429)
        )
        if response.status_code in (400, 403):
            error = google_error(response.status_code, response.content, "-", "the Gemini API")
            if isinstance(error, AuthError):
                error.hint = KEY_HINT
            raise error
        record: dict[str, Any] = {"status": response.status_code, "model": model}
        if response.status_code == 429:
            try:
                record["body"] = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                record["body"] = {}
        return record

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if "body" in raw and "probe_status" in raw:  # a recorded 429 body (tests/fixtures/gemini/error-429-*)
            raw = {"models": raw.get("models") or {}, "probe": {"status": raw["probe_status"], "body": raw["body"]}}
        return parsing.parse(raw, now)


PROVIDER = Gemini()
