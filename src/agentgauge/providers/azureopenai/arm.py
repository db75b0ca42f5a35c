"""Azure Resource Manager I/O: an Entra access token (service principal, a given token or the Azure
CLI) and GETs that follow ``nextLink``, with ARM's ``{"error": {code, message}}`` envelopes mapped to
typed errors. The token and secrets never reach a message: only ARM's error code is quoted."""

from __future__ import annotations

import re
from typing import Any

import orjson

from ...errors import AuthError, ParseError, ProviderConfigError, ProviderError, UpstreamError
from .. import _capture, _http, _process
from .._base import FetchContext
from .._parse import items, obj, opt_str

ARM_SCOPE = "https://management.azure.com/.default"
ARM_RESOURCE = "https://management.azure.com/"
MAX_PAGES = 20
RELOGIN = (
    "Run `az login` (or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET of a service principal "
    "with the Reader role), then refresh."
)
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
CLI_TIMEOUT = 30.0
CLI_LOGIN_MARKERS = ("az login", "please run 'az login'", "aadsts", "no subscription found")


def error_code(body: bytes) -> str | None:
    """ARM's (or Entra's) error code: safe to show, unlike the message, which may echo ids."""
    try:
        data = obj(orjson.loads(body))
    except orjson.JSONDecodeError:
        return None
    error = data.get("error")
    code = opt_str(obj(error).get("code")) if isinstance(error, dict) else opt_str(error)
    return code if code and _CODE.match(code) else None


async def entra_token(ctx: FetchContext) -> tuple[str, str | None]:
    """An ARM access token and, from the Azure CLI, its default subscription."""
    source = ctx.credentials.auth.id
    if source == "access_token":
        return _capture.bare_token(ctx.secret("access_token")), None
    if source == "azure_cli":
        return await _cli_token(ctx)
    tenant = ctx.secret("tenant_id").strip()
    url = f"{ctx.url('login_url')}/{tenant}/oauth2/v2.0/token"
    body = {
        "grant_type": "client_credentials",
        "client_id": ctx.secret("client_id").strip(),
        "client_secret": ctx.secret("client_secret"),
        "scope": ARM_SCOPE,
    }
    response = await _http.send(
        ctx, "POST", url, what="Entra token request", data=body, headers={"Accept": "application/json"},
        ok_statuses=(200, 400, 401),
    )  # fmt: skip
    if response.status_code != 200:
        code = error_code(response.content) or f"HTTP {response.status_code}"
        raise AuthError(f"Azure OpenAI: Entra refused the service principal ({code})", hint=RELOGIN)
    token = opt_str(obj(_http.decode_json(ctx, response, what="Entra token request")).get("access_token"))
    if token is None:
        raise ParseError("Azure OpenAI: the Entra token answer has no access_token", field="access_token")
    return token, None


async def _cli_token(ctx: FetchContext) -> tuple[str, str | None]:
    output = await _process.run(
        ctx.secret("az"),
        ("account", "get-access-token", "--resource", ARM_RESOURCE, "--output", "json"),
        name="Azure CLI",
        timeout=CLI_TIMEOUT,
        login_markers=CLI_LOGIN_MARKERS,
        login_hint=RELOGIN,
    )
    try:
        data = obj(orjson.loads(output.stdout))
    except orjson.JSONDecodeError:
        raise ParseError("Azure OpenAI: `az account get-access-token` did not print JSON", field="az") from None
    token = opt_str(data.get("accessToken"))
    if token is None:
        raise ParseError("Azure OpenAI: the Azure CLI printed no accessToken", field="accessToken")
    return token, opt_str(data.get("subscription"))


def arm_error(status: int, body: bytes, what: str) -> ProviderError:
    code = error_code(body) or f"HTTP {status}"
    if status == 401:
        return AuthError(f"Azure OpenAI: ARM rejected the token for the {what} ({code})", hint=RELOGIN, status_code=401)
    if status == 403:
        return AuthError(
            f"Azure OpenAI: ARM refused the {what} ({code})",
            hint="Give the identity the Reader role on the subscription or resource, then refresh.",
            status_code=403,
        )
    if status == 404:
        return ProviderConfigError(
            f"Azure OpenAI: ARM does not know the {what} ({code})",
            hint="Check the subscription, resource_group and resource settings.",
        )
    return UpstreamError(f"Azure OpenAI: ARM answered the {what} with HTTP {status} ({code})", status_code=status)


async def arm_get(ctx: FetchContext, url: str, token: str, what: str) -> dict[str, Any]:
    """One ARM object, or every page of a list (``value`` merged, ``nextLink`` followed)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    merged: list[Any] = []
    first: dict[str, Any] | None = None
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            break
        response = await _http.send(
            ctx, "GET", next_url, what=f"{what} request", headers=headers, ok_statuses=(200, 400, 401, 403, 404)
        )
        if response.status_code != 200:
            raise arm_error(response.status_code, response.content, what)
        page = obj(_http.decode_json(ctx, response, what=f"{what} request"))
        first = first or page
        if "value" not in page:
            return page  # a single resource
        if not isinstance(page["value"], list):
            raise ParseError(f"Azure OpenAI: the {what} answer's 'value' is not a list", field="value")
        merged += page["value"]
        next_url = opt_str(page.get("nextLink"))
    return {**(first or {}), "value": merged, "nextLink": None}


def accounts_of(listing: dict[str, Any], wanted: str | None) -> list[dict[str, Any]]:
    """Azure OpenAI / AI Services accounts of a listing (``kind``), optionally the one named ``wanted``."""
    found = [
        a
        for a in items(listing.get("value"))
        if (opt_str(a.get("kind")) or "").lower() in ("openai", "aiservices")
        and (wanted is None or (opt_str(a.get("name")) or "").lower() == wanted.lower())
    ]
    return found


def soft(exc: ProviderError, what: str, hint: str) -> dict[str, Any]:
    """An optional part's failure, kept for the parse to show as a warning."""
    return {"error": _http.problem(exc, f"{exc.message} ({what})", hint=hint)}
