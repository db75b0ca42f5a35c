"""The simulator's gemini_cli endpoints (loaded only by the simulator):

- ``url``: Code Assist's ``loadCodeAssist`` and ``retrieveUserQuota`` (POST, JSON), with a Bearer
  access token; Google's error body ``{"error": {"code", "message", "status"}}``. The account
  ``consumer`` is an individual account after Google ended Gemini CLI sign-in for them (403 naming
  ``UNSUPPORTED_CLIENT``, the marker CodexBar's provider reads); ``noproject`` has no Code Assist
  project, so the client looks one up in the project list.
- ``token_url``: ``POST /token`` (form): the refresh_token grant, checking the client id and secret;
  a renewed access token is the simulator's.
- ``projects_url``: ``GET /v1/projects`` (Cloud Resource Manager).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import LOAD_PATH, PROJECTS_PATH, PROVIDER, QUOTA_PATH

MODELS = ("gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-3-pro-preview")


def _google_error(code: int, status: str, message: str, reason: str | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    return JSONResponse({"error": error}, status_code=code)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        return sim.bearer_account(request, PROVIDER.id, "api_key")

    def unauthenticated() -> Response:
        return _google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")

    def project_for(account: str) -> str:
        return f"sim-companion-{account}"

    async def load(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthenticated()
        if account == "consumer":
            message = "Gemini Code Assist for individuals is no longer supported for this client."
            return _google_error(403, "PERMISSION_DENIED", message, "UNSUPPORTED_CLIENT")
        body = await request.json()
        if not isinstance(body.get("metadata"), dict):
            return _google_error(400, "INVALID_ARGUMENT", "metadata is required")
        answer: dict[str, Any] = {
            "currentTier": {"id": "standard-tier", "name": "Gemini Code Assist Standard"},
            "allowedTiers": [{"id": "standard-tier", "isDefault": True}],
        }
        if account != "noproject":
            answer["cloudaicompanionProject"] = project_for(account)
            answer["paidTier"] = {"id": "g1-pro-tier", "name": "Gemini Code Assist in Google One AI Pro"}
        return JSONResponse(answer)

    async def quota(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthenticated()
        project = (await request.json()).get("project")
        expected = "gen-lang-client-0123456789" if account == "noproject" else project_for(account)
        if project != expected:
            return _google_error(403, "PERMISSION_DENIED", "The caller does not have permission on the project.")
        now = sim.now().astimezone(UTC)
        buckets = []
        for model in MODELS:
            pct, reset = sim.window(f"gemini_cli:{account}:{model}", 86400)
            buckets.append(
                {
                    "modelId": model,
                    "tokenType": "REQUESTS",
                    "remainingFraction": round(1 - pct / 100, 4),
                    "resetTime": iso(reset),
                }
            )
        # A second bucket of one model (another token type) with less left: the model's limit is the lower.
        buckets.append(
            {
                "modelId": MODELS[2],
                "tokenType": "TOKENS",
                "remainingFraction": 0.05,
                "resetTime": iso(now + timedelta(hours=3)),
            }
        )
        return JSONResponse({"buckets": buckets})

    async def token(request: Request) -> Response:
        form = await request.form()
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if client_id != sim.credential(PROVIDER.id, "client_id") or secret != sim.credential(
            PROVIDER.id, "client_secret"
        ):
            return JSONResponse({"error": "invalid_client", "error_description": "Unauthorized"}, status_code=401)
        account = sim.account_of(PROVIDER.id, "refresh_token", str(form.get("refresh_token") or ""))
        if account is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "Bad Request"}, status_code=400)
        access = sim.credential(PROVIDER.id, "api_key") + ("" if account == "default" else f"#{account}")
        answer = {
            "access_token": access,
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": "https://www.googleapis.com/auth/cloud-platform",
        }
        return JSONResponse(answer)

    async def projects(request: Request) -> Response:
        if account_of(request) is None:
            return unauthenticated()
        listed = [
            {"projectId": "my-other-project", "labels": {}},
            {"projectId": "gen-lang-client-0123456789", "labels": {"generative-language": "enabled"}},
        ]
        return JSONResponse({"projects": listed})

    return {
        "url": [Route(LOAD_PATH, load, methods=["POST"]), Route(QUOTA_PATH, quota, methods=["POST"])],
        "token_url": [Route("/token", token, methods=["POST"])],
        "projects_url": [Route(PROJECTS_PATH, projects)],
    }
