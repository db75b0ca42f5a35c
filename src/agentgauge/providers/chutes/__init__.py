"""Chutes (chutes.ai): a subscription's caps, the daily request quotas and the prepaid balance.

With an API key (``cpk_...``, sent in ``Authorization``; Chutes reads the last word, so ``Bearer``
is optional):

1. ``GET {url}/users/me/subscription_usage`` (required): the subscription's rolling four-hour and
   monthly caps (``four_hour`` / ``monthly``: ``usage``, ``cap``, ``remaining``, ``reset_at``, in US
   dollars; older answers ``rolling_window`` / ``monthly`` with ``used``/``limit``/``unit``).
2. ``GET {url}/users/me/quotas``: the per-day request quotas (one row per chute, ``*`` for all) and
   ``GET {url}/users/me/quota_usage/{chute_id}`` for each (``{quota, used}``, today's count): ``*``
   at once with the others, any other row afterwards.
3. ``GET {url}/users/me``: the account, whose ``balance`` is the prepaid balance in dollars.

Steps 2 and 3 are enrichments: their failure (other than a rejected key) is logged and left out.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ...errors import AuthError, ProviderError
from ...models import Usage
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .parsing import parse_all, quota_rows

DEFAULT_URL = "https://api.chutes.ai"
SUBSCRIPTION_PATH = "/users/me/subscription_usage"
QUOTAS_PATH = "/users/me/quotas"
QUOTA_USAGE_PATH = "/users/me/quota_usage/"
ME_PATH = "/users/me"
MAX_QUOTA_ROWS = 5  # one request per quota: an account has the "*" row and rarely more
ALL_MODELS = "*"
HINT = "Set AGENTGAUGE_CHUTES_API_KEY (or CHUTES_API_KEY) to an API key from https://chutes.ai (cpk_...), then refresh."


def _rejected_key(exc: ProviderError) -> bool:
    return isinstance(exc, AuthError) and exc.status_code != 403


class Chutes(Provider):
    id = "chutes"
    name = "Chutes"
    docs_url = "https://chutes.ai/app/api"
    settings = (
        Setting("api_key", "Chutes API key (cpk_...).", secret=True, env=("CHUTES_API_KEY",)),
        Setting("url", "Base URL of the Chutes API.", default=DEFAULT_URL, env=("CHUTES_API_URL",)),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            hint=HINT,
            discovered_source="api_key",
        ),
    )
    windows = (
        WindowSpec("window_4h", "4h cap", 14400, None),
        WindowSpec("window_*", "Rolling cap", None, None),
        WindowSpec("monthly", "Monthly cap", None, None),
        WindowSpec("daily*", "Daily requests", 86400, "requests"),
    )
    urls = {"url": DEFAULT_URL}
    min_interval = 120.0  # three to eight requests per refresh
    redact_keys = frozenset({"hotkey", "coldkey", "payment_address", "username", "user_id", "logo_id", "logo"})
    samples = (Sample("subscription-usage-*.json", "subscription", {"quotas": None, "usage": None, "me": None}),)
    sim_credentials = {"api_key": "cpk_sim-chutes-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        headers = {"Authorization": f"Bearer {ctx.secret('api_key').strip()}", "Accept": "application/json"}
        usage_url = base + QUOTA_USAGE_PATH
        # The "*" (all models) quota is asked for at once: nearly every account has only that row,
        # so one round of requests is enough; other rows are asked for once the quotas are known.
        subscription, quotas, me, all_models = await _http.together(  # the subscription usage's own error first
            _http.get_json(ctx, base + SUBSCRIPTION_PATH, what="subscription usage request", headers=headers),
            self._optional(ctx, base + QUOTAS_PATH, "quotas request", headers),
            self._optional(ctx, base + ME_PATH, "account request", headers),
            self._optional(ctx, usage_url + quote(ALL_MODELS, safe=""), "quota usage request", headers),
            finish_all=True,
        )
        usage = {ALL_MODELS: all_models} if all_models is not None else {}
        others = [chute for chute, _ in quota_rows(quotas) if chute != ALL_MODELS][: MAX_QUOTA_ROWS - 1]
        found = await asyncio.gather(
            *(self._optional(ctx, usage_url + quote(c, safe=""), "quota usage request", headers) for c in others)
        )
        usage.update({chute: answer for chute, answer in zip(others, found, strict=True) if answer is not None})
        return {"subscription": subscription, "quotas": quotas, "usage": usage, "me": me}

    @staticmethod
    async def _optional(ctx: FetchContext, url: str, what: str, headers: dict[str, str]) -> Any:
        """An enrichment: a rejected key is still the account's error (a 403 is a key without the scope
        for this part); anything else leaves it out."""
        return await _http.optional(
            ctx, what, _http.get_json(ctx, url, what=what, headers=headers), fatal=_rejected_key
        )

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_all(raw.get("subscription"), raw.get("quotas"), raw.get("usage"), raw.get("me"))


PROVIDER = Chutes()
