"""The Factory web login's WorkOS tokens: use the access token while it is good, refresh it into
agentgauge's own secret store when it has expired (or is refused), never anywhere else.

``POST {workos_url}/user_management/authenticate`` with ``{"client_id", "grant_type":
"refresh_token", "refresh_token"}`` (JSON) answers ``{access_token, refresh_token, user,
organization_id}``. Factory has two WorkOS client ids; the first that accepts the token wins.
WorkOS refresh tokens rotate: the new pair is kept through ``FetchContext.tokens`` (the engine's
secret store), so a refresh happens only when the kept access token has expired, and only when
there is somewhere to keep the rotated token (without it the login would be lost).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ...errors import AgentGaugeError, AuthError, UpstreamError
from .. import _jwt, _oauth
from .._base import FetchContext

T = TypeVar("T")

CLIENT_IDS = ("client_01HXRMBQ9BJ3E7QSTQ9X2PHVB7", "client_01HNM792M5G5G1A2THWPXKFMXB")
PATH = "/user_management/authenticate"
RELOGIN_HINT = "The Factory login has expired: log in to app.factory.ai in your browser again, then refresh."
CLIENTS = tuple(
    _oauth.OAuthClient(
        provider_name="Factory",
        url_setting="workos_url",
        path=PATH,
        client_id=client_id,
        json_body=True,
        access_setting="bearer_token",
        refresh_setting="refresh_token",
        relogin_hint=RELOGIN_HINT,
    )
    for client_id in CLIENT_IDS
)


def expired(ctx: FetchContext, token: str) -> bool:
    """The access token's own ``exp`` (else the expiry its source recorded) is past, with leeway."""
    when = _jwt.exp(token) or _oauth.expires_at(ctx.credentials.details)
    return when is not None and when <= ctx.now() + _oauth.LEEWAY


async def refresh(ctx: FetchContext, refresh_token: str) -> str:
    """A new access token from the refresh token (each client id in turn), with the pair kept."""
    first: AuthError | UpstreamError | None = None
    for client in CLIENTS:
        try:
            pair = await _oauth.refresh(ctx, client, refresh_token)
            break
        except (AuthError, UpstreamError) as exc:
            if exc.status_code not in (400, 401, 403):
                raise  # the token service itself failed: another client id will not help
            first = first or exc
    else:
        assert first is not None
        raise first
    values = {"bearer_token": pair.access_token, "refresh_token": pair.refresh_token or refresh_token}
    assert ctx.tokens is not None  # checked by the caller
    try:
        await asyncio.to_thread(ctx.tokens.save, values, expires_at=pair.expires_at, origin=_oauth.ORIGIN)
    except (AgentGaugeError, OSError) as exc:
        # The usage call can still go ahead; the next run refreshes again (or asks to log in).
        ctx.log.warning("Factory: could not keep the refreshed token: %s", getattr(exc, "message", type(exc).__name__))
    ctx.log.info("factory/%s: WorkOS access token refreshed into agentgauge's secret store", ctx.account)
    return pair.access_token


async def call_with_login(ctx: FetchContext, call: Callable[[str], Awaitable[T]]) -> T:
    """Run ``call(access_token)`` with the web login: refresh first when there is no access token or
    it has expired, or once after a 401; a refresh needs ``ctx.tokens`` to keep the rotated token."""
    token = ctx.credentials.get("bearer_token")
    refresh_token = ctx.credentials.get("refresh_token")
    can_refresh = bool(refresh_token) and ctx.tokens is not None
    refreshed = False
    if not token or expired(ctx, token):
        if not can_refresh:
            if token:
                raise AuthError("Factory: the WorkOS access token has expired", hint=RELOGIN_HINT)
            raise AuthError(
                "Factory: a WorkOS refresh token alone needs agentgauge's secret store to keep the rotated token",
                hint="Run `agentgauge serve` or `agentgauge status` (they keep refreshed tokens), or log in to "
                "app.factory.ai in your browser.",
            )
        token, refreshed = await refresh(ctx, str(refresh_token)), True
    try:
        return await call(token)
    except AuthError as exc:
        if refreshed or not can_refresh or exc.status_code != 401:
            raise
    return await call(await refresh(ctx, str(refresh_token)))
