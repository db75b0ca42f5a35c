"""The simulator's vertexai endpoints: Google's OAuth token endpoint and Cloud Monitoring's
``timeSeries.list`` for the ``consumer_quota`` metrics, checking what the real ones check.

Token endpoint: form-encoded body; the ``refresh_token`` grant needs the simulator's OAuth client
(``invalid_client``, 401, otherwise) and its refresh token (``invalid_grant``, 400); the
``jwt-bearer`` grant needs an RS256 JWT signed by a registered service-account key, ``aud`` equal to
the endpoint's own URL, ``scope`` and a lifetime of at most an hour. Monitoring: a Bearer token it
issued, the project (and ``x-goog-user-project``) it knows, a filter on one ``metric.type`` of
``consumer_quota`` with the service label, ``interval.endTime``, an ``alignmentPeriod`` of at least
60 s for any aligner, an aligner that suits the metric kind, and Google's error envelopes. Answers
come two series per page (``nextPageToken``) so clients must page.
"""

from __future__ import annotations

import base64
import json
import re
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
from ..simkit import SimContext
from . import SCOPE
from .parsing import ALLOCATION, LIMIT, RATE
from .simseries import ONE_OF, TYPE, aggregate, invalid, render

PROJECT = "sim-vertex-project"
DISABLED_PROJECT = "sim-monitoring-disabled"  # answers SERVICE_DISABLED
IDLE_PROJECT = "sim-vertex-idle"  # quotas, but nothing uses them
UNUSED_PROJECT = "sim-no-vertex"  # no aiplatform quotas at all
PROJECTS = (PROJECT, DISABLED_PROJECT, IDLE_PROJECT, UNUSED_PROJECT)
CLIENT_ID = "sim-adc-client.apps.googleusercontent.com"
CLIENT_SECRET = "sim-adc-client-secret"
REFRESH_TOKEN = "1//sim-adc-refresh-token"
SERVICE_ACCOUNT = "agentgauge-sim@sim-vertex-project.iam.gserviceaccount.com"
PAGE = 2  # series per page
GEN = "aiplatform.googleapis.com/generate_content_requests"
ENTITIES = "aiplatform.googleapis.com/reasoning_engine_service_entities"
# (quota metric, limit name, location, limit): per-model and project-wide limits of one metric,
# one regional allocation quota in two regions (only one of them in use).
LIMITS = (
    (GEN, "GenerateContentRequestsPerMinutePerProjectPerBaseModel", "global", 300),
    (GEN, "GenerateContentRequestsPerMinutePerProject", "global", 600),
    (ENTITIES, "ReasoningEngineEntitiesPerProjectPerRegion", "us-west1", 100),
    (ENTITIES, "ReasoningEngineEntitiesPerProjectPerRegion", "us-central1", 100),
)
METHODS = ("google.cloud.aiplatform.v1.PredictionService.GenerateContent", "StreamGenerateContent")
# Service-account keys this simulator trusts (written by ``service_account_file`` in this process).
_KEYS: dict[str, Any] = {}


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def service_account_file(path: Path, email: str = SERVICE_ACCOUNT) -> Path:
    """Write a service-account key file whose key this simulator trusts (tests run it in-process)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = secrets.token_hex(20)
    _KEYS[f"{email}/{key_id}"] = key.public_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    data = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": key_id,
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def user_file(path: Path, *, quota_project: str | None = PROJECT, refresh_token: str = REFRESH_TOKEN) -> Path:
    """Write an ``authorized_user`` ADC file like ``gcloud auth application-default login`` does."""
    data = {
        "account": "",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh_token,
        "type": "authorized_user",
        "universe_domain": "googleapis.com",
    }
    if quota_project:
        data["quota_project_id"] = quota_project
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def demo_settings(sim_url: str, workdir: Path) -> dict[str, str]:
    """A gcloud ADC file for the simulator's OAuth client and the demo project."""
    path = user_file(workdir / "gcloud" / "application_default_credentials.json")
    return {"credentials_file": str(path), "project": PROJECT}


def _oauth_error(error: str, description: str, status: int) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _google_error(status: int, code: str, message: str, reason: str | None = None) -> Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if reason:
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}
        ]
    return JSONResponse({"error": error}, status_code=status)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    issued: dict[str, tuple[str, datetime]] = {}  # access token -> (account, expiry)

    def issue(account: str) -> Response:
        token = f"ya29.sim-{secrets.token_urlsafe(24)}"
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
            return _oauth_error("invalid_grant", "Invalid JWT: malformed", 400)
        if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "RS256":
            return _oauth_error("invalid_grant", "Invalid JWT: the algorithm must be RS256", 400)
        key = _KEYS.get(f"{claims.get('iss')}/{header.get('kid')}")
        if key is None:
            return _oauth_error("invalid_grant", "Invalid grant: account not found", 400)
        try:
            key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return _oauth_error("invalid_grant", "Invalid JWT Signature.", 400)
        if claims.get("aud") != audience:
            return _oauth_error("invalid_grant", "Invalid JWT: the audience must be the token endpoint", 400)
        now = sim.now().timestamp()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or not (iat - 300 <= now < exp) or exp - iat > 3600:
            return _oauth_error(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
                400,
            )
        if not claims.get("scope"):
            return _oauth_error("invalid_scope", "Empty or missing scope not allowed.", 400)
        return str(claims["iss"])

    async def token(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return _oauth_error("invalid_request", "Invalid Content-Type", 400)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return _oauth_error("invalid_client", "The OAuth client was not found.", 401)
            presented = str(form.get("refresh_token") or "")
            if presented != REFRESH_TOKEN and not presented.startswith(REFRESH_TOKEN + "#"):
                return _oauth_error("invalid_grant", "Bad Request", 400)
            return issue(presented.partition("#")[2] or "default")
        if grant == JWT_BEARER:
            audience = str(request.url).split("?", 1)[0]
            found = jwt_account(str(form.get("assertion") or ""), audience)
            return found if isinstance(found, Response) else issue(found)
        return _oauth_error("unsupported_grant_type", "Invalid grant_type", 400)

    def caller(request: Request) -> str | Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        found = issued.get(token)
        if found is None or found[1] <= sim.now():
            return _google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                "or other valid authentication credential.",
            )
        return found[0]

    def series(metric: str, project: str, end: datetime) -> list[dict[str, Any]]:
        """Raw series: limits daily, allocation usage on change, rate usage per minute per method."""
        labels = {"project_id": project, "service": "aiplatform.googleapis.com"}
        if project in (UNUSED_PROJECT,):
            return []
        out: list[dict[str, Any]] = []
        if metric == LIMIT:
            for quota_metric, name, location, value in LIMITS:
                out.append(
                    {
                        "metric": {"type": LIMIT, "labels": {"limit_name": name, "quota_metric": quota_metric}},
                        "resource": {"type": "consumer_quota", "labels": {**labels, "location": location}},
                        "metricKind": "GAUGE",
                        "valueType": "INT64",
                        "points": [{"at": end - timedelta(hours=h), "value": value} for h in (3, 27)],
                    }
                )
            return out
        if project == IDLE_PROJECT:
            return []
        pct, _ = sim.window(f"vertexai:{project}:requests", 3600, high=80)
        if metric == ALLOCATION:
            entities = max(1, round(pct / 2))
            out.append(
                {
                    "metric": {"type": ALLOCATION, "labels": {"quota_metric": ENTITIES}},
                    "resource": {"type": "consumer_quota", "labels": {**labels, "location": "us-west1"}},
                    "metricKind": "GAUGE",
                    "valueType": "INT64",
                    "points": [{"at": end - timedelta(hours=h), "value": entities + 3 - h} for h in (0, 1, 2)],
                }
            )
            return out
        peak = max(2, round(600 * pct / 100))  # the busiest minute's total over both methods
        for share, method in zip((0.75, 0.25), METHODS, strict=True):
            points = []
            for minute in range(60):
                load = peak if minute == 17 else peak // 3
                points.append({"at": end - timedelta(minutes=minute), "value": round(load * share)})
            out.append(
                {
                    "metric": {"type": RATE, "labels": {"quota_metric": GEN, "method": method}},
                    "resource": {"type": "consumer_quota", "labels": {**labels, "location": "global"}},
                    "metricKind": "DELTA",
                    "valueType": "INT64",
                    "points": points,
                }
            )
        return out

    async def time_series(request: Request) -> Response:
        account = caller(request)
        if isinstance(account, Response):
            return account
        project = request.path_params["project"]
        quota_project = request.headers.get("x-goog-user-project")
        if quota_project is not None and quota_project not in PROJECTS:
            return _google_error(
                403,
                "PERMISSION_DENIED",
                f"Caller does not have required permission to use project {quota_project}.",
                "USER_PROJECT_DENIED",
            )
        if project == DISABLED_PROJECT:
            return _google_error(
                403,
                "PERMISSION_DENIED",
                f"Cloud Monitoring API has not been used in project {project} before or it is disabled.",
                "SERVICE_DISABLED",
            )
        if project not in PROJECTS:
            return _google_error(
                403,
                "PERMISSION_DENIED",
                "Permission monitoring.timeSeries.list denied (or the resource may not exist).",
            )
        query: dict[str, Any] = dict(request.query_params)
        query["aggregation.groupByFields"] = request.query_params.getlist("aggregation.groupByFields")
        problem = invalid(query)
        if problem:
            return _google_error(400, "INVALID_ARGUMENT", problem)
        metric = TYPE.search(query["filter"])[1]  # type: ignore[index]
        end = datetime.fromisoformat(query["interval.endTime"].replace("Z", "+00:00"))
        start = (
            datetime.fromisoformat(query["interval.startTime"].replace("Z", "+00:00"))
            if query.get("interval.startTime")
            else end - timedelta(minutes=1)
        )
        raw = series(metric, project, end)
        wanted = ONE_OF.search(query["filter"])
        if wanted:
            names = set(re.findall(r'"([^"]+)"', wanted[1]))
            raw = [s for s in raw if s["metric"]["labels"].get("quota_metric") in names]
        found = aggregate(raw, start, end, query)
        offset = int(query.get("pageToken") or 0)
        size = min(PAGE, int(query.get("pageSize") or PAGE))
        page = found[offset : offset + size]
        body: dict[str, Any] = {"timeSeries": [render(s, query.get("view") == "HEADERS") for s in page], "unit": "1"}
        if offset + size < len(found):
            body["nextPageToken"] = str(offset + size)
        if not body["timeSeries"]:
            body = {"unit": "1"}  # Google leaves timeSeries out when nothing matches
        return JSONResponse(body)

    return {
        "token_url": [Route("/token", token, methods=["POST"])],
        "url": [Route("/v3/projects/{project}/timeSeries", time_series, methods=["GET"])],
    }
