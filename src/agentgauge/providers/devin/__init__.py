"""Devin: the organization's daily and weekly quota, ``GET {url}/api/<org>/billing/quota/usage``
with the app.devin.ai session token as a Bearer (and ``x-cog-org-id`` for an internal org id).

The token is the app's ``auth1`` session (``auth1_…``), from the ``api_key`` setting or the
browser's app.devin.ai localStorage (``auth1_session``, a JSON ``{"token": ...}``); the
organization is an internal id (``org_…``/``org-…``), a slug or an app.devin.ai URL. The paths
tried per organization are CodexBar's. ``parsing`` reads the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

import orjson

from ...errors import AuthError, ProviderConfigError, UpstreamError
from ...models import Usage
from .. import _capture, _http
from .._base import (
    AuthSource,
    BrowserLogin,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Setting,
    StorageRule,
    WindowSpec,
)
from .._parse import obj, opt_str
from . import parsing

DEFAULT_URL = "https://app.devin.ai"
QUOTA_PATH = "/billing/quota/usage"
INTERNAL_ID = re.compile(r"^org[-_][A-Za-z0-9]+$")
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
HINT = (
    "Log in to app.devin.ai in Chrome or Firefox and open your organization once, or set "
    "AGENTGAUGE_DEVIN_API_KEY (DEVIN_BEARER_TOKEN) and AGENTGAUGE_DEVIN_ORGANIZATION "
    "(DEVIN_ORGANIZATION), then refresh."
)


def bare_token(value: str) -> str:
    """The token of a pasted ``Authorization: Bearer …`` header, a bare token, or the JSON
    ``{"token": ...}`` the app keeps in localStorage."""
    text = value.strip()
    if text.startswith("{"):
        try:
            text = opt_str(obj(orjson.loads(text)).get("token")) or ""
        except orjson.JSONDecodeError:
            return ""
    text = _capture.bare_token(text)
    return text


def organization_paths(raw: str) -> tuple[list[str], str | None]:
    """The API path prefixes to try for an organization, and its internal id when known.

    ``org_ABC`` -> ``org_ABC``, ``organizations/org_ABC``; a slug ``acme`` (or an
    ``app.devin.ai/org/acme/...`` URL) -> ``org/acme``, ``acme``."""
    value = raw.strip()
    if "://" in value:
        parts = [p for p in urlsplit(value).path.split("/") if p]
        value = "/".join(parts[:2]) if len(parts) >= 2 and parts[0] in ("org", "organizations") else value
    value = value.strip("/")
    if value.startswith("organizations/"):
        value = value[len("organizations/") :]
    if INTERNAL_ID.match(value):
        return [value, f"organizations/{value}"], value
    slug = value.removeprefix("org/")
    if not slug or "/" in slug:
        raise ProviderConfigError(f"Devin: '{raw[:80]}' is not an organization id, slug or URL", hint=HINT)
    return [f"org/{slug}", slug], None


class Devin(Provider):
    id = "devin"
    name = "Devin"
    docs_url = "https://app.devin.ai/settings/usage"
    settings = (
        Setting(
            "api_key",
            "The app.devin.ai session token (auth1_...), or a copied 'Authorization: Bearer ...' header.",
            secret=True,
            env=("DEVIN_BEARER_TOKEN", "DEVIN_AUTHORIZATION"),
        ),
        Setting(
            "organization",
            "The organization: its internal id (org_...), its slug, or an app.devin.ai/org/<slug> URL.",
            env=("DEVIN_ORGANIZATION", "DEVIN_ORG"),
        ),
        Setting("url", "Base URL of the Devin web app.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="session",
            source="oauth",
            label="app.devin.ai login",
            requires=("api_key",),
            optional=("organization",),
            hint=HINT,
            browser=BrowserLogin(
                "app.devin.ai",
                storage=(
                    StorageRule("api_key", (DEFAULT_URL,), ("auth1_session",)),
                    StorageRule("organization", (DEFAULT_URL,), ("devin_primary_org_id",)),
                ),
            ),
            discovered_source="browser",
        ),
    )
    windows = (WindowSpec("daily", "Daily", 86400, None), WindowSpec("weekly", "Weekly", 604800, None))
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    samples = (Sample("quota-usage*.json", "quota"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "auth1_simdevinsessiontoken0123456789",
        "organization": "org_SimDevinOrg01",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        token = bare_token(ctx.secret("api_key"))
        organization = ctx.credentials.get("organization") or ctx.setting("organization")
        if not token:
            raise AuthError("Devin: the session token is empty", hint=HINT)
        if not organization:
            raise ProviderConfigError("Devin: no organization is known for this login", hint=HINT)
        paths, internal_id = organization_paths(organization)
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Accept-Language": "en-US,en;q=0.9",
            "User-Agent": USER_AGENT,
        }
        if internal_id:
            headers["x-cog-org-id"] = internal_id
        last: UpstreamError | None = None
        for path in paths:  # the next path only after a "no such path" answer
            try:
                payload = await _http.get_json(
                    ctx, f"{ctx.url('url')}/api/{path}{QUOTA_PATH}", what="quota request", headers=headers
                )
            except AuthError as exc:
                raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None
            except UpstreamError as exc:
                if exc.status_code not in (404, 405):
                    raise
                last = exc
                continue
            return {"quota": payload}
        assert last is not None
        raise UpstreamError(
            f"Devin: no quota endpoint answered for this organization ({last.message})",
            hint="Check the organization setting (its id, slug or URL from app.devin.ai).",
            status_code=last.status_code,
        )

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw.get("quota"))


PROVIDER = Devin()
