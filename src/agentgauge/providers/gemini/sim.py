"""The simulator's gemini endpoints: Google's token endpoint, Cloud Quotas, Cloud Monitoring and the
Gemini API, checking what the real ones check (loaded only by the simulator).

Token endpoint: form-encoded ``refresh_token`` grant of the simulator's OAuth client, or a
``jwt-bearer`` assertion signed by a key ``service_account_file`` registered (RS256, ``aud`` the
endpoint, the ``cloud-platform`` scope). Cloud Quotas and Monitoring: a Bearer token it issued (an
API key there is 401 ``UNAUTHENTICATED``), a project it knows (``x-goog-user-project`` too), int64
values as strings, a few items per page with ``nextPageToken``; Monitoring needs the ``net_usage`` filter
on ``consumer_quota`` of ``generativelanguage.googleapis.com``, both interval ends, an alignment
period of at least 60 s and ``ALIGN_SUM``. Use is reported per quota metric and method (no model),
except in project ``sim-gemini-labelled``, whose series carry a ``model`` label. The Gemini API takes
``x-goog-api-key`` (a Bearer ``AIza...`` is refused); API key demo account ``exhausted`` gets a 429 with
``QuotaFailure``/``RetryInfo``/``Help``, ``helponly`` a 429 with only ``Help``.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._google import JWT_BEARER
from ..simkit import SimContext, iso
from . import NET_USAGE, PROVIDER, SCOPE, SERVICE

PROJECT = "sim-gemini-project"
LABELLED = "sim-gemini-labelled"
DISABLED = "sim-gemini-disabled"
PROJECTS = (PROJECT, LABELLED, DISABLED)
CLIENT_ID = "sim-gemini-client.apps.googleusercontent.com"
CLIENT_SECRET = "sim-gemini-client-secret"
REFRESH_TOKEN = "1//sim-gemini-refresh-token"
SERVICE_ACCOUNT = "agentgauge-sim@sim-gemini-project.iam.gserviceaccount.com"
FREE_REQUESTS = f"{SERVICE}/generate_content_free_tier_requests"
FREE_INPUT = f"{SERVICE}/generate_content_free_tier_input_token_count"
PAID_INPUT = f"{SERVICE}/generate_content_paid_tier_input_token_count"
MODELS = ("gemini-2.5-flash", "gemini-2.5-pro")
# (quotaId, metric, refresh interval, {model: limit})
QUOTAS = (
    (
        "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
        FREE_REQUESTS,
        "minute",
        {"gemini-2.5-flash": 10, "gemini-2.5-pro": 5},
    ),
    (
        "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
        FREE_REQUESTS,
        "day",
        {"gemini-2.5-flash": 250, "gemini-2.5-pro": 100},
    ),
    (
        "GenerateContentInputTokensPerModelPerMinute-FreeTier",
        FREE_INPUT,
        "minute",
        {"gemini-2.5-flash": 250000, "gemini-2.5-pro": 125000},
    ),
    ("GenerateContentPaidTierInputTokensPerModelPerMinute", PAID_INPUT, "minute", {"gemini-2.5-flash": 1000000}),
)
PAGE = 2  # quota infos per page, so clients must page
SERIES_PAGE = 5  # series per page (the real default is far larger)
METHOD = "google.ai.generativelanguage.v1beta.GenerativeService"
HELP = {
    "@type": "type.googleapis.com/google.rpc.Help",
    "links": [
        {
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
        }
    ],
}
_KEYS: dict[str, Any] = {}  # service-account keys this simulator trusts, by "<email>/<key id>"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def service_account_file(path: Path, email: str = SERVICE_ACCOUNT) -> Path:
    """Write a service-account key file whose key this simulator trusts (tests run it in-process)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = secrets.token_hex(20)
    _KEYS[f"{email}/{key_id}"] = key.public_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    data = {"type": "service_account", "project_id": PROJECT, "private_key_id": key_id, "private_key": pem.decode(),
            "client_email": email, "token_uri": "https://oauth2.googleapis.com/token"}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def user_file(path: Path, *, quota_project: str | None = PROJECT, refresh_token: str = REFRESH_TOKEN) -> Path:
    """An ``authorized_user`` ADC file like ``gcloud auth application-default login`` writes."""
    data = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh_token,
        "type": "authorized_user",
    }
    if quota_project:
        data["quota_project_id"] = quota_project
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def demo_settings(sim_url: str, workdir: Path) -> dict[str, str]:
    return {"credentials_file": str(user_file(workdir / "gcloud" / "application_default_credentials.json")),
            "project": PROJECT}  # fmt: skip


def google_error(status: int, state: str, message: str, reason: str | None = None) -> Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": state}
    if reason:
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}
        ]
    return JSONResponse({"error": error}, status_code=status)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    issued: dict[str, tuple[str, datetime]] = {}

    def oauth_error(error: str, status: int) -> Response:
        return JSONResponse({"error": error, "error_description": error.replace("_", " ")}, status_code=status)

    def issue(account: str) -> Response:
        token = f"ya29.sim-{secrets.token_urlsafe(20)}"
        issued[token] = (account, sim.now() + timedelta(seconds=3599))
        return JSONResponse({"access_token": token, "expires_in": 3599, "scope": SCOPE, "token_type": "Bearer"})

    def jwt_account(assertion: str, audience: str) -> str | Response:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        parts = assertion.split(".")
        try:
            header, claims = (json.loads(_b64decode(p)) for p in parts[:2])
            signature = _b64decode(parts[2])
        except (ValueError, IndexError):
            return oauth_error("invalid_grant", 400)
        key = _KEYS.get(f"{claims.get('iss')}/{header.get('kid')}") if isinstance(claims, dict) else None
        if key is None or header.get("alg") != "RS256":
            return oauth_error("invalid_grant", 400)
        try:
            key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return oauth_error("invalid_grant", 400)
        now = sim.now().timestamp()
        iat, exp = claims.get("iat"), claims.get("exp")
        if (
            claims.get("aud") != audience
            or not isinstance(iat, int)
            or not isinstance(exp, int)
            or not iat - 300 <= now < exp
        ):
            return oauth_error("invalid_grant", 400)
        if claims.get("scope") != SCOPE:
            return oauth_error("invalid_scope", 400)
        return "default"

    async def token(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return oauth_error("invalid_request", 400)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") == "refresh_token":
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return oauth_error("invalid_client", 401)
            presented = form.get("refresh_token") or ""
            if presented != REFRESH_TOKEN and not presented.startswith(REFRESH_TOKEN + "#"):
                return oauth_error("invalid_grant", 400)
            return issue(presented.partition("#")[2] or "default")
        if form.get("grant_type") == JWT_BEARER:
            found = jwt_account(form.get("assertion") or "", str(request.url).split("?")[0])
            return found if isinstance(found, Response) else issue(found)
        return oauth_error("unsupported_grant_type", 400)

    def caller(request: Request) -> str | Response:
        header = request.headers.get("authorization", "")
        found = issued.get(header[7:].strip() if header.lower().startswith("bearer ") else "")
        if found is None or found[1] <= sim.now():
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        project = request.path_params["project"]
        if project not in PROJECTS or request.headers.get("x-goog-user-project", PROJECT) not in PROJECTS:
            return google_error(403, "PERMISSION_DENIED", "Permission denied on the project (or it may not exist).")
        return found[0]

    def paged(request: Request, key: str, entries: list[Any], page: int = PAGE) -> Response:
        offset = int(request.query_params.get("pageToken") or 0)
        size = min(int(request.query_params.get("pageSize") or page), page)
        body: dict[str, Any] = {key: entries[offset : offset + size]}
        if offset + size < len(entries):
            body["nextPageToken"] = str(offset + size)
        if not body[key]:
            body.pop(key)  # Google leaves an empty list out
        return JSONResponse(body)

    async def quota_infos(request: Request) -> Response:
        who = caller(request)
        if isinstance(who, Response):
            return who
        project = request.path_params["project"]
        if project == DISABLED:
            return google_error(
                403, "PERMISSION_DENIED", "Cloud Quotas API has not been used in project.", "SERVICE_DISABLED"
            )
        if request.path_params["service"] != SERVICE:
            return google_error(404, "NOT_FOUND", "Service not found.")
        infos = []
        for quota_id, metric, interval, per_model in QUOTAS:
            infos.append(
                {
                    "name": f"projects/{project}/locations/global/services/{SERVICE}/quotaInfos/{quota_id}",
                    "quotaId": quota_id,
                    "metric": metric,
                    "service": SERVICE,
                    "isPrecise": True,
                    "refreshInterval": interval,
                    "containerType": "PROJECT",
                    "dimensions": ["model"],
                    "metricDisplayName": metric.rsplit("/", 1)[-1],
                    "quotaDisplayName": quota_id,
                    "metricUnit": "1",
                    "dimensionsInfos": [
                        {
                            "dimensions": {"model": model},
                            "details": {"value": str(value)},
                            "applicableLocations": ["global"],
                        }
                        for model, value in per_model.items()
                    ],
                }
            )
        return paged(request, "quotaInfos", infos)

    async def time_series(request: Request) -> Response:
        who = caller(request)
        if isinstance(who, Response):
            return who
        query = request.query_params
        wanted = f'metric.type="{NET_USAGE}"', 'resource.type="consumer_quota"', f'resource.labels.service="{SERVICE}"'
        if not all(part in (query.get("filter") or "") for part in wanted):
            return google_error(400, "INVALID_ARGUMENT", "Only the Gemini API's net_usage is simulated.")
        try:
            start = datetime.fromisoformat(query["interval.startTime"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(query["interval.endTime"].replace("Z", "+00:00"))
            period = int(query["aggregation.alignmentPeriod"].removesuffix("s"))
        except (KeyError, ValueError):
            return google_error(
                400, "INVALID_ARGUMENT", "interval.startTime, interval.endTime and alignmentPeriod are required."
            )
        if period < 60 or query.get("aggregation.perSeriesAligner") != "ALIGN_SUM" or end <= start:
            return google_error(400, "INVALID_ARGUMENT", "The alignment period must be at least 60s with ALIGN_SUM.")
        labelled = request.path_params["project"] == LABELLED
        steps = max(1, int((end - start).total_seconds() // period))
        series = []
        for metric, per_minute in ((FREE_REQUESTS, 8), (PAID_INPUT, 600000)):
            for model in MODELS if labelled else (None,):
                for method, share in ((f"{METHOD}.GenerateContent", 0.75), (f"{METHOD}.StreamGenerateContent", 0.25)):
                    pct, _ = sim.window(f"gemini:{who}:{metric}:{model}", 3600, high=85)
                    points = []
                    for n in range(steps):
                        load = pct / 100 * (1.0 if n == 2 else 0.4) * (0.5 if model == "gemini-2.5-pro" else 1.0)
                        # rounded up: the quiet start of the usage curve still shows some use (not 0)
                        value = math.ceil(per_minute * load * share * period / 60 * (0.3 if period > 60 else 1))
                        at_end = end - timedelta(seconds=period * n)
                        points.append(
                            {"interval": {"startTime": iso(at_end - timedelta(seconds=period)), "endTime": iso(at_end)},
                             "value": {"int64Value": str(value)}}
                        )  # fmt: skip
                    labels = {"quota_metric": metric, "method": method, **({"model": model} if model else {})}
                    series.append(
                        {
                            "metric": {"type": NET_USAGE, "labels": labels},
                            "resource": {
                                "type": "consumer_quota",
                                "labels": {
                                    "project_id": request.path_params["project"],
                                    "service": SERVICE,
                                    "location": "global",
                                },
                            },
                            "metricKind": "DELTA",
                            "valueType": "INT64",
                            "points": points,
                        }
                    )
        return paged(request, "timeSeries", series, SERIES_PAGE)

    def api_key_account(request: Request) -> str | Response:
        if request.headers.get("authorization", "").lower().startswith("bearer aiza"):
            return google_error(
                401, "UNAUTHENTICATED", "API keys are not supported by this API. Expected OAuth2 access token."
            )
        account = sim.account_of(PROVIDER.id, "api_key", request.headers.get("x-goog-api-key"))
        if account is None:
            return google_error(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"
            )
        return account

    async def models(request: Request) -> Response:
        account = api_key_account(request)
        if isinstance(account, Response):
            return account
        listed = [
            {"name": f"models/{m}", "displayName": m, "supportedGenerationMethods": ["generateContent"]} for m in MODELS
        ]
        return JSONResponse({"models": listed[:1], "nextPageToken": "sim-next"})

    async def generate(request: Request) -> Response:
        account = api_key_account(request)
        if isinstance(account, Response):
            return account
        name, _, action = request.path_params["name"].partition(":")
        if action != "generateContent" or name not in MODELS:
            return google_error(404, "NOT_FOUND", f"models/{name} is not found for API version v1beta.")
        if account in ("exhausted", "helponly"):
            details: list[dict[str, Any]] = [HELP]
            if account == "exhausted":
                violation = {
                    "quotaMetric": FREE_REQUESTS,
                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": name},
                    "quotaValue": "250",
                }
                details = [
                    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]},
                    HELP,
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "47.884324799s"},
                ]
            message = "You exceeded your current quota, please check your plan and billing details."
            body = {"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED", "details": details}}
            return JSONResponse(body, status_code=429)
        answer = {
            "candidates": [
                {"content": {"parts": [{"text": "Hi"}], "role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}
            ],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
            "modelVersion": name,
        }
        return JSONResponse(answer)

    return {
        "token_url": [Route("/token", token, methods=["POST"])],
        "quotas_url": [Route("/v1/projects/{project}/locations/global/services/{service}/quotaInfos", quota_infos)],
        "monitoring_url": [Route("/v3/projects/{project}/timeSeries", time_series)],
        "url": [Route("/v1beta/models", models), Route("/v1beta/models/{name}", generate, methods=["POST"])],
    }
