"""Codebuff: the credit balance (``POST {url}/api/v1/usage``) and, with the codebuff CLI's login,
the subscription's weekly rate limit (``GET {url}/api/user/subscription``).

Both take ``Authorization: Bearer <token>``. An API key (``CODEBUFF_API_KEY``) reads the credits
only; the session token the ``codebuff`` CLI (formerly ``manicode``) keeps in
``~/.config/manicode/credentials.json`` reads both. ``parsing`` reads the answers.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import orjson

from ...errors import AuthError, ConfigError, ProviderError
from ...models import Usage
from .. import _http
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
from .._parse import obj, opt_str
from . import parsing

DEFAULT_URL = "https://www.codebuff.com"
USAGE_PATH = "/api/v1/usage"
SUBSCRIPTION_PATH = "/api/user/subscription"
CREDENTIALS = "~/.config/manicode/credentials.json"
FINGERPRINT = "agentgauge-usage"  # sent when the CLI's own fingerprint id is not known
HINT_KEY = "Set AGENTGAUGE_CODEBUFF_API_KEY (or CODEBUFF_API_KEY) to a Codebuff API key, then refresh."
HINT_CLI = "The codebuff CLI login is missing or expired: run `codebuff login`, then refresh."


def clean(value: str | None) -> str | None:
    """A token as people paste it: surrounding quotes and spaces removed."""
    text = (value or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1].strip()
    return text or None


def read_credentials(text: str, where: str) -> Discovered | None:
    """``default.authToken`` (else a top-level ``authToken``) of the CLI's credentials file, with its
    ``fingerprintId`` as a detail."""
    try:
        root = obj(orjson.loads(text))
    except orjson.JSONDecodeError:
        raise ConfigError(f"Codebuff: {where} is not valid JSON", hint=HINT_CLI) from None
    profile = obj(root.get("default"))
    token = clean(opt_str(profile.get("authToken"))) or clean(opt_str(root.get("authToken")))
    if not token:
        return None  # logged out: the other sources may still work
    fingerprint = opt_str(profile.get("fingerprintId")) or opt_str(root.get("fingerprintId"))
    return Discovered({"cli_token": Secret(token)}, where, {"fingerprint_id": fingerprint} if fingerprint else {})


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    path = ctx.expand(CREDENTIALS)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return read_credentials(text, CREDENTIALS)


class Codebuff(Provider):
    id = "codebuff"
    name = "Codebuff"
    docs_url = "https://www.codebuff.com/usage"
    settings = (
        Setting("api_key", "Codebuff API key (reads the credit balance).", secret=True, env=("CODEBUFF_API_KEY",)),
        Setting(
            "cli_token",
            "The codebuff CLI's session token; read from ~/.config/manicode/credentials.json when unset.",
            secret=True,
        ),
        Setting("url", "Base URL of the Codebuff API.", default=DEFAULT_URL, env=("CODEBUFF_API_URL",)),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="Codebuff API key",
            requires=("api_key",),
            hint=HINT_KEY,
            discovered_source="api_key",
        ),
        AuthSource(
            id="cli",
            source="cli",
            label="codebuff CLI login",
            requires=("cli_token",),
            hint=HINT_CLI,
            discover=_discover_cli,
            discovered_source="cli",
        ),
    )
    windows = (WindowSpec("weekly", "Weekly", 604800, None),)
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0
    redact_keys = frozenset({"email"})
    samples = (
        Sample("usage-*.json", "usage", {"subscription": None}),
        Sample("subscription-*.json", "subscription", {"usage": {"usage": 0, "quota": 0, "remainingBalance": 0}}),
    )
    sim_credentials = {"api_key": "sim-codebuff-key", "cli_token": "sim-codebuff-session"}
    demo_accounts = ("topup",)

    async def fetch(self, ctx: FetchContext) -> Raw:
        cli = ctx.credentials.auth.id == "cli"
        token = clean(ctx.secret("cli_token" if cli else "api_key")) or ""
        hint = HINT_CLI if cli else HINT_KEY
        base = ctx.url("url")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        fingerprint = ctx.credentials.details.get("fingerprint_id") or FINGERPRINT
        usage_call = _http.post_json(
            ctx,
            base + USAGE_PATH,
            what="usage request",
            headers={**headers, "Content-Type": "application/json"},
            json={"fingerprintId": fingerprint},
        )
        if not cli:
            return {"usage": await _with_hint(usage_call, hint), "subscription": None}
        # Both at once; both finish before a failure of the usage is raised (nothing left running).
        results: list[Any] = list(
            await asyncio.gather(
                _with_hint(usage_call, hint),
                self._subscription(ctx, base + SUBSCRIPTION_PATH, headers),
                return_exceptions=True,
            )
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        usage, subscription = results
        return {"usage": usage, "subscription": subscription}

    @staticmethod
    async def _subscription(ctx: FetchContext, url: str, headers: dict[str, str]) -> Any:
        """The subscription and its weekly limit: an enrichment whose failure is logged, never raised."""
        try:
            return await _http.get_json(ctx, url, what="subscription request", headers=headers)
        except ProviderError as exc:
            ctx.log.info("codebuff: subscription unavailable: %s", exc.message)
            return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw.get("usage"), raw.get("subscription"))


async def _with_hint(call: Any, hint: str) -> Any:
    try:
        return await call
    except AuthError as exc:
        raise AuthError(exc.message, hint=hint, status_code=exc.status_code) from None


PROVIDER = Codebuff()
