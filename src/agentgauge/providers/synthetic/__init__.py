"""Synthetic (synthetic.new): ``GET {url}/v2/quotas`` with an API key as a Bearer token.

The answer is one object (at the root, or under ``data``) with a lane per limit: the rolling
five-hour request limit (``rollingFiveHourLimit``: ``max``, ``remaining``, ``limited``, and the next
regeneration tick), the weekly token credits (``weeklyTokenLimit``: ``percentRemaining`` and dollar
strings ``"$36.00"``), the hourly search requests (``search.hourly``), the subscription's and the free
tool calls' request counts (``subscription``, ``freeToolCalls``: ``limit``, ``requests``,
``renewsAt``). Older answers list ``quotas[]`` instead. The key is also found where other agents keep
it (OpenCode's and Pi's ``auth.json``, Factory's ``settings.json``): ``discovery``.
"""

from __future__ import annotations

from datetime import datetime

from ...models import Usage
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .discovery import ENV_VARS, discover_key
from .parsing import parse_quotas

DEFAULT_URL = "https://api.synthetic.new"
QUOTAS_PATH = "/v2/quotas"
HINT = (
    "Set AGENTGAUGE_SYNTHETIC_API_KEY (or SYNTHETIC_API_KEY) to a key from https://synthetic.new "
    "(API keys page), then refresh."
)


class Synthetic(Provider):
    id = "synthetic"
    name = "Synthetic"
    docs_url = "https://synthetic.new"
    settings = (
        Setting("api_key", "Synthetic API key (syn_...).", secret=True, env=("SYNTHETIC_API_KEY",)),
        Setting("url", "Base URL of the Synthetic API.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            hint=HINT,
            discover=discover_key,
            discovered_source="local_file",
        ),
    )
    windows = (
        WindowSpec("session", "Rolling 5h requests", 18000, "requests"),
        WindowSpec("weekly", "Weekly token credits", 604800, "usd"),
        WindowSpec("search_hourly", "Search (hourly)", 3600, "requests"),
        WindowSpec("subscription", "Subscription requests", None, "requests"),
        WindowSpec("free_tool_calls", "Free tool calls", None, "requests"),
        WindowSpec("quota_*", "Quota", None, None),
    )
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0
    env_vars = ENV_VARS
    samples = (Sample("quotas-*.json", "quotas"),)
    sim_credentials = {"api_key": "sim-synthetic-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        headers = {"Authorization": f"Bearer {ctx.secret('api_key').strip()}", "Accept": "application/json"}
        return {
            "quotas": await _http.get_json(ctx, ctx.url("url") + QUOTAS_PATH, what="quota request", headers=headers)
        }

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_quotas(raw.get("quotas"))


PROVIDER = Synthetic()
