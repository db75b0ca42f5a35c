"""The Gemini CLI's Google login, read-only: ``$GEMINI_CLI_HOME/.gemini/oauth_creds.json`` (default home
``~``) holds google-auth-library's credentials (``access_token``, ``refresh_token``, ``id_token``,
``expiry_date`` in epoch milliseconds). ``settings.json`` beside it says which auth the CLI uses
(``security.auth.selectedType``): only ``oauth-personal`` (or none said) is this login; a CLI set to
an API key or Vertex AI has no Code Assist quota to read here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...errors import ProviderConfigError
from .. import _jwt, _process
from .._base import DiscoverContext, Discovered, Secret
from .._oauth import expiry_detail
from .._parse import from_epoch

ENV_VARS = ("GEMINI_CLI_HOME",)
OTHER_AUTH = {"gemini-api-key": "an API key", "api-key": "an API key", "vertex-ai": "Vertex AI"}
WELL_KNOWN = ("~/.local/bin/gemini", "/opt/homebrew/bin/gemini", "/usr/local/bin/gemini")


def gemini_dir(ctx: DiscoverContext) -> Path:
    home = ctx.env.get("GEMINI_CLI_HOME")
    return (Path(home) if home else ctx.home) / ".gemini"


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def selected_auth(folder: Path) -> str | None:
    settings = _json(folder / "settings.json")
    security = settings.get("security") if isinstance(settings, dict) else None
    auth = security.get("auth") if isinstance(security, dict) else None
    chosen = auth.get("selectedType") if isinstance(auth, dict) else None
    if chosen is None and isinstance(settings, dict):
        chosen = settings.get("selectedAuthType")  # older CLIs kept it at the top level
    return chosen if isinstance(chosen, str) else None


def discover_login(ctx: DiscoverContext) -> Discovered | None:
    folder = gemini_dir(ctx)
    chosen = selected_auth(folder)
    if chosen in OTHER_AUTH:
        raise ProviderConfigError(
            f"Gemini CLI: the CLI is set to sign in with {OTHER_AUTH[chosen]}, which has no Code Assist quota",
            hint="Sign in to Gemini CLI with Google (`/auth` in gemini), or use the gemini provider for API keys.",
        )
    creds = _json(folder / "oauth_creds.json")
    if not isinstance(creds, dict):
        return None
    access = creds.get("access_token")
    refresh = creds.get("refresh_token")
    if not isinstance(access, str) or not access.strip():
        return None
    values = {"api_key": Secret(access.strip())}
    if isinstance(refresh, str) and refresh.strip():
        values["refresh_token"] = Secret(refresh.strip())
    cli = _process.find_executable("gemini", ctx.env, ctx.home, WELL_KNOWN)
    if cli and not ctx.settings.get("cli"):
        values["cli"] = Secret(cli)
    details: dict[str, str] = {}
    expiry = creds.get("expiry_date")
    if isinstance(expiry, int | float) and not isinstance(expiry, bool) and expiry > 0:
        details.update(expiry_detail(from_epoch(float(expiry), "expiry_date")))
    email = _jwt.text_claim(creds.get("id_token") if isinstance(creds.get("id_token"), str) else None, "email")
    if email:
        details["email"] = email
    return Discovered(values, str(folder / "oauth_creds.json"), details)
