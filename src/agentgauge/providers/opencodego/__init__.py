"""OpenCode Go: the subscription's rolling 5-hour, weekly and monthly usage.

With an API key: ``GET {url}/zen/go/v1/usage`` (Bearer) answers
``{"usage": {"rolling"|"weekly"|"monthly": {"percent": 0-100, "resetsAt": ISO}}}``. ``percent`` is
always a percentage: a small value is never read as a 0-1 fraction (the "1 % shown as 100 %" bug
of other monitors). With the opencode.ai login (the ``auth`` cookie) the same numbers come from the
workspace's Go page (``web.py``), plus the Zen pay-as-you-go balance when the page shows one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from ...errors import AuthError, ConfigError, ParseError, ProviderConfigError, UpstreamError
from ...models import Usage, Window
from .. import _http
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
from .._parse import Salvage, after, obj, opt_num, opt_str, opt_time
from . import web

DEFAULT_URL = "https://opencode.ai"
USAGE_PATH = "/zen/go/v1/usage"
SERVER_PATH = "/_server"
USER_AGENT = "agentgauge"
HINT_KEY = (
    "Set AGENTGAUGE_OPENCODEGO_API_KEY (or OPENCODE_API_KEY) to an API key from https://opencode.ai, then refresh."
)
HINT_WEB = (
    "Log in to opencode.ai in your browser (or set AGENTGAUGE_OPENCODEGO_COOKIE to its 'auth' cookie), then refresh."
)
# The API's names, our window id, label and length (monthly: calendar months, no fixed length).
API_WINDOWS: tuple[tuple[str, str, str, int | None], ...] = (
    ("rolling", "session", "Session (5h)", 18000),
    ("weekly", "weekly", "Weekly", 604800),
    ("monthly", "monthly", "Monthly", None),
)
AUTH_ENTRY = "opencode-go"  # OpenCode's own auth.json entry for the Go provider


def auth_file(ctx: DiscoverContext) -> Path:
    """OpenCode's credential store: XDG data dir on every platform (``~/.local/share`` by default)."""
    base = ctx.env.get("XDG_DATA_HOME")
    return (ctx.expand(base) if base else ctx.home / ".local" / "share") / "opencode" / "auth.json"


def _discover_key(ctx: DiscoverContext) -> Discovered | None:
    """The key OpenCode saved for its ``opencode-go`` provider (``opencode auth login``); read only."""
    path = auth_file(ctx)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        entry = obj(obj(orjson.loads(text)).get(AUTH_ENTRY))
    except orjson.JSONDecodeError:
        raise ConfigError(f"OpenCode Go: {path} is not valid JSON", hint=HINT_KEY) from None
    key = opt_str(entry.get("key")) if entry.get("type", "api") == "api" else None
    return Discovered({"api_key": Secret(key)}, str(path)) if key else None


def api_window(entry: Any, name: str, wid: str, label: str, seconds: int | None, now: datetime) -> Window | None:
    if entry is None:
        return None
    where = f"usage.{name}"
    block = obj(entry)
    pct = opt_num(block.get("percent", block.get("usagePercent")), f"{where}.percent")
    if pct is None:
        raise ParseError(f"OpenCode Go: the answer has no '{where}.percent'", field=f"{where}.percent")
    resets_at = opt_time(block.get("resetsAt", block.get("resetAt")), f"{where}.resetsAt")
    if resets_at is None and block.get("resetInSec") is not None:
        resets_at = after(now, block.get("resetInSec"), f"{where}.resetInSec")
    return Window(id=wid, label=label, used_pct=pct, resets_at=resets_at, window_seconds=seconds)


def parse_api(root: Any, now: datetime, salvage: Salvage) -> list[Window]:
    if not isinstance(root, dict):
        raise ParseError("OpenCode Go: usage response is not an object", field="$")
    usage = root.get("usage")
    if not isinstance(usage, dict):
        message = (
            opt_str(root.get("error")) or opt_str(obj(root.get("error")).get("message")) or opt_str(root.get("message"))
        )
        if message:  # an error body in a 200
            lowered = message.lower()
            if "unauthorized" in lowered or ("invalid" in lowered and "key" in lowered):
                raise AuthError(f"OpenCode Go rejected the API key: {message[:200]}", hint=HINT_KEY)
            raise UpstreamError(f"OpenCode Go: usage request failed: {message[:200]}")
        raise ParseError("OpenCode Go: usage response has no 'usage' object", field="usage")
    windows = []
    for name, wid, label, seconds in API_WINDOWS:
        window = salvage.keep(partial(api_window, usage.get(name), name, wid, label, seconds, now))
        if window is not None:
            windows.append(window)
    return windows


class OpenCodeGo(Provider):
    id = "opencodego"
    name = "OpenCode Go"
    docs_url = "https://opencode.ai/auth"
    settings = (
        Setting("api_key", "OpenCode API key (opencode.ai > API keys).", secret=True, env=("OPENCODE_API_KEY",)),
        Setting("url", "Base URL of opencode.ai.", default=DEFAULT_URL),
        Setting(
            "cookie", "Cookie header (or the 'auth' cookie's value) of a signed-in opencode.ai session.", secret=True
        ),
        Setting(
            "workspace", "Workspace id (wrk_...) or its Go page URL, for the web login; default: the first workspace."
        ),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            hint=HINT_KEY,
            discover=_discover_key,
            discovered_source="api_key",
        ),
        AuthSource(
            id="web",
            source="cookie",
            label="opencode.ai login (cookie)",
            requires=("cookie",),
            optional=("workspace",),
            hint=HINT_WEB,
            discovered_source="cookie",
            browser=BrowserLogin(
                "opencode.ai", cookies=(CookieRule("cookie", ("opencode.ai",), web.AUTH_COOKIES, header=True),)
            ),
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000),
        WindowSpec("weekly", "Weekly", 604800),
        WindowSpec("monthly", "Monthly", None),
    )
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0
    samples = (
        Sample("go-usage-api*.json", "usage"),
        Sample("go-page-*.txt", "page", format="text"),
        Sample("workspace-go-page*.html", "page", format="html"),
    )
    sim_credentials = {"api_key": "sim-opencode-go-key", "cookie": "auth=sim-opencode-auth"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        if ctx.credentials.auth.id == "api_key":
            headers = {
                "Authorization": f"Bearer {ctx.secret('api_key')}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
            return {"usage": await _http.get_json(ctx, base + USAGE_PATH, what="usage request", headers=headers)}
        cookie = web.cookie_header(ctx.secret("cookie"))
        if cookie is None:
            raise AuthError("OpenCode Go: the cookie holds no 'auth' session cookie", hint=HINT_WEB)
        workspace = web.workspace_id(ctx.setting("workspace"))
        if workspace is None:
            if ctx.setting("workspace"):
                raise ProviderConfigError(
                    "OpenCode Go: 'workspace' holds no wrk_ id", hint="Set it to the id in your Go page's URL."
                )
            workspace = await self._first_workspace(ctx, base, cookie)
        page = await self._text(
            ctx,
            f"{base}/workspace/{workspace}/go",
            what="Go page request",
            headers={
                "Cookie": cookie,
                "User-Agent": web.BROWSER_UA,
                "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
            },
        )
        return {"page": page}

    async def _first_workspace(self, ctx: FetchContext, base: str, cookie: str) -> str:
        headers = {
            "Cookie": cookie,
            "X-Server-Id": web.WORKSPACES_FUNCTION,
            "X-Server-Instance": f"server-fn:{uuid.uuid4()}",
            "User-Agent": web.BROWSER_UA,
            "Origin": base,
            "Referer": base,
            "Accept": "text/javascript, application/json;q=0.9, */*;q=0.8",
        }
        url = f"{base}{SERVER_PATH}?id={web.WORKSPACES_FUNCTION}"
        text = await self._text(ctx, url, what="workspaces request", headers=headers)
        ids = web.workspace_ids(text)
        if ids:
            return ids[0]
        if web.signed_out(text):
            raise AuthError("OpenCode Go: the opencode.ai session is signed out", hint=HINT_WEB)
        raise ParseError(
            "OpenCode Go: the workspaces answer lists no wrk_ id",
            field="workspaces",
            hint=(
                "Set AGENTGAUGE_OPENCODEGO_WORKSPACE to the wrk_ id in your Go page's URL "
                "(opencode.ai may have moved the workspaces function)."
            ),
        )

    @staticmethod
    async def _text(ctx: FetchContext, url: str, *, what: str, headers: dict[str, str]) -> str:
        """A page or server-function answer as text; a redirect (to the login) means signed out."""
        response = await _http.send(
            ctx, "GET", url, what=what, headers=headers, ok_statuses=(200, 301, 302, 303, 307, 308)
        )
        if response.status_code != 200:
            raise AuthError(
                f"OpenCode Go: {what} was redirected to sign in (HTTP {response.status_code})", hint=HINT_WEB
            )
        return response.text

    def parse(self, raw: Raw, now: datetime) -> Usage:
        salvage = Salvage()
        if "page" in raw:
            page = raw.get("page")
            if not isinstance(page, str):
                raise ParseError("OpenCode Go: the Go page is not text", field="$")
            windows, balances = web.parse_page(page, now, salvage)
            return Usage(windows=tuple(windows), balances=tuple(balances), warnings=salvage.warnings())
        windows = parse_api(raw.get("usage"), now, salvage)
        return Usage(windows=tuple(windows), warnings=salvage.warnings())


PROVIDER = OpenCodeGo()
