"""Factory (Droid): token-rate-limit windows or Standard/Premium token allowances from Factory's API.

Every source ends in the same calls, with ``Authorization: Bearer`` (an API key or a WorkOS access
token) and/or the web session's ``Cookie``, plus the web app's ``Origin``/``Referer`` and
``x-factory-client: web-app``:

1. ``GET {base}/api/app/auth/me``: organization, subscription (plan), user id;
2. ``GET {url}/api/billing/limits``: token-rate-limits billing, when the account uses it;
3. otherwise ``GET {base}/api/organization/subscription/usage?useCache=true&userId=<id>``.

``base`` is ``url`` when set; otherwise the hosts Factory's clients use are tried in turn. The
WorkOS login lives in ``workos``; the answers are parsed in ``parsing``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from ...errors import AuthError, NetworkError, ParseError, ProviderError, UpstreamError
from ...models import Usage
from .. import _capture, _http, _jwt
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
    StorageRule,
    WindowSpec,
)
from . import parsing, workos

API_URL = "https://api.factory.ai"
APP_URL = "https://app.factory.ai"
AUTH_URL = "https://auth.factory.ai"
ME_PATH = "/api/app/auth/me"
LIMITS_PATH = "/api/billing/limits"
USAGE_PATH = "/api/organization/subscription/usage"
# Cookies that mark a Factory web session (CodexBar's list); the rest of the domain's cookies ride along.
SESSION_COOKIES = (
    "wos-session",
    "__Secure-next-auth.session-token",
    "next-auth.session-token",
    "__Secure-authjs.session-token",
    "authjs.session-token",
    "__Host-authjs.csrf-token",
    "session",
    "access-token",
)
STORAGE_ORIGINS = (APP_URL, AUTH_URL)
HINT_KEY = "Set AGENTGAUGE_FACTORY_API_KEY (or FACTORY_API_KEY) to a key from app.factory.ai > Settings > API keys."
HINT_WEB = "Log in to app.factory.ai in Firefox or Chrome, then refresh; or copy its Cookie header into "
HINT_COOKIE = HINT_WEB + "AGENTGAUGE_FACTORY_COOKIE."
_JWT = re.compile(r"^[\w-]+\.[\w-]+\.[\w-]+$")


def dotenv_key(text: str) -> str | None:
    """``FACTORY_API_KEY`` from a dotenv file (``export`` and quotes allowed, comments skipped)."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        if sep and name.strip() == "FACTORY_API_KEY":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1].strip()
            return value or None
    return None


def _discover_dotenv(ctx: DiscoverContext) -> Discovered | None:
    path = ctx.home / ".factory" / ".env"
    try:
        key = dotenv_key(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return Discovered({"api_key": Secret(key)}, "~/.factory/.env") if key else None


def cookie_header(value: str) -> str:
    return _capture.cookie_header(value)


def cookie_bearer(header: str) -> str | None:
    """The JWT the web app also sends as a Bearer: the ``access-token`` cookie, else a JWT session cookie."""
    pairs = dict(p.strip().split("=", 1) for p in header.split(";") if "=" in p)
    for name in ("access-token", *SESSION_COOKIES):
        value = pairs.get(name, "").strip()
        if _JWT.match(value):
            return value
    return None


def bases(settings: Mapping[str, str], source: str) -> list[str]:
    """Hosts to try, in order: the ``url`` setting alone when set; else Factory's own hosts."""
    configured = (settings.get("url") or "").strip().rstrip("/")
    if configured:
        return [configured]
    return [AUTH_URL, API_URL, APP_URL] if source == "web" else [API_URL, APP_URL]


class Factory(Provider):
    id = "factory"
    name = "Factory"
    docs_url = "https://app.factory.ai/settings/billing"
    settings = (
        Setting(
            "api_key",
            "Factory API key (fk-...) from app.factory.ai > Settings > API keys.",
            secret=True,
            env=("FACTORY_API_KEY",),
        ),
        Setting("cookie", "app.factory.ai cookies: a whole Cookie header of the signed-in web app.", secret=True),
        Setting(
            "bearer_token",
            "The web login's WorkOS access token (a JWT); refreshed with refresh_token when it expires.",
            secret=True,
        ),
        Setting(
            "refresh_token",
            "The web login's WorkOS refresh token; redeemed only into agentgauge's own secret store.",
            secret=True,
        ),
        Setting("url", "Base URL of the Factory API; Factory's own hosts are tried when unset.", default=API_URL),
        Setting("workos_url", "Base URL of WorkOS (token refresh).", default="https://api.workos.com"),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="Factory API key",
            requires=("api_key",),
            hint=HINT_KEY,
            discover=_discover_dotenv,
            discovered_source="api_key",
        ),
        AuthSource(
            id="web",
            source="cookie",
            label="app.factory.ai session cookie",
            requires=("cookie",),
            hint=HINT_COOKIE,
            browser=BrowserLogin(
                "app.factory.ai", cookies=(CookieRule("cookie", ("factory.ai",), SESSION_COOKIES, header=True),)
            ),
            discovered_source="browser",
        ),
        AuthSource(
            id="session",
            source="oauth",
            label="Factory login (WorkOS access token)",
            requires=("bearer_token",),
            optional=("refresh_token",),
            hint=HINT_WEB + "AGENTGAUGE_FACTORY_BEARER_TOKEN.",
            browser=BrowserLogin(
                "app.factory.ai", storage=(StorageRule("bearer_token", STORAGE_ORIGINS, ("workos:access-token",)),)
            ),
            discovered_source="browser",
        ),
        AuthSource(
            id="workos",
            source="oauth",
            label="Factory login (WorkOS refresh token)",
            requires=("refresh_token",),
            hint=HINT_WEB + "AGENTGAUGE_FACTORY_REFRESH_TOKEN.",
            browser=BrowserLogin(
                "app.factory.ai", storage=(StorageRule("refresh_token", STORAGE_ORIGINS, ("workos:refresh-token",)),)
            ),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("monthly", "Monthly", None, None),
        WindowSpec("core_*", "Core pool", None, None),
        WindowSpec("standard", "Standard tokens", None, "tokens"),
        WindowSpec("premium", "Premium tokens", None, "tokens"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": API_URL, "workos_url": "https://api.workos.com"}
    min_interval = 60.0
    redact_keys = frozenset({"email", "userId", "access_token", "refresh_token"})
    samples = (
        Sample("token-rate-limits.json", "limits", {"me": None, "usage": None}),
        Sample("extra-usage-balance.json", "limits", {"me": None, "usage": None}),
        Sample("usage-standard-premium.json", "usage", {"me": None, "limits": None}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "sim-factory-api-key",
        "cookie": "wos-session=sim-factory-session",
        "bearer_token": "sim-factory-bearer",
        "refresh_token": "sim-factory-refresh",
    }
    demo_accounts = ("legacy",)

    async def fetch(self, ctx: FetchContext) -> Raw:
        source = ctx.credentials.auth.id
        if source == "api_key":
            return await self._on_hosts(ctx, source, ctx.secret("api_key"), None, HINT_KEY)
        if source == "web":
            header = cookie_header(ctx.secret("cookie"))
            bearer = cookie_bearer(header)
            try:
                return await self._on_hosts(ctx, source, bearer, header, HINT_COOKIE)
            except AuthError:
                if bearer is None:
                    raise
            return await self._on_hosts(ctx, source, None, header, HINT_COOKIE)  # a stale access-token cookie
        hint = ctx.credentials.auth.hint
        return await workos.call_with_login(ctx, lambda token: self._on_hosts(ctx, source, token, None, hint))

    async def _on_hosts(self, ctx: FetchContext, source: str, bearer: str | None, cookie: str | None, hint: str) -> Raw:
        """The calls on each candidate host in turn; an auth refusal is reported before later host noise."""
        problems: list[ProviderError] = []
        for base in bases(ctx.settings, source):
            try:
                return await self._calls(ctx, base, bearer, cookie)
            except AuthError as exc:
                problems.append(
                    AuthError(
                        exc.message,
                        hint=exc.hint if exc.hint != AuthError.default_hint else hint,
                        status_code=exc.status_code,
                    )
                )
            except (UpstreamError, NetworkError) as exc:
                if isinstance(exc, UpstreamError) and exc.status_code not in (404, 405, 409):
                    raise
                problems.append(exc)
        auth = next((p for p in problems if isinstance(p, AuthError)), None)
        raise auth or problems[-1]

    async def _calls(self, ctx: FetchContext, base: str, bearer: str | None, cookie: str | None) -> Raw:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Origin": APP_URL,
            "Referer": APP_URL + "/",
            "x-factory-client": "web-app",
        }
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if cookie:
            headers["Cookie"] = cookie
        me = await _http.get_json(ctx, base + ME_PATH, what="auth/me request", headers=headers)
        limits = await self._limits(ctx, headers)
        raw: Raw = {"me": me, "limits": limits, "usage": None}
        if obj_true(limits, "usesTokenRateLimitsBilling"):
            return raw
        user = parsing.user_id(me) or _jwt.text_claim(bearer, "sub")
        query = {"useCache": "true", **({"userId": user} if user else {})}
        raw["usage"] = await _http.get_json(
            ctx, f"{base}{USAGE_PATH}?{urlencode(query)}", what="subscription usage request", headers=headers
        )
        return raw

    async def _limits(self, ctx: FetchContext, headers: dict[str, str]) -> Any:
        """``/api/billing/limits`` (always on the API host). Older plans may lack it (404, or not JSON):
        then the subscription usage is read instead. Any other failure fails the fetch, so a
        rate-limited account is never shown with the wrong billing model."""
        try:
            return await _http.get_json(
                ctx, ctx.url("url") + LIMITS_PATH, what="billing limits request", headers=headers
            )
        except (UpstreamError, ParseError) as exc:
            if isinstance(exc, UpstreamError) and exc.status_code not in (404, 405):
                raise
            ctx.log.info("factory: no billing limits, using subscription usage: %s", exc.message)
            return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw, now)


def obj_true(value: Any, key: str) -> bool:
    return isinstance(value, dict) and value.get(key) is True


PROVIDER = Factory()
