"""The Gemini CLI's OAuth client, for refreshing its Google login.

Google's token endpoint wants the client id *and* secret of the installed application the login was
made with. The Gemini CLI embeds them (``OAUTH_CLIENT_ID`` / ``OAUTH_CLIENT_SECRET`` in its
``code_assist/oauth2.js``, or in its bundle); they are read from the installed CLI, never shipped
with agentgauge. ``client_id``/``client_secret`` settings take precedence. Google's refresh tokens do
not rotate, so refreshing leaves the CLI's own login untouched; nothing is written to its files.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import AuthError
from .. import _google
from .._base import FetchContext
from .._oauth import TokenPair

PACKAGE = "@google/gemini-cli"
OAUTH_JS = Path("node_modules/@google/gemini-cli-core/dist/src/code_assist/oauth2.js")
CLIENT_ID = re.compile(r"OAUTH_CLIENT_ID\w*\s*=\s*[\"']([\w.\-]+\.apps\.googleusercontent\.com)[\"']")
CLIENT_SECRET = re.compile(r"OAUTH_CLIENT_SECRET\w*\s*=\s*[\"']([\w\-]+)[\"']")
MAX_READ = 64 * 1024 * 1024  # a bundle is tens of megabytes; nothing larger is read
RELOGIN = "Run `gemini` once to renew its Google login, then refresh."
_cache: dict[tuple[str, float], tuple[str, str] | None] = {}


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


def package_root(cli: str) -> Path | None:
    """The ``@google/gemini-cli`` package the ``gemini`` executable runs (through symlinks, npm's
    shims beside ``node_modules``, Homebrew's ``libexec``)."""
    real = Path(os.path.realpath(cli))
    for folder in [real.parent, *real.parents][:8]:
        for candidate in (folder, folder / "node_modules" / PACKAGE, folder / "lib" / "node_modules" / PACKAGE):
            try:
                manifest = json.loads((candidate / "package.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(manifest, dict) and manifest.get("name") == PACKAGE:
                return candidate
    return None


def _scan(path: Path) -> tuple[str, str] | None:
    try:
        if path.stat().st_size > MAX_READ:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found_id, found_secret = CLIENT_ID.search(text), CLIENT_SECRET.search(text)
    return (found_id.group(1), found_secret.group(1)) if found_id and found_secret else None


def from_install(cli: str) -> tuple[str, str] | None:
    """The client id and secret in the installed CLI (``oauth2.js``, else its bundle), cached per file."""
    root = package_root(cli)
    if root is None:
        return None
    candidates = [root / OAUTH_JS, root.parent / "gemini-cli-core/dist/src/code_assist/oauth2.js"]
    bundle = root / "bundle"
    if bundle.is_dir():
        candidates += sorted(bundle.glob("*.js"))
    for path in candidates:
        try:
            key = (str(path), path.stat().st_mtime)
        except OSError:
            continue
        if key not in _cache:
            _cache[key] = _scan(path)
        if _cache[key]:
            return _cache[key]
    return None


def client_for(ctx: FetchContext) -> Client:
    given_id, given_secret = ctx.credentials.get("client_id"), ctx.credentials.get("client_secret")
    if given_id and given_secret:
        return Client(given_id, given_secret)
    cli = ctx.setting("cli") or ctx.credentials.get("cli")
    found = from_install(cli) if cli else None
    if found is None:
        raise AuthError(
            "Gemini CLI: the access token has expired and the CLI's OAuth client could not be found to renew it",
            hint=f"{RELOGIN} Or set AGENTGAUGE_GEMINI_CLI_CLI to the gemini executable.",
        )
    return Client(*found)


async def refresh(ctx: FetchContext, refresh_token: str) -> TokenPair:
    """One refresh_token grant at Google's token endpoint (RFC 6749 section 6)."""
    client = client_for(ctx)
    body = _google.refresh_grant(client.client_id, client.client_secret, refresh_token)
    return await _google.exchange(ctx, body, hint=RELOGIN, client_id=client.client_id)
