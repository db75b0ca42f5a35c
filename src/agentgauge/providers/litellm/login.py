"""The LiteLLM CLI's login (``litellm-proxy login``): ``~/.litellm/token.json`` holds ``{"key": ...}``,
read-only. The proxy's URL is not in it: it comes from ``LITELLM_PROXY_URL`` like the CLI's own."""

from __future__ import annotations

import json

from .._base import DiscoverContext, Discovered, Secret

ENV_VARS: tuple[str, ...] = ()
TOKEN_FILE = "~/.litellm/token.json"


def discover_login(ctx: DiscoverContext) -> Discovered | None:
    path = ctx.expand(TOKEN_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    key = data.get("key") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key.strip():
        return None
    return Discovered({"api_key": Secret(key.strip())}, TOKEN_FILE)
