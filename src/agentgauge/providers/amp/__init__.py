"""Amp (ampcode.com): Amp Free, subscription pools and credit balances, from the CLI, an access
token or the web login.

Sources, in fallback order:

1. ``cli``: ``amp usage`` (its own login), run in its own process group with ``NO_COLOR=1``.
2. ``api_key``: ``POST {url}/api/internal?userDisplayBalanceInfo`` with an Amp access token as the
   Bearer and the body ``{"method": "userDisplayBalanceInfo", "params": {}}``; it answers
   ``{"ok": true, "result": {"displayText": ...}}``, the same text the CLI prints.
3. ``cookie``: with the ``session`` cookie, the settings page's SvelteKit remote function
   ``GET {url}/_app/remote/w6b2h6/getFreeTierUsage`` (``x-sveltekit-pathname: /settings``; a devalue
   result read by key) for Amp Free, and ``GET {url}/settings`` for the credits balance (and, when the
   remote function has moved, the page's own ``freeTierUsage`` data).

All three give the text or data ``parsing`` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ...errors import AuthError, ParseError, ProviderConfigError, UpstreamError
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
from .parsing import LOGIN_HINT, display_text_of, parse_cookie, parse_display_text, parse_settings_html

BALANCE_PATH = "/api/internal"
BALANCE_QUERY = "userDisplayBalanceInfo"
SETTINGS_PATH = "/settings"
# The SvelteKit remote function the settings page calls; ``w6b2h6`` hashes its file path, so a rename
# moves it (then 404, and the settings page's own data is read).
REMOTE_PATH = "/_app/remote/w6b2h6/getFreeTierUsage"
SESSION_COOKIE = "session"
CLI_TIMEOUT = 15.0
WELL_KNOWN = ("~/.amp/bin/amp", "~/.local/bin/amp", "/opt/homebrew/bin/amp", "/usr/local/bin/amp")
LOGIN_MARKERS = ("not logged in", "not signed in", "log in", "sign in", "login", "auth-required", "unauthorized")
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
REDIRECTS = (301, 302, 303, 307, 308)
COOKIE_HINT = "Log in to ampcode.com in Firefox or Chrome (agentgauge reads the 'session' cookie), then refresh."
TOKEN_HINT = "The Amp access token was rejected: create a new one in Amp's settings, set AMP_API_KEY, then refresh."


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    found = _process.find_executable("amp", ctx.env, ctx.home, WELL_KNOWN)
    return Discovered({"cli": Secret(found)}, f"amp ({found})") if found else None


def cookie_header(value: str) -> str:
    """The ``session`` pair of a pasted ``Cookie`` header (only it is sent), or a bare session value."""
    kept = _capture.only_cookies(_capture.named_cookie(value, SESSION_COOKIE), (SESSION_COOKIE,))
    if not kept:
        raise ProviderConfigError(
            "Amp: the cookie setting holds no 'session' cookie", hint="Copy the 'session' cookie of ampcode.com."
        )
    return kept


def is_signin(location: str) -> bool:
    parts = urlsplit(location)
    path = parts.path.lower()
    return parts.netloc.lower().startswith("auth.") or any(
        part in ("login", "signin", "sign-in", "auth") for part in path.split("/")
    )


class Amp(Provider):
    id = "amp"
    name = "Amp"
    docs_url = "https://ampcode.com/settings/usage"
    settings = (
        Setting("cli", "Path of the amp CLI; found on PATH (or ~/.amp/bin, ~/.local/bin) when unset."),
        Setting("cli_timeout", "Seconds `amp usage` gets to print its report.", default="15"),
        Setting("api_key", "Amp access token (created in Amp's settings).", secret=True, env=("AMP_API_KEY",)),
        Setting(
            "cookie", "ampcode.com cookies: a Cookie header holding 'session', or the bare session value.", secret=True
        ),
        Setting("url", "Base URL of ampcode.com.", default="https://ampcode.com"),
    )
    auth = (
        AuthSource(
            id="cli",
            source="cli",
            label="amp CLI login",
            requires=("cli",),
            hint="Install the amp CLI and run `amp login`, or set AGENTGAUGE_AMP_CLI to its path.",
            discover=_discover_cli,
            discovered_source="cli",
        ),
        AuthSource(
            id="api_key",
            source="api_key",
            label="Amp access token",
            requires=("api_key",),
            hint="Create an access token in Amp's settings and set AMP_API_KEY (or AGENTGAUGE_AMP_API_KEY).",
        ),
        AuthSource(
            id="cookie",
            source="cookie",
            label="ampcode.com session cookie",
            requires=("cookie",),
            hint=COOKIE_HINT,
            browser=BrowserLogin("ampcode.com", cookies=(CookieRule("cookie", ("ampcode.com",), (SESSION_COOKIE,)),)),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("free", "Amp Free", 86400, "usd"),
        WindowSpec("other", "Other usage", None, None),
        WindowSpec("orb", "Orb usage", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": "https://ampcode.com"}
    min_interval = 120.0
    timeout = 25.0  # the CLI's 15 s, then a fallback request
    # The demo runs the CLI source first, so the HTTP fault matrix cannot reach the HTTP sources;
    # tests/test_provider_amp.py runs those faults against them directly.
    response_format = "local"
    samples = (
        Sample("cli-usage-*.txt", "usage_text", format="text"),
        Sample("fixture-*.txt", "usage_text", format="text"),
        Sample("api-*.json", "balance"),
        Sample("settings-*.html", "settings_html", format="html"),
        Sample("remote-*.json", "remote", {"settings_html": None}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "sgamp_sim_access_token",
        "cookie": f"{SESSION_COOKIE}=sim-amp-session",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        source = ctx.credentials.auth.id
        if source == "cli":
            return await self._fetch_cli(ctx)
        if source == "api_key":
            return await self._fetch_api(ctx)
        return await self._fetch_cookie(ctx)

    async def _fetch_cli(self, ctx: FetchContext) -> Raw:
        timeout = opt_num(ctx.setting("cli_timeout") or CLI_TIMEOUT, "cli_timeout")
        if timeout is None or timeout <= 0:
            raise ProviderConfigError("Amp: cli_timeout must be a positive number of seconds")
        output = await _process.run(
            ctx.secret("cli"),
            ("usage",),
            name="Amp CLI",
            timeout=timeout,
            env={"NO_COLOR": "1"},
            login_markers=LOGIN_MARKERS,
            login_hint=LOGIN_HINT,
        )
        return {"usage_text": output.text}

    async def _fetch_api(self, ctx: FetchContext) -> Raw:
        headers = {
            "Authorization": f"Bearer {_capture.bare_token(ctx.secret('api_key'))}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        url = f"{ctx.url('url')}{BALANCE_PATH}?{BALANCE_QUERY}"
        try:
            payload = await _http.post_json(
                ctx, url, what="balance request", headers=headers, json={"method": BALANCE_QUERY, "params": {}}
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=TOKEN_HINT, status_code=exc.status_code) from None
        return {"balance": payload}

    async def _fetch_cookie(self, ctx: FetchContext) -> Raw:
        """The free-tier remote function (seed 001's source), then the settings page for the credits
        balance; when the remote function has moved (404, its path is a hash of its file), the page's own
        free-tier data. The page is best effort once the remote function answered."""
        remote = await self._fetch_remote(ctx)
        try:
            page = await self._fetch_settings(ctx)
        except (UpstreamError, ParseError) as exc:
            if remote is None:
                raise
            ctx.log.info("amp/%s: settings page skipped (%s)", ctx.account, exc.message)
            page = {"settings_html": None}
        return {"remote": remote, **page}

    async def _fetch_remote(self, ctx: FetchContext) -> Any:
        base = ctx.url("url")
        headers = {
            "Cookie": cookie_header(ctx.secret("cookie")),
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "x-sveltekit-pathname": SETTINGS_PATH,
        }
        try:
            response = await _http.send(
                ctx, "GET", base + REMOTE_PATH, what="free-tier query", headers=headers,
                ok_statuses=(200, 401, 403, 404, *REDIRECTS),
            )  # fmt: skip
        except AuthError as exc:
            raise AuthError(exc.message, hint=COOKIE_HINT, status_code=exc.status_code) from None
        if response.status_code == 404:
            return None
        if response.status_code in REDIRECTS:
            raise AuthError("Amp: the free-tier query redirected to sign-in", hint=COOKIE_HINT)
        if response.status_code in (401, 403) and not _http.looks_like_html(response):
            return _http.decode_json(ctx, response, what="free-tier query")  # {"type": "error", "status": 401}
        if response.status_code != 200:
            raise AuthError("Amp: the free-tier query was refused", hint=COOKIE_HINT, status_code=response.status_code)
        return _http.decode_json(ctx, response, what="free-tier query")

    async def _fetch_settings(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        headers = {
            "Cookie": cookie_header(ctx.secret("cookie")),
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-US,en;q=0.9",
            "Referer": base + SETTINGS_PATH,
        }
        try:
            response = await _http.send(
                ctx, "GET", base + SETTINGS_PATH, what="settings page", headers=headers, ok_statuses=(200, *REDIRECTS)
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=COOKIE_HINT, status_code=exc.status_code) from None
        if response.status_code in REDIRECTS:
            if is_signin(response.headers.get("location", "")):
                raise AuthError(
                    "Amp: the session cookie has expired (redirected to sign-in)",
                    hint=COOKIE_HINT,
                    status_code=response.status_code,
                )
            raise UpstreamError(
                f"Amp: the settings page redirected unexpectedly (HTTP {response.status_code})",
                status_code=response.status_code,
            )
        return {"settings_html": response.text}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if "usage_text" in raw:
            text = raw["usage_text"]
            if not isinstance(text, str):
                raise ParseError("Amp: the CLI report is not text", field="usage_text")
            return parse_display_text(text, now)
        if "balance" in raw:
            return parse_display_text(display_text_of(raw["balance"]), now)
        if "remote" in raw:
            return parse_cookie(raw, now)
        html = raw.get("settings_html")
        if not isinstance(html, str):
            raise ParseError("Amp: nothing to read", field="settings_html")
        return parse_settings_html(html, now)


PROVIDER = Amp()
