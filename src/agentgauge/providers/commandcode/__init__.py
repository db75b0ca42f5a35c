"""Command Code: USD credits and the 5-hour and weekly rolling limits from the billing API,
``GET {url}/internal/billing/credits`` and ``/internal/billing/subscriptions``, authenticated by
the commandcode.ai web session (a better-auth session cookie).

The cookie comes from the browser or the ``cookie`` setting (a Cookie header, a bare session
token, or a pasted cURL capture); only the session cookie is sent. ``parsing`` reads the answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from ...errors import AuthError, ProviderConfigError, ProviderError
from ...models import Usage
from .. import _capture, _http
from .._base import (
    AuthSource,
    BrowserLogin,
    CookieRule,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Setting,
    WindowSpec,
)
from . import parsing

DEFAULT_URL = "https://api.commandcode.ai"
WEB_ORIGIN = "https://commandcode.ai"
CREDITS_PATH = "/internal/billing/credits"
SUBSCRIPTIONS_PATH = "/internal/billing/subscriptions"
# better-auth's session cookie under the names Command Code has used (CodexBar's list, in order).
SESSION_COOKIES = (
    "__Secure-commandcode_prod_.session_token",
    "commandcode_prod_.session_token",
    "__Host-commandcode_prod_.session_token",
    "__Host-better-auth.session_token",
    "__Secure-better-auth.session_token",
    "better-auth.session_token",
)
BARE_TOKEN_NAME = "__Secure-better-auth.session_token"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
HINT = (
    "Log in to commandcode.ai in Firefox or Chrome, or copy its Cookie header (or a request as cURL) "
    "into AGENTGAUGE_COMMANDCODE_COOKIE, then refresh."
)


def session_cookie(raw: str) -> str:
    """``name=value`` of the session cookie in a Cookie header, capture or bare token."""
    header = _capture.parse(raw).cookie.strip()
    if header and "=" not in header and ";" not in header:
        return f"{BARE_TOKEN_NAME}={header}"
    pairs: dict[str, tuple[str, str]] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name.strip() and value.strip():
            pairs.setdefault(name.strip().lower(), (name.strip(), value.strip()))
    for wanted in SESSION_COOKIES:
        if wanted.lower() in pairs:
            name, value = pairs[wanted.lower()]
            return f"{name}={value}"
    raise ProviderConfigError("Command Code: the cookie setting holds no Command Code session cookie", hint=HINT)


class CommandCode(Provider):
    id = "commandcode"
    name = "Command Code"
    docs_url = "https://commandcode.ai/settings/billing"
    settings = (
        Setting(
            "cookie",
            "commandcode.ai cookies: a Cookie header holding the session cookie, the bare session token, "
            "or a request copied as cURL.",
            secret=True,
        ),
        Setting("url", "Base URL of the Command Code API.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="cookie",
            source="cookie",
            label="commandcode.ai session cookie",
            requires=("cookie",),
            hint=HINT,
            browser=BrowserLogin(
                "commandcode.ai", cookies=(CookieRule("cookie", ("commandcode.ai",), SESSION_COOKIES, header=True),)
            ),
            discovered_source="browser",
        ),
    )
    windows = (WindowSpec("session", "Session (5h)", 18000, None), WindowSpec("weekly", "Weekly", 604800, None))
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    redact_keys = frozenset({"userId", "commandCodeUserId", "priceId"})
    samples = (
        Sample("credits-*.json", "credits", {"subscription": None}),
        Sample("subscription-*.json", "subscription", {"credits": {"credits": {"monthlyCredits": 1}}}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "cookie": "__Secure-better-auth.session_token=sim-commandcode-session.sig"
    }
    demo_accounts = ("free",)

    async def fetch(self, ctx: FetchContext) -> Raw:
        headers = {
            "Cookie": session_cookie(ctx.secret("cookie")),
            "Accept": "application/json, text/plain, */*",
            "Accept-Language": "en-US,en;q=0.9",
            "User-Agent": USER_AGENT,
            "Origin": WEB_ORIGIN,
            "Referer": WEB_ORIGIN + "/",
        }
        base = ctx.url("url")
        # Both at once; both finish before a failure of the credits is raised (nothing left running).
        results: list[Any] = list(
            await asyncio.gather(
                self._credits(ctx, base + CREDITS_PATH, headers),
                self._subscription(ctx, base + SUBSCRIPTIONS_PATH, headers),
                return_exceptions=True,
            )
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        credits, subscription = results
        return {"credits": credits, "subscription": subscription}

    @staticmethod
    async def _credits(ctx: FetchContext, url: str, headers: dict[str, str]) -> Any:
        try:
            return await _http.get_json(ctx, url, what="credits request", headers=headers)
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None

    @staticmethod
    async def _subscription(ctx: FetchContext, url: str, headers: dict[str, str]) -> Any:
        """The plan and billing period: an enrichment whose failure is logged, never raised."""
        try:
            return await _http.get_json(ctx, url, what="subscriptions request", headers=headers)
        except ProviderError as exc:
            ctx.log.info("commandcode: subscription unavailable: %s", exc.message)
            return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw.get("credits"), raw.get("subscription"))


PROVIDER = CommandCode()
