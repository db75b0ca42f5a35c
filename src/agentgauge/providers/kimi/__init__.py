"""Kimi Code: the Code API with an API key or the Kimi Code CLI's login, or the www.kimi.com
ConnectRPC gateway with the ``kimi-auth`` token.

Both answer with the same two meters (see ``parsing``): a weekly request quota and short
rate-limit windows. The Code API names the membership tier (``user.membership.level``); the web
path reads it from ``SubscriptionService/GetSubscription`` and, as a fallback for windows
``GetUsages`` did not give, the 0-1 ratios of ``MembershipService/GetSubscriptionStats``. Both
extra web calls are optional: their failure never fails the fetch.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ...errors import AuthError, ConfigError, ProviderError, RateLimitedError, UpstreamError
from ...models import Usage
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
from .._parse import obj, opt_str
from . import parsing
from .parsing import CODING_SCOPE, WEEK

CODE_USAGES_PATH = "/coding/v1/usages"
GATEWAY = "/apiv2/kimi.gateway"
USAGES_PATH = f"{GATEWAY}.billing.v1.BillingService/GetUsages"
# The plan lives in the order package, not billing (seed 000: AgentsUsageDashboard).
SUBSCRIPTION_PATH = f"{GATEWAY}.order.v1.SubscriptionService/GetSubscription"
STATS_PATH = f"{GATEWAY}.membership.v2.MembershipService/GetSubscriptionStats"
# ConnectRPC error codes (https://connectrpc.com/docs/protocol#error-codes) that mean "log in again".
AUTH_CODES = {"unauthenticated", "permission_denied"}
HINT_API_KEY = "Set AGENTGAUGE_KIMI_API_KEY to a Kimi Code API key (Kimi Code console > API keys), then refresh."
HINT_CLI = "The Kimi Code CLI login has expired or is unreadable: run `kimi` and log in again, then refresh."
KIMI_CLI_VERSION = "1.12.0"
HINT_WEB = "Log in to www.kimi.com, copy the 'kimi-auth' cookie into AGENTGAUGE_KIMI_AUTH_TOKEN, then refresh."


def _from_env(name: str, setting: str) -> Callable[[DiscoverContext], Discovered | None]:
    """Discovery of one credential from one environment variable (read-only)."""

    def discover(ctx: DiscoverContext) -> Discovered | None:
        value = (ctx.env.get(name) or "").strip()
        return Discovered({setting: Secret(value)}, f"environment variable {name}") if value else None

    return discover


def kimi_home(ctx: DiscoverContext) -> Path:
    base = ctx.env.get("KIMI_CODE_HOME")
    return ctx.expand(base) if base else ctx.home / ".kimi-code"


def _discover_cli_login(ctx: DiscoverContext) -> Discovered | None:
    """The Kimi Code CLI's own login (read-only). Its refresh token is never used: the CLI owns it."""
    home = kimi_home(ctx)
    path = home / "credentials" / "kimi-code.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ConfigError(f"Kimi: {path} is not valid JSON", hint=HINT_CLI) from None
    root = obj(data)
    token = next((opt_str(root.get(k)) for k in ("access_token", "accessToken", "token") if opt_str(root.get(k))), None)
    if not token:
        return None  # logged out: the other sources may still work
    try:
        device_id = (home / "device_id").read_text(encoding="utf-8").strip()
    except OSError:
        device_id = ""
    details = {
        "kimi_cli": "1",
        "device_id": device_id,
        "device_name": platform.node(),
        "device_model": f"{platform.system()} {platform.release()} {platform.machine()}".strip(),
        "os_version": platform.version(),
    }
    return Discovered({"api_key": Secret(token)}, str(path), details)


_discover_env_key = _from_env("KIMI_CODE_API_KEY", "api_key")


def _discover_api_key(ctx: DiscoverContext) -> Discovered | None:
    """What discovery finds for the Code API, in source order: KIMI_CODE_API_KEY, then the CLI's login."""
    return _discover_env_key(ctx) or _discover_cli_login(ctx)


def cli_headers(details: Mapping[str, str]) -> dict[str, str]:
    """The device headers the Kimi Code CLI sends; the Code API expects them with a CLI token."""
    if not details.get("kimi_cli"):
        return {}
    headers = {
        "User-Agent": f"KimiCLI/{KIMI_CLI_VERSION}",
        "X-Msh-Platform": "kimi_cli",
        "X-Msh-Version": KIMI_CLI_VERSION,
        "X-Msh-Device-Name": details.get("device_name", ""),
        "X-Msh-Device-Model": details.get("device_model", ""),
        "X-Msh-Os-Version": details.get("os_version", ""),
        "X-Msh-Device-Id": details.get("device_id", ""),
    }
    # Header values must be ASCII without line breaks; a host name may not be.
    return {
        k: v.encode("ascii", "ignore").decode().replace("\r", " ").replace("\n", " ") for k, v in headers.items() if v
    }


def _connect_error(root: Any, what: str, secret: str) -> ProviderError:
    """A ConnectRPC error body (``{code, message}``) as the matching typed error."""
    body = obj(root)
    code = (opt_str(body.get("code")) or "unknown").lower()
    message = (opt_str(body.get("message")) or "no message")[:200]
    if secret:
        message = message.replace(secret, "***")  # an upstream echo of the token must not reach logs
    text = f"Kimi: {what} failed ({code}): {message}"
    if code in AUTH_CODES:
        return AuthError(text, hint=HINT_WEB)
    if code == "resource_exhausted":
        return RateLimitedError(text)
    return UpstreamError(text, status_code=400)


class Kimi(Provider):
    id = "kimi"
    name = "Kimi Code"
    docs_url = "https://www.kimi.com/code"
    status_page = "https://status.moonshot.cn"
    settings = (
        Setting("api_key", "Kimi Code API key (Kimi Code console > API keys).", secret=True),
        Setting(
            "auth_token", "The 'kimi-auth' cookie (a JWT) from www.kimi.com.", secret=True, env=("KIMI_AUTH_TOKEN",)
        ),
        Setting("api_url", "Base URL of the Kimi Code API.", default="https://api.kimi.com"),
        Setting("web_url", "Base URL of the kimi.com web gateway.", default="https://www.kimi.com"),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            hint=HINT_API_KEY,
            discover=_discover_env_key,
            discovered_source="api_key",
        ),
        # The CLI's access token goes to the same Code API as a key, with the CLI's device headers.
        AuthSource(
            id="cli_login",
            source="oauth",
            label="Kimi Code CLI login",
            requires=("api_key",),
            hint="Log in with the Kimi Code CLI (`kimi`, it writes ~/.kimi-code/credentials/kimi-code.json).",
            discover=_discover_cli_login,
            discovered_source="cli",
        ),
        AuthSource(
            id="web",
            source="cookie",
            label="kimi.com cookie",
            requires=("auth_token",),
            hint=HINT_WEB,
            discovered_source="cookie",
            impersonate=True,
            browser=BrowserLogin("www.kimi.com", cookies=(CookieRule("auth_token", ("kimi.com",), ("kimi-auth",)),)),
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, "requests"),
        WindowSpec("weekly", "Weekly", WEEK, "requests"),
        WindowSpec("window*", "Rate-limit window", None, "requests"),
        WindowSpec("daily", "Daily", 86400, "requests"),
    )
    urls: ClassVar[Mapping[str, str]] = {"api_url": "https://api.kimi.com", "web_url": "https://www.kimi.com"}
    min_interval = 60.0
    env_vars = ("KIMI_CODE_HOME", "KIMI_CODE_API_KEY")
    samples = (
        Sample("code-api-usages*.json", "code"),
        Sample("web-getusages*.json", "web", {"subscription": None, "stats": None}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "sim-kimi-api-key",
        "auth_token": "sim-kimi-auth-jwt",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        if ctx.credentials.auth.id in ("api_key", "cli_login"):
            headers = {
                "Authorization": f"Bearer {ctx.secret('api_key')}",
                "Accept": "application/json",
                **cli_headers(ctx.credentials.details),
            }
            url = ctx.url("api_url") + CODE_USAGES_PATH
            try:
                return {"code": await _http.get_json(ctx, url, what="usages request", headers=headers)}
            except AuthError as exc:
                if ctx.credentials.details.get("kimi_cli"):  # the CLI refreshes its own token; we never do
                    raise AuthError(exc.message, hint=HINT_CLI, status_code=exc.status_code) from None
                raise
        base = ctx.url("web_url")
        usages = await self._connect(ctx, base, USAGES_PATH, {"scope": [CODING_SCOPE]}, "GetUsages request")
        subscription, stats = await asyncio.gather(
            self._optional(ctx, base, SUBSCRIPTION_PATH, "GetSubscription request"),
            self._optional(ctx, base, STATS_PATH, "GetSubscriptionStats request"),
        )
        return {"web": usages, "subscription": subscription, "stats": stats}

    async def _connect(self, ctx: FetchContext, base: str, path: str, body: dict[str, Any], what: str) -> Any:
        token = ctx.secret("auth_token")
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "connect-protocol-version": "1",
            "x-msh-platform": "web",
            "Origin": base,
            "Authorization": f"Bearer {token}",
        }
        # 400 carries a ConnectRPC error body ("invalid_argument"...) worth reading; the rest map by status.
        response = await _http.send(
            ctx,
            "POST",
            base + path,
            what=what,
            headers=headers,
            json=body,
            cookies={"kimi-auth": token},
            ok_statuses=(200, 400),
        )
        if response.status_code == 400:
            try:
                error_body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise UpstreamError(f"Kimi: {what} answered HTTP 400", status_code=400) from None
            raise _connect_error(error_body, what, token)
        return _http.decode_json(ctx, response, what=what)

    async def _optional(self, ctx: FetchContext, base: str, path: str, what: str) -> Any:
        """An enrichment call: its failure is logged, never raised (the quota is already read)."""
        try:
            return await self._connect(ctx, base, path, {}, what)
        except ProviderError as exc:
            ctx.log.info("kimi: optional %s failed: %s", what, exc.message)
            return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if "code" in raw:
            return parsing.parse_code(raw["code"])
        return parsing.parse_web(raw.get("web"), raw.get("subscription"), raw.get("stats"))


def _nano_iso(value: datetime) -> str:
    """ISO-8601 UTC with nine fraction digits, the way Kimi's Go backend writes times."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


PROVIDER = Kimi()
