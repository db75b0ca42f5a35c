"""AWS I/O for Bedrock: credentials from botocore's chain, SigV4-signed requests sent through the
injected HTTP client, and AWS error answers (``__type`` + ``message``) as typed errors.

botocore is imported lazily (only when a Bedrock account is fetched). It resolves and signs; the
requests themselves go through ``_http.send`` like every provider's, so timeouts, challenge pages and
status codes map to the same errors. Error messages quote AWS's error code, never a credential.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import orjson

from ...errors import (
    AuthError,
    ParseError,
    ProviderConfigError,
    ProviderError,
    RateLimitedError,
    UpstreamError,
)
from .. import _http
from .._base import FetchContext
from .._parse import obj, opt_str

RELOGIN = (
    "Set AGENTGAUGE_BEDROCK_PROFILE to an AWS profile that can read Service Quotas and CloudWatch (or "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), refresh an expired SSO login with `aws sso login`, then refresh."
)
AUTH_CODES = (
    "AccessDenied",
    "UnrecognizedClient",
    "InvalidClientTokenId",
    "InvalidSignature",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "ExpiredToken",
    "MissingAuthenticationToken",
)
RATE_CODES = ("Throttling", "TooManyRequests", "RequestLimitExceeded")
_CODE = re.compile(r"^[A-Za-z0-9_.:#-]{1,100}$")


@dataclass(frozen=True)
class AwsKeys:
    access_key: str
    secret_key: str
    token: str | None
    region: str | None  # the profile's region, when the chain knows one


async def credentials(ctx: FetchContext) -> AwsKeys:
    """Static keys as given, or the credential chain of a profile (SSO, credential_process, assumed
    roles, container and instance roles: botocore's own resolution, run off the event loop)."""
    if ctx.credentials.auth.id == "keys":
        token = ctx.credentials.get("session_token")
        return AwsKeys(ctx.secret("access_key_id").strip(), ctx.secret("secret_access_key").strip(), token, None)
    profile = ctx.secret("profile").strip()
    details = ctx.credentials.details
    return await asyncio.to_thread(_chain, profile, details.get("config_file"), details.get("credentials_file"))


def _chain(profile: str, config_file: str | None, credentials_file: str | None) -> AwsKeys:
    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session(profile=None if profile == "default" else profile)
    if config_file:
        session.set_config_variable("config_file", config_file)
    if credentials_file:
        session.set_config_variable("credentials_file", credentials_file)
    try:
        found = session.get_credentials()
        region = session.get_config_variable("region")
        frozen = found.get_frozen_credentials() if found is not None else None
    except botocore.exceptions.ProfileNotFound:
        raise ProviderConfigError(f"Bedrock: the AWS profile '{profile[:60]}' does not exist", hint=RELOGIN) from None
    except botocore.exceptions.BotoCoreError as exc:  # an expired SSO token, a failing credential_process...
        raise AuthError(f"Bedrock: the AWS credential chain failed ({type(exc).__name__})", hint=RELOGIN) from None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise AuthError("Bedrock: the AWS credential chain found no credentials", hint=RELOGIN)
    return AwsKeys(frozen.access_key, frozen.secret_key, frozen.token, region if isinstance(region, str) else None)


def signed_headers(
    keys: AwsKeys, method: str, url: str, body: bytes, headers: dict[str, str], service: str, region: str
) -> dict[str, str]:
    """``headers`` plus ``X-Amz-Date``, ``X-Amz-Security-Token`` and the SigV4 ``Authorization``."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(keys.access_key, keys.secret_key, keys.token), service, region).add_auth(request)
    return dict(request.headers.items())


def aws_error(status: int, body: bytes, headers: Any, what: str) -> ProviderError:
    """An AWS JSON error answer (``__type``, or ``x-amzn-query-error`` / ``x-amzn-ErrorType``)."""
    try:
        data = obj(orjson.loads(body))
    except orjson.JSONDecodeError:
        data = {}
    raw = (
        opt_str(data.get("__type"))
        or opt_str(data.get("code"))
        or (headers.get("x-amzn-query-error") or "").split(";")[0]
        or (headers.get("x-amzn-errortype") or "").split(":")[0]
    )
    code = raw.rsplit("#", 1)[-1] if raw and _CODE.match(raw) else f"HTTP {status}"
    if any(code.startswith(name) for name in AUTH_CODES) or status == 403:
        return AuthError(f"Bedrock: AWS refused the {what} ({code})", hint=RELOGIN, status_code=status)
    if any(code.startswith(name) for name in RATE_CODES) or status == 429:
        return RateLimitedError(f"Bedrock: AWS throttled the {what} ({code})", status_code=status)
    if status == 404 or code in ("NoSuchResourceException", "ResourceNotFoundException"):
        return ProviderConfigError(f"Bedrock: AWS does not know the {what} ({code})", hint="Check the region setting.")
    return UpstreamError(f"Bedrock: AWS answered the {what} with {code}", status_code=status)


async def call(
    ctx: FetchContext,
    keys: AwsKeys,
    *,
    url: str,
    service: str,
    region: str,
    what: str,
    target: str | None = None,
    content_type: str = "application/x-amz-json-1.1",
    payload: Any = None,
    extra_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One signed AWS request: an AWS-JSON POST (``target``) or a REST GET; its decoded answer."""
    method = "POST" if target else "GET"
    body = orjson.dumps(payload) if payload is not None else b""
    headers: dict[str, str] = {"Accept": "application/json", **(extra_headers or {})}
    if target:
        headers |= {"Content-Type": content_type, "X-Amz-Target": target}
    headers = signed_headers(keys, method, url, body, headers, service, region)
    response = await _http.send(
        ctx, method, url, what=f"{what} request", headers=headers, json=payload,
        ok_statuses=(200, 400, 403, 404),
    )  # fmt: skip
    if response.status_code != 200:  # a challenge page was raised as one by send
        raise aws_error(response.status_code, response.content, response.headers, what)
    decoded = _http.decode_json(ctx, response, what=f"{what} request")
    if not isinstance(decoded, dict):
        raise ParseError(f"Bedrock: the {what} answer is not an object", field=what)
    return decoded
