"""z.ai / GLM Coding Plan: ``GET {base}/api/monitor/usage/quota/limit`` with an API key.

The quota URL is ``quota_url`` (``Z_AI_QUOTA_URL``) when set, else ``url`` (``Z_AI_API_HOST``: a
host or base URL) plus the quota path, else the region's host. The key goes as a Bearer token
(z.ai also takes an HS256 JWT signed with an ``id.secret`` key's secret, as its SDKs send; the
raw key is enough). Then ``GET {base}/api/biz/subscription/list`` with the same headers: the active
subscriptions (optional: a credential it does not take leaves them out). ``parsing`` reads both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ...errors import AuthError, ParseError, ProviderConfigError, UpstreamError
from ...models import Usage
from .. import _capture, _http
from .._base import (
    AuthSource,
    BrowserLogin,
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
from .._capture import unquote
from .._settings import choice, gate, guard_region, with_scheme
from . import parsing

REGION_URLS = {"global": "https://api.z.ai", "china": "https://open.bigmodel.cn"}
REGION_ALIASES = {"global": "global", "intl": "global", "china": "china", "cn": "china", "bigmodel-cn": "china"}
QUOTA_PATH = "/api/monitor/usage/quota/limit"
SUBSCRIPTIONS_PATH = "/api/biz/subscription/list"
# Which region a known quota host belongs to: a key is never sent to the other region's host.
HOST_REGIONS = {"api.z.ai": "global", "open.bigmodel.cn": "china"}
CHINA_ENV = ("BIGMODEL_API_KEY", "ZHIPU_API_KEY", "ZHIPUAI_API_KEY", "GLM_API_KEY")
CHINA_KEY_FILES = ("~/.coding-relay/glm-api-key", "~/.config/bigmodel/api_key", "~/.config/zhipu/api_key")


def region_of(settings: Mapping[str, str]) -> str:
    hint = "Set AGENTGAUGE_ZAI_REGION to 'global' or 'china'."
    return choice(settings, "region", REGION_ALIASES, default="global", provider="z.ai", hint=hint)


def quota_url(settings: Mapping[str, str]) -> str:
    """The quota endpoint: ``quota_url`` as given (``Z_AI_QUOTA_URL``), else ``url`` (a host or base
    URL, ``Z_AI_API_HOST``) with the quota path unless it already ends in it, else the region's host.
    Pointing either at the other region's host is refused, so a key never leaves its region."""
    region = region_of(settings)  # validated even when an override makes it moot
    full, base = unquote(settings.get("quota_url")), unquote(settings.get("url"))
    if full:
        url, name = with_scheme(full), "quota_url"
    else:
        root = with_scheme(base).rstrip("/") if base else REGION_URLS[region]
        url, name = (root if root.endswith(QUOTA_PATH) else root + QUOTA_PATH), "url"
    hint = "Set AGENTGAUGE_ZAI_REGION to match the host, or point the URL at your region's host."
    return guard_region(url, region, HOST_REGIONS, provider="z.ai", setting=name, hint=hint)


def subscriptions_url(quota: str) -> str:
    """``/api/biz/subscription/list`` on the quota endpoint's base (query dropped)."""
    parts = urlsplit(quota)
    path = parts.path[: -len(QUOTA_PATH)] if parts.path.endswith(QUOTA_PATH) else ""
    return urlunsplit(parts._replace(path=path.rstrip("/") + SUBSCRIPTIONS_PATH, query=""))


def _team_scope(url: str) -> str:
    """``url`` with ``type=2`` (team scope), replacing any ``type`` it already has."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "type"] + [("type", "2")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _discover_key(ctx: DiscoverContext) -> Discovered | None:
    if ctx.env.get("Z_AI_API_KEY"):
        return Discovered({"api_key": Secret(ctx.env["Z_AI_API_KEY"])}, "environment variable Z_AI_API_KEY")
    try:
        china = region_of(ctx.settings) == "china"
    except ProviderConfigError:
        return None
    if not china:
        return None  # never send a China-platform key to the global host
    for name in CHINA_ENV:
        if ctx.env.get(name):
            return Discovered({"api_key": Secret(ctx.env[name])}, f"environment variable {name}")
    for path in CHINA_KEY_FILES:
        file = ctx.expand(path)
        try:
            key = file.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if key:
            return Discovered({"api_key": Secret(key)}, str(path))
    return None


class Zai(Provider):
    id = "zai"
    name = "z.ai"
    docs_url = "https://z.ai/manage-apikey/apikey-list"
    settings = (
        Setting("api_key", "z.ai (or BigModel) API key from the API keys page.", secret=True),
        Setting(
            "region",
            "API region: 'global' (api.z.ai) or 'china' (open.bigmodel.cn).",
            default="global",
            choices=("global", "china", "intl", "cn", "bigmodel-cn"),
        ),
        Setting(
            "url",
            "Host or base URL of the quota API (the quota path is appended); defaults to the region's host.",
            env=("Z_AI_API_HOST",),
        ),
        Setting(
            "quota_url",
            "Full URL of the quota endpoint; wins over url and region.",
            env=("Z_AI_QUOTA_URL",),
        ),
        Setting("organization", "Team scope: the Bigmodel-Organization id (with project)."),
        Setting("project", "Team scope: the Bigmodel-Project id (with organization)."),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            hint="Set AGENTGAUGE_ZAI_API_KEY to a key from https://z.ai/manage-apikey/apikey-list, then refresh.",
            discover=_discover_key,
            discovered_source="api_key",
        ),
        AuthSource(  # the chat.z.ai / z.ai login token (a JWT the quota API takes as a Bearer)
            id="browser",
            source="browser",
            label="z.ai browser login",
            requires=("api_key",),
            hint="Log in to chat.z.ai in Firefox or Chrome, then refresh.",
            # chat.z.ai keeps its JWT under ``token``; the z.ai open platform under its own keys.
            browser=BrowserLogin(
                "chat.z.ai",
                storage=(
                    StorageRule("api_key", ("https://chat.z.ai",), ("token",)),
                    StorageRule(
                        "api_key", ("https://z.ai",), ("z-ai-open-platform-token-production", "z-ai-website-token")
                    ),
                ),
            ),
            when=gate(region_of, "global"),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, "tokens"),
        WindowSpec("weekly", "Weekly", 604800, "tokens"),
        WindowSpec("daily", "Daily", 86400, "tokens"),
        WindowSpec("monthly", "Monthly", None, "tokens"),
        WindowSpec("window*", "Token window", None, "tokens"),
        WindowSpec("tools_*", "Tools (MCP)", None, "requests"),
    )
    urls = {"url": ""}  # the default depends on the region, see fetch
    min_interval = 60.0
    redact_keys = frozenset({"organization", "project"})
    env_vars = ("Z_AI_API_KEY", *CHINA_ENV)
    samples = (
        Sample("quota-limit-*.json", "quota"),
        Sample("subscription-list-*.json", "subscriptions", {"quota": {"data": {}}}),
    )
    sim_credentials = {"api_key": "sim-zai-key.secret"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        url = quota_url(ctx.settings)
        key = _capture.bare_token(ctx.secret("api_key"))  # a pasted "Bearer ..." header too
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        org, project = ctx.setting("organization"), ctx.setting("project")
        if org or project:
            if not (org and project):
                raise ProviderConfigError("z.ai: team scope needs both organization and project")
            headers |= {"Bigmodel-Organization": org, "Bigmodel-Project": project}
            url = _team_scope(url)
        quota = await _http.get_json(ctx, url, what="quota request", headers=headers)
        return {"quota": quota, "subscriptions": await self._subscriptions(ctx, url, headers)}

    async def _subscriptions(self, ctx: FetchContext, quota: str, headers: dict[str, str]) -> Any:
        """The account's subscriptions (seed 001's second call). Optional: a credential this business
        endpoint does not take (an API key may not) just leaves them out; another failure is a warning."""
        try:
            return await _http.get_json(ctx, subscriptions_url(quota), what="subscription list", headers=headers)
        except AuthError:
            ctx.log.debug("zai/%s: the subscription list does not take this credential", ctx.account)
            return None
        except (UpstreamError, ParseError) as exc:
            return {"error": {"message": f"{exc.message} (subscriptions)"}}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw, now)


PROVIDER = Zai()
