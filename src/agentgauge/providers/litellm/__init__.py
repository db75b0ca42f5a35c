"""LiteLLM: a self-hosted LiteLLM proxy's budgets for the virtual key agentgauge is given.

``url`` is required (the proxy's base URL; a trailing ``/v1`` is dropped). With the key as a Bearer
token:

1. ``GET {url}/key/info`` (no ``?key=``: a virtual key may read its own record): the key's spend,
   ``max_budget``, ``budget_duration``/``budget_reset_at``, ``expires``, ``user_id``, ``team_id``.
2. ``GET {url}/user/info?user_id=<id>`` when the key has a user: the user's spend and budget, and
   their teams (the key's own team is picked by ``team_id``); else ``GET {url}/team/info?team_id=``
   for a team key. A refusal there (HTTP 403/404: the key may not read it) leaves that part out.

A budget with a ``budget_duration`` resets (LiteLLM: ``30d``, ``1mo``, ``7d``, ``24h``, ``daily``...):
a window. A budget without one is a balance; spend without a budget is spend.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ...errors import AuthError, ProviderError
from ...models import Usage
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .login import ENV_VARS, discover_login
from .parsing import ids_of, parse_all

HINT = (
    "Set AGENTGAUGE_LITELLM_URL (or LITELLM_PROXY_URL) to your LiteLLM proxy and AGENTGAUGE_LITELLM_API_KEY "
    "(or LITELLM_API_KEY) to a virtual key it issued, then refresh."
)


def management_base(url: str) -> str:
    """The proxy's base URL: its management routes sit beside ``/v1``, not under it."""
    base = url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


class LiteLLM(Provider):
    id = "litellm"
    name = "LiteLLM"
    docs_url = "https://docs.litellm.ai/docs/proxy/users"
    settings = (
        Setting(
            "api_key",
            "A virtual key of the LiteLLM proxy (sk-...).",
            secret=True,
            env=("LITELLM_API_KEY", "LITELLM_PROXY_API_KEY"),
        ),
        Setting(
            "url",
            "Base URL of your LiteLLM proxy (required; a trailing /v1 is accepted).",
            env=("LITELLM_BASE_URL", "LITELLM_PROXY_URL", "LITELLM_PROXY_BASE_URL"),
        ),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="Virtual key",
            requires=("api_key",),
            hint=HINT,
            discovered_source="api_key",
        ),
        AuthSource(
            id="cli",
            source="local_file",
            label="LiteLLM CLI login",
            requires=("api_key",),
            hint="Run `litellm-proxy login` (it keeps its key in ~/.litellm/token.json) and set LITELLM_PROXY_URL.",
            discover=discover_login,
            discovered_source="local_file",
        ),
    )
    windows = (
        WindowSpec("key_budget", "API key budget", None, "usd"),
        WindowSpec("user_budget", "User budget", None, "usd"),
        WindowSpec("team_budget", "Team budget", None, "usd"),
    )
    urls = {"url": ""}  # self-hosted: no default
    min_interval = 60.0
    env_vars = ENV_VARS
    redact_keys = frozenset({"key", "token", "user_email", "user_alias", "keys", "preferred_username", "sso_user_id"})
    samples = (
        Sample("key-info-*.json", "key", {"user": None, "team": None}),
        Sample(
            "user-info*.json", "user", {"key": {"info": {"user_id": "user-123", "team_id": "team-456"}}, "team": None}
        ),
        Sample("team-info*.json", "team", {"key": {"info": {"team_id": "team-456"}}, "user": None}),
    )
    sim_credentials = {"api_key": "sk-sim-litellm-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = management_base(ctx.url("url"))
        headers = {"Authorization": f"Bearer {ctx.secret('api_key').strip()}", "Accept": "application/json"}
        key = await _http.get_json(ctx, base + "/key/info", what="key info request", headers=headers)
        user_id, team_id = ids_of(key)
        user = team = None
        if user_id:
            user = await self._optional(ctx, f"{base}/user/info?{urlencode({'user_id': user_id})}", "user", headers)
        elif team_id:
            team = await self._optional(ctx, f"{base}/team/info?{urlencode({'team_id': team_id})}", "team", headers)
        return {"key": key, "user": user, "team": team}

    @staticmethod
    async def _optional(ctx: FetchContext, url: str, what: str, headers: dict[str, str]) -> Any:
        """The user's or team's record: a key that may not read it (403, 404) still shows its own budget."""
        try:
            return await _http.get_json(ctx, url, what=f"{what} info request", headers=headers)
        except AuthError as exc:
            if exc.status_code == 401:
                raise
            ctx.log.info("litellm: %s info refused to this key: %s", what, exc.message)
        except ProviderError as exc:
            if exc.status_code != 404:
                raise
            ctx.log.info("litellm: no %s info: %s", what, exc.message)
        return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_all(raw.get("key"), raw.get("user"), raw.get("team"))


PROVIDER = LiteLLM()
