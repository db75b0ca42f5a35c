"""Grok (SuperGrok / Grok Build subscriptions): the credit usage the Grok CLI's own billing API shows.

With the bearer token ``grok login`` keeps in ``~/.grok/auth.json`` (``$GROK_HOME/auth.json``), or
one set as ``GROK_OAUTH_TOKEN``: ``GET {url}/v1/billing?format=credits`` and ``GET {url}/v1/settings``
on cli-chat-proxy.grok.com, with ``x-xai-token-auth: xai-grok-cli`` as the CLI sends. The answer's
``config.creditUsagePercent`` of the current period (weekly or monthly, its ``end`` the reset) is a
window; the plan comes from the settings' ``subscription_tier_display``. The CLI owns its login:
an expired token is reported (``grok login`` renews it), never refreshed or written here.

Not read: ``grok agent stdio``'s ``x.ai/billing`` (answers "method not found" outside the TUI in
grok 0.1.210), and grok.com's gRPC-web billing, which now wants the browser's Web Key Exchange
keypair that cookies alone cannot prove. Developer-platform (console.x.ai) billing is ``xai``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ...errors import AuthError, ConfigError, ParseError, ProviderConfigError, ProviderError, UpstreamError
from ...models import Usage
from .. import _capture, _http, _oauth
from .._base import (
    AuthSource,
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
from .._parse import opt_str, opt_time
from . import parsing

DEFAULT_URL = "https://cli-chat-proxy.grok.com"
BILLING_PATH = "/v1/billing"
SETTINGS_PATH = "/v1/settings"
TOKEN_AUTH = "xai-grok-cli"
HINT = "Run `grok login` (the Grok CLI), or set AGENTGAUGE_GROK_API_KEY (or GROK_OAUTH_TOKEN), then refresh."
TEAM_HINT = "Grok shows no usage for team logins; log in to `grok` with a personal SuperGrok account to see it."


def auth_file(ctx: DiscoverContext) -> Path:
    home = ctx.env.get("GROK_HOME")
    return (ctx.expand(home) if home else ctx.home / ".grok") / "auth.json"


def _discover(ctx: DiscoverContext) -> Discovered | None:
    """The Grok CLI's login (read-only: the CLI owns and renews it)."""
    path = auth_file(ctx)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        root = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ConfigError(f"Grok: {path} is not valid JSON", hint=HINT) from None
    found = parsing.login_entry(root)
    if found is None:
        return None  # not logged in: nothing to use
    scope, entry = found
    details = {"scope": "oidc" if scope.startswith(parsing.OIDC_PREFIX) else "session"}
    with contextlib.suppress(ParseError):  # an odd expiry must not hide a usable token
        details |= _oauth.expiry_detail(opt_time(entry.get("expires_at"), "expires_at"))
    for key in ("auth_mode", "principal_type", "email", "team_id"):
        value = opt_str(entry.get(key))
        if value:
            details[key] = value
    return Discovered({"api_key": Secret(str(entry["key"]).strip())}, str(path), details)


def bearer(value: str) -> str:
    """The token as the CLI sends it; API keys (``xai-…``) and cookies are other products' credentials."""
    token = _capture.bare_token(value)
    lowered = token.lower()
    if lowered.startswith("xai-"):
        raise ProviderConfigError(
            "Grok: this is an xAI API key, not a Grok login token",
            hint="Use the `xai` provider for API keys; Grok needs the token from `grok login`.",
        )
    if lowered.startswith("cookie:") or "=" in token:
        raise ProviderConfigError(
            "Grok: this looks like a cookie, not a Grok login token",
            hint="grok.com cookies cannot read the billing API any more; run `grok login` instead.",
        )
    return token


class Grok(Provider):
    id = "grok"
    name = "Grok"
    docs_url = "https://grok.com"
    settings = (
        Setting(
            "api_key",
            "The Grok CLI's login token (SuperGrok OAuth bearer); read from ~/.grok/auth.json when unset.",
            secret=True,
            env=("GROK_OAUTH_TOKEN",),
        ),
        Setting("url", "Base URL of the Grok CLI's billing API.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="grok_login",
            source="oauth",
            label="Grok CLI login",
            requires=("api_key",),
            hint=HINT,
            discover=_discover,
            discovered_source="cli",
        ),
    )
    windows = (
        WindowSpec("weekly", "Credits (weekly)", 604800, None),
        WindowSpec("monthly", "Credits (monthly)", None, None),
        WindowSpec("daily", "Credits (daily)", 86400, None),
        WindowSpec("credits", "Credits", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    env_vars = ("GROK_HOME",)
    redact_keys = frozenset({"email", "user_id", "team_id"})
    samples = (Sample("credits-*.json", "billing", {"settings": None, "auth_mode": None}),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"api_key": "sim-grok-token"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        token = bearer(ctx.secret("api_key"))
        details = ctx.credentials.details
        if _oauth.is_expired(details, ctx.now()):
            raise AuthError("Grok: the Grok CLI login has expired", hint=HINT)
        headers = {"Authorization": f"Bearer {token}", "x-xai-token-auth": TOKEN_AUTH, "Accept": "application/json"}
        base = ctx.url("url")
        results: tuple[Any, Any] = await asyncio.gather(
            _http.get_json(ctx, f"{base}{BILLING_PATH}?format=credits", what="billing request", headers=headers),
            _http.get_json(ctx, base + SETTINGS_PATH, what="settings request", headers=headers),
            return_exceptions=True,
        )
        billing, tier = results
        if isinstance(billing, ProviderError):
            if (details.get("principal_type") or "").lower() == "team" and isinstance(
                billing, AuthError | UpstreamError
            ):
                raise UpstreamError(
                    f"{billing.message} (a team login)", hint=TEAM_HINT, status_code=billing.status_code
                )
            if isinstance(billing, AuthError):
                raise AuthError(billing.message, hint=HINT, status_code=billing.status_code)
            raise billing
        if isinstance(billing, BaseException):
            raise billing
        if isinstance(tier, BaseException):
            if not isinstance(tier, ProviderError):
                raise tier
            ctx.log.info("grok: optional settings request failed: %s", tier.message)
            tier = None  # the plan name is an enrichment
        return {"billing": billing, "settings": tier, "auth_mode": details.get("auth_mode")}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse_billing(raw.get("billing"), raw.get("settings"), opt_str(raw.get("auth_mode")))


PROVIDER = Grok()
