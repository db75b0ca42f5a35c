"""Windsurf: the daily and weekly quota from ``POST {url}/_backend/exa.seat_management_pb.
SeatManagementService/GetPlanStatus`` (Connect over binary protobuf, ``proto``) with the web
session (the ``devin_*`` values app.devin.ai / windsurf.com keep in localStorage), else the plan
the Windsurf app caches in its ``state.vscdb``. ``parsing`` reads both.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson

from ...errors import AuthError, ParseError, ProviderConfigError
from ...models import Usage
from .. import _http
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
from .._parse import obj, opt_str
from .._settings import choice, gate, same
from . import parsing, proto

DEFAULT_URL = "https://windsurf.com"
PLAN_STATUS_PATH = "/_backend/exa.seat_management_pb.SeatManagementService/GetPlanStatus"
CACHE_KEY = "windsurf.settings.cachedPlanInfo"
STORAGE_ORIGINS = ("https://app.devin.ai", "https://windsurf.com")
MODES = ("auto", "web", "local")
# The bundle's keys, as the web app stores them (also the names a pasted JSON bundle uses).
BUNDLE = {
    "api_key": ("devin_session_token", "devinSessionToken", "sessionToken"),
    "auth1_token": ("devin_auth1_token", "devinAuth1Token", "auth1Token"),
    "account_id": ("devin_account_id", "devinAccountId", "accountId", "accountID"),
    "primary_org_id": ("devin_primary_org_id", "devinPrimaryOrgId", "primaryOrgId", "primaryOrgID"),
}
HINT_WEB = (
    "Log in to app.devin.ai or windsurf.com in Chrome or Firefox, or paste the session bundle (the four "
    "devin_* values) into AGENTGAUGE_WINDSURF_API_KEY, then refresh."
)
HINT_LOCAL = "Open Windsurf once signed in (it caches its plan), or set AGENTGAUGE_WINDSURF_STATE_DB, then refresh."


def mode_of(settings: Mapping[str, str]) -> str:
    return choice(
        settings,
        "source",
        same(*MODES),
        default="auto",
        provider="Windsurf",
        hint="Set source to 'auto', 'web' or 'local'.",
    )


def bundle_values(raw: str) -> dict[str, str]:
    """A pasted JSON bundle (or ``key=value`` lines) as settings; a plain token is the session token."""
    text = raw.strip()
    pairs: dict[str, Any] = {}
    if text.startswith("{"):
        try:
            pairs = obj(orjson.loads(text))
        except orjson.JSONDecodeError:
            raise ProviderConfigError("Windsurf: the session bundle is not valid JSON", hint=HINT_WEB) from None
    elif "=" in text and ("\n" in text or "," in text or ";" in text):
        for part in text.replace(";", "\n").replace(",", "\n").splitlines():
            key, sep, value = part.partition("=")
            if sep:
                pairs[key.strip()] = value.strip().strip("'\"")
    else:
        return {"api_key": text}
    out: dict[str, str] = {}
    for setting, names in BUNDLE.items():
        found = next((v for v in (opt_str(pairs.get(n)) for n in names) if v), None)
        if found:
            out[setting] = found
    return out


def database_paths(ctx: DiscoverContext) -> list[Path]:
    tail = Path("Windsurf") / "User" / "globalStorage" / "state.vscdb"
    paths = []
    if ctx.env.get("XDG_CONFIG_HOME"):
        paths.append(ctx.expand(ctx.env["XDG_CONFIG_HOME"]) / tail)
    paths += [ctx.home / ".config" / tail, ctx.home / "Library" / "Application Support" / tail]
    if ctx.env.get("APPDATA"):
        paths.append(Path(ctx.env["APPDATA"]) / tail)
    return list(dict.fromkeys(paths))


def read_cached_plan(path: Path) -> str | None:
    """``windsurf.settings.cachedPlanInfo`` from the app's state.vscdb, opened read-only."""
    for mode in ("ro", "ro&immutable=1"):
        try:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=0.5)
        except sqlite3.Error:
            continue
        try:
            row = connection.execute("SELECT value FROM ItemTable WHERE key = ?", (CACHE_KEY,)).fetchone()
        except sqlite3.Error:
            continue
        finally:
            connection.close()
        if not row:
            return None
        value = row[0]
        if isinstance(value, bytes):  # VS Code declares the column a BLOB: UTF-8, or UTF-16 in older builds
            for encoding in ("utf-8", "utf-16-le"):
                try:
                    text = value.decode(encoding).strip("\x00").strip()
                    json.loads(text)
                    return text
                except (UnicodeDecodeError, ValueError):
                    continue
            return None
        return str(value)
    return None


async def post_bytes(ctx: FetchContext, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST a binary (protobuf) body; statuses and transport failures map to the error tree as for JSON."""
    return await _http.send(ctx, "POST", url, what="plan status request", headers=headers, content=body)


def _discover_local(ctx: DiscoverContext) -> Discovered | None:
    configured = ctx.settings.get("state_db")
    for path in [ctx.expand(configured)] if configured else database_paths(ctx):
        if path.is_file() and read_cached_plan(path) is not None:
            return Discovered({"state_db": Secret(str(path))}, str(path))
    return None


class Windsurf(Provider):
    id = "windsurf"
    name = "Windsurf"
    docs_url = "https://windsurf.com/subscription/usage"
    settings = (
        Setting(
            "api_key",
            "The web session token (devin_session_token), or the whole pasted session bundle "
            "(JSON with the four devin_* values).",
            secret=True,
        ),
        Setting("auth1_token", "The web session's devin_auth1_token.", secret=True),
        Setting("account_id", "The web session's devin_account_id."),
        Setting("primary_org_id", "The web session's devin_primary_org_id."),
        Setting("state_db", "Path of the Windsurf app's state.vscdb; its usual places are searched when unset."),
        Setting(
            "source",
            "Which to read: 'auto' (the web session, then the app's cache), 'web' or 'local'.",
            default="auto",
            choices=MODES,
        ),
        Setting("url", "Base URL of windsurf.com.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="web",
            source="oauth",
            label="Windsurf web session",
            requires=("api_key",),
            optional=("auth1_token", "account_id", "primary_org_id"),
            hint=HINT_WEB,
            browser=BrowserLogin(
                "app.devin.ai",
                storage=tuple(StorageRule(setting, STORAGE_ORIGINS, (names[0],)) for setting, names in BUNDLE.items()),
            ),
            discovered_source="browser",
            when=gate(mode_of, "auto", "web"),
        ),
        AuthSource(
            id="local",
            source="local_file",
            label="Windsurf app cache",
            requires=("state_db",),
            hint=HINT_LOCAL,
            discover=_discover_local,
            discovered_source="local_file",
            when=gate(mode_of, "auto", "local"),
        ),
    )
    windows = (
        WindowSpec("daily", "Daily", 86400, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("messages", "Messages", None, "messages"),
        WindowSpec("flow_actions", "Flow actions", None, "flow actions"),
        WindowSpec("flex_credits", "Flex credits", None, "flex credits"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    response_format = "text"  # binary protobuf: the JSON-body faults do not apply (its tests cover truncation)
    samples = (Sample("cached-plan-*.json", "cached_plan"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "devin-session-token$sim",
        "auth1_token": "auth1_simwindsurf0123456789abcdef",
        "account_id": "account-sim-123",
        "primary_org_id": "org-sim-456",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        mode_of(ctx.settings)
        if ctx.credentials.auth.id == "local":
            path = Path(ctx.secret("state_db"))
            text = read_cached_plan(path) if path.is_file() else None
            if text is None:
                raise AuthError(f"Windsurf: no cached plan in {path.name}", hint=HINT_LOCAL)
            try:
                return {"cached_plan": orjson.loads(text)}
            except orjson.JSONDecodeError:
                raise ParseError("Windsurf: the cached plan is not JSON", field=CACHE_KEY) from None
        return {"plan_status": await self._plan_status(ctx)}

    async def _plan_status(self, ctx: FetchContext) -> Any:
        values = bundle_values(ctx.secret("api_key"))
        for name in ("auth1_token", "account_id", "primary_org_id"):
            values.setdefault(name, (ctx.credentials.get(name) or ctx.setting(name) or "").strip())
        missing = [n for n in BUNDLE if not values.get(n)]
        if missing:
            raise ProviderConfigError(f"Windsurf: the web session lacks {', '.join(missing)}", hint=HINT_WEB)
        headers = {
            "Content-Type": "application/proto",
            "Connect-Protocol-Version": "1",
            "Origin": "https://windsurf.com",
            "Referer": "https://windsurf.com/profile",
            "x-auth-token": values["api_key"],
            "x-devin-session-token": values["api_key"],
            "x-devin-auth1-token": values["auth1_token"],
            "x-devin-account-id": values["account_id"],
            "x-devin-primary-org-id": values["primary_org_id"],
        }
        try:
            response = await post_bytes(
                ctx, ctx.url("url") + PLAN_STATUS_PATH, proto.encode_request(values["api_key"]), headers
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT_WEB, status_code=exc.status_code) from None
        if _http.looks_like_html(response):
            _http.decode_json(ctx, response, what="plan status request")  # raises the typed HTML error
        return proto.decode_response(response.content)

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if "cached_plan" in raw:
            return parsing.parse_cached(raw["cached_plan"])
        return parsing.parse_web(raw.get("plan_status"))


PROVIDER = Windsurf()
