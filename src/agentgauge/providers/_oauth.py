"""OAuth access-token refresh into agentgauge's own copy (Claude and Codex).

The CLIs own their credential files (``~/.claude/.credentials.json``, ``auth.json``) and
rotate their refresh tokens: writing a file back, or refreshing while the CLI's token is still
good, logs the CLI out. So agentgauge refreshes only when the copy it was given is expired (or
the usage call answers 401), only when ``FetchContext.tokens`` can keep the new pair (without
it the rotated refresh token would be lost), and stores the pair in its own secret store.
Credential resolution offers the fresher of the CLI file and the stored copy first, so a CLI
that refreshed its own file in the meantime wins and no refresh happens.

The pure parts (expiry, request body, response) are separate from the one I/O function.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson

from ..errors import AgentGaugeError, AuthError, ParseError, UpstreamError
from . import _http, _jwt
from ._base import FetchContext

T = TypeVar("T")

EXPIRES_AT = "expires_at"  # Credentials.details key: expiry as epoch seconds (a string, like all details)
LEEWAY = timedelta(seconds=60)  # refresh a little early so the usage call does not race the expiry
ORIGIN = "oauth-refresh"
# OAuth error codes that mean the refresh token itself is no good (RFC 6749 section 5.2).
REJECTED = frozenset({"invalid_grant", "invalid_token", "unauthorized_client", "invalid_request"})
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


@dataclass(frozen=True)
class OAuthClient:
    """How one provider refreshes: its token endpoint, public client id and body encoding."""

    provider_name: str
    url_setting: str  # the provider's overridable base-URL setting of the token service
    path: str  # appended to that base unless the setting already names the endpoint
    client_id: str
    json_body: bool
    access_setting: str
    relogin_hint: str
    refresh_setting: str = "refresh_token"
    scope: str | None = None


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None


# -- pure ----------------------------------------------------------------------------------------
def expiry_detail(when: datetime | None) -> dict[str, str]:
    return {EXPIRES_AT: str(int(when.timestamp()))} if when else {}


def expires_at(details: Mapping[str, str]) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(details[EXPIRES_AT]), UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return None


def is_expired(details: Mapping[str, str], now: datetime) -> bool:
    when = expires_at(details)
    return when is not None and when <= now + LEEWAY


def refresh_body(client: OAuthClient, refresh_token: str) -> dict[str, str]:
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id}
    if client.scope:
        body["scope"] = client.scope
    return body


def token_url(base: str, client: OAuthClient) -> str:
    base = base.rstrip("/")
    return base if base.endswith(client.path) else base + client.path


def parse_refresh(payload: Any, now: datetime, client: OAuthClient) -> TokenPair:
    if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str) or not payload["access_token"]:
        raise ParseError(f"{client.provider_name}: the token refresh answer has no access_token", field="access_token")
    access = payload["access_token"]
    refresh = payload.get("refresh_token") if isinstance(payload.get("refresh_token"), str) else None
    lifetime = payload.get("expires_in")
    if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
        when: datetime | None = now + timedelta(seconds=float(lifetime))
    else:
        when = _jwt.exp(access)
    return TokenPair(access, refresh or None, when)


def rejection(
    client: OAuthClient, status: int, body: bytes, rejected: frozenset[str] = REJECTED
) -> AuthError | UpstreamError:
    """A 400/401 of the token endpoint: only the error *code* is quoted, never the body. A 401 or a
    code in ``rejected`` is an ``AuthError`` (log in again), anything else an ``UpstreamError``."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    code = data.get("error") if isinstance(data, dict) else None
    code = code if isinstance(code, str) and _ERROR_CODE.match(code) else None
    if status == 401 or code in rejected:
        return AuthError(
            f"{client.provider_name}: the token refresh was rejected ({code or f'HTTP {status}'}); "
            "the login has expired",
            hint=client.relogin_hint,
            status_code=status,
        )
    return UpstreamError(
        f"{client.provider_name}: the token refresh failed ({code or f'HTTP {status}'})", status_code=status
    )


# -- I/O -------------------------------------------------------------------------------------------
async def refresh(ctx: FetchContext, client: OAuthClient, refresh_token: str) -> TokenPair:
    url = token_url(ctx.url(client.url_setting), client)
    body = refresh_body(client, refresh_token)
    headers = {"Accept": "application/json"}
    if client.json_body:
        headers["Content-Type"] = "application/json"
    response = await _http.send(
        ctx,
        "POST",
        url,
        what="token refresh",
        headers=headers,
        json=body if client.json_body else None,
        data=None if client.json_body else body,
        ok_statuses=(200, 400, 401),
    )
    if response.status_code != 200:
        raise rejection(client, response.status_code, response.content)
    return parse_refresh(_http.decode_json(ctx, response, what="token refresh"), ctx.now(), client)


async def _refresh_and_keep(ctx: FetchContext, client: OAuthClient, refresh_token: str) -> str:
    pair = await refresh(ctx, client, refresh_token)
    values = {client.access_setting: pair.access_token, client.refresh_setting: pair.refresh_token or refresh_token}
    assert ctx.tokens is not None  # checked by the caller
    try:
        await asyncio.to_thread(ctx.tokens.save, values, expires_at=pair.expires_at, origin=ORIGIN)
    except (AgentGaugeError, OSError) as exc:
        # The usage call can still go ahead; the next run will refresh again (or ask to log in).
        ctx.log.warning(
            "%s: could not keep the refreshed token: %s",
            client.provider_name,
            getattr(exc, "message", type(exc).__name__),
        )
    ctx.log.info("%s/%s: access token refreshed into agentgauge's secret store", ctx.provider.id, ctx.account)
    return pair.access_token


async def call_with_refresh(ctx: FetchContext, client: OAuthClient, call: Callable[[str], Awaitable[T]]) -> T:
    """Run ``call(access_token)``; refresh first when the token is expired, or once after a 401."""
    token = ctx.secret(client.access_setting)
    refresh_token = ctx.credentials.get(client.refresh_setting)
    can_refresh = bool(refresh_token) and ctx.tokens is not None
    refreshed = False
    if can_refresh and is_expired(ctx.credentials.details, ctx.now()):
        token, refreshed = await _refresh_and_keep(ctx, client, str(refresh_token)), True
    try:
        return await call(token)
    except AuthError as exc:
        if refreshed or not can_refresh or exc.status_code != 401:
            raise
    token = await _refresh_and_keep(ctx, client, str(refresh_token))
    return await call(token)
