"""Cursor: included usage, on-demand spend and Grok Bot's weekly allowance from cursor.com's
dashboard API, authenticated by the session cookie ``WorkosCursorSessionToken``.

The cookie comes from the Cursor app's own login (its access token in ``state.vscdb``, see
``appdb``), from the browser, or from the ``cookie`` setting. Requests, all with that cookie:
``GET /api/usage-summary`` (required), ``GET /api/auth/me`` and ``POST
/api/dashboard/get-sand-usage-status`` (optional, at once), then ``GET /api/usage?user=<id>`` for
legacy request-based plans (optional). ``parsing`` reads them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from ...errors import AuthError, ProviderConfigError, ProviderError
from ...models import Usage
from .. import _capture, _http, _jwt, _oauth
from .._base import (
    AuthSource,
    BrowserLogin,
    CookieRule,
    DiscoverContext,
    Discovered,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Secret,
    Setting,
    WindowSpec,
)
from .._parse import obj, opt_str
from .._settings import choice, gate, same
from . import appdb, parsing

DEFAULT_URL = "https://cursor.com"
SUMMARY_PATH = "/api/usage-summary"
ME_PATH = "/api/auth/me"
SAND_PATH = "/api/dashboard/get-sand-usage-status"
REQUESTS_PATH = "/api/usage"
MODES = ("auto", "app", "web")
# Cookies that carry a cursor.com session (CodexBar's list); the rest of the domain's cookies ride along.
SESSION_COOKIES = (
    "WorkosCursorSessionToken",
    "__Secure-next-auth.session-token",
    "next-auth.session-token",
    "wos-session",
    "__Secure-wos-session",
    "authjs.session-token",
    "__Secure-authjs.session-token",
)
HINT_APP = "The Cursor app's login is missing or expired: open Cursor (it renews its login), then refresh."
HINT_WEB = (
    "Log in to cursor.com in Firefox or Chrome, or copy its Cookie header into AGENTGAUGE_CURSOR_COOKIE, then refresh."
)


def mode_of(settings: Mapping[str, str]) -> str:
    return choice(
        settings,
        "source",
        same(*MODES),
        default="auto",
        provider="Cursor",
        hint="Set source to 'auto', 'app' or 'web'.",
    )


def _discover_app(ctx: DiscoverContext) -> Discovered | None:
    configured = ctx.settings.get("state_db")
    paths = [ctx.expand(configured)] if configured else appdb.database_paths(ctx)
    now = datetime.now(UTC)
    for path in paths:
        if not path.is_file():
            continue
        token = appdb.read_token(path)
        if token and appdb.usable(token, now):
            return Discovered({"access_token": Secret(token)}, str(path), _oauth.expiry_detail(_jwt.exp(token)))
    return None


def cookie_header(raw: str) -> str:
    """A pasted Cookie header, cURL capture, or bare ``WorkosCursorSessionToken`` value."""
    header = _capture.parse(raw).cookie.strip()
    if header and "=" not in header:
        return f"{appdb.COOKIE_NAME}={header}"
    if not header:
        raise ProviderConfigError("Cursor: the cookie setting holds no Cookie header", hint=HINT_WEB)
    return header


def cookie_user(header: str) -> str | None:
    """The user id in a ``WorkosCursorSessionToken`` (``<id>%3A%3A<jwt>``), for the legacy request."""
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == appdb.COOKIE_NAME and "%3A%3A" in value:
            return value.split("%3A%3A", 1)[0] or None
    return None


class Cursor(Provider):
    id = "cursor"
    name = "Cursor"
    docs_url = "https://cursor.com/dashboard?tab=usage"
    status_page = "https://status.cursor.com"
    settings = (
        Setting(
            "cookie",
            "cursor.com cookies: a Cookie header holding WorkosCursorSessionToken (or its bare value), "
            "or a request copied as cURL.",
            secret=True,
        ),
        Setting(
            "access_token",
            "The Cursor app's access token; read from its state.vscdb when unset.",
            secret=True,
        ),
        Setting("state_db", "Path of the Cursor app's state.vscdb; its usual places are searched when unset."),
        Setting(
            "source",
            "Which login to use: 'auto' (the Cursor app, then the web session), 'app' or 'web'.",
            default="auto",
            choices=MODES,
        ),
        Setting("url", "Base URL of cursor.com.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="app",
            source="local_file",
            label="Cursor app login",
            requires=("access_token",),
            hint=HINT_APP,
            discover=_discover_app,
            discovered_source="local_file",
            when=gate(mode_of, "auto", "app"),
        ),
        AuthSource(
            id="web",
            source="cookie",
            label="cursor.com session cookie",
            requires=("cookie",),
            hint=HINT_WEB,
            browser=BrowserLogin(
                "cursor.com", cookies=(CookieRule("cookie", ("cursor.com", "cursor.sh"), SESSION_COOKIES, header=True),)
            ),
            discovered_source="browser",
            when=gate(mode_of, "auto", "web"),
        ),
    )
    windows = (
        WindowSpec("monthly", "Included usage", None, "usd"),
        WindowSpec("monthly_auto", "Auto + Composer", None, None),
        WindowSpec("monthly_api", "API models", None, None),
        WindowSpec("requests", "Requests (monthly)", None, "requests"),
        WindowSpec("on_demand", "On-demand usage", None, "usd"),
        WindowSpec("team_on_demand", "Team on-demand usage", None, "usd"),
        WindowSpec("team_pooled", "Team pool", None, "usd"),
        WindowSpec("grok_bot", "Grok Bot (weekly)", 604800, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    redact_keys = frozenset({"email", "name", "sub", "picture"})
    samples = (
        Sample("usage-summary-*.json", "summary", {"sand": None, "requests": None}),
        Sample("sand-usage-status.json", "sand", {"summary": {"membershipType": "pro"}, "requests": None}),
        Sample("legacy-usage-requests.json", "requests", {"summary": {"membershipType": "pro"}, "sand": None}),
    )
    # The simulator's JWT: sub "auth0|user_01SIMCURSOR", exp 2100-01-01 (cursor.com's signature is not checked here).
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiJhdXRoMHx1c2VyXzAxU0lNQ1VSU09SIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lt",
        "cookie": "WorkosCursorSessionToken=user_01SIMCURSOR%3A%3AeyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiJhdXRoMHx1c2VyXzAxU0lNQ1VSU09SIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lt",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        mode_of(ctx.settings)  # an invalid source is a config error, even when a login was found
        if ctx.credentials.auth.id == "app":
            header = appdb.session_cookie(ctx.secret("access_token").strip())
            if header is None:
                raise AuthError("Cursor: the Cursor app's access token names no user", hint=HINT_APP)
            hint = HINT_APP
        else:
            header, hint = cookie_header(ctx.secret("cookie")), HINT_WEB
        base = ctx.url("url")
        parts = urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}"
        headers = {"Cookie": header, "Accept": "application/json"}
        results: list[Any] = list(
            await asyncio.gather(
                _http.get_json(ctx, base + SUMMARY_PATH, what="usage summary request", headers=headers),
                _optional(ctx, "auth/me", _http.get_json(ctx, base + ME_PATH, what="auth/me request", headers=headers)),
                _optional(
                    ctx,
                    "Grok Bot usage",
                    _http.post_json(
                        ctx,
                        base + SAND_PATH,
                        what="Grok Bot usage request",
                        headers={**headers, "Content-Type": "application/json", "Origin": origin},
                        json={},
                    ),
                ),
                return_exceptions=True,
            )
        )
        summary, me, sand = results
        if isinstance(summary, AuthError):
            raise AuthError(summary.message, hint=hint, status_code=summary.status_code) from None
        for result in results:
            if isinstance(result, BaseException):
                raise result
        user = opt_str(obj(me).get("sub")) or cookie_user(header)
        requests = None
        if user:
            url = f"{base}{REQUESTS_PATH}?{urlencode({'user': user})}"
            requests = await _optional(
                ctx, "request usage", _http.get_json(ctx, url, what="request usage", headers=headers)
            )
        return {"summary": summary, "sand": sand, "requests": requests}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw.get("summary"), raw.get("sand"), raw.get("requests"))


async def _optional(ctx: FetchContext, what: str, call: Any) -> Any:
    """An enrichment: its failure is logged and left out, never raised."""
    try:
        return await call
    except ProviderError as exc:
        ctx.log.info("cursor: optional %s unavailable: %s", what, exc.message)
        return None


PROVIDER = Cursor()
