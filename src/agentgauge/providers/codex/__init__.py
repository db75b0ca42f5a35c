"""Codex / ChatGPT: rate-limit windows from ``chatgpt.com/backend-api/wham/usage`` or the Codex CLI.

Sources, in fallback order:

1. ``oauth``: the Codex CLI's ChatGPT login (``$CODEX_HOME/auth.json``, read-only) or an
   access token set directly; ``GET {url}/backend-api/wham/usage`` with the bearer token
   and ``ChatGPT-Account-Id`` (which selects the workspace; without it the account's default
   one answers).
2. ``web``: the ``__Secure-next-auth.session-token`` cookie of chatgpt.com, exchanged at
   ``GET {url}/api/auth/session`` for an access token, then the same usage call.
3. ``cli``: ``codex -s read-only -a never app-server`` over JSON-RPC (``account/rateLimits/read``).

Both HTTP sources then make best-effort calls whose failure never fails the fetch: the daily
usage breakdown (``wham/usage/daily-token-usage-breakdown``) and, for workspaces with spend
controls, the monthly spend cap.
auth.json is never written: the CLI owns its refresh token (they are single-use).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from ...errors import AuthError, ConfigError, ParseError, ProviderConfigError, UpstreamError
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
    scrub,
)
from .._parse import obj, opt_str
from . import cli, parsing

USAGE_PATH = "/backend-api/wham/usage"
DAILY_PATH = "/backend-api/wham/usage/daily-token-usage-breakdown"
SESSION_PATH = "/api/auth/session"
SPEND_PATH = "/backend-api/accounts/{account}/spend-controls/current-user/monthly-usage"
SESSION_COOKIE = "__Secure-next-auth.session-token"
USER_AGENT = "codex-cli"
LOGIN_HINT = "Run `codex login` (ChatGPT sign-in) so ~/.codex/auth.json holds tokens, then refresh."
COOKIE_HINT = (
    "Log in to chatgpt.com in your browser again and copy the __Secure-next-auth.session-token "
    "cookie into AGENTGAUGE_CODEX_SESSION_TOKEN, then refresh."
)


CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
TOKEN_PATH = "/oauth/token"
# The Codex CLI refreshes its tokens when last_refresh is older than this (codex-rs auth.rs).
STALE_AFTER = timedelta(days=8)
RELOGIN_HINT = "The ChatGPT login has expired: run `codex login` again, then refresh."
OAUTH = _oauth.OAuthClient(
    provider_name="Codex",
    url_setting="token_url",
    path=TOKEN_PATH,
    client_id=CLIENT_ID,
    json_body=True,
    access_setting="access_token",
    relogin_hint=RELOGIN_HINT,
    scope="openid profile email",
)


def token_expiry(access_token: str | None, last_refresh: str | None) -> datetime | None:
    """When to treat the CLI's access token as expired: its JWT ``exp``, else ``last_refresh`` + 8 days."""
    exp = _jwt.exp(access_token)
    if exp is not None:
        return exp
    try:
        when = datetime.fromisoformat(str(last_refresh).replace("Z", "+00:00")) if last_refresh else None
    except ValueError:
        return None
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when + STALE_AFTER if when else None


def auth_file(ctx: DiscoverContext) -> Path:
    base = ctx.env.get("CODEX_HOME")
    return (ctx.expand(base) if base else ctx.home / ".codex") / "auth.json"


def _pick(node: dict[str, Any], *names: str) -> str | None:
    return next((opt_str(node.get(n)) for n in names if opt_str(node.get(n))), None)


def _discover_oauth(ctx: DiscoverContext) -> Discovered | None:
    path = auth_file(ctx)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError(f"Codex: {path} is not valid JSON", hint=LOGIN_HINT) from None
    root = data if isinstance(data, dict) else {}
    tokens = obj(root.get("tokens"))
    token = _pick(tokens, "access_token", "accessToken")
    if not token:
        what = "only an OpenAI API key" if _pick(root, "OPENAI_API_KEY") else "no ChatGPT login"
        raise ConfigError(
            f"Codex: {path} holds {what}, not ChatGPT tokens (not logged in with ChatGPT)", hint=LOGIN_HINT
        )
    claims = parsing.identity_from_claims(_jwt.claims(_pick(tokens, "id_token", "idToken")))
    values = {"access_token": Secret(token)}
    account = _pick(tokens, "account_id", "accountId") or claims.get("account_id")
    if account:
        values["account_id"] = Secret(account)
    refresh = _pick(tokens, "refresh_token", "refreshToken")
    if refresh:  # only ever redeemed into agentgauge's own store, never written back to auth.json
        values["refresh_token"] = Secret(refresh)
    details = {k: v for k, v in claims.items() if k in ("email", "plan")}
    details.update(_oauth.expiry_detail(token_expiry(token, _pick(root, "last_refresh", "lastRefresh"))))
    return Discovered(values, str(path), details)


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    found = shutil.which("codex", path=ctx.env.get("PATH") or "")
    return Discovered({"codex_path": Secret(found)}, f"codex on PATH ({found})") if found else None


def _session_cookie(value: str) -> str:
    """A bare cookie value, or a whole ``Cookie:`` header (chunked ``.0``/``.1`` cookies)."""
    value = _capture.cookie_header(value)
    return value if SESSION_COOKIE in value or ";" in value else f"{SESSION_COOKIE}={value}"


def _user_agent(ctx: FetchContext) -> dict[str, str]:
    """The CLI's User-Agent, except on the chatgpt.com web login: that goes out as the browser whose
    TLS handshake it borrows (a CLI's User-Agent over Chrome's handshake is itself a bot signal)."""
    return {} if ctx.credentials.auth.impersonate else {"User-Agent": USER_AGENT}


class Codex(Provider):
    id = "codex"
    name = "Codex"
    docs_url = "https://chatgpt.com/codex/settings/usage"
    status_page = "https://status.openai.com"
    settings = (
        Setting(
            "access_token", "ChatGPT OAuth access token (as in ~/.codex/auth.json tokens.access_token).", secret=True
        ),
        Setting("account_id", "ChatGPT-Account-Id: the workspace to report (tokens.account_id)."),
        Setting(
            "session_token",
            "chatgpt.com __Secure-next-auth.session-token cookie value (or a Cookie header).",
            secret=True,
        ),
        Setting(
            "refresh_token",
            "ChatGPT OAuth refresh token; used only to refresh into agentgauge's own secret "
            "store when the access token has expired.",
            secret=True,
        ),
        Setting("url", "Base URL of chatgpt.com.", default="https://chatgpt.com"),
        Setting(
            "token_url",
            "Base URL of the OpenAI auth service (/oauth/token is appended).",
            default="https://auth.openai.com",
        ),
        Setting("codex_path", "Path of the codex CLI for the cli source; found on PATH when unset."),
        Setting("cli_timeout", "Seconds to wait for `codex app-server` to answer.", default="20"),
    )
    auth = (
        AuthSource(
            id="oauth",
            source="oauth",
            label="Codex CLI login",
            requires=("access_token",),
            optional=("account_id", "refresh_token"),
            hint="Run `codex login`, or set AGENTGAUGE_CODEX_ACCESS_TOKEN.",
            discover=_discover_oauth,
            discovered_source="cli",
        ),
        AuthSource(
            id="web",
            source="cookie",
            label="chatgpt.com cookie",
            requires=("session_token",),
            optional=("account_id",),
            hint="Log in to chatgpt.com in Firefox or Chrome (agentgauge reads its session cookie), or copy "
            "__Secure-next-auth.session-token into AGENTGAUGE_CODEX_SESSION_TOKEN.",
            browser=BrowserLogin(
                "chatgpt.com",
                cookies=(
                    CookieRule("session_token", ("chatgpt.com",), ("__Secure-next-auth.session-token",), chunked=True),
                ),
            ),
            discovered_source="browser",
            impersonate=True,
        ),
        AuthSource(
            id="cli",
            source="cli",
            label="Codex CLI",
            requires=("codex_path",),
            hint="Install the Codex CLI (`codex` on PATH) and run `codex login`, or set AGENTGAUGE_CODEX_CODEX_PATH.",
            discover=_discover_cli,
            discovered_source="cli",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("daily", "Daily", 86400, None),
        WindowSpec("monthly", "Monthly", None, None),
        WindowSpec("window_*", "Window of another length", None, None),
        WindowSpec("session_*", "Session (5h) · model-specific limit", 18000, None),
        WindowSpec("weekly_*", "Weekly · model-specific limit", 604800, None),
        WindowSpec("monthly_spend", "Monthly spend cap", None, "credits"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": "https://chatgpt.com", "token_url": "https://auth.openai.com"}
    min_interval = 60.0
    redact_keys = frozenset({"account_id", "session_token"})
    demo_accounts = ("work",)
    env_vars = ("CODEX_HOME",)
    samples = (
        Sample("wham-usage-*.json", "usage"),
        Sample("daily-token-usage-*.json", "daily", {"usage": {"rate_limit": None}}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "access_token": "sim-codex-access-token",
        "account_id": "sim-account",
        "session_token": "sim-codex-session",
        "refresh_token": "sim-codex-refresh-token",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        source = ctx.credentials.auth.id
        if source == "cli":
            return await self._fetch_cli(ctx)
        if source == "web":
            token, account = await self._session(ctx)
            account = ctx.setting("account_id") or account
            usage = await self._usage(ctx, token, account, COOKIE_HINT)
        else:
            account = ctx.setting("account_id") or ctx.credentials.get("account_id")
            used: list[str] = []

            async def call(candidate: str) -> Any:
                used.append(candidate)  # the spend call below must use the token that worked
                return await self._usage(ctx, candidate, account, LOGIN_HINT)

            # An expired token (or a 401) is refreshed into agentgauge's own copy, then retried once.
            usage = await _oauth.call_with_refresh(ctx, OAUTH, call)
            token = used[-1]
        raw: Raw = {"usage": usage, "plan": ctx.credentials.details.get("plan")}
        raw["daily"] = await self._optional(ctx, token, account, DAILY_PATH, "daily breakdown request")
        if account and parsing.wants_spend_controls(usage):
            path = SPEND_PATH.format(account=quote(account, safe=""))
            raw["spend"] = await self._optional(ctx, token, account, path, "spend-controls request")
        return raw

    def _headers(self, ctx: FetchContext, token: str, account: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **_user_agent(ctx)}
        if account:
            headers["ChatGPT-Account-Id"] = account
        return headers

    async def _usage(self, ctx: FetchContext, token: str, account: str | None, hint: str) -> Any:
        try:
            return await _http.get_json(
                ctx, ctx.url("url") + USAGE_PATH, what="usage request", headers=self._headers(ctx, token, account)
            )
        except AuthError as exc:
            if exc.status_code == 403:
                hint = (
                    "The token was refused for this workspace; check account_id (ChatGPT-Account-Id) or sign in again."
                )
            raise AuthError(exc.message, hint=hint, status_code=exc.status_code) from None

    async def _session(self, ctx: FetchContext) -> tuple[str, str | None]:
        headers = {
            "Cookie": _session_cookie(ctx.secret("session_token")),
            "Accept": "application/json",
            **_user_agent(ctx),
        }
        try:
            session = await _http.get_json(ctx, ctx.url("url") + SESSION_PATH, what="session request", headers=headers)
        except AuthError as exc:
            raise AuthError(exc.message, hint=COOKIE_HINT, status_code=exc.status_code) from None
        if not isinstance(session, dict):
            raise ParseError("Codex: session response is not an object", field="$")
        token = opt_str(session.get("accessToken"))
        if not token:
            # chatgpt.com answers {} (HTTP 200) for a cookie that is no longer signed in.
            raise AuthError("Codex: the chatgpt.com session expired (no accessToken)", hint=COOKIE_HINT)
        return token, opt_str(obj(session.get("account")).get("id"))

    async def _optional(self, ctx: FetchContext, token: str, account: str | None, path: str, what: str) -> Any:
        """Best effort: an extra (the daily breakdown, the spend cap) must not hide the rate limits."""
        url = ctx.url("url") + path
        headers = self._headers(ctx, token, account)
        return await _http.optional(ctx, what, _http.get_json(ctx, url, what=what, headers=headers))

    async def _fetch_cli(self, ctx: FetchContext) -> Raw:
        try:
            timeout = float(ctx.setting("cli_timeout") or 20)
        except ValueError:
            raise ProviderConfigError("Codex: cli_timeout is not a number of seconds") from None
        answer = await cli.read_rate_limits(ctx.secret("codex_path"), timeout=timeout)
        if "error" not in answer:
            return {"rpc": answer.get("result")}
        error = obj(answer.get("error"))
        message = opt_str(error.get("message")) or ""
        # The CLI's strict decoder fails on new plan types but quotes the wham body it got.
        body = parsing.embedded_json(message)
        if isinstance(body, dict):
            return {"usage": body}
        lowered = message.lower()
        if any(word in lowered for word in ("401", "unauthorized", "not logged in", "login", "auth")):
            raise AuthError("Codex CLI: app-server could not authenticate", hint=LOGIN_HINT)
        raise UpstreamError(f"Codex CLI: account/rateLimits/read failed: {scrub(message[:200], [])}")

    def parse(self, raw: Raw, now: datetime) -> Usage:
        plan = raw.get("plan") if isinstance(raw.get("plan"), str) else None
        if "rpc" in raw:
            return parsing.parse_rpc(raw["rpc"], plan)
        return parsing.parse_wham(raw.get("usage"), now, plan, raw.get("spend"), raw.get("daily"))


PROVIDER = Codex()
