"""Zed: the plan's edit-prediction quota for the billing period, ``GET {url}/client/users/me``
with Zed's own sign-in (``Authorization: <user id> <access token>``).

The sign-in comes from the settings or from the system credential store the Zed editor writes
(``keychain``), for the server Zed's settings name. ``parsing`` reads the answer.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from ...errors import AuthError, ProviderConfigError
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
from . import keychain, parsing

USER_PATH = "/client/users/me"
HINT_TOKEN = "Set AGENTGAUGE_ZED_API_KEY and AGENTGAUGE_ZED_USER_ID to Zed's access token and user id, then refresh."
HINT_KEYRING = (
    "Sign in to Zed in the editor (command palette: 'client: sign in'), or set AGENTGAUGE_ZED_API_KEY "
    "and AGENTGAUGE_ZED_USER_ID, then refresh."
)


def server_of(ctx: DiscoverContext) -> tuple[str | None, str | None]:
    """(server_url, credentials_url): the setting wins over Zed's settings.json."""
    server, credentials = keychain.client_settings(ctx)
    return (ctx.settings.get("server_url") or server), credentials


def _discover_keyring(ctx: DiscoverContext) -> Discovered | None:
    server, credentials = server_of(ctx)
    url = keychain.credential_url(server, credentials)
    found = keychain.reader_for(sys.platform)(url, ctx.env, ctx.home)
    if found is None:
        return None
    user_id, token = found
    details = {"server_url": server} if server else {}
    if credentials:
        details["credentials_url"] = credentials
    return Discovered({"api_key": Secret(token), "user_id": Secret(user_id)}, f"Zed sign-in ({url})", details)


class Zed(Provider):
    id = "zed"
    name = "Zed"
    docs_url = "https://dashboard.zed.dev/account"
    settings = (
        Setting("api_key", "Zed's access token, as the Zed editor stores it after signing in.", secret=True),
        Setting("user_id", "Zed's user id (the account name of Zed's stored sign-in)."),
        Setting(
            "server_url",
            "The Zed server signed in to; read from Zed's settings.json (server_url) when unset.",
        ),
        Setting(
            "url",
            "Base URL of Zed's cloud API; https://cloud.zed.dev for Zed's own servers.",
            default=keychain.CLOUD_URL,
        ),
    )
    auth = (
        AuthSource(
            id="token",
            source="api_key",
            label="Zed access token",
            requires=("api_key", "user_id"),
            hint=HINT_KEYRING,  # shown when nothing is found: signing in to Zed is the usual way
            discovered_source="api_key",
        ),
        AuthSource(
            id="keyring",
            source="oauth",
            label="Zed editor sign-in (system keychain)",
            requires=("api_key", "user_id"),
            hint=HINT_KEYRING,
            discover=_discover_keyring,
            discovered_source="oauth",
        ),
    )
    windows = (
        WindowSpec("edit_predictions", "Edit predictions", None, "predictions"),
        WindowSpec("usage_*", "Zed usage", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": keychain.CLOUD_URL}
    min_interval = 300.0
    redact_keys = frozenset({"github_login", "name", "avatar_url"})
    samples = (Sample("users-me-*.json", "user"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": '{"version":2,"id":"client_token_sim","token":"sim-zed-token"}',
        "user_id": "4242",
    }
    demo_accounts = ("pro",)

    async def fetch(self, ctx: FetchContext) -> Raw:
        token, user_id = ctx.secret("api_key").strip(), ctx.secret("user_id").strip()
        base = ctx.setting("url")
        if base is None:
            details = ctx.credentials.details
            server = ctx.setting("server_url") or details.get("server_url")
            base = keychain.cloud_url(server, details.get("credentials_url"))
            if base is None:
                raise ProviderConfigError(
                    f"Zed: the server '{(server or '')[:80]}' is not HTTPS or its sign-in is stored for another URL",
                    hint="Zed's custom servers must use HTTPS and keep the sign-in under the same server_url.",
                )
        hint = HINT_KEYRING if ctx.credentials.auth.id == "keyring" else HINT_TOKEN
        headers = {"Authorization": f"{user_id} {token}", "Accept": "application/json"}
        try:
            payload = await _http.get_json(ctx, base.rstrip("/") + USER_PATH, what="user request", headers=headers)
        except AuthError as exc:
            raise AuthError(exc.message, hint=hint, status_code=exc.status_code) from None
        return {"user": payload}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw.get("user"))


PROVIDER = Zed()
