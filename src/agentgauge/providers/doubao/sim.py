"""The simulator's doubao endpoints (loaded only by the simulator):

- ``url``: Volcengine's OpenAPI, ``POST /?Action=GetCodingPlanUsage|GetAFPUsage&Version=2024-01-01``.
  It checks the request as Volcengine does: the ``HMAC-SHA256`` Authorization with the credential
  scope ``<date>/<region>/ark/request``, the signed headers, ``X-Content-Sha256`` against the body,
  and the signature recomputed with the simulator's secret key. Errors are Volcengine's
  ``ResponseMetadata.Error`` (an unknown key ``InvalidAccessKey`` with 401, a bad signature
  ``SignatureDoesNotMatch`` with 403). The account ``codingonly`` has no Agent Plan (404 there).
- ``ark_url``: the Ark API's ``POST /chat/completions`` with a Bearer key, answering with the
  ``x-ratelimit-*-requests`` headers. The account ``lite`` may use only the last probe model.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import PROBE_MODELS, PROVIDER, VERSION
from .signer import ALGORITHM, SERVICE, SIGNED_HEADERS, signature

AUTH = re.compile(
    rf"^{ALGORITHM} Credential=([^/]+)/(\d{{8}})/([^/]+)/{SERVICE}/request, "
    r"SignedHeaders=([^,]+), Signature=([0-9a-f]+)$"
)
REQUESTS_PER_MINUTE = 1200


def _error(action: str, code: str, message: str, status: int) -> Response:
    meta = {
        "RequestId": "sim",
        "Action": action,
        "Version": VERSION,
        "Service": SERVICE,
        "Error": {"Code": code, "Message": message},
    }
    return JSONResponse({"ResponseMetadata": meta}, status_code=status)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def verified(request: Request, body: bytes, action: str) -> tuple[str | None, Response | None]:
        match = AUTH.match(request.headers.get("authorization", ""))
        if match is None:
            return None, _error(action, "MissingAuthenticationToken", "no valid Authorization header", 401)
        access_key, _date, region, signed, given = match.groups()
        account = sim.account_of(PROVIDER.id, "access_key_id", access_key)
        if account is None:
            return None, _error(action, "InvalidAccessKey", "The access key is invalid", 401)
        headers = {name: request.headers.get(name, "") for name in SIGNED_HEADERS.split(";")}
        if signed != SIGNED_HEADERS or headers["x-content-sha256"] != hashlib.sha256(body).hexdigest():
            return None, _error(action, "SignatureDoesNotMatch", "signed headers or payload hash do not match", 403)
        secret = sim.credential(PROVIDER.id, "secret_access_key") + ("" if account == "default" else f"#{account}")
        try:
            when = datetime.strptime(headers["x-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return None, _error(action, "InvalidTimestamp", "bad X-Date", 400)
        url = str(request.url)
        expected, _ = signature(
            method=request.method, url=url, body=body, headers=headers, secret_key=secret, region=region, when=when
        )
        if not hmac.compare_digest(expected, given):
            return None, _error(action, "SignatureDoesNotMatch", "The request signature does not match", 403)
        return account, None

    async def openapi(request: Request) -> Response:
        action = request.query_params.get("Action", "")
        if request.query_params.get("Version") != VERSION or action not in ("GetCodingPlanUsage", "GetAFPUsage"):
            return _error(action, "InvalidActionOrVersion", "unknown action or version", 404)
        account, failure = verified(request, await request.body(), action)
        if failure is not None or account is None:
            return failure or _error(action, "InvalidAccessKey", "no account", 401)
        meta = {"RequestId": "sim", "Action": action, "Version": VERSION, "Service": SERVICE, "Region": "cn-beijing"}
        if action == "GetCodingPlanUsage":
            quotas = []
            for level, seconds in (("session", 18000), ("weekly", 604800), ("monthly", 30 * 86400)):
                pct, reset = sim.window(f"doubao:{account}:{level}", seconds)
                quotas.append({"Level": level, "Percent": pct, "ResetTimestamp": int(reset.timestamp())})
            coding = {"Status": "Running", "UpdateTimestamp": int(sim.now().timestamp()), "QuotaUsage": quotas}
            return JSONResponse({"ResponseMetadata": meta, "Result": coding})
        if account == "codingonly":
            return _error(action, "NotFound", "no Agent Plan subscription", 404)
        result: dict[str, Any] = {"PlanType": "medium"}
        for key, quota, seconds in (
            ("AFPFiveHour", 10000, 18000),
            ("AFPWeekly", 35000, 604800),
            ("AFPMonthly", 100000, 30 * 86400),
        ):
            pct, reset = sim.window(f"doubao:{account}:{key}", seconds, high=60)
            result[key] = {"Quota": quota, "Used": round(quota * pct / 100), "ResetTime": int(reset.timestamp() * 1000)}
        return JSONResponse({"ResponseMetadata": meta, "Result": result})

    async def completions(request: Request) -> Response:
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            error = {"code": "AuthenticationError", "message": "the API key is invalid", "type": "Unauthorized"}
            return JSONResponse({"error": error}, status_code=401)
        payload = await request.json()
        usable = PROBE_MODELS[-1:] if account == "lite" else PROBE_MODELS  # a key opened for one model only
        if payload.get("model") not in usable:
            error = {"code": "InvalidEndpointOrModel.NotFound", "message": "model not found", "type": "NotFound"}
            return JSONResponse({"error": error}, status_code=404)
        pct, _ = sim.window(f"doubao:{account}:rpm", 60, high=30)
        remaining = REQUESTS_PER_MINUTE - round(REQUESTS_PER_MINUTE * pct / 100)
        headers = {
            "x-ratelimit-limit-requests": str(REQUESTS_PER_MINUTE),
            "x-ratelimit-remaining-requests": str(remaining),
            "x-ratelimit-reset-requests": "20s",
        }
        body = {
            "id": "sim",
            "object": "chat.completion",
            "model": payload["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "h"}, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        return JSONResponse(body, headers=headers)

    return {
        "url": [Route("/", openapi, methods=["POST"])],
        "ark_url": [Route("/chat/completions", completions, methods=["POST"])],
    }
