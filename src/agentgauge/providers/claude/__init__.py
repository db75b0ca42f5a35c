"""Claude (Pro/Max/Team): usage windows from the OAuth API, claude.ai, or the Claude Code CLI.

Sources, in fallback order:

1. ``oauth``: ``GET {api}/api/oauth/usage`` with Claude Code's OAuth token (read from
   ``~/.claude/.credentials.json`` or set directly); needs the ``user:profile`` scope.
2. ``web``: claude.ai with the ``sessionKey`` cookie: ``GET {web}/api/bootstrap`` names the
   account's organizations and plan (``GET {web}/api/organizations`` when it cannot), then
   ``GET {web}/api/organizations/{uuid}/usage``.
3. ``cli``: the ``claude`` binary in a pseudo-terminal, reading its ``/usage`` panel.

Both HTTP sources return the same JSON (see ``parsing.parse_usage``); ``panel`` reads the CLI's
panel. Credential files are read-only: Claude Code owns and refreshes its token, so we never
write it back.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from ...errors import AuthError, ChallengeError, ConfigError, ParseError, ProviderConfigError, UpstreamError
from ...models import Usage
from .. import _capture, _http, _oauth
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
from .._parse import opt_num, opt_str
from . import cli, panel, parsing

OAUTH_PATH = "/api/oauth/usage"
ORGS_PATH = "/api/organizations"
BOOTSTRAP_PATH = "/api/bootstrap"
OAUTH_BETA = "oauth-2025-04-20"
USER_AGENT = "claude-code/2.1.0"
LOGIN_HINT = "Run `claude` and log in (/login), then refresh; or set AGENTGAUGE_CLAUDE_OAUTH_TOKEN."
SCOPE_HINT = (
    "The token lacks the user:profile scope (long-lived `claude setup-token` tokens only have "
    "user:inference). Use the token Claude Code stores after `claude` /login, or the web source."
)
COOKIE_HINT = (
    "Log in to claude.ai in your browser again and copy the sessionKey cookie into "
    "AGENTGAUGE_CLAUDE_SESSION_KEY, then refresh."
)


KEYCHAIN_SERVICE = "Claude Code-credentials"
PLATFORM = sys.platform  # tests set "darwin" to exercise the Keychain path with a fake `security`
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
TOKEN_PATH = "/v1/oauth/token"
RELOGIN_HINT = "The Claude login has expired: run `claude` and log in again (/login), then refresh."
OAUTH = _oauth.OAuthClient(
    provider_name="Claude",
    url_setting="token_url",
    path=TOKEN_PATH,
    client_id=CLIENT_ID,
    json_body=False,
    access_setting="oauth_token",
    relogin_hint=RELOGIN_HINT,
)


def credentials_file(ctx: DiscoverContext) -> Path:
    base = ctx.env.get("CLAUDE_CONFIG_DIR")
    return (ctx.expand(base) if base else ctx.home / ".claude") / ".credentials.json"


def _keychain_text(ctx: DiscoverContext) -> str | None:
    """Claude Code's login JSON from the macOS Keychain (read-only; ``security`` may prompt once)."""
    if PLATFORM != "darwin":
        return None
    security = shutil.which("security", path=ctx.env.get("PATH") or "/usr/bin")
    if not security:
        return None
    try:
        done = subprocess.run(
            [security, "find-generic-password", "-s", KEYCHAIN_SERVICE, "-w"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:  # no such item, or the user denied access
        return None
    return done.stdout.strip() or None


def _discover_oauth(ctx: DiscoverContext) -> Discovered | None:
    path = credentials_file(ctx)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        keychain = _keychain_text(ctx)
        if keychain is None:
            return None
        text, where = keychain, f"macOS Keychain item '{KEYCHAIN_SERVICE}'"
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError(
            f"Claude: {where} is not valid JSON", hint="Run `claude` and log in again so it rewrites the file."
        ) from None
    oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
    token = opt_str(oauth.get("accessToken")) if isinstance(oauth, dict) else None
    if not isinstance(oauth, dict) or not token:
        # Claude Code 2.1.x may keep only MCP logins (mcpOAuth) here: the CLI itself is logged out.
        raise ConfigError(f"Claude: {where} holds no Claude login (not logged in)", hint=LOGIN_HINT)
    details = {
        key: str(oauth[key])
        for key in ("subscriptionType", "rateLimitTier", "expiresAt")
        if isinstance(oauth.get(key), str | int | float) and not isinstance(oauth.get(key), bool)
    }
    expires_ms = opt_num(details.get("expiresAt")) if details.get("expiresAt") else None
    if expires_ms:
        details[_oauth.EXPIRES_AT] = str(int(expires_ms / 1000))
    values = {"oauth_token": Secret(token)}
    refresh = opt_str(oauth.get("refreshToken"))
    if refresh:  # only ever redeemed into agentgauge's own store, never written back here
        values["refresh_token"] = Secret(refresh)
    return Discovered(values, where, details)


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    found = shutil.which("claude", path=ctx.env.get("PATH") or "")
    return Discovered({"claude_path": Secret(found)}, f"claude on PATH ({found})") if found else None


def _cookie_header(value: str) -> str:
    """A bare ``sessionKey`` value, or a whole ``Cookie:`` header pasted from the browser."""
    return _capture.named_cookie(value, "sessionKey")


def _expired_hint(details: Mapping[str, str], now: datetime) -> str | None:
    expires = opt_num(details.get("expiresAt")) if details.get("expiresAt") else None
    if expires and expires / 1000 < now.timestamp():
        return "The token in Claude Code's credentials file has expired; run `claude` once to refresh it."
    return None


class Claude(Provider):
    id = "claude"
    name = "Claude"
    docs_url = "https://claude.ai/settings/usage"
    status_page = "https://status.claude.com"
    settings = (
        Setting(
            "oauth_token", "Claude Code OAuth access token (sk-ant-oat...) with the user:profile scope.", secret=True
        ),
        Setting(
            "session_key", "claude.ai sessionKey cookie value (sk-ant-sid...), or a whole Cookie header.", secret=True
        ),
        Setting(
            "refresh_token",
            "Claude Code OAuth refresh token; used only to refresh into agentgauge's own "
            "secret store when the access token has expired.",
            secret=True,
        ),
        Setting("api_url", "Base URL of the OAuth usage API.", default="https://api.anthropic.com"),
        Setting(
            "token_url",
            "Base URL of the OAuth token service (/v1/oauth/token is appended).",
            default="https://platform.claude.com",
        ),
        Setting("web_url", "Base URL of claude.ai.", default="https://claude.ai"),
        Setting("org_id", "claude.ai organization uuid; skips organization discovery for the web source."),
        Setting("claude_path", "Path of the claude CLI for the cli source; found on PATH when unset."),
        Setting("cli_timeout", "Seconds to wait for the CLI's /usage panel.", default="25"),
    )
    auth = (
        AuthSource(
            id="oauth",
            source="oauth",
            label="Claude Code login",
            requires=("oauth_token",),
            optional=("refresh_token",),
            hint="Log in with `claude` (it writes ~/.claude/.credentials.json) or set AGENTGAUGE_CLAUDE_OAUTH_TOKEN.",
            discover=_discover_oauth,
            discovered_source="cli",
        ),
        AuthSource(
            id="web",
            source="cookie",
            label="claude.ai cookie",
            requires=("session_key",),
            optional=("org_id",),
            hint="Log in to claude.ai in Firefox or Chrome (agentgauge reads the sessionKey cookie), or copy it "
            "into AGENTGAUGE_CLAUDE_SESSION_KEY.",
            browser=BrowserLogin("claude.ai", cookies=(CookieRule("session_key", ("claude.ai",), ("sessionKey",)),)),
            discovered_source="browser",
            impersonate=True,
        ),
        AuthSource(
            id="cli",
            source="cli",
            label="Claude CLI",
            requires=("claude_path",),
            hint="Install Claude Code (`claude` on PATH) and log in once, or set AGENTGAUGE_CLAUDE_CLAUDE_PATH.",
            discover=_discover_cli,
            discovered_source="cli",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("weekly_opus", "Weekly · Opus", 604800, None),
        WindowSpec("weekly_sonnet", "Weekly · Sonnet", 604800, None),
        WindowSpec("weekly_*", "Weekly · model or surface", 604800, None),
        WindowSpec("extra_usage", "Extra usage (monthly)", None, "usd"),
    )
    urls: ClassVar[Mapping[str, str]] = {
        "api_url": "https://api.anthropic.com",
        "web_url": "https://claude.ai",
        "token_url": "https://platform.claude.com",
    }
    # The OAuth usage endpoint answers 429 to clients polling faster than every couple of minutes.
    min_interval = 120.0
    timeout = 30.0  # the CLI source needs time to start the TUI
    redact_keys = frozenset({"org_id", "session_key"})
    env_vars = ("CLAUDE_CONFIG_DIR",)
    samples = (
        Sample("oauth-usage-*.json", "usage", {"plan": None}),
        Sample("web-usage-*.json", "usage", {"plan": None}),
        Sample("cli-usage-panel*.txt", "panel", {"plan": None}, format="text"),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "oauth_token": "sim-claude-oauth-token",
        "session_key": "sk-ant-sid01-sim",
        "refresh_token": "sim-claude-refresh-token",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        source = ctx.credentials.auth.id
        if source == "oauth":
            return await self._fetch_oauth(ctx)
        if source == "web":
            return await self._fetch_web(ctx)
        return await self._fetch_cli(ctx)

    async def _fetch_oauth(self, ctx: FetchContext) -> Raw:
        async def usage(token: str) -> Any:
            headers = {
                "Authorization": f"Bearer {token}",
                "anthropic-beta": OAUTH_BETA,
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
            return await _http.get_json(
                ctx, ctx.url("api_url") + OAUTH_PATH, what="OAuth usage request", headers=headers
            )

        try:
            # An expired token (or a 401) is refreshed into agentgauge's own copy, then retried once.
            payload = await _oauth.call_with_refresh(ctx, OAUTH, usage)
        except AuthError as exc:
            if exc.hint == RELOGIN_HINT:
                raise  # the refresh itself was rejected: only a new login helps
            if exc.status_code == 403:
                raise AuthError(
                    "Claude: the OAuth token may not read usage (HTTP 403, missing the user:profile scope)",
                    hint=SCOPE_HINT,
                    status_code=403,
                ) from None
            raise AuthError(
                exc.message,
                hint=_expired_hint(ctx.credentials.details, ctx.now()) or LOGIN_HINT,
                status_code=exc.status_code,
            ) from None
        details = ctx.credentials.details
        return {
            "usage": payload,
            "plan": parsing.plan_from(details.get("rateLimitTier"), details.get("subscriptionType")),
        }

    async def _fetch_web(self, ctx: FetchContext) -> Raw:
        base = ctx.url("web_url")
        headers = {
            "Cookie": _cookie_header(ctx.secret("session_key")),
            "Accept": "application/json",
            "anthropic-client-platform": "web_claude.ai",
        }
        try:
            org_id, plan = ctx.credentials.get("org_id") or ctx.setting("org_id"), None
            if not org_id:
                org = await self._find_org(ctx, base, headers)
                org_id, plan = str(org["uuid"]), parsing.plan_from_org(org)
            payload = await _http.get_json(
                ctx, f"{base}{ORGS_PATH}/{org_id}/usage", what="claude.ai usage request", headers=headers
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=COOKIE_HINT, status_code=exc.status_code) from None
        return {"usage": payload, "plan": plan}

    @staticmethod
    async def _find_org(ctx: FetchContext, base: str, headers: dict[str, str]) -> dict[str, Any]:
        """The organization to read, as claude.ai's own page finds it: ``/api/bootstrap`` (the
        last active org and its plan), else the ``/api/organizations`` list. A bootstrap that
        fails upstream or drifts falls back; a rejected cookie, a challenge or a 429 does not."""
        try:
            boot = await _http.get_json(ctx, base + BOOTSTRAP_PATH, what="bootstrap request", headers=headers)
            org = parsing.org_from_bootstrap(boot)
        except ChallengeError:
            raise
        except (ParseError, UpstreamError) as exc:
            ctx.log.info("claude: bootstrap gave no organization (%s); reading the organizations list", exc.message)
            org = None
        if org is None:
            orgs = await _http.get_json(ctx, base + ORGS_PATH, what="organizations request", headers=headers)
            org = parsing.org_from_list(orgs)
        return org

    async def _fetch_cli(self, ctx: FetchContext) -> Raw:
        try:
            timeout = float(ctx.setting("cli_timeout") or 25)
        except ValueError:
            raise ProviderConfigError("Claude: cli_timeout is not a number of seconds") from None
        text = await cli.read_usage_panel(ctx.secret("claude_path"), timeout=timeout, cwd=tempfile.gettempdir())
        return {"panel": text, "plan": None}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        plan = raw.get("plan") if isinstance(raw.get("plan"), str) else None
        if "panel" in raw:
            return panel.parse_panel(str(raw["panel"]), now, plan)
        if "extracted" in raw:
            return panel.parse_extracted(raw["extracted"], now)
        return parsing.parse_usage(raw.get("usage"), plan)


PROVIDER = Claude()
