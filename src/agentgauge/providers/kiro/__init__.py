"""Kiro: the ``kiro-cli`` usage report, with the overage figures of CodeWhisperer's GetUsageLimits.

1. ``kiro-cli chat --no-interactive /usage`` runs in its own process group with a 20 s budget and
   an idle cut-off (the chat command may linger after printing); its text is parsed in both of
   its formats (``parsing``). The CLI uses and refreshes its own login.
2. Then, best effort, ``POST {url}/`` with ``X-Amz-Target: AmazonCodeWhispererService.GetUsageLimits``
   and the CLI's bearer token and profile ARN, read (read-only) from the CLI's state database
   ``<data_dir>/data.sqlite3`` (``auth_kv`` ``kirocli:odic:token`` and ``state``
   ``api.codewhisperer.profile``). It states the plan/overage split and the overage cap the text
   omits (organization accounts get no overage section at all). Its failure is a warning: the
   CLI's figures stand.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from ...errors import ParseError, ProviderConfigError, ProviderError, UpstreamError
from ...models import Usage
from .. import _http, _process
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
from .._parse import opt_num, opt_str
from .parsing import LOGIN_HINT, LOGIN_MARKERS, endpoint_for, parse_usage, region_of, report_complete

USAGE_ARGS = ("chat", "--no-interactive", "/usage")
CLI_TIMEOUT = 20.0
IDLE = 4.0  # seconds of silence, once it has printed, that mean the report is complete
TARGET = "AmazonCodeWhispererService.GetUsageLimits"
CONTENT_TYPE = "application/x-amz-json-1.0"
TOKEN_KEY = "kirocli:odic:token"  # sic: the CLI's own key
PROFILE_KEY = "api.codewhisperer.profile"
STATE_DB = "data.sqlite3"
WELL_KNOWN = ("~/.local/bin/kiro-cli", "/opt/homebrew/bin/kiro-cli", "/usr/local/bin/kiro-cli")
# Where kiro-cli keeps its state (the platform data dir): Linux, macOS, then Windows.
DATA_DIRS = (
    ("XDG_DATA_HOME", "kiro-cli"),
    ("", "~/.local/share/kiro-cli"),
    ("", "~/Library/Application Support/kiro-cli"),
    ("APPDATA", "kiro-cli"),
    ("LOCALAPPDATA", "kiro-cli"),
)
INSTALL_HINT = "Install kiro-cli (https://kiro.dev), log in with `kiro-cli login`, or set AGENTGAUGE_KIRO_CLI."


def data_dirs(ctx: DiscoverContext) -> list[Path]:
    out: list[Path] = []
    for variable, tail in DATA_DIRS:
        if variable:
            base = ctx.env.get(variable)
            if base:
                out.append(Path(base) / tail)
        else:
            out.append(ctx.expand(tail))
    return out


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    found = _process.find_executable("kiro-cli", ctx.env, ctx.home, WELL_KNOWN)
    if not found:
        return None
    values = {"cli": Secret(found)}
    state = next((d for d in data_dirs(ctx) if (d / STATE_DB).is_file()), None)
    if state is not None and not ctx.settings.get("data_dir"):
        values["data_dir"] = Secret(str(state))
    return Discovered(values, f"kiro-cli ({found})")


def read_identity(database: Path) -> tuple[str, str]:
    """The CLI's access token and profile ARN, from its state database opened read-only (the CLI
    owns the token and refreshes it; we never write)."""
    if not database.is_file():
        raise ProviderConfigError(f"Kiro: no kiro-cli state database at {database}")
    try:
        with sqlite3.connect(database.as_uri() + "?mode=ro", uri=True, timeout=0.5) as db:
            token_row = db.execute("SELECT value FROM auth_kv WHERE key = ?", (TOKEN_KEY,)).fetchone()
            profile_row = db.execute("SELECT value FROM state WHERE key = ?", (PROFILE_KEY,)).fetchone()
    except sqlite3.Error as exc:
        raise UpstreamError(f"Kiro: the kiro-cli state database cannot be read ({type(exc).__name__})") from None
    token = _json_field(token_row, "access_token")
    arn = _json_field(profile_row, "arn")
    if not token or not arn:
        missing = "login token" if not token else "profile"
        raise UpstreamError(f"Kiro: the kiro-cli state database holds no {missing}", hint=LOGIN_HINT)
    return token, arn


def _json_field(row: Any, key: str) -> str | None:
    if not row or row[0] is None:
        return None
    value = row[0].decode("utf-8", "replace") if isinstance(row[0], bytes) else str(row[0])
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return opt_str(data.get(key)) if isinstance(data, dict) else None


def cli_timeout(ctx: FetchContext) -> float:
    value = opt_num(ctx.setting("cli_timeout") or CLI_TIMEOUT, "cli_timeout")
    if value is None or value <= 0:
        raise ProviderConfigError("Kiro: cli_timeout must be a positive number of seconds")
    return value


class Kiro(Provider):
    id = "kiro"
    name = "Kiro"
    docs_url = "https://app.kiro.dev/account/usage"
    settings = (
        Setting("cli", "Path of kiro-cli; found on PATH (or ~/.local/bin) when unset."),
        Setting("cli_timeout", "Seconds kiro-cli gets to print its /usage report.", default="20"),
        Setting(
            "data_dir",
            "kiro-cli's data directory (holding data.sqlite3), read for the GetUsageLimits details; "
            "found with the CLI when unset.",
        ),
        Setting(
            "url",
            "Base URL of the CodeWhisperer API for GetUsageLimits; defaults to the profile's region "
            "(codewhisperer.us-east-1.amazonaws.com, q.<region>.amazonaws.com elsewhere).",
        ),
    )
    auth = (
        AuthSource(
            id="cli",
            source="cli",
            label="Kiro CLI login",
            requires=("cli",),
            optional=("data_dir",),
            hint=INSTALL_HINT,
            discover=_discover_cli,
            discovered_source="cli",
        ),
    )
    windows = (
        WindowSpec("monthly", "Monthly credits", None, "credits"),
        WindowSpec("overage", "Overage credits", None, "credits"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": ""}  # the default depends on the profile's region
    min_interval = 120.0  # each refresh starts a kiro-cli chat session
    timeout = 40.0  # the CLI's 20 s plus the GetUsageLimits call
    response_format = "local"
    samples = (
        Sample("cli-*.txt", "usage_text", format="text"),
        Sample("getusagelimits-*.json", "limits"),
    )

    async def fetch(self, ctx: FetchContext) -> Raw:
        output = await _process.run(
            ctx.secret("cli"),
            USAGE_ARGS,
            name="Kiro CLI",
            timeout=cli_timeout(ctx),
            idle=IDLE,
            complete=report_complete,
            env={"TERM": "xterm-256color"},
            login_markers=LOGIN_MARKERS,
            login_hint=LOGIN_HINT,
        )
        raw: Raw = {"usage_text": output.text}
        data_dir = ctx.credentials.get("data_dir") or ctx.setting("data_dir")
        if data_dir:
            # After the CLI ran, so a token it refreshed on the way is the one read here.
            try:
                raw["limits"] = await self._usage_limits(ctx, Path(data_dir) / STATE_DB)
            except ProviderError as exc:
                ctx.log.info("kiro: GetUsageLimits skipped: %s", exc.message)
                raw["limits_error"] = {
                    "kind": exc.kind.value,
                    "message": f"Overage details unavailable: {exc.message}",
                    "hint": exc.hint,
                }
        return raw

    async def _usage_limits(self, ctx: FetchContext, database: Path) -> Any:
        token, arn = await asyncio.to_thread(read_identity, database)
        base = (ctx.setting("url") or endpoint_for(region_of(arn))).rstrip("/")
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": TARGET,
            "Accept": "application/json",
        }
        payload = await _http.post_json(
            ctx, base + "/", what="GetUsageLimits request", headers=headers, json={"profileArn": arn}
        )
        if not isinstance(payload, dict):
            raise ParseError("Kiro: GetUsageLimits answer is not an object", field="limits")
        return payload

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_usage(raw, now)


PROVIDER = Kiro()
