"""Augment Code: credits of the billing cycle, from the auggie CLI or the app.augmentcode.com session.

Sources, in fallback order:

1. ``cli``: ``auggie account status`` (its own login), run in its own process group; both of its
   output formats are read (``parsing``).
2. ``cookie``: ``GET {url}/api/credits`` with the web session's cookies, and ``GET
   {url}/api/subscription`` for the plan and the cycle's end (optional: its failure is only
   logged). The session is kept alive between visits (``keepalive``): renewed ahead of its
   expiry, and once more when the credits request answers 401.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from ...errors import AuthError, ParseError, ProviderConfigError, ProviderError
from ...models import Usage
from .. import _capture, _http, _process
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
from .._parse import opt_num
from . import keepalive
from .parsing import LOGIN_HINT, LOGIN_MARKERS, parse_cli, parse_web

CREDITS_PATH = "/api/credits"
SUBSCRIPTION_PATH = "/api/subscription"
CLI_ARGS = ("account", "status")
CLI_TIMEOUT = 15.0
WELL_KNOWN = ("~/.local/bin/auggie", "/opt/homebrew/bin/auggie", "/usr/local/bin/auggie")
# The web app's session cookies over the years (legacy, Auth0, NextAuth/AuthJS, Augment's own).
SESSION_COOKIES = (
    "_session",
    "session",
    "web_rpc_proxy_session",
    "__Secure-next-auth.session-token",
    "next-auth.session-token",
    "__Secure-authjs.session-token",
    "authjs.session-token",
    "auth0",
)
COOKIE_HINT = (
    "Log in to app.augmentcode.com in Firefox or Chrome (agentgauge reads its cookies), or paste its Cookie "
    "header with `agentgauge auth set augment`, then refresh."
)
SCHEDULE = keepalive.Schedule()  # this process's keepalive schedule, per account


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    found = _process.find_executable("auggie", ctx.env, ctx.home, WELL_KNOWN)
    return Discovered({"cli": Secret(found)}, f"auggie ({found})") if found else None


def cookie_header(value: str) -> str:
    """A pasted ``Cookie`` header as is (minus a ``Cookie:`` prefix); a bare value is ``_session``."""
    return _capture.named_cookie(value, "_session")


class Augment(Provider):
    id = "augment"
    name = "Augment"
    docs_url = "https://app.augmentcode.com/account/subscription"
    settings = (
        Setting("cli", "Path of the auggie CLI; found on PATH (or ~/.local/bin) when unset."),
        Setting("cli_timeout", "Seconds `auggie account status` gets to print its report.", default="15"),
        Setting(
            "cookie",
            "app.augmentcode.com cookies: a whole Cookie header, or the bare '_session' value.",
            secret=True,
        ),
        Setting("url", "Base URL of the Augment web app.", default="https://app.augmentcode.com"),
    )
    auth = (
        AuthSource(
            id="cli",
            source="cli",
            label="auggie CLI login",
            requires=("cli",),
            hint="Install the auggie CLI and run `auggie login`, or set AGENTGAUGE_AUGMENT_CLI to its path.",
            discover=_discover_cli,
            discovered_source="cli",
        ),
        AuthSource(
            id="cookie",
            source="cookie",
            label="app.augmentcode.com session cookie",
            requires=("cookie",),
            hint=COOKIE_HINT,
            browser=BrowserLogin(
                "app.augmentcode.com",
                # The parent domain too: cookies set for .augmentcode.com are sent to the app as well.
                cookies=(CookieRule("cookie", ("augmentcode.com",), SESSION_COOKIES, chunked=True, header=True),),
            ),
            discovered_source="browser",
        ),
    )
    windows = (WindowSpec("credits", "Credits (billing cycle)", None, "credits"),)
    urls: ClassVar[Mapping[str, str]] = {"url": "https://app.augmentcode.com"}
    # Also spaces session renewals across processes (the keepalive's "at most every 2 minutes").
    min_interval = 120.0
    timeout = 25.0  # the CLI's 15 s, then a fallback request
    # The demo runs the CLI source first, so the HTTP fault matrix cannot reach the web source;
    # tests/test_provider_augment.py runs those faults against it directly.
    response_format = "local"
    samples = (
        Sample("auggie-*.txt", "usage_text", format="text"),
        Sample("credits-api*.json", "credits", {"subscription": None}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {"cookie": "_session=sim-augment-session"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        if ctx.credentials.auth.id == "cli":
            return await self._fetch_cli(ctx)
        return await self._fetch_web(ctx)

    async def _fetch_cli(self, ctx: FetchContext) -> Raw:
        timeout = opt_num(ctx.setting("cli_timeout") or CLI_TIMEOUT, "cli_timeout")
        if timeout is None or timeout <= 0:
            raise ProviderConfigError("Augment: cli_timeout must be a positive number of seconds")
        output = await _process.run(
            ctx.secret("cli"),
            CLI_ARGS,
            name="Augment CLI",
            timeout=timeout,
            login_markers=LOGIN_MARKERS,
            login_hint=LOGIN_HINT,
        )
        return {"usage_text": output.text}

    async def _fetch_web(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        key, now = ctx.account, ctx.now()
        cookie = cookie_header(ctx.secret("cookie"))
        if SCHEDULE.due(key, now, keepalive.expiry_of(ctx.credentials)):
            cookie = await self._renew(ctx, base, cookie) or cookie
        try:
            credits = await self._get(ctx, base + CREDITS_PATH, "credits request", cookie)
        except AuthError as exc:
            # An expired session may still be renewable once (never more often than the schedule allows).
            renewed = await self._renew(ctx, base, cookie) if SCHEDULE.may_try(key, now) else None
            if renewed is None:
                raise AuthError(exc.message, hint=COOKIE_HINT, status_code=exc.status_code) from None
            cookie = renewed
            credits = await self._get(ctx, base + CREDITS_PATH, "credits request", cookie)
        try:
            subscription = await self._get(ctx, base + SUBSCRIPTION_PATH, "subscription request", cookie)
        except ProviderError as exc:  # the plan and cycle end are extras: the credits stand alone
            ctx.log.info("augment: subscription skipped: %s", exc.message)
            subscription = None
        return {"credits": credits, "subscription": subscription}

    async def _renew(self, ctx: FetchContext, base: str, cookie: str) -> str | None:
        renewal = await keepalive.renew(ctx, base, cookie)
        SCHEDULE.tried(ctx.account, ctx.now(), renewed=renewal is not None)
        if renewal is None:
            return None
        await keepalive.keep(ctx, renewal)
        ctx.log.info("augment/%s: web session renewed", ctx.account)
        return renewal.cookie

    async def _get(self, ctx: FetchContext, url: str, what: str, cookie: str) -> Any:
        return await _http.get_json(ctx, url, what=what, headers={"Cookie": cookie, "Accept": "application/json"})

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if "usage_text" in raw:
            text = raw["usage_text"]
            if not isinstance(text, str):
                raise ParseError("Augment: the CLI report is not text", field="usage_text")
            return parse_cli(text, now)
        return parse_web(raw.get("credits"), raw.get("subscription"))


PROVIDER = Augment()
