"""Kilo (app.kilo.ai): credit blocks and the Kilo Pass from the app's tRPC API.

One batched ``GET {url}/api/trpc/user.getCreditBlocks,kiloPass.getState,user.getAutoTopUpPaymentMethod
?batch=1&input={"0":{"json":null},...}`` with ``Authorization: Bearer <token>`` (and
``X-KILOCODE-ORGANIZATIONID`` for an organization). The token is a Kilo API key or the Kilo
CLI's own login (``$XDG_DATA_HOME/kilo/auth.json``, key ``kilo.access``), read-only. Errors
come per procedure inside HTTP 200; amounts are micro-USD (see ``parsing``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlencode

import orjson

from ...errors import AuthError, ConfigError, ParseError, ProviderConfigError
from ...models import Usage
from .. import _http, _oauth
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
from .._parse import obj, opt_str, opt_time
from .._settings import choice, gate, same
from . import parsing
from .parsing import ORGANIZATIONS, PROCEDURES

TRPC_PATH = "/api/trpc/"
MODES = ("auto", "api", "cli")
ORG_HEADER = "X-KILOCODE-ORGANIZATIONID"
# An organization given as an id is used as is; anything else is looked up by name.
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
HINT_API = "Set AGENTGAUGE_KILO_API_KEY (or KILO_API_KEY) to a key from app.kilo.ai > Profile, then refresh."
HINT_CLI = "The Kilo CLI login is missing or expired: run `kilo auth login`, then refresh."


def mode_of(settings: Mapping[str, str]) -> str:
    return choice(
        settings,
        "source",
        same(*MODES),
        default="auto",
        provider="Kilo",
        hint="Set AGENTGAUGE_KILO_SOURCE to 'auto', 'api' or 'cli'.",
    )


def auth_file(ctx: DiscoverContext) -> Path:
    """The Kilo CLI's credential store: ``<XDG data>/kilo/auth.json`` (``~/.local/share`` on every
    platform when XDG_DATA_HOME is unset, as the CLI's xdg-basedir resolves it)."""
    base = ctx.env.get("XDG_DATA_HOME")
    return (ctx.expand(base) if base else ctx.home / ".local" / "share") / "kilo" / "auth.json"


def _discover_api_key(ctx: DiscoverContext) -> Discovered | None:
    value = (ctx.env.get("KILO_API_KEY") or "").strip()
    return Discovered({"api_key": Secret(value)}, "environment variable KILO_API_KEY") if value else None


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    """The Kilo CLI's login (read-only: the CLI owns and refreshes it). ``KILO_AUTH_CONTENT``, the
    CLI's own override with the file's JSON, wins over the file."""
    content = ctx.env.get("KILO_AUTH_CONTENT")
    if content:
        text, where = content, "environment variable KILO_AUTH_CONTENT"
    else:
        path = auth_file(ctx)
        try:
            text, where = path.read_text(encoding="utf-8"), str(path)
        except OSError:
            return None
    try:
        root = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ConfigError(f"Kilo: {where} is not valid JSON", hint=HINT_CLI) from None
    entry = obj(obj(root).get("kilo"))
    token = opt_str(entry.get("access")) or opt_str(entry.get("key"))
    if not token:
        return None  # not logged in to Kilo: the other sources may still work
    details: dict[str, str] = {}
    with contextlib.suppress(ParseError):  # an odd expiry must not hide a usable token
        details |= _oauth.expiry_detail(opt_time(entry.get("expires"), "kilo.expires"))
    organization = opt_str(entry.get("accountId"))
    if organization:  # the organization the CLI is signed in to, sent as the CLI sends it
        details["organization"] = organization
    return Discovered({"cli_token": Secret(token)}, where, details)


def trpc_url(base: str, procedures: tuple[str, ...]) -> str:
    """A tRPC batch GET: procedures joined by commas, one ``{"json": null}`` input each."""
    batch_input = orjson.dumps({str(i): {"json": None} for i in range(len(procedures))}).decode()
    return f"{base}{TRPC_PATH}{','.join(procedures)}?{urlencode({'batch': '1', 'input': batch_input})}"


class Kilo(Provider):
    id = "kilo"
    name = "Kilo"
    docs_url = "https://app.kilo.ai/profile"
    settings = (
        Setting("api_key", "Kilo API key (app.kilo.ai > Profile > API key).", secret=True),
        Setting(
            "cli_token",
            "The Kilo CLI's access token; read from the CLI's auth.json when unset.",
            secret=True,
        ),
        Setting("url", "Base URL of the Kilo app (its tRPC API is below /api/trpc).", default="https://app.kilo.ai"),
        Setting(
            "source",
            "Which login to use: 'auto' (API key, then the Kilo CLI login), 'api' or 'cli'.",
            default="auto",
            choices=MODES,
        ),
        Setting(
            "organization",
            "A Kilo organization (its id or name) to report instead of the personal account; "
            "defaults to the organization the Kilo CLI is signed in to, for the CLI login.",
        ),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="Kilo API key",
            requires=("api_key",),
            hint=HINT_API,
            discover=_discover_api_key,
            discovered_source="api_key",
            when=gate(mode_of, "auto", "api"),
        ),
        AuthSource(
            id="cli",
            source="cli",
            label="Kilo CLI login",
            requires=("cli_token",),
            hint=HINT_CLI,
            discover=_discover_cli,
            discovered_source="cli",
            when=gate(mode_of, "auto", "cli"),
        ),
    )
    windows = (WindowSpec("monthly", "Kilo Pass (monthly)", None, "usd"),)
    urls: ClassVar[Mapping[str, str]] = {"url": "https://app.kilo.ai"}
    min_interval = 60.0
    redact_keys = frozenset({"paymentMethod", "customerId", "stripeCustomerId"})
    env_vars = ("KILO_API_KEY", "KILO_AUTH_CONTENT")
    samples = (
        Sample("trpc-batch-*.json", "batch"),
        Sample("trpc-credit-blocks*.json", "batch"),
        Sample("trpc-unauthorized.json", "batch"),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "sim-kilo-api-key",
        "cli_token": "sim-kilo-cli-token",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        mode, source = mode_of(ctx.settings), ctx.credentials.auth.id
        if (source == "api_key" and mode == "cli") or (source == "cli" and mode == "api"):
            wanted = "API key" if mode == "api" else "Kilo CLI login"
            raise ProviderConfigError(
                f"Kilo: source is '{mode}' but only a {self._label(source)} is set",
                hint=f"Set the {wanted}, or set AGENTGAUGE_KILO_SOURCE to 'auto'.",
            )
        hint = HINT_CLI if source == "cli" else HINT_API
        token = ctx.secret("cli_token" if source == "cli" else "api_key")
        if source == "cli" and _oauth.is_expired(ctx.credentials.details, ctx.now()):
            raise AuthError("Kilo: the Kilo CLI login has expired", hint=HINT_CLI)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        base = ctx.url("url")
        try:
            org = await self._organization(ctx, base, headers)
            if org:
                headers[ORG_HEADER] = org
            batch = await _http.get_json(
                ctx, trpc_url(base, PROCEDURES), what="usage request", headers=headers, ok_statuses=(200, 207)
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=hint, status_code=exc.status_code) from None
        return {"batch": batch}

    @staticmethod
    def _label(source: str) -> str:
        return "Kilo CLI login" if source == "cli" else "API key"

    async def _organization(self, ctx: FetchContext, base: str, headers: dict[str, str]) -> str | None:
        """The organization id to scope to: the setting (an id, or a name looked up in the user's
        organizations), else the one the CLI login carries, else none (personal)."""
        wanted = ctx.setting("organization")
        if not wanted:
            return ctx.credentials.details.get("organization") or None
        if UUID.match(wanted):
            return wanted
        answer = await _http.get_json(
            ctx, trpc_url(base, (ORGANIZATIONS,)), what="organizations request", headers=headers, ok_statuses=(200, 207)
        )
        orgs = parsing.organizations(answer)
        match = next((o for o in orgs if wanted in (o["id"], o["name"]) or wanted.lower() == o["name"].lower()), None)
        if match is None:
            names = ", ".join(sorted(o["name"] for o in orgs)) or "none"
            raise ProviderConfigError(
                f"Kilo: no organization '{wanted}' on this account (organizations: {names})",
                hint="Set AGENTGAUGE_KILO_ORGANIZATION to one of the listed names or ids, or unset it.",
            )
        return match["id"]

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse_batch(raw.get("batch"))


PROVIDER = Kilo()
